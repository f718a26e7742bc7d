"""Where to crop a comparison: the square with the largest summed error (or gain) over a test set.

Error maps are per-pixel squared uint8 RGB differences summed over the channels (int64, HxW).
Two choices, both deterministic (images in name order, then the first window in row-major order
on ties), both in HR pixels:
    ``best_gain_crop``      where a model gains most over bicubic: the largest sum of
                            (bicubic error - model error) against the ground truth, at least
                            ``margin`` pixels inside the image (``crops.png``).
    ``worst_bicubic_crop``  where bicubic errs most (when no model has SR images).
``max_window`` is the shared search (also used by the web page's ``eval.site.choose_crops``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.imageio import ImageError, load_rgb

BORDER_MARGIN_LR = 8  # crops start >= 8 LR pixels (8 x scale HR pixels) inside: models pad at borders


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


def worst_bicubic_crop(gt_folder: Path, bic_folder: Path, size: int) -> tuple[str, int, int, int]:
    """(stem, top, left, side) of the square with the largest bicubic squared error, over all images."""
    best = (-1.0, "", 0, 0, 0)
    for stem in _stems(gt_folder):
        gt = load_rgb(Path(gt_folder) / f"{stem}.png")
        bic = _load_same_size(Path(bic_folder) / f"{stem}.png", gt)
        side = min(size, gt.shape[0], gt.shape[1])
        top, left, value = max_window(squared_error(bic, gt), side)
        if value > best[0]:
            best = (value, stem, top, left, side)
    return best[1], best[2], best[3], best[4]


def best_gain_crop(gt_folder: Path, bic_folder: Path, model_folder: Path, size: int,
                   margin: int = 0) -> tuple[str, int, int, int]:
    """(stem, top, left, side) of the square where ``model_folder``'s images gain most over bicubic.

    Gain = bicubic squared error - model squared error against the ground truth, summed over the
    window; images without the model's output are skipped (ImageError when none has one).
    """
    best = None
    for stem in _stems(gt_folder):
        model_file = Path(model_folder) / f"{stem}.png"
        if not model_file.is_file():
            continue
        gt = load_rgb(Path(gt_folder) / f"{stem}.png")
        bic = _load_same_size(Path(bic_folder) / f"{stem}.png", gt)
        gain = squared_error(bic, gt) - squared_error(_load_same_size(model_file, gt), gt)
        side = min(size, gt.shape[0], gt.shape[1])
        top, left, value = max_window(gain, side, margin)
        if best is None or value > best[0]:
            best = (value, stem, top, left, side)
    if best is None:
        raise ImageError(f"{model_folder}: no SR image of any ground truth in {gt_folder}")
    return best[1], best[2], best[3], best[4]
