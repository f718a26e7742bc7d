"""The evaluation layer's CUDA paths, small: the evaluator's GPU runtime and FP16 check, the runtime
variants and the channels sweep (the trainer's are in tests/training/test_gpu_paths.py).

Each test runs on the CPU too where the path exists there, so the code is exercised on every machine;
the ``cuda`` cases are marked ``gpu`` and skip without a CUDA device (the GPU suite runs them).
"""
import json

import numpy as np
import pytest
import torch
from PIL import Image

import models  # noqa: F401  (registers the models)
from eval.evaluate import main as evaluate_main
from eval.gpu_suite.runtime_variants import CUDA_ONLY, VARIANTS, build_runner, fidelity, reference_psnr
from eval.gpu_suite.sweep import sweep_point
from models.registry import create_model

CUDA = pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(),
                                                                       reason="needs CUDA")])
DEVICES = ["cpu", CUDA]


@pytest.fixture(scope="module")
def smooth_set(tmp_path_factory) -> str:
    """folder: dataset of two smooth 96x72 / 84x96 RGB images."""
    folder = tmp_path_factory.mktemp("smooth")
    rng = np.random.default_rng(7)
    for i, (w, h) in enumerate([(96, 72), (84, 96)]):
        small = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
        Image.fromarray(small).resize((w, h), Image.BICUBIC).save(folder / f"img{i}.png")
    return f"folder:{folder}"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_evaluate_on_gpu_records_protocol_and_fp16_check(smooth_set, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = evaluate_main(["--model", "bicubic_pp", "--dataset", smooth_set, "--scale", "3", "--runtime", "gpu",
                        "--warmup", "2", "--passes", "3", "--json", str(out)])
    assert rc == 0, capsys.readouterr().err
    result = json.loads(out.read_text())
    rt = result["runtime"]
    assert rt["protocol"] == "ntire23-gpu-fp16" and rt["input_shape"] == [1, 3, 1280, 720]
    assert rt["call"] == "direct" and rt["peak_mem_mb"] > 0
    assert rt["device"]["name"] == torch.cuda.get_device_name(0)
    check = result["fp16_check"]
    assert check["nonfinite_images"] == [] and check["drop_db"] < 0.05 and check["ok"]


def mosaic(seed: int = 0):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    gt = np.asarray(Image.fromarray(small).resize((72, 96), Image.BICUBIC))  # 96 x 72 HR
    lr = np.asarray(Image.fromarray(gt).resize((24, 32), Image.BICUBIC))
    return lr, gt


def variant_cases() -> list:
    """(variant, device) cases: CUDA ones marked gpu; compile on the CPU is slow (~30 s of inductor on
    2 cores); CUDA-only variants have no CPU case. max-autotune (minutes of autotuning) and TensorRT
    (optional package) run in the GPU suite's variants step."""
    cases = []
    for device in ("cpu", "cuda"):
        for variant in (v for v in VARIANTS if v not in ("compile_max_autotune", "tensorrt")):
            if device == "cpu" and variant in CUDA_ONLY:
                continue
            marks = CUDA.marks if device == "cuda" else [pytest.mark.slow] if variant == "compile" else []
            cases.append(pytest.param(variant, device, marks=marks, id=f"{device}-{variant}"))
    return cases


@pytest.mark.parametrize("variant, device", variant_cases())
def test_variant_output_matches_fp32_eager(variant, device):
    torch.manual_seed(0)
    model = create_model("bicubic_pp", scale=3)
    lr, gt = mosaic()
    with torch.no_grad():
        run, x = build_runner(variant, model, device, torch.randn(1, 3, 32, 24))
        assert tuple(run(x).shape) == (1, 3, 96, 72)
        ref = reference_psnr(model, device, lr, gt)
        fid = fidelity(run, model, device, lr, gt, ref)
    assert fid["finite"] and fid["ok"], fid


@pytest.mark.parametrize("device", DEVICES)
def test_sweep_point(device):
    row = sweep_point(16, 3, device, warmup=1, passes=2, repeats=2, lr_hw=(32, 48))
    assert row["channels"] == 16 and row["params"] == 20_592
    assert row["median_ms"] > 0 and len(row["repeat_means_ms"]) == 2
