"""Every CUDA path of the project, small: the trainer (GPU-resident data, AMP on/off), the evaluator's
GPU runtime and FP16 check, the runtime variants, training throughput and the channels sweep.

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
from eval.runtime_variants import VARIANTS, build_runner, fidelity, reference_psnr
from eval.sweep import sweep_point
from models.registry import create_model, load_checkpoint
from models.train_throughput import measure_throughput
from models.trainer import TrainConfig, train

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


def tiny_cfg(dataset: str, out, device: str, **kw) -> TrainConfig:
    base = {"model": "bicubic_pp", "out": str(out), "scale": 3, "model_kwargs": {"channels": 8, "bias": True},
                "train_sets": [dataset], "val_sets": [dataset], "epochs": 2, "pairs_per_epoch": 16, "batch": 4, "lr_patch": 8,
                "lr": 1e-3, "beta1": 0.9, "schedule": "public", "seed": 1, "progress": False, "device": device}
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("amp", [True, False])
@pytest.mark.parametrize("device", DEVICES)
def test_trainer_runs_and_checkpoints_load_on_cpu(smooth_set, tmp_path, device, amp):
    summary = train(tiny_cfg(smooth_set, tmp_path / "run", device, amp=amp))
    assert summary["device"] == device and summary["epochs"] == 2
    assert np.isfinite(summary["final_train_loss"]) and summary["best_val_psnr_rgb"] > 5
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert all(v.device.type == "cpu" for v in last["state_dict"].values())
    assert bool(last["scaler"]) == (device == "cuda" and amp)  # a disabled scaler saves no state
    model = create_model("bicubic_pp", weights=tmp_path / "run" / "best.pt")
    assert model.head.out_channels == 8


@pytest.mark.parametrize("device", DEVICES)
def test_throughput_amp_on_and_off(smooth_set, tmp_path, device):
    for amp in (True, False):
        row = measure_throughput(tiny_cfg(smooth_set, tmp_path, device), steps=3, warmup=1, amp=amp)
        assert row["patches_per_s"] > 0 and row["amp"] == (amp and device == "cuda")
        assert row["mean_loss"] is not None and row["batch"] == 4


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


# max-autotune (minutes of autotuning) and TensorRT (optional package) run in the GPU suite's variants step.
@pytest.mark.parametrize("variant", [v for v in VARIANTS if v not in ("compile_max_autotune", "tensorrt")])
@pytest.mark.parametrize("device", DEVICES)
def test_variant_output_matches_fp32_eager(variant, device):
    if device == "cpu" and variant in ("cuda_graphs",):
        pytest.skip("CUDA-only variant")
    if device == "cpu" and variant.startswith("compile"):
        pytest.skip("torch.compile on 2 CPU cores takes minutes; the GPU suite covers it")
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
