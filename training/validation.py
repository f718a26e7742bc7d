"""Validation: the mean challenge RGB PSNR of a model's uint8 outputs (``eval.metrics.psnr_rgb``).

Outputs go through the one run path, ``models.padding.upscale_uint8`` (contract, padding, checks, the
float -> uint8 conversion ``core.quantize.to_uint8_rgb``), exactly as ``eval.evaluate`` scores a
model, except that a diverging run gets a low score, not an error: the range and mean rules are off
(``check_range=False``) and a NaN/Inf output is scored as the uint8 conversion leaves it
(``nonfinite="score"``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from eval.metrics import psnr_rgb
from models.padding import upscale_uint8


@torch.no_grad()
def validate(model: nn.Module, items: list, scale: int) -> float:
    """Mean challenge RGB PSNR (dB) of ``model`` on validation ``items`` (outputs clamped, rounded to uint8)."""
    was_training = model.training
    model.eval()
    scores = []
    for lr, gt in items:
        scores.append(psnr_rgb(upscale_uint8(model, lr, scale, check_range=False, nonfinite="score"), gt))
    model.train(was_training)
    return float(np.mean(scores))
