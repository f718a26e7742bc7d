"""Image-quality metrics on uint8 RGB HxWx3 arrays (SR output first, ground truth second).

Named choices (every result records which ones it used):
- ``psnr_rgb``: the challenge's ranking metric. uint8 RGB, peak 255, no border crop, MSE over all
  pixels and channels of one image; a dataset figure is the mean of per-image PSNRs.
- ``psnr_y`` / ``ssim_y``: on Y (``eval.color``; BT.601 studio range, rounded to integers by
  default) with ``scale`` pixels shaved from every border. A grayscale GT (three equal channels)
  uses its gray value, and the SR side then uses full-range luma (equal to the gray value for a
  gray image), so a perfect reconstruction scores ``PSNR_CAP_DB``.
- ``ssim_y``: scikit-image ``structural_similarity`` with ``gaussian_weights=True, sigma=1.5``
  (11x11 window), ``use_sample_covariance=False``, ``data_range=255``, K1=0.01, K2=0.03: the
  settings of Wang et al.'s MATLAB ``ssim`` used by the published tables.
- Identical images (MSE 0): PSNR is capped at ``PSNR_CAP_DB`` = 100 dB so means stay finite.
"""
from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from eval.color import BT601, NTIRE23_COMPAT, _check_rgb_uint8, gray_luma, is_gray, rgb_to_y
from eval.errors import EvalError

PSNR_CAP_DB = 100.0
PEAK = 255.0
SSIM_OPTIONS = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255.0)


def psnr(a: np.ndarray, b: np.ndarray, peak: float = PEAK) -> float:
    """PSNR in dB between two same-shape arrays (any layout, values in [0, peak]); capped at 100 dB."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    if mse == 0.0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10.0 * np.log10(peak * peak / mse))


def shave(img: np.ndarray, border: int) -> np.ndarray:
    """Remove ``border`` pixels from every side of an HxW(xC) array; error if nothing would remain."""
    if border == 0:
        return img
    h, w = img.shape[:2]
    if h <= 2 * border or w <= 2 * border:
        raise EvalError(f"image of {h}x{w} is too small to shave {border} px from each border")
    return img[border:-border, border:-border]


def _check_pair(sr: np.ndarray, gt: np.ndarray) -> None:
    """One-line EvalError unless both are uint8 RGB HxWx3 of the same shape."""
    _check_rgb_uint8(sr, "SR image")
    _check_rgb_uint8(gt, "GT image")
    if sr.shape != gt.shape:
        raise EvalError(f"SR shape {sr.shape} differs from GT shape {gt.shape}")


def psnr_rgb(sr: np.ndarray, gt: np.ndarray) -> float:
    """Challenge PSNR (dB): uint8 RGB HxWx3 pair, peak 255, no crop, MSE over all pixels and channels."""
    _check_pair(sr, gt)
    return psnr(sr, gt)


def y_pair(sr: np.ndarray, gt: np.ndarray, ntire23_compat: bool = False,
           round_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Float64 HxW Y planes of a uint8 RGB SR/GT pair under the module's Y and grayscale rules."""
    _check_pair(sr, gt)
    if ntire23_compat:
        return (rgb_to_y(sr, NTIRE23_COMPAT, round_y), rgb_to_y(gt, NTIRE23_COMPAT, round_y))
    if is_gray(gt):
        return gray_luma(sr, round_y), gt[..., 0].astype(np.float64)
    return rgb_to_y(sr, BT601, round_y), rgb_to_y(gt, BT601, round_y)


def psnr_y(sr: np.ndarray, gt: np.ndarray, scale: int, ntire23_compat: bool = False,
           round_y: bool = True) -> float:
    """Y PSNR (dB) of a uint8 RGB HxWx3 pair, ``scale`` px shaved, peak 255 (see module rules)."""
    ysr, ygt = y_pair(sr, gt, ntire23_compat, round_y)
    return psnr(shave(ysr, scale), shave(ygt, scale))


def ssim_y(sr: np.ndarray, gt: np.ndarray, scale: int, ntire23_compat: bool = False,
           round_y: bool = True) -> float:
    """Y SSIM (11x11 Gaussian, sigma 1.5) of a uint8 RGB HxWx3 pair, ``scale`` px shaved."""
    ysr, ygt = y_pair(sr, gt, ntire23_compat, round_y)
    return ssim_planes(shave(ysr, scale), shave(ygt, scale))


def ssim_planes(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two same-shape HxW float planes in [0, 255] with ``SSIM_OPTIONS`` (already shaved)."""
    if min(a.shape) < 11:
        raise EvalError(f"Y plane of {a.shape} is too small for an 11x11 SSIM window")
    return float(structural_similarity(a.astype(np.float64), b.astype(np.float64), **SSIM_OPTIONS))
