"""MATLAB-compatible bicubic ``imresize`` upscaler (cubic a = -0.5), for the classic SR protocol.

Keys, "Cubic convolution interpolation for digital image processing", IEEE TASSP 1981, as
implemented by MATLAB's ``imresize``; the kernel lives in ``datasets.matlab_resize``.
"""
from __future__ import annotations

import torch
from torch import nn

from datasets.matlab_resize import imresize_torch


class BicubicMatlab(nn.Module):
    """NCHW [0, 1] RGB -> NCHW [0, 1], s times the size, via ``imresize_torch`` then clamp."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """MATLAB bicubic upscale by ``self.scale``; clamp to [0, 1]."""
        return imresize_torch(x, self.scale).clamp(0.0, 1.0)


def bicubic_matlab(scale: int = 3) -> BicubicMatlab:
    """MATLAB-compatible bicubic for ``scale``; no parameters."""
    return BicubicMatlab(scale)
