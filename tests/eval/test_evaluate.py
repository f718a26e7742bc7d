"""python -m eval.evaluate: agreement with an independent challenge computation, and bad input."""
import io
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from eval.errors import EvalError
from eval.evaluate import SR_MARKER, main


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
    assert result["weights_origin"] == {"kind": "none", "budget": None, "card": None, "name": None,
                                        "sha256": None}  # bicubic: a fixed upscaler


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


def test_one_y_option_and_its_two_aliases_set_the_same_preset():
    from eval.evaluate import build_parser, options_from_args
    from eval.options import EvalOptions

    base = ["--model", "bicubic", "--dataset", "set5", "--scale", "3"]
    for flags, y in ((["--y", "classic"], "classic"), (["--classic-y"], "classic"), ([], "bt601"),
                     (["--y", "ntire23-compat"], "ntire23-compat"), (["--ntire23-compat"], "ntire23-compat")):
        opts = options_from_args(build_parser().parse_args(base + flags))
        assert (opts.y, opts.classic_y, opts.ntire23_compat) == (y, y == "classic", y == "ntire23-compat")
    assert EvalOptions(model="bicubic", dataset="set5", scale=3, classic_y=True).y == "classic"  # old keyword
    with pytest.raises(ValueError, match="pick one"):
        EvalOptions(model="bicubic", dataset="set5", scale=3, classic_y=True, ntire23_compat=True)
    helps = {a.option_strings[-1]: a.help for a in build_parser()._actions if a.option_strings}
    assert helps["--classic-y"] == "alias of --y classic, kept for one release (default: off)"
    assert helps["--ntire23-compat"] == "alias of --y ntire23-compat, kept for one release (default: off)"
    assert "(default: bt601)" in helps["--y"]


def test_a_trainable_model_without_weights_is_warned_about(tiny_folder, tmp_path, capsys):
    """Random initial weights are evaluated only with a warning on stderr (registered models)."""
    rc, err, out = run_cli(tmp_path, capsys, "--model", "espcn", "--dataset", f"folder:{tiny_folder}",
                           "--scale", "3")
    assert rc == 0
    assert "warning: espcn is trainable and no --weights was given" in " ".join(err.split())
    assert "--weights data/train/espcn/best.pt" in err
    assert json.loads(out.read_text())["weights_origin"]["kind"] == "random"  # random initial weights
    rc, err, _ = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", f"folder:{tiny_folder}",
                         "--scale", "3")
    assert rc == 0 and "warning" not in err


# -- issue 13: plug-in failures at any point, nothing half-written, paths and numbers checked first ---
CONTRACT_PLUGINS = '''
import sys
from pathlib import Path
import torch
from torch import nn
import torch.nn.functional as F

class Up(nn.Module):
    """Bicubic x``scale`` whose output breaks the contract in one named way (``mode``)."""
    calls = 0
    def __init__(self, scale, mode):
        super().__init__()
        self.scale, self.mode = scale, mode
    def forward(self, x):
        Up.calls += 1
        Path(__file__).with_name("forward_ran").write_text(str(Up.calls))
        y = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        if self.mode == "raises":
            raise RuntimeError("kaboom in forward")
        if self.mode == "tuple":
            return y, y
        if self.mode == "uint8_range":
            return (y.clamp(0, 1) * 255).round()
        if self.mode == "uint8_dtype":
            return (y.clamp(0, 1) * 255).round().to(torch.uint8)
        if self.mode == "exits":
            sys.exit(0)
        if self.mode == "mean_high":
            return 0.1 * y + 1.85  # inside [-1, 2], the range rule passes; the mean rule refuses it
        if self.mode == "nan" or self.mode == "nan_third" and Up.calls == 3:
            return y * float("nan")
        return y

def make(mode):
    def factory(scale=3):
        marker = Path(__file__).with_name("factory_ran")
        marker.write_text(mode)
        return Up(scale, mode)
    return factory

for _mode in ("ok", "raises", "tuple", "uint8_range", "uint8_dtype", "exits", "nan_third", "mean_high",
              "nan"):
    globals()[_mode] = make(_mode)

def exits_in_factory(scale=3):
    sys.exit(0)
'''


