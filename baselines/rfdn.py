"""RFDN: Liu, Tang & Wu, "Residual Feature Distillation Network for Lightweight Image
Super-Resolution", ECCV Workshops (AIM 2020), arXiv 2009.11551; authors' repository
https://github.com/njulj/RFDN (reference only, no code copied).

nf=50, four residual feature distillation blocks (RFDB) with enhanced spatial attention (ESA),
LeakyReLU(0.05): 423,977 params at x3 RGB. ESA's stride-2 conv (no padding) and 7x7/3 max pool
need at least 15 px per side, hence ``min_size=15`` (the shared pad-and-crop helper pads).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MIN_SIZE = 15  # smallest side ESA accepts: (15 - 3) // 2 + 1 = 7 = the max-pool window


def conv(cin: int, cout: int, k: int, stride: int = 1, pad: int | None = None) -> nn.Conv2d:
    """A biased ``k x k`` conv, 'same' padding unless ``pad`` is given."""
    return nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2 if pad is None else pad)


class ESA(nn.Module):
    """Enhanced spatial attention: a coarse, pooled mask multiplies the features."""

    def __init__(self, channels: int):
        super().__init__()
        f = channels // 4
        self.conv1 = conv(channels, f, 1)
        self.conv_f = conv(f, f, 1)
        self.conv_max = conv(f, f, 3)
        self.conv2 = conv(f, f, 3, stride=2, pad=0)
        self.conv3 = conv(f, f, 3)
        self.conv3_ = conv(f, f, 3)
        self.conv4 = conv(f, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x * sigmoid(mask); needs H, W >= 15."""
        c1_ = self.conv1(x)
        c1 = F.max_pool2d(self.conv2(c1_), kernel_size=7, stride=3)
        c3 = F.relu(self.conv_max(c1))
        c3 = self.conv3_(F.relu(self.conv3(c3)))
        c3 = F.interpolate(c3, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return x * torch.sigmoid(self.conv4(c3 + self.conv_f(c1_)))


class RFDB(nn.Module):
    """Three distillation steps (1x1 distilled / 3x3 residual refinement), a 3x3, concat, 1x1, ESA."""

    def __init__(self, channels: int, slope: float = 0.05):
        super().__init__()
        dc = channels // 2
        self.c1_d, self.c1_r = conv(channels, dc, 1), conv(channels, channels, 3)
        self.c2_d, self.c2_r = conv(channels, dc, 1), conv(channels, channels, 3)
        self.c3_d, self.c3_r = conv(channels, dc, 1), conv(channels, channels, 3)
        self.c4 = conv(channels, dc, 3)
        self.c5 = conv(4 * dc, channels, 1)
        self.esa = ESA(channels)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Distil features in three steps, fuse with 1x1, re-weight with ESA."""
        d1 = self.act(self.c1_d(x))
        r1 = self.act(self.c1_r(x) + x)
        d2 = self.act(self.c2_d(r1))
        r2 = self.act(self.c2_r(r1) + r1)
        d3 = self.act(self.c3_d(r2))
        r3 = self.act(self.c3_r(r2) + r2)
        r4 = self.act(self.c4(r3))
        return self.esa(self.c5(torch.cat([d1, d2, d3, r4], dim=1)))


class RFDN(nn.Module):
    """NCHW [0, 1] RGB -> NCHW s times the size, unclamped."""

    def __init__(self, scale: int = 3, nf: int = 50, num_blocks: int = 4, colors: int = 3,
                 slope: float = 0.05):
        super().__init__()
        self.fea_conv = conv(colors, nf, 3)
        self.blocks = nn.ModuleList(RFDB(nf, slope) for _ in range(num_blocks))
        self.c = conv(nf * num_blocks, nf, 1)
        self.act = nn.LeakyReLU(slope)
        self.lr_conv = conv(nf, nf, 3)
        self.upsampler = conv(nf, colors * scale * scale, 3)
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shallow conv, RFDB chain, 1x1 fusion of all block outputs, global residual, sub-pixel."""
        fea = self.fea_conv(x)
        outs, h = [], fea
        for block in self.blocks:
            h = block(h)
            outs.append(h)
        fused = self.act(self.c(torch.cat(outs, dim=1)))
        return self.shuffle(self.upsampler(self.lr_conv(fused) + fea))


def rfdn(scale: int = 3) -> RFDN:
    """RFDN (nf=50, 4 RFDB with ESA) for RGB at ``scale``."""
    return RFDN(scale)
