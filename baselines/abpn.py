"""ABPN: Du et al., "Anchor-based Plain Net for Mobile Image Super-Resolution", CVPRW 2021
(arXiv 2105.09750); authors' repository https://github.com/NJU-Jet/SR_Mobile_Quantization
(reference only, no code copied). 42,539 params at x3 RGB.

The anchor is the input repeated s^2 times per colour. PyTorch's PixelShuffle reads output colour c
from channels c*s^2 .. c*s^2+s^2-1, so the repetition is ``repeat_interleave`` (the TF original's
concat matches TF's depth_to_space order); either way the anchor is nearest-neighbour upsampling.
"""
from __future__ import annotations

import torch
from torch import nn


class ABPN(nn.Module):
    """NCHW [0, 1] RGB -> NCHW [0, 1] s times the size (clipped, as in the paper)."""

    def __init__(self, scale: int = 3, feats: int = 28, mid_convs: int = 4, colors: int = 3):
        super().__init__()
        out = colors * scale * scale
        layers = [nn.Conv2d(colors, feats, 3, padding=1), nn.ReLU()]
        for _ in range(mid_convs):
            layers += [nn.Conv2d(feats, feats, 3, padding=1), nn.ReLU()]
        layers += [nn.Conv2d(feats, out, 3, padding=1), nn.ReLU(),
                   nn.Conv2d(out, out, 3, padding=1)]
        self.body = nn.Sequential(*layers)
        self.shuffle = nn.PixelShuffle(scale)
        self.repeats = scale * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual on a nearest-neighbour anchor, depth-to-space, clip to [0, 1]."""
        anchor = x.repeat_interleave(self.repeats, dim=1)
        return self.shuffle(self.body(x) + anchor).clamp(0.0, 1.0)


def abpn(scale: int = 3) -> ABPN:
    """ABPN (28 features, 7 convs) for RGB at ``scale``."""
    return ABPN(scale)
