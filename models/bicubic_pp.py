"""Bicubic++ (Bilecen & Ayazoglu, "Bicubic++: Slim, Slimmer, Slimmest - Designing an
Industry-Grade Super-Resolution Network", CVPRW/NTIRE 2023, arXiv 2305.02126).

Authors' repository (reference only, no code copied):
https://github.com/aselsan-research-imaging-team/bicubic-plusplus

Input NCHW float in [0, 1], RGB (a project checkpoint) -> NCHW float, s times the size, no clamp.
The stride-2 first layer halves the feature maps, so H and W must be even (``multiple=2``).
Registered in ``models/catalog.py``; the released checkpoint loads through ``models.loaders``.
"""
from __future__ import annotations

from torch import nn

from models.registry import ModelError

DOWNSAMPLE = ("stride", "s2d")
ACTIVATIONS = ("lrelu", "relu")


class BicubicPP(nn.Module):
    """head (stride-2 conv or space-to-depth + conv) -> R residual blocks of m convs -> conv -> PixelShuffle(2s)."""

    def __init__(self, scale: int = 3, channels: int = 32, convs_per_block: int = 2, blocks: int = 1,
                 downsample: str = "stride", act: str = "lrelu", slope: float = 0.1,
                 bias: bool = False):
        super().__init__()
        _check_choice("downsample", downsample, DOWNSAMPLE)
        _check_choice("act", act, ACTIVATIONS)
        if min(channels, convs_per_block, blocks, scale) < 1:
            raise ModelError(f"bicubic_pp: channels/convs_per_block/blocks/scale must be >= 1, got "
                             f"{channels}/{convs_per_block}/{blocks}/{scale}")
        if downsample == "stride":
            self.down = nn.Identity()
            self.head = nn.Conv2d(3, channels, 3, stride=2, padding=1, bias=bias)
        else:
            self.down = nn.PixelUnshuffle(2)
            self.head = nn.Conv2d(12, channels, 3, stride=1, padding=1, bias=bias)
        self.blocks = nn.ModuleList(
            nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1, bias=bias)
                          for _ in range(convs_per_block))
            for _ in range(blocks)
        )
        self.tail = nn.Conv2d(channels, 3 * (2 * scale) ** 2, 3, padding=1, bias=bias)
        self.act = nn.LeakyReLU(slope) if act == "lrelu" else nn.ReLU()
        self.shuffle = nn.PixelShuffle(2 * scale)

    def forward(self, x):
        """NCHW [0, 1] with even H, W -> NCHW of (s*H, s*W); unclamped."""
        x = self.act(self.head(self.down(x)))
        for block in self.blocks:
            y = x
            for conv in block:
                y = self.act(conv(y))
            x = y + x
        return self.shuffle(self.tail(x))


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise a one-line ModelError when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ModelError(f"bicubic_pp: {name}={value!r} is not one of {', '.join(choices)}")


def bicubic_pp(scale: int = 3, **kwargs) -> BicubicPP:
    """Bicubic++; defaults are the paper's final x3 net (ch=32, m=2, R=1, strided, LeakyReLU 0.1, no bias)."""
    return BicubicPP(scale=scale, **kwargs)
