"""RGB -> Y conversions used by the metrics, each a named convention (uint8 RGB HxWx3 in, float64 HxW out).

Named choices:
- ``BT601``: studio-range BT.601 luma, ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255``
  for RGB in [0, 255], result in [16, 235] (MATLAB ``rgb2ycbcr``).
- ``NTIRE23_COMPAT``: the challenge code's Y, which applies the BGR weights to RGB arrays
  (R and B weights swapped): ``Y = 16 + (24.966 R + 128.553 G + 65.481 B) / 255``. Off by default.
  ``ntire23_y`` computes it in the challenge code's own arithmetic (``to_y_channel`` of
  ``calc_metrics.py``: float32 RGB/255, the weights in float64, /255 to float32, x255 in float32),
  so that metrics on it equal the challenge's to the last float32 bit.
- Rounding (``Y_ROUNDING``): Y is rounded to an integer (half away from zero), as MATLAB's
  ``rgb2ycbcr`` does for uint8 images and as the published classic tables used. ``round_y=False``
  keeps the float value (BasicSR's convention) when asked.
- Grayscale (``gray_luma``): a single-channel source file's Y is its gray value. For an RGB SR
  output compared with such a GT, the consistent counterpart is full-range BT.601 luma
  ``0.299 R + 0.587 G + 0.114 B`` (exactly the gray value for three equal channels), rounded.
  Which images are gray is decided by the source file (``datasets.imageio.is_single_channel_mode``
  of the HR manifest's ``source_mode``), never by equal channels: a 3-channel file whose channels
  happen to be equal goes through the formula, as MATLAB's ``rgb2ycbcr`` does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eval.errors import EvalError

Y_ROUNDING = "half_away_from_zero"


@dataclass(frozen=True)
class YConvention:
    """Weights (for R, G, B in [0, 255]) and offset of a studio-range Y; ``name`` is recorded in results."""

    name: str
    weights: tuple[float, float, float]
    offset: float = 16.0


BT601 = YConvention("bt601", (65.481, 128.553, 24.966))
NTIRE23_COMPAT = YConvention("ntire23_compat", (24.966, 128.553, 65.481))
FULL_RANGE_LUMA = (0.299, 0.587, 0.114)


def _check_rgb_uint8(rgb: np.ndarray, what: str = "image") -> None:
    """Raise a one-line EvalError unless ``rgb`` is an HxWx3 uint8 array."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        desc = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise EvalError(f"{what}: expected an HxWx3 uint8 RGB array, got {desc}")


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round non-negative floats half away from zero (MATLAB's ``round``), float64 out."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def rgb_to_y(rgb: np.ndarray, convention: YConvention = BT601, round_y: bool = True) -> np.ndarray:
    """Studio-range Y (float64 HxW in [16, 235]) of uint8 RGB HxWx3; rounded unless ``round_y=False``."""
    _check_rgb_uint8(rgb)
    wr, wg, wb = convention.weights
    f = rgb.astype(np.float64)
    y = convention.offset + (wr * f[..., 0] + wg * f[..., 1] + wb * f[..., 2]) / 255.0
    return round_half_away(y) if round_y else y


def gray_luma(rgb: np.ndarray, round_y: bool = True) -> np.ndarray:
    """Full-range BT.601 luma (float64 HxW in [0, 255]) of uint8 RGB: the gray value of a gray image."""
    _check_rgb_uint8(rgb)
    wr, wg, wb = FULL_RANGE_LUMA
    f = rgb.astype(np.float64)
    y = wr * f[..., 0] + wg * f[..., 1] + wb * f[..., 2]
    return round_half_away(y) if round_y else y


def ntire23_y(rgb: np.ndarray) -> np.ndarray:
    """The challenge code's unrounded Y (float32 HxW in [16, 235]) of uint8 RGB, swapped weights."""
    _check_rgb_uint8(rgb)
    x = rgb.astype(np.float32) / 255.0  # float32, as to_y_channel
    y = np.dot(x, list(NTIRE23_COMPAT.weights)) + NTIRE23_COMPAT.offset  # float64, as bgr2ycbcr
    return (y / 255.0).astype(np.float32) * 255.0  # float32 [0, 1], then x255 in float32
