"""python -m eval.evaluate: agreement with an independent challenge computation, and bad input."""
import io
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from eval.evaluate import main


def independent_bicubic_rgb_psnr(hr_folder, scale):
    """Challenge protocol from scratch: Pillow bicubic + JPEG q90 4:2:0, torch bicubic, RGB PSNR."""
    values = []
    for path in sorted(hr_folder.glob("*.png")):
        hr = Image.open(path).convert("RGB")
        w, h = hr.size
        top, left = round((h % scale) / 2.0), round((w % scale) / 2.0)  # torchvision center_crop
        hr = hr.crop((left, top, left + w - w % scale, top + h - h % scale))
        buf = io.BytesIO()
        hr.resize((hr.width // scale, hr.height // scale), Image.BICUBIC).save(
            buf, format="JPEG", quality=90, subsampling=2)
        lr = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.float32) / 255
        x = torch.from_numpy(lr).permute(2, 0, 1)[None]
        sr = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False).clamp(0, 1)
        sr = (sr * 255).round()[0].permute(1, 2, 0).numpy().astype(np.float64)
        mse = np.mean((sr - np.asarray(hr, dtype=np.float64)) ** 2)
        values.append(10 * math.log10(255**2 / mse))
    return float(np.mean(values))


def run_cli(tmp_path, capsys, *argv):
    out = tmp_path / "result.json"
    rc = main([*argv, "--json", str(out)])
    err = capsys.readouterr().err
    return rc, err, out


@pytest.mark.mirror
def test_bicubic_set5_x3_matches_independent_computation(fetched, mirror, tmp_path, capsys):
    fetched("set5")
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", "set5", "--scale", "3",
                           "--runtime", "off")
    assert rc == 0, err
    result = json.loads(out.read_text())
    expected = independent_bicubic_rgb_psnr(mirror / "Set5" / "HR", 3)
    assert result["psnr_rgb"] == pytest.approx(expected, abs=1e-9)
    assert result["psnr_rgb"] == pytest.approx(27.2128, abs=0.0005)  # measured, Pillow 13 / libjpeg-turbo
    assert set(result) >= {"model", "label", "weights", "dataset", "scale", "degradation", "psnr_rgb",
                           "ssim_rgb", "psnr_y", "ssim_y", "per_image", "runtime", "params", "flops",
                           "provenance", "conventions"}
    conv = result["conventions"]
    assert (conv["y_preset"], conv["y"], conv["shave"], conv["gt_crop"]) == (
        "bt601_rounded_shave", "bt601", 3, "center_torchvision")
    assert conv["y_gray_value_images"] == []
    assert result["runtime"] is None and result["params"] == 0
    assert [r["name"] for r in result["per_image"]] == ["baby", "bird", "butterfly", "head", "woman"]
    assert len(result["provenance"]["lr_manifest_sha256"]) == 64


@pytest.mark.mirror
def test_official_checkpoint_beats_bicubic_on_set5(fetched, released_checkpoint, tmp_path, capsys):
    fetched("set5")
    results = {}
    for model, extra in (("bicubic", []), ("bicubic_pp", ["--weights", str(released_checkpoint)])):
        rc, err, out = run_cli(tmp_path, capsys, "--model", model, *extra, "--dataset", "set5", "--scale", "3")
        assert rc == 0, err
        results[model] = json.loads(out.read_text())
    assert results["bicubic_pp"]["psnr_y"] - results["bicubic"]["psnr_y"] >= 0.8
    assert results["bicubic_pp"]["params"] == 50_400


@pytest.fixture
def tiny_folder(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (48, 60, 3), dtype=np.uint8)).save(folder / f"im{i}.png")
    return folder


def assert_one_line_failure(rc, err, out, *fragments):
    assert rc == 2
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0]
    assert not out.exists()


def test_unknown_dataset(tmp_path, capsys):
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", "set55", "--scale", "3")
    assert_one_line_failure(rc, err, out, "unknown dataset 'set55'", "set5")


def test_folder_without_images(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset",
                           f"folder:{tmp_path / 'empty'}", "--scale", "3")
    assert_one_line_failure(rc, err, out, "no images")


def test_folder_dataset_runs_and_saves_sr(tiny_folder, tmp_path, capsys):
    sr_dir = tmp_path / "sr"
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", f"folder:{tiny_folder}",
                           "--scale", "3", "--save-sr", str(sr_dir), "--runtime", "cpu", "--passes", "1",
                           "--warmup", "0")
    assert rc == 0, err
    result = json.loads(out.read_text())
    assert sorted(p.name for p in sr_dir.glob("*.png")) == ["im0.png", "im1.png"]
    assert Image.open(sr_dir / "im0.png").size == (60, 48)
    rt = result["runtime"]
    assert rt["protocol"] == "cpu-fp32" and rt["input_shape"] == [1, 3, 1280, 720] and rt["passes"] == 1


def test_gt_lr_size_mismatch(tiny_folder, tmp_path, capsys):
    from datasets.degrade import degrade_dataset

    _, gt = degrade_dataset(f"folder:{tiny_folder}", 2, progress=False)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(gt / "im1.png")  # tamper with one GT
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", f"folder:{tiny_folder}",
                           "--scale", "2")
    assert_one_line_failure(rc, err, out, "im1: GT is 10x10")


