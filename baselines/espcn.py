"""ESPCN: Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient
Sub-Pixel Convolutional Neural Network", CVPR 2016 (arXiv 1609.05158). The authors released
no code; this follows the paper.

RGB variant: 5x5 3->64 tanh, 3x3 64->32 tanh, 3x3 32->3s^2, PixelShuffle(s). 31,131 params at x3.
"""
from __future__ import annotations

import torch
from torch import nn


class ESPCN(nn.Module):
    """NCHW [0, 1] RGB -> NCHW s times the size, unclamped."""

    def __init__(self, scale: int = 3, colors: int = 3):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(colors, 64, 5, padding=2), nn.Tanh(),
            nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
            nn.Conv2d(32, colors * scale * scale, 3, padding=1),
        )
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Feature extraction at LR, sub-pixel convolution to HR."""
        return self.shuffle(self.body(x))


def espcn(scale: int = 3) -> ESPCN:
    """ESPCN for RGB at ``scale``."""
    return ESPCN(scale)