@pytest.fixture
def contract_plugin(tmp_path):
    """``<file>:<mode>`` plug-ins; the factory leaves ``factory_ran``, the forward ``forward_ran`` beside the file."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    path = folder / "contract.py"
    path.write_text(CONTRACT_PLUGINS)
    return path


@pytest.fixture
def three_images(tmp_path):
    folder = tmp_path / "three"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in ("a", "b", "c", "d", "e"):
        Image.fromarray(rng.integers(0, 256, (48, 60, 3), dtype=np.uint8)).save(folder / f"{name}.png")
    return folder


@pytest.mark.parametrize("mode, said", [
    ("raises", "a: plug-in '{p}': forward raised RuntimeError: kaboom in forward"),
    ("tuple", "a: plug-in '{p}' returned a tuple, not a tensor"),
    ("uint8_range", "a: plug-in '{p}': 100.0% of its output values lie outside"),  # 0..255 float: was 3.8 dB
    ("uint8_dtype", "a: plug-in '{p}' returned dtype torch.uint8; the contract is a float tensor in [0, 1]"),
    ("exits", "a: plug-in '{p}': forward called sys.exit(0)"),
    ("mean_high", ("a: plug-in '{p}' output has mean 1.9, outside [-0.5, 1.5]: not the [0, 1] scale of the "
                   "contract (a 0..255 output must be divided by 255)")),
])
def test_plugin_breaking_the_contract_is_one_line_exit_2_no_result(three_images, contract_plugin, tmp_path,
                                                                   capsys, mode, said):
    spec = f"{contract_plugin}:{mode}"
    rc, err, out = run_cli(tmp_path, capsys, "--model", spec, "--dataset", f"folder:{three_images}",
                           "--scale", "3", "--save-sr", str(tmp_path / "sr"))
    assert_one_line_failure(rc, err, out, said.format(p=spec))
    assert not (tmp_path / "sr").exists()
    if mode == "uint8_range":
        assert "for value_range 'unit' (white = 1); is its declared value_range right?" in err


def test_factory_calling_sys_exit_0_is_exit_2(three_images, contract_plugin, tmp_path, capsys):
    spec = f"{contract_plugin}:exits_in_factory"
    rc, err, out = run_cli(tmp_path, capsys, "--model", spec, "--dataset", f"folder:{three_images}",
                           "--scale", "3")
    assert_one_line_failure(rc, err, out, f"plug-in '{spec}': factory called sys.exit(0)")


def test_nan_on_the_third_image_leaves_the_sr_folder_as_it_was(three_images, contract_plugin, tmp_path,
                                                               capsys):
    sr = tmp_path / "sr"
    sr.mkdir()
    (sr / "old.png").write_bytes(b"an earlier run's image")
    (sr / SR_MARKER).write_text("an earlier --save-sr\n")
    rc, err, out = run_cli(tmp_path, capsys, "--model", f"{contract_plugin}:nan_third", "--dataset",
                           f"folder:{three_images}", "--scale", "3", "--save-sr", str(sr))
    assert_one_line_failure(rc, err, out, "c: plug-in", "output contains NaN/Inf")
    assert sorted(p.name for p in sr.iterdir()) == [SR_MARKER, "old.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plugins", "sr", "three"]  # no staging left
    assert (contract_plugin.parent / "forward_ran").read_text() == "3"


def test_run_image_names_the_image_of_a_nan_output_or_returns_none_when_allowed(contract_plugin):
    from eval.evaluate import run_image
    from models.registry import create_model

    spec = f"{contract_plugin}:nan"
    model, lr = create_model(spec, scale=3), np.full((8, 8, 3), 100, np.uint8)
    with pytest.raises(EvalError) as e:
        run_image(model, "img", lr, 3)
    assert str(e.value) == f"img: plug-in '{spec}' output contains NaN/Inf; the model or its weights are broken"
    assert run_image(model, "img", lr, 3, allow_nonfinite=True) is None  # the FP16 check counts it


def test_run_image_goes_through_the_one_run_path_with_every_check(contract_plugin, monkeypatch):
    import eval.evaluate
    import models.padding
    from models.registry import create_model

    calls = []

    def spy(model, lr, scale, **kwargs):
        calls.append((lr.dtype, tuple(lr.shape), scale, kwargs))
        return models.padding.upscale_uint8(model, lr, scale, **kwargs)

    monkeypatch.setattr(eval.evaluate, "upscale_uint8", spy)
    model, lr = create_model(f"{contract_plugin}:ok", scale=3), np.full((8, 6, 3), 100, np.uint8)
    assert eval.evaluate.run_image(model, "img", lr, 3).shape == (24, 18, 3)
    eval.evaluate.run_image(model, "img", lr, 3, allow_nonfinite=True)
    assert calls == [(torch.float32, (1, 3, 8, 6), 3, {"nonfinite": "raise"}),  # range, mean: on (defaults)
                     (torch.float32, (1, 3, 8, 6), 3, {"nonfinite": "none"})]


def test_sr_folder_appears_whole(three_images, contract_plugin, tmp_path, capsys):
    sr = tmp_path / "sr"
    sr.mkdir()
    (sr / "stale.png").write_bytes(b"from a run over other images")
    (sr / SR_MARKER).write_text("an earlier --save-sr\n")
    rc, err, out = run_cli(tmp_path, capsys, "--model", f"{contract_plugin}:ok", "--dataset",
                           f"folder:{three_images}", "--scale", "3", "--save-sr", str(sr))
    assert rc == 0, err
    assert sorted(p.name for p in sr.iterdir()) == [SR_MARKER, "a.png", "b.png", "c.png", "d.png", "e.png"]
    assert sorted(r["name"] for r in json.loads(out.read_text())["per_image"]) == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize("args, said", [
    (("--json", "{tmp}/folder"), "{tmp}/folder: is a folder; --json needs a file path"),
    (("--save-sr", "{tmp}/file"), "{tmp}/file: is a file; --save-sr needs a folder path"),
    (("--json", "{tmp}/file/r.json"), "cannot write --json: {tmp}/file is a file, not a folder"),
    (("--save-sr", "{tmp}/mixed"), ("{tmp}/mixed: --save-sr replaces this folder as a whole, but "
                                    "eval.evaluate did not write it")),
    (("--runtime", "cpu", "--passes", "0"), "--passes=0: Input should be greater than or equal to 1"),
    (("--runtime", "cpu", "--warmup", "-1"), "--warmup=-1: Input should be greater than or equal to 0"),
    (("--label", ""), "--label='': String should have at least 1 character"),
    (("--scale", "1"), "--scale=1: Input should be greater than or equal to 2"),
])
def test_paths_and_numbers_refused_before_any_work(three_images, contract_plugin, tmp_path, capsys, args,
                                                   said):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "notes.txt").write_text("mine")
    argv = ["--model", f"{contract_plugin}:ok", "--dataset", f"folder:{three_images}", "--scale", "3",
            *(a.format(tmp=tmp_path) for a in args)]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and said.format(tmp=tmp_path) in err, err
    assert not (contract_plugin.parent / "factory_ran").exists()  # refused before the model was built
    assert (tmp_path / "mixed" / "notes.txt").read_text() == "mine"


def test_image_too_small_for_the_metrics_is_named_before_work(tmp_path, contract_plugin, capsys):
    folder = tmp_path / "small"
    folder.mkdir()
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 256, (60, 60, 3), dtype=np.uint8)).save(folder / "ok.png")
    Image.fromarray(rng.integers(0, 256, (12, 40, 3), dtype=np.uint8)).save(folder / "thin.png")
    rc, err, out = run_cli(tmp_path, capsys, "--model", f"{contract_plugin}:ok", "--dataset",
                           f"folder:{folder}", "--scale", "3")
    assert_one_line_failure(rc, err, out, "thin.png: 39x12 px is too small for the metrics at x3 (each "
                            "side needs >= 17 px: an 11x11 SSIM window after shaving 3 px)")
    assert (contract_plugin.parent / "factory_ran").exists()
    assert not (contract_plugin.parent / "forward_ran").exists()  # no image ran


def test_rgba_folder_is_refused_and_drop_alpha_works_in_evaluate(tmp_path, capsys):
    folder = tmp_path / "rgba"
    folder.mkdir()
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (48, 60, 4), dtype=np.uint8), mode="RGBA").save(folder / "x.png")
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", f"folder:{folder}",
                           "--scale", "3")
    assert_one_line_failure(rc, err, out, "x.png: image has an alpha channel (mode RGBA); pass --drop-alpha")
    rc, err, out = run_cli(tmp_path, capsys, "--model", "bicubic", "--dataset", f"folder:{folder}",
                           "--scale", "3", "--drop-alpha")
    assert rc == 0, err
    assert [r["name"] for r in json.loads(out.read_text())["per_image"]] == ["x"]
