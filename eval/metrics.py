"""Image-quality metrics on uint8 RGB HxWx3 arrays (SR output first, ground truth second).

Named choices (every result records which ones it used):
- ``psnr_rgb``: the challenge's ranking metric. uint8 RGB, peak 255, no border crop, MSE over all
  pixels and channels of one image (float64); a dataset figure is the mean of per-image PSNRs.
- ``ssim_rgb``: the challenge's RGB SSIM: ``SSIM_OPTIONS`` on each RGB channel (uint8 values as
  float64, no border crop), averaged over the three channels.
- ``psnr_y`` / ``ssim_y`` follow a ``YPreset``:
  ``Y_DEFAULT`` BT.601 studio-range Y rounded to integers, ``scale`` pixels shaved from every
  border, float64; a single-channel source file (``gray_source``) uses its gray value and the SR
  side full-range luma (equal to the gray value for a gray image), so a perfect reconstruction
  scores ``PSNR_CAP_DB``; every 3-channel file uses the formula, even with equal channels.
  ``Y_NTIRE23_COMPAT`` is the challenge's ``calc_metrics.py``: swapped R/B weights, unrounded Y
  in the challenge code's float32 arithmetic (``eval.color.ntire23_y``), no border crop, every
  image through the formula (gray files are read as three equal channels), and its PSNR in
  float32 as ``calculate_psnr`` computes it (``psnr_float32``).
- SSIM (``SSIM_OPTIONS``): scikit-image ``structural_similarity`` with ``gaussian_weights=True,
  sigma=1.5`` (11x11 window), ``use_sample_covariance=False``, ``data_range=255``, K1=0.01,
  K2=0.03: Wang et al.'s MATLAB ``ssim`` as the published tables use it. The challenge's
  ``calculate_ssim`` (OpenCV ``filter2D`` with the same 11x11 Gaussian, mean over the map minus
  5 px per border) is the same computation: both keep only the window-valid region, so they agree
  to ~1e-12 (tested against the challenge's code), and compat mode uses this same preset.
- Identical images (MSE 0): PSNR is capped at ``PSNR_CAP_DB`` = 100 dB so means stay finite (the
  challenge's code returns inf there).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.metrics import structural_similarity

from eval.color import (
    BT601,
    NTIRE23_COMPAT,
    YConvention,
    _check_rgb_uint8,
    gray_luma,
    ntire23_y,
    rgb_to_y,
)
from eval.errors import EvalError

PSNR_CAP_DB = 100.0
PEAK = 255.0
SSIM_WINDOW = 11  # side of the Gaussian SSIM window: the smallest image side SSIM accepts
SSIM_OPTIONS = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False,
                "data_range": 255.0}


@dataclass(frozen=True)
class YPreset:
    """How ``psnr_y``/``ssim_y`` are computed; ``name`` is recorded in every result."""

    name: str
    y: YConvention
    round_y: bool  # round Y to integers (half away from zero) before the metrics
    shave_scale: bool  # shave ``scale`` px from every border (else no border crop)
    gray_by_source: bool  # a single-channel source file uses its gray value
    float32: bool  # the challenge code's float32 Y and PSNR arithmetic


Y_DEFAULT = YPreset("bt601_rounded_shave", BT601, round_y=True, shave_scale=True,
                    gray_by_source=True, float32=False)
Y_NTIRE23_COMPAT = YPreset("ntire23_calc_metrics", NTIRE23_COMPAT, round_y=False, shave_scale=False,
                           gray_by_source=False, float32=True)


def psnr(a: np.ndarray, b: np.ndarray, peak: float = PEAK) -> float:
    """PSNR in dB between two same-shape arrays (any layout, values in [0, peak]); capped at 100 dB."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    if mse == 0.0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10.0 * np.log10(peak * peak / mse))


def psnr_float32(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB, peak 255) of two float32 planes in float32 arithmetic, as the challenge's code; cap 100."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    mse = np.mean((a - b) ** 2)  # float32 mean, as calculate_psnr on float32 Y
    if mse == 0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, float(20.0 * np.log10(255.0 / np.sqrt(mse))))


def min_image_side(border: int) -> int:
    """Smallest GT side (px) every metric accepts with ``border`` px shaved: an SSIM window after the shave."""
    return SSIM_WINDOW + 2 * border


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


def ssim_rgb(sr: np.ndarray, gt: np.ndarray) -> float:
    """Challenge RGB SSIM of a uint8 RGB HxWx3 pair: ``SSIM_OPTIONS`` per channel, no crop, mean."""
    _check_pair(sr, gt)
    if min(sr.shape[:2]) < SSIM_WINDOW:
        raise EvalError(f"image of {sr.shape[:2]} is too small for an 11x11 SSIM window")
    return float(structural_similarity(sr.astype(np.float64), gt.astype(np.float64),
                                       channel_axis=2, **SSIM_OPTIONS))


def y_pair(sr: np.ndarray, gt: np.ndarray, preset: YPreset = Y_DEFAULT,
           gray_source: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """HxW Y planes (float64; float32 for a float32 preset) of a uint8 RGB SR/GT pair, unshaved.

    ``gray_source``: the GT comes from a single-channel file (HR manifest ``source_mode``).
    """
    _check_pair(sr, gt)
    if preset.float32:
        return ntire23_y(sr), ntire23_y(gt)
    if gray_source and preset.gray_by_source:
        return gray_luma(sr, preset.round_y), gt[..., 0].astype(np.float64)
    return rgb_to_y(sr, preset.y, preset.round_y), rgb_to_y(gt, preset.y, preset.round_y)


def y_metrics(sr: np.ndarray, gt: np.ndarray, scale: int, preset: YPreset = Y_DEFAULT,
              gray_source: bool = False) -> dict:
    """``{"psnr_y", "ssim_y"}`` of a uint8 RGB SR/GT pair under ``preset`` (see module rules)."""
    border = scale if preset.shave_scale else 0
    ysr, ygt = (shave(y, border) for y in y_pair(sr, gt, preset, gray_source))
    value = psnr_float32(ysr, ygt) if preset.float32 else psnr(ysr, ygt)
    return {"psnr_y": value, "ssim_y": ssim_planes(ysr, ygt)}


def psnr_y(sr: np.ndarray, gt: np.ndarray, scale: int, preset: YPreset = Y_DEFAULT,
           gray_source: bool = False) -> float:
    """Y PSNR (dB, peak 255) of a uint8 RGB HxWx3 pair under ``preset``."""
    return y_metrics(sr, gt, scale, preset, gray_source)["psnr_y"]


def ssim_y(sr: np.ndarray, gt: np.ndarray, scale: int, preset: YPreset = Y_DEFAULT,
           gray_source: bool = False) -> float:
    """Y SSIM (11x11 Gaussian, sigma 1.5) of a uint8 RGB HxWx3 pair under ``preset``."""
    return y_metrics(sr, gt, scale, preset, gray_source)["ssim_y"]


def ssim_planes(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two same-shape HxW planes in [0, 255] (as float64) with ``SSIM_OPTIONS`` (already shaved)."""
    if min(a.shape) < SSIM_WINDOW:
        raise EvalError(f"Y plane of {a.shape} is too small for an 11x11 SSIM window")
    return float(structural_similarity(a.astype(np.float64), b.astype(np.float64), **SSIM_OPTIONS))
