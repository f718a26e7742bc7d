"""The challenge's reference upscaler: torch bicubic (a = -0.75, align_corners=False), clamped.

NTIRE 2023 RTSR challenge (Conde et al., "Efficient Deep Models for Real-Time 4K Image
Super-Resolution. NTIRE 2023 Benchmark and Report", CVPRW 2023); organisers' repository:
https://github.com/eduardzamfir/NTIRE23-RTSR (reference only, no code copied).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Bicubic(nn.Module):
    """NCHW [0, 1] RGB -> NCHW [0, 1], s times the size: ``F.interpolate(bicubic)`` then clamp."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upscale by ``self.scale`` and clamp to [0, 1]."""
        y = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return y.clamp(0.0, 1.0)


def bicubic(scale: int = 3) -> Bicubic:
    """The challenge's bicubic reference for ``scale``; no parameters."""
    return Bicubic(scale)
