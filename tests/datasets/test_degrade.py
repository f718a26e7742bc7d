"""The degradations: exact agreement with an independent Pillow pipeline, manifests, bad input."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, features

from datasets.degrade import (
    CROP_CENTER,
    CROP_TOP_LEFT,
    crop_offset,
    crop_to_multiple,
    degrade_classic,
    degrade_dataset,
    degrade_ntire23,
    main,
)
from datasets.imageio import is_grayscale, load_rgb, pixel_sha256
from datasets.paths import gt_dir, hr_dir, lr_dir
from datasets.registry import DatasetError, get_dataset

# Measured with Pillow 13.0.0 / libjpeg-turbo 3.2.0 (libjpeg API 6.2): pixel_sha256 of the
# ntire23 x3 LR of Set5 "baby" (170x170x3). Decoded JPEG pixels depend on the libjpeg build.
GOLDEN_LIBJPEG = ("6.2", "3.2.0")
GOLDEN_BABY_X3 = "543700784bf3e20b8c161f03d90366f9648950159a75d6e793bb04230ba3c173"


def _independent_ntire23(path, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """The challenge recipe written out with Pillow alone: (gt, lr) uint8 RGB.

    Centre crop as torchvision's ``center_crop`` states it: ``crop_top = int(round((H - h) / 2.0))``.
    """
    img = Image.open(path).convert("RGB")
    w, h = img.size
    ch, cw = h - h % scale, w - w % scale
    top, left = round((h - ch) / 2.0), round((w - cw) / 2.0)
    gt = img.crop((left, top, left + cw, top + ch))
    small = gt.resize((gt.width // scale, gt.height // scale), resample=Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=90, subsampling="4:2:0")
    return np.asarray(gt), np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_ntire23_matches_independent_pillow(fetched, mirror):
    fetched("set5", "set14")
    for name, folder in (("set5", "Set5/HR"), ("set14", "Set14/HR")):
        lr_out, gt_out = degrade_dataset(name, 3, progress=False)
        spec = get_dataset(name)
        for f in spec.files:
            stem = f.rsplit(".", 1)[0]
            gt, lr = _independent_ntire23(mirror / folder / f, 3)
            got_lr, got_gt = load_rgb(lr_out / f"{stem}.png"), load_rgb(gt_out / f"{stem}.png")
            assert got_gt.shape == (got_lr.shape[0] * 3, got_lr.shape[1] * 3, 3)
            assert np.array_equal(got_gt, gt), f"{name}/{stem} GT"
            assert np.abs(got_lr.astype(int) - lr.astype(int)).max() == 0, f"{name}/{stem} LR"
    assert is_grayscale(load_rgb(lr_dir("set14", 3) / "bridge.png"))  # 4:2:0 of a gray image stays gray
    gt_manifest = json.loads((gt_dir("set14", 3) / "manifest.json").read_text())
    assert gt_manifest["images"]["bridge"]["source_mode"] == "L"


def test_manifests_are_reproducible(fetched):
    fetched("set5")
    lr_out, gt_out = degrade_dataset("set5", 3, progress=False)
    first = [json.loads((d / "manifest.json").read_text()) for d in (lr_out, gt_out)]
    degrade_dataset("set5", 3, force=True, progress=False)
    second = [json.loads((d / "manifest.json").read_text()) for d in (lr_out, gt_out)]
    assert [m["manifest_sha256"] for m in first] == [m["manifest_sha256"] for m in second]
    lr_m = first[0]
    assert lr_m["jpeg"] == {"quality": 90, "subsampling": "4:2:0", "optimize": False,
                            "progressive": False, "qtables": "default"}
    assert lr_m["versions"]["libjpeg"] == features.version("jpg") and lr_m["scale"] == 3
    assert lr_m["images"]["baby"]["shape"] == [170, 170, 3]
    assert lr_m["crop"] == first[1]["crop"] == CROP_CENTER == "center_torchvision"
    assert first[1]["images"]["woman"]["shape"] == [342, 228, 3]  # 228x344 cropped to 228x342
    assert first[1]["images"]["woman"]["crop_offset"] == [1, 0]  # 2 rows cut: one on top, one below
    assert first[1]["images"]["baby"]["crop_offset"] == [1, 1]  # 512 -> 510


def test_golden_set5_baby_x3(fetched):
    measured = (features.version("jpg"), features.version("libjpeg_turbo"))
    if measured != GOLDEN_LIBJPEG:
        pytest.skip(f"golden LR hash was measured with libjpeg {GOLDEN_LIBJPEG}; this Pillow has {measured}")
    fetched("set5")
    lr_out, _ = degrade_dataset("set5", 3, progress=False)
    assert pixel_sha256(load_rgb(lr_out / "baby.png")) == GOLDEN_BABY_X3


def test_classic_is_matlab_imresize_without_jpeg(fetched):
    from datasets.matlab_resize import imresize

    fetched("set14")
    lr_out, gt_out = degrade_dataset("set14", 3, "classic", progress=False)
    for stem in ("bridge", "comic"):
        gt, lr = load_rgb(gt_out / f"{stem}.png"), load_rgb(lr_out / f"{stem}.png")
        assert np.array_equal(lr, imresize(gt, 1 / 3))
    hr = load_rgb(hr_dir("set14") / "comic.png")  # 250x361: MATLAB's modcrop keeps the top-left
    assert np.array_equal(load_rgb(gt_out / "comic.png"), hr[:360, :249])
    assert is_grayscale(load_rgb(lr_out / "bridge.png"))
    manifest = json.loads((lr_out / "manifest.json").read_text())
    assert manifest["jpeg"] is None and manifest["crop"] == CROP_TOP_LEFT == "top_left_modcrop"


@pytest.mark.parametrize("excess, top", [(0, 0), (1, 0), (2, 1), (3, 2), (4, 2), (5, 2), (7, 4)])
def test_centre_crop_offset_rounds_half_to_even(excess, top):
    # torchvision center_crop: int(round(excess / 2.0)); Python rounds 0.5 -> 0, 1.5 -> 2, 2.5 -> 2
    assert crop_offset(16 + excess, 16, 16, CROP_CENTER) == (top, 0)
    assert crop_offset(16, 16 + excess, 16, CROP_CENTER) == (0, top)
    assert crop_offset(16 + excess, 16 + excess, 16, CROP_TOP_LEFT) == (0, 0)


def test_crop_and_single_image_functions():
    hr = np.arange(8 * 11 * 3, dtype=np.uint8).reshape(8, 11, 3)
    assert np.array_equal(crop_to_multiple(hr, 3, rule=CROP_CENTER), hr[1:7, 1:10])
    assert np.array_equal(crop_to_multiple(hr, 3, rule=CROP_TOP_LEFT), hr[:6, :9])
    with pytest.raises(DatasetError, match=r"unknown crop rule 'middle'"):
        crop_to_multiple(hr, 3, rule="middle")
    assert degrade_ntire23(hr, 3).shape == (2, 3, 3)
    assert degrade_classic(hr, 2).shape == (4, 5, 3)
    with pytest.raises(DatasetError, match=r"tiny: 2x2 is smaller than the scale 3"):
        degrade_ntire23(np.zeros((2, 2, 3), np.uint8), 3, name="tiny")


@pytest.mark.parametrize("scale", [1, 0, -3, 2.5, True])
def test_scale_below_two_rejected(scale):
    with pytest.raises(DatasetError, match=r"scale .* is not supported; use an integer from 2 to 16"):
        degrade_ntire23(np.zeros((12, 12, 3), np.uint8), scale)


def test_cli_errors_are_one_line(capsys):
    assert main(["demo", "--scale", "1"]) == 2
    assert main(["demo5", "--scale", "3"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "error: scale 1 is not supported; use an integer from 2 to 16 (e.g. --scale 3)"
    assert err[1].startswith("error: unknown dataset 'demo5'; did you mean demo") and len(err) == 2


def test_image_smaller_than_scale_leaves_nothing(tmp_path):
    folder = tmp_path / "smaller_than_scale"  # a unique name: data/lr/<deg>_x3/folder-<name> is per session
    folder.mkdir()
    Image.fromarray(np.full((16, 16, 3), 9, np.uint8)).save(folder / "ok.png")
    Image.fromarray(np.full((2, 5, 3), 9, np.uint8)).save(folder / "tiny.png")
    with pytest.raises(DatasetError, match=r"tiny\.png: 5x2 is smaller than the scale 3; remove it"):
        degrade_dataset(f"folder:{folder}", 3, progress=False)
    assert not lr_dir(f"folder:{folder}", 3).exists() and not gt_dir(f"folder:{folder}", 3).exists()
    assert not any(p.name.startswith(".tmp") for p in lr_dir("x", 3).parent.iterdir())


def test_demo_degrades_offline(monkeypatch):
    monkeypatch.delenv("RTSR_DATA_MIRROR", raising=False)
    lr_out, gt_out = degrade_dataset("demo", 4, progress=False)
    assert load_rgb(lr_out / "chelsea.png").shape == (75, 112, 3)  # 451x300 -> 448x300 -> /4
    assert load_rgb(gt_out / "chelsea.png").shape == (300, 448, 3)
