"""IMDN: Hui, Gao, Yang & Wang, "Lightweight Image Super-Resolution with Information
Multi-distillation Network", ACM Multimedia 2019, arXiv 1909.11856 (the AIM 2019 constrained-SR
challenge winner). Written from the paper's description; no code copied.

The paper's information multi-distillation block (IMDB, its Fig. 2) refines features in steps:
a 3x3 conv + LeakyReLU (slope 0.05) whose output channels are split into a *distilled* quarter,
kept, and a *coarse* three quarters, refined by the next 3x3 conv; after three splits a last 3x3
conv distils the rest; the four distilled parts are concatenated (back to ``channels``), fused by
a 1x1 conv and added to the block's input.

This module has the layout of the AIM 2019 checkpoint shipped with the NTIRE 2023 RTSR model zoo
(``imdn_x4_aim2019.pth``; KAIR's key names), so that file loads as it is:
``model.0`` 3x3 head conv (3 -> 64); ``model.1.sub.0..7`` eight IMDBs (``conv1.0``, ``conv2.0``,
``conv3.0``: conv + LeakyReLU pairs; ``conv4``: the last 3x3 distillation; ``conv1x1``: the fusion);
``model.1.sub.8`` a 3x3 conv closing the body, whose output is added to the head's (``model.1`` is
that long skip); ``model.2`` a 3x3 conv to 3 * scale**2 channels and ``model.3`` PixelShuffle.
Two differences from the paper's network, both read off the file: its blocks have no
contrast-aware channel attention (the file holds no attention weights), and the body ends in one
3x3 conv instead of the paper's concatenation of every block's output with 1x1 + 3x3 fusion.
64 channels, 8 blocks: 893,936 parameters at x4, 881,819 at x3. Input NCHW RGB in [0, 1] (the
checkpoint's range), output s times the size, unclamped.
"""
from __future__ import annotations

import torch
from torch import nn

SLOPE = 0.05  # LeakyReLU negative slope of the paper and the checkpoint


def conv3(cin: int, cout: int) -> nn.Conv2d:
    """A biased 3x3 conv with 'same' padding."""
    return nn.Conv2d(cin, cout, 3, padding=1)


def conv3_act(cin: int, cout: int, slope: float) -> nn.Sequential:
    """3x3 conv followed by LeakyReLU (keys ``N.0.weight``, as in the checkpoint)."""
    return nn.Sequential(conv3(cin, cout), nn.LeakyReLU(slope))


class IMDB(nn.Module):
    """Information multi-distillation block: three split steps, a last distillation, 1x1 fusion, skip."""

    def __init__(self, channels: int = 64, distill_rate: float = 0.25, slope: float = SLOPE):
        super().__init__()
        self.distilled = int(channels * distill_rate)
        self.coarse = channels - self.distilled
        self.conv1 = conv3_act(channels, channels, slope)
        self.conv2 = conv3_act(self.coarse, channels, slope)
        self.conv3 = conv3_act(self.coarse, channels, slope)
        self.conv4 = conv3(self.coarse, self.distilled)
        self.conv1x1 = nn.Conv2d(4 * self.distilled, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + fuse(concat of the four distilled parts)."""
        parts = []
        h = x
        for step in (self.conv1, self.conv2, self.conv3):
            kept, h = torch.split(step(h), (self.distilled, self.coarse), dim=1)
            parts.append(kept)
        parts.append(self.conv4(h))
        return x + self.conv1x1(torch.cat(parts, dim=1))


class LongSkip(nn.Module):
    """``x + sub(x)``; the attribute name ``sub`` gives the checkpoint's ``model.1.sub.N`` keys."""

    def __init__(self, *modules: nn.Module):
        super().__init__()
        self.sub = nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The body's output added to its input."""
        return x + self.sub(x)


class IMDN(nn.Module):
    """NCHW RGB [0, 1] -> NCHW s times the size: head conv, IMDBs + conv under a long skip, sub-pixel."""

    def __init__(self, scale: int = 4, channels: int = 64, blocks: int = 8, colors: int = 3,
                 slope: float = SLOPE):
        super().__init__()
        body = [IMDB(channels, slope=slope) for _ in range(blocks)] + [conv3(channels, channels)]
        self.model = nn.Sequential(
            conv3(colors, channels),
            LongSkip(*body),
            conv3(channels, colors * scale * scale),
            nn.PixelShuffle(scale),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upscale ``x`` by the model's scale (unclamped)."""
        return self.model(x)


def imdn(scale: int = 4, channels: int = 64, blocks: int = 8) -> IMDN:
    """IMDN as in the AIM 2019 checkpoint (64 channels, 8 IMDBs, LeakyReLU 0.05) at ``scale``."""
    return IMDN(scale, channels, blocks)
