"""The one float -> uint8 conversion of model outputs, shared by evaluation and training validation.

``OUTPUT_ROUNDING``: clamp to [0, 1], multiply by 255, ``torch.round`` (round half to even), uint8.
"""
from __future__ import annotations

import numpy as np
import torch

OUTPUT_ROUNDING = "clamp01_x255_round_half_even"


def to_uint8_rgb(out: torch.Tensor, channel_order: str = "rgb") -> np.ndarray:
    """First image of a float NCHW model output (model's channel order) -> uint8 HxWx3 RGB numpy."""
    out = out.float()
    if channel_order == "bgr":
        out = out.flip(1)
    out = out.clamp(0.0, 1.0).mul(255.0).round()
    return out[0].permute(1, 2, 0).to(torch.uint8).cpu().numpy()
