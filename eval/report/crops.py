"""Where to crop a comparison: ONE rule for ``crops.png`` (``eval.report.plots``) and the page (``eval.report.site``).

``choose_spots``: the squares, at most one per image, where the reference model gains most over
bicubic (the largest window sum of bicubic's squared error minus the model's, against the HR
ground truth), or, without a reference model, where bicubic errs most. The reference model
(``reference_model``) is the one with the highest PSNR RGB among the models with SR images that
are not outliers (``eval.report.chart_axes.outlier_cut``: more than 3 dB below bicubic, e.g. random
weights): a broken model never drives the choice. Every window starts at least ``border_margin``
HR pixels inside the image: 8 % of its shorter side and at least ``BORDER_MARGIN_LR`` LR pixels,
where networks pad and blank corners are. Error maps are per-pixel squared uint8 RGB differences
summed over the channels (int64, HxW). Deterministic: images in name order, the first window in
row-major order on ties.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datasets.imageio import ImageError, load_rgb
from eval.report.chart_axes import outlier_cut

BORDER_MARGIN_LR = 8  # crops start >= 8 LR pixels (8 x scale HR pixels) inside: models pad at borders
BORDER_MARGIN_SHARE = 0.08  # ... and >= 8 % of the image's shorter side inside
CROP_SIDE = 64  # HR pixels per side of the web page's crops (crops.png takes --crop-size)


@dataclass(frozen=True)
class Spot:
    """A crop position: image stem, top row, left column and side, in HR pixels."""

    stem: str
    top: int
    left: int
    side: int


def border_margin(h: int, w: int, scale: int) -> int:
    """HR pixels a crop keeps from every border of an h x w image: 8 % of the shorter side, >= 8 LR px."""
    return max(math.ceil(BORDER_MARGIN_SHARE * min(h, w)), BORDER_MARGIN_LR * scale)


def reference_model(psnrs: dict[str, float], bicubic_psnr: float | None) -> str | None:
    """The label (of ``{label: PSNR RGB dB}`` of the models other than bicubic, which the caller leaves out by
    ``eval.report.resultfiles.is_bicubic_row``) with the highest PSNR that is no outlier."""
    if not psnrs:
        return None
    cut = outlier_cut(list(psnrs.values()), bicubic_psnr)
    kept = sorted((-p, lb) for lb, p in psnrs.items() if p >= cut)
    return kept[0][1] if kept else None


def max_window(err: np.ndarray, side: int, margin: int = 0) -> tuple[int, int, float]:
    """Top-left (row, col) and sum of the ``side`` x ``side`` window of ``err`` with the largest sum.

    Windows start at least ``margin`` pixels from every border (less when the image is too small
    for that margin; never a negative one). First window in row-major order on ties.
    """
    h, w = err.shape
    m = max(0, min(margin, (h - side) // 2, (w - side) // 2))
    ii = np.zeros((h + 1, w + 1), dtype=np.float64 if err.dtype.kind == "f" else np.int64)
    ii[1:, 1:] = err.cumsum(0).cumsum(1)
    sums = ii[side:, side:] - ii[:-side, side:] - ii[side:, :-side] + ii[:-side, :-side]
    inner = sums[m:sums.shape[0] - m, m:sums.shape[1] - m]
    flat = int(np.argmax(inner))
    top, left = divmod(flat, inner.shape[1])
    return top + m, left + m, float(inner[top, left])


def squared_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel squared difference of two uint8 HxWx3 images, summed over channels (int64 HxW)."""
    return ((a.astype(np.int64) - b.astype(np.int64)) ** 2).sum(axis=2)


def _stems(gt_folder: Path) -> list[str]:
    """Stems of the ground-truth PNGs, in name order; ImageError when there are none."""
    stems = sorted(p.stem for p in Path(gt_folder).glob("*.png") if not p.name.startswith("."))
    if not stems:
        raise ImageError(f"{gt_folder}: no ground-truth PNGs; run `python -m datasets.degrade` first")
    return stems


def _load_same_size(path: Path, gt: np.ndarray) -> np.ndarray:
    """An SR image that must have the ground truth's size (ImageError naming the file otherwise)."""
    img = load_rgb(path)
    if img.shape != gt.shape:
        raise ImageError(f"{path}: size {img.shape[:2]} differs from the GT's {gt.shape[:2]}; "
                         "re-run eval.evaluate with --save-sr")
    return img


def _score_map(gt: np.ndarray, bic: np.ndarray, model: np.ndarray | None) -> np.ndarray:
    """Per-pixel gain of the model over bicubic (int64 HxW), or bicubic's squared error without a model."""
    bic_err = squared_error(bic, gt)
    return bic_err if model is None else bic_err - squared_error(model, gt)


def choose_spots(gt_folder: Path, bic_folder: Path, model_folder: Path | None, side: int, count: int,
                 scale: int) -> list[Spot]:
    """The ``count`` best squares of ``side`` HR px (one per image), by the module's rule.

    ``model_folder``: the reference model's SR images (``reference_model``), None for bicubic's
    error; images without the model's output (or bicubic's) are skipped, ImageError when none is left.
    """
    candidates = []
    for stem in _stems(gt_folder):
        model_file = None if model_folder is None else Path(model_folder) / f"{stem}.png"
        bic_file = Path(bic_folder) / f"{stem}.png"
        if not bic_file.is_file() or (model_file is not None and not model_file.is_file()):
            continue
        gt = load_rgb(Path(gt_folder) / f"{stem}.png")
        bic = _load_same_size(bic_file, gt)
        model = None if model_file is None else _load_same_size(model_file, gt)
        s = min(side, gt.shape[0], gt.shape[1])
        top, left, value = max_window(_score_map(gt, bic, model), s, border_margin(*gt.shape[:2], scale))
        candidates.append((-value, len(candidates), Spot(stem, top, left, s)))
    if not candidates:
        raise ImageError(f"{model_folder or bic_folder}: no SR image of any ground truth in {gt_folder}")
    return [spot for _, _, spot in sorted(candidates)[:count]]
