"""Validation: the mean challenge RGB PSNR of a model's uint8 outputs (``eval.metrics.psnr_rgb``).

Outputs go through ``models.padding.upscale`` and the one float -> uint8 conversion
(``core.quantize.to_uint8_rgb``), exactly as ``eval.evaluate`` scores a model, except that the
output range check is off: a diverging run gets a low score, not an error.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.quantize import to_uint8_rgb
from eval.metrics import psnr_rgb
from models.padding import upscale


@torch.no_grad()
def validate(model: nn.Module, items: list, scale: int) -> float:
    """Mean challenge RGB PSNR (dB) of ``model`` on validation ``items`` (outputs clamped, rounded to uint8)."""
    was_training = model.training
    model.eval()
    scores = []
    for lr, gt in items:
        scores.append(psnr_rgb(to_uint8_rgb(upscale(model, lr, scale, check_range=False)), gt))
    model.train(was_training)
    return float(np.mean(scores))
