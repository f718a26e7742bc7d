"""The one float -> uint8 conversion of model outputs, shared by evaluation and training validation.

``OUTPUT_ROUNDING``: clamp to [0, 1], multiply by 255, ``torch.round`` (round half to even), uint8.
"""
from __future__ import annotations

import numpy as np
import torch

OUTPUT_ROUNDING = "clamp01_x255_round_half_even"


def to_uint8_rgb(out: torch.Tensor) -> np.ndarray:
    """First image of a canonical float NCHW RGB output ([0, 1] scale) -> uint8 HxWx3 RGB numpy."""
    out = out.float().clamp(0.0, 1.0).mul(255.0).round()
    return out[0].permute(1, 2, 0).to(torch.uint8).cpu().numpy()