@pytest.fixture
def gray_folder(tmp_path):
    """A single-channel (L) file and an RGB file whose three channels are equal."""
    folder = tmp_path / "grays"
    folder.mkdir()
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (48, 60), dtype=np.uint8), mode="L").save(folder / "gray.png")
    rgb_equal = np.repeat(rng.integers(0, 256, (48, 60, 1), dtype=np.uint8), 3, axis=2)
    Image.fromarray(rgb_equal).save(folder / "rgb_equal.png")
    return folder


def test_gray_rule_is_by_source_file(gray_folder, tmp_path, capsys):
    from datasets.imageio import load_rgb
    from datasets.paths import gt_dir
    from eval.metrics import Y_NTIRE23_COMPAT, psnr_y

    sr_dir = tmp_path / "sr"
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", f"folder:{gray_folder}",
                           "--scale", "3", "--save-sr", str(sr_dir))
    assert rc == 0, err
    result = json.loads(out.read_text())
    assert result["conventions"]["y_gray_value_images"] == ["gray"]
    rows = {r["name"]: r for r in result["per_image"]}
    gt = {n: load_rgb(gt_dir(f"folder:{gray_folder}", 3) / f"{n}.png") for n in rows}
    sr = {n: load_rgb(sr_dir / f"{n}.png") for n in rows}
    assert rows["gray"]["psnr_y"] == psnr_y(sr["gray"], gt["gray"], 3, gray_source=True)
    assert rows["rgb_equal"]["psnr_y"] == psnr_y(sr["rgb_equal"], gt["rgb_equal"], 3)  # the formula
    assert rows["rgb_equal"]["psnr_y"] != psnr_y(sr["rgb_equal"], gt["rgb_equal"], 3, gray_source=True)

    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", f"folder:{gray_folder}",
                           "--scale", "3", "--ntire23-compat")
    assert rc == 0, err
    compat = json.loads(out.read_text())
    conv = compat["conventions"]
    assert (conv["y_preset"], conv["shave"], conv["y_rounding"], conv["y_gray_value_images"]) == (
        "ntire23_calc_metrics", 0, "none", [])
    assert compat["per_image"][0]["psnr_y"] == psnr_y(sr["gray"], gt["gray"], 3, Y_NTIRE23_COMPAT)
    assert compat["psnr_rgb"] == result["psnr_rgb"] and compat["ssim_rgb"] == result["ssim_rgb"]


def test_gt_manifest_without_source_mode(tiny_folder, tmp_path, capsys):
    from datasets.degrade import degrade_dataset
    from datasets.manifest import read_manifest, write_manifest

    _, gt = degrade_dataset(f"folder:{tiny_folder}", 3, progress=False)
    manifest = read_manifest(gt)
    manifest["images"]["im0"]["source_mode"] = None  # as made from an HR fetched by an older version
    write_manifest(gt, {k: v for k, v in manifest.items() if k != "manifest_sha256"})
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", f"folder:{tiny_folder}",
                           "--scale", "3")
    assert_one_line_failure(rc, err, out, "no source_mode for im0", "datasets.fetch NAME --force")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_runtime_gpu_without_cuda(tmp_path, capsys):
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", "set5", "--scale", "3",
                           "--runtime", "gpu")
    assert_one_line_failure(rc, err, out, "--runtime gpu needs a CUDA device")


PLUGIN = '''
import torch
from torch import nn

class Nan(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale
    def forward(self, x):
        y = nn.functional.interpolate(x, scale_factor=self.scale)
        return y * float("nan")

class Same(nn.Module):
    def forward(self, x):
        return x

def nan_model(scale=3):
    return Nan(scale)

def wrong_size(scale=3):
    return Same()
'''


@pytest.mark.parametrize("factory, fragment", [("nan_model", "output contains NaN"),
                                               ("wrong_size", "im0: plug-in")])
def test_bad_plugin_models(tiny_folder, tmp_path, capsys, factory, fragment):
    plugin = tmp_path / "plug.py"
    plugin.write_text(PLUGIN)
    rc, err, out = run_cli(tmp_path, capsys, "--model", f"{plugin}:{factory}", "--dataset",
                           f"folder:{tiny_folder}", "--scale", "3")
    assert_one_line_failure(rc, err, out, fragment, f"im0: plug-in '{plugin}:{factory}'")
    if factory == "wrong_size":
        assert "expected (1, 3, 48, 60)" in err


def test_weights_that_do_not_fit(tiny_folder, tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    torch.save({"head.weight": torch.zeros(5, 3, 3, 3)}, bad)
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic_pp", "--weights", str(bad), "--dataset",
                           f"folder:{tiny_folder}", "--scale", "3")
    assert_one_line_failure(rc, err, out, str(bad))


def test_classic_y_needs_classic_degradation(tmp_path, capsys):
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic_matlab", "--dataset", "set5", "--scale",
                           "3", "--classic-y")
    assert_one_line_failure(rc, err, out, "--degradation classic")
