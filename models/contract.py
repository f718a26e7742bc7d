"""A model's tensor contract: channel order and value range, converted once, and the output range check.

The project's canonical image tensor is NCHW float, **RGB**, values in **[0, 1]**. A registered
model (``ModelInfo``) or a checkpoint layout it loaded (``models.layouts.Layout``) may declare that
the module itself works in another convention:

- ``channel_order``: ``"rgb"`` or ``"bgr"`` (the module's input and output channel order);
- ``value_range``: ``"unit"`` (a white pixel is 1.0) or ``"255"`` (a white pixel is 255.0, EDSR-style
  ``rgb_range=255``), for input and output alike.

``models.padding.upscale`` is the one place that reads a module's contract (``module_contract``),
converts (``to_model`` / ``from_model``) and checks (``output_range_problem``); no network carries
conversion code of its own.

Output range check (named choice ``OUTPUT_RANGE_RULE``), in the model's own units with M its
declared white level. It catches an output on the wrong scale, not every wrong declaration:
- *out of range*: more than ``OUT_OF_RANGE_FRACTION`` (1 %) of output values lie more than a whole
  range outside [0, M], i.e. below -M or above 2 M (a [0, 255] output read as [0, 1] puts nearly
  every pixel there). The margin is wide because untrained networks (the contract tests run every
  registered model with random weights) overshoot: random-init IMDN puts 1.2 % of its values
  outside [-M/2, 1.5 M];
- *collapsed*: the input spans at least a tenth of the range but the whole output spans less than
  one uint8 level, M/255 (a [0, 1] output read as [0, 255] rounds to one flat image).
A [0, 255] network fed [0, 1] whose output stays on the input's scale (LeakyReLU nets are nearly
scale-equivariant; only their biases differ) passes this check and shows as a PSNR far below
bicubic: the measured case is in the README (the released RFDN fed [0, 1]).
"""
from __future__ import annotations

import torch

from models.errors import ModelError

CHANNEL_ORDERS = ("rgb", "bgr")
VALUE_RANGES = {"unit": 1.0, "255": 255.0}  # name -> the value of a white pixel
OUT_OF_RANGE_MARGIN = 1.0  # "far outside": more than a whole range below 0 or above the white level
OUT_OF_RANGE_FRACTION = 0.01  # more than this fraction of output values far outside fails
COLLAPSE_INPUT_SPAN = 0.1  # the collapse rule applies when the input spans >= this fraction of the range
COLLAPSE_OUTPUT_SPAN = 1 / 255  # ... and fails when the output spans less than one uint8 level
OUTPUT_RANGE_RULE = (f"fail if > {OUT_OF_RANGE_FRACTION:.0%} of outputs are outside "
                     f"[-{OUT_OF_RANGE_MARGIN}M, {1 + OUT_OF_RANGE_MARGIN}M], or if an input spanning "
                     f">= {COLLAPSE_INPUT_SPAN}M gives an output spanning < M/255 (M: declared white level)")


def white_level(value_range: str) -> float:
    """The value of a white pixel under ``value_range`` ("unit" -> 1.0, "255" -> 255.0)."""
    if value_range not in VALUE_RANGES:
        raise ModelError(f"value_range {value_range!r} is not one of {', '.join(VALUE_RANGES)}")
    return VALUE_RANGES[value_range]


def check_channel_order(channel_order: str) -> str:
    """``channel_order`` itself when it is "rgb" or "bgr"; ``ModelError`` otherwise."""
    if channel_order not in CHANNEL_ORDERS:
        raise ModelError(f"channel_order {channel_order!r} is not one of {', '.join(CHANNEL_ORDERS)}")
    return channel_order


def module_contract(model) -> tuple[str, str]:
    """(channel order, value range) the module takes and returns: its ``rtsr_info``'s, ("rgb", "unit") without one."""
    info = getattr(model, "rtsr_info", None)
    return (info.channel_order, info.value_range) if info is not None else ("rgb", "unit")


def to_model(x: torch.Tensor, channel_order: str = "rgb", value_range: str = "unit") -> torch.Tensor:
    """Canonical NCHW RGB [0, 1] -> the module's order and range (same dtype; no copy when nothing changes)."""
    if check_channel_order(channel_order) == "bgr":
        x = x.flip(1)
    scale = white_level(value_range)
    return x * scale if scale != 1.0 else x


def from_model(y: torch.Tensor, channel_order: str = "rgb", value_range: str = "unit") -> torch.Tensor:
    """The module's NCHW output in its order and range -> canonical RGB on the [0, 1] scale (unclamped)."""
    scale = white_level(value_range)
    if scale != 1.0:
        y = y / scale
    return y.flip(1) if check_channel_order(channel_order) == "bgr" else y


def output_range_problem(x_model: torch.Tensor, y_model: torch.Tensor, value_range: str) -> str | None:
    """Why the module's output ``y_model`` (its own units) breaks ``OUTPUT_RANGE_RULE``, or None.

    ``x_model`` is the input the module got, in the same units. NaN/Inf are left to the caller's
    finiteness check (they count as neither inside nor outside here).
    """
    top = white_level(value_range)
    y = y_model.detach().float()
    finite = torch.isfinite(y)
    if not bool(finite.any()):
        return None
    low, high = -OUT_OF_RANGE_MARGIN * top, (1 + OUT_OF_RANGE_MARGIN) * top
    outside = float(((y < low) | (y > high)).float().mean())
    y_min, y_max = float(y[finite].min()), float(y[finite].max())
    if outside > OUT_OF_RANGE_FRACTION:
        return (f"{outside:.1%} of its output values lie outside [{low:g}, {high:g}] (min {y_min:.4g}, "
                f"max {y_max:.4g}) for value_range {value_range!r} (white = {top:g})")
    x = x_model.detach().float()
    x_span = float(x.max() - x.min()) if x.numel() else 0.0
    if x_span >= COLLAPSE_INPUT_SPAN * top and y_max - y_min < COLLAPSE_OUTPUT_SPAN * top:
        return (f"its output spans only {y_max - y_min:.4g} (less than one uint8 level, {top / 255:.4g}) "
                f"for an input spanning {x_span:.4g}, under value_range {value_range!r} (white = {top:g})")
    return None
