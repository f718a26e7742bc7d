"""FSRCNN: Dong, Loy & Tang, "Accelerating the Super-Resolution Convolutional Neural Network",
ECCV 2016 (arXiv 1608.00367); project page with the authors' Caffe/MATLAB release:
http://mmlab.ie.cuhk.edu.hk/projects/FSRCNN.html (reference only, no code copied).
Configuration d=56, s=12, m=4, RGB: 24,683 params at x3.

Deconvolution: 9x9 transposed conv, stride = scale, padding 4, output padding scale-1, so the
output is exactly scale x the input.
"""
from __future__ import annotations

import torch
from torch import nn


class FSRCNN(nn.Module):
    """NCHW [0, 1] RGB -> NCHW s times the size, unclamped."""

    def __init__(self, scale: int = 3, d: int = 56, s: int = 12, m: int = 4, colors: int = 3):
        super().__init__()
        layers = [nn.Conv2d(colors, d, 5, padding=2), nn.PReLU(d),
                  nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.body = nn.Sequential(*layers)
        self.deconv = nn.ConvTranspose2d(d, colors, 9, stride=scale, padding=4,
                                         output_padding=scale - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Feature extraction, shrink, map, expand at LR; deconvolve to HR."""
        return self.deconv(self.body(x))


def fsrcnn(scale: int = 3) -> FSRCNN:
    """FSRCNN(56, 12, 4) for RGB at ``scale``."""
    return FSRCNN(scale)
