"""The challenge's own code as the oracle: LR/GT pixels and metrics against ``../shared/ntire23-official``.

The scripts are imported from where they lie (the ``ntire23_official`` fixture: ``$RTSR_NTIRE23_OFFICIAL``
or ``../shared/ntire23-official``), never copied; the tests skip with the reason when they are absent.
Data come from the offline mirror through the ``fetched`` fixture, as for a user; the released
checkpoint through the ``released_checkpoint`` fixture.

``prepare_data.py`` and ``util_image.py`` import torchvision (``center_crop``, ``make_grid``). The
CPU torch wheel this project pins has no matching torchvision on PyPI (the PyPI build needs CUDA
torch), so when ``import torchvision`` fails the fixture lends the two names for the import only:
``center_crop`` as torchvision 0.28's ``transforms/functional.py`` states it for a PIL image no
larger than the crop (``crop_top = int(round((image_height - crop_height) / 2.0))``, likewise
left, then ``img.crop``), and a ``make_grid`` that refuses to run (``imread_uint`` never calls it).
Everything else (RGB conversion, Pillow bicubic, JPEG, reading, the metrics) is the challenge's code.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.degrade import degrade_dataset
from datasets.imageio import load_rgb
from datasets.paths import gt_dir
from datasets.registry import get_dataset
from eval.evaluate import evaluate
from eval.options import EvalOptions

MIRROR_SETS = [("set5", "Set5/HR"), ("set14", "Set14/HR")]
PSNR_TOL_DB = 1e-6
SSIM_TOL = 1e-9


def _torchvision_standin() -> dict[str, types.ModuleType]:
    """Modules lending ``center_crop`` (torchvision's rule, PIL images) and an inert ``make_grid``."""

    def center_crop(img: Image.Image, output_size) -> Image.Image:
        crop_height, crop_width = output_size
        assert crop_height <= img.height and crop_width <= img.width, "stand-in does not pad"
        crop_top = round((img.height - crop_height) / 2.0)  # torchvision: int(round(...)), same value
        crop_left = round((img.width - crop_width) / 2.0)
        return img.crop((crop_left, crop_top, crop_left + crop_width, crop_top + crop_height))

    def make_grid(*_args, **_kwargs):
        raise NotImplementedError("torchvision stand-in: make_grid is not available")

    mods = {name: types.ModuleType(name) for name in
            ("torchvision", "torchvision.transforms", "torchvision.transforms.functional",
             "torchvision.utils")}
    mods["torchvision.transforms.functional"].center_crop = center_crop
    mods["torchvision.utils"].make_grid = make_grid
    mods["torchvision"].transforms = mods["torchvision.transforms"]
    mods["torchvision"].utils = mods["torchvision.utils"]
    mods["torchvision.transforms"].functional = mods["torchvision.transforms.functional"]
    return mods


def _load(folder: Path, name: str) -> types.ModuleType:
    """Import ``folder/name.py`` as ``ntire23_official_<name>`` (no sys.path change)."""
    spec = importlib.util.spec_from_file_location(f"ntire23_official_{name}", folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def official(ntire23_official) -> Namespace:
    """The challenge's prepare_data, util_image and util_metrics modules, imported unmodified."""
    folder = ntire23_official
    try:
        importlib.import_module("torchvision.transforms.functional")
        lent = {}
    except (ImportError, RuntimeError, OSError):  # absent, or a CUDA build beside the CPU torch
        lent = _torchvision_standin()
    saved = {name: sys.modules.get(name) for name in lent}
    sys.modules.update(lent)
    try:
        mods = {name: _load(folder, name) for name in ("prepare_data", "util_image", "util_metrics")}
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return Namespace(**mods, folder=folder, torchvision_lent=bool(lent))


def _official_prepare(official, src: Path, work: Path, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Run the challenge's ``prepare_data.main`` on one HR file: (GT, decoded LR) uint8 RGB."""
    w, h = Image.open(src).size
    image_dir = work / "in" / src.stem
    image_dir.mkdir(parents=True)
    (image_dir / src.name).symlink_to(src)
    args = Namespace(image_dir=str(image_dir), gt_out_dir=str(work / "gt"), lr_out_dir=str(work / "lr"),
                     jpeg_level=90, downsample_factor=scale, crop_size=[h - h % scale, w - w % scale])
    official.prepare_data.main(args)
    gt = np.asarray(Image.open(work / "gt" / src.name))
    with Image.open(work / "lr" / f"{src.stem}.jpg") as lr:
        return gt, np.asarray(lr.convert("RGB"))


@pytest.mark.mirror
@pytest.mark.parametrize("dataset, folder", MIRROR_SETS)
def test_lr_and_gt_pixels_equal_official_prepare_data(official, fetched, mirror, tmp_path, dataset,
                                                      folder):
    fetched(dataset)
    lr_out, gt_out = degrade_dataset(dataset, 3, progress=False)
    for f in get_dataset(dataset).files:
        gt, lr = _official_prepare(official, mirror / folder / f, tmp_path, 3)
        stem = Path(f).stem
        assert np.array_equal(load_rgb(gt_out / f"{stem}.png"), gt), f"{dataset}/{stem} GT"
        assert np.array_equal(load_rgb(lr_out / f"{stem}.png"), lr), f"{dataset}/{stem} LR"


def _evaluate(dataset: str, model: str, weights: Path | None, sr_dir: Path, **extra) -> dict:
    """``eval.evaluate`` of ``model`` on ``dataset`` x3, saving SR images in ``sr_dir``."""
    return evaluate(EvalOptions(model=model, dataset=dataset, scale=3, weights=weights, save_sr=sr_dir, **extra))


# Bicubic x3 on the centre-cropped GT (Pillow 13 / libjpeg-turbo 3.2.0), measured through
# eval.evaluate: (psnr_rgb, ssim_rgb, compat psnr_y, default psnr_y). The challenge's functions on the
# earlier top-left crop gave Set14 27.2343 dB compat Y; the earlier compat mode (shave 3, rounded Y)
# 27.4106 there.
BICUBIC_GOLDEN = {"set5": (27.2128, 0.78197, 30.1127, 30.1648),
                  "set14": (25.1271, 0.70076, 27.3362, 27.4382)}


@pytest.mark.mirror
@pytest.mark.parametrize("model", ["bicubic", "bicubic_pp_released"])
@pytest.mark.parametrize("dataset", [
    "set5", pytest.param("set14", marks=pytest.mark.slow)])
def test_metrics_equal_official_functions_on_saved_sr(official, fetched, request, tmp_path, dataset, model):
    """Per image, on our saved SR PNGs and GT read by the challenge's imread_uint: within 1e-6 dB.

    Bicubic, and the released Bicubic++ checkpoint (skipped, with the reason, where it is absent).
    """
    fetched(dataset)
    um, read = official.util_metrics, official.util_image.imread_uint
    weights = request.getfixturevalue("released_checkpoint") if model == "bicubic_pp_released" else None
    model = "bicubic_pp" if weights is not None else model
    sr_dir = tmp_path / model
    compat = _evaluate(dataset, model, weights, sr_dir, ntire23_compat=True)
    assert compat["conventions"]["y_preset"] == "ntire23_calc_metrics"
    for ours in compat["per_image"]:
        name = ours["name"]
        sr = read(str(sr_dir / f"{name}.png"), n_channels=3)
        hr = read(str(gt_dir(dataset, 3) / f"{name}.png"), n_channels=3)
        want = {"psnr_rgb": um.calculate_psnr(sr, hr, crop_border=0),
                "ssim_rgb": um.calculate_ssim(sr, hr, crop_border=0),
                "psnr_y": um.calculate_psnr(sr, hr, crop_border=0, test_y_channel=True),
                "ssim_y": um.calculate_ssim(sr, hr, crop_border=0, test_y_channel=True)}
        for key, tol in (("psnr_rgb", PSNR_TOL_DB), ("psnr_y", PSNR_TOL_DB),
                         ("ssim_rgb", SSIM_TOL), ("ssim_y", SSIM_TOL)):
            assert abs(ours[key] - float(want[key])) <= tol, f"{model} {dataset}/{name} {key}"
    if model == "bicubic":
        default = _evaluate(dataset, model, weights, tmp_path / "default")
        # the RGB metrics do not depend on the Y preset
        assert [r["psnr_rgb"] for r in default["per_image"]] == [r["psnr_rgb"] for r in compat["per_image"]]
        assert [r["ssim_rgb"] for r in default["per_image"]] == [r["ssim_rgb"] for r in compat["per_image"]]
        rgb, ssim, y_compat, y_default = BICUBIC_GOLDEN[dataset]
        assert compat["psnr_rgb"] == pytest.approx(rgb, abs=1e-4)
        assert compat["ssim_rgb"] == pytest.approx(ssim, abs=1e-5)
        assert compat["psnr_y"] == pytest.approx(y_compat, abs=1e-4)
        assert default["psnr_y"] == pytest.approx(y_default, abs=1e-4)
        gray = ["bridge"] if dataset == "set14" else []
        assert default["conventions"]["y_gray_value_images"] == gray
