"""RT4KSR: the NTIRE 2023 RTSR organisers' baseline (Zamfir, Conde, Timofte et al., "Towards
Real-Time 4K Image Super-Resolution", CVPRW 2023); organisers' repository
https://github.com/eduardzamfir/NTIRE23-RTSR (reference only, no code copied).

Pixel-unshuffle 2; a head conv on the LR image; four simplified NAF blocks (LayerNorm,
re-parameterisable conv, GELU, no residual) on its features; LayerNorm, re-parameterisable conv;
conv to 3(2s)^2 channels and PixelShuffle(2s). Defaults (the released configuration): 24 features,
4 blocks, GELU, LayerNorm.

``forget`` (the authors' option name and meaning): with ``forget=True`` a high-frequency branch
(the same head on x - GaussianBlur5x5(sigma=1)(x), then a re-parameterisable conv + GELU) is added
to the body scaled by ``gamma`` (initialised to 0) before the tail. The authors build the released
model with ``forget=False`` (our default): the output is tail(body) alone. The branch's parameters
(``hf_conv``, ``gamma``) are still held in the training form, so a training checkpoint of either
setting loads, but with ``forget=False`` they are never computed, and ``reparameterize()`` deletes
them. Parameter counts at 24 features, 4 blocks: 165,253 in training form (either setting), 57,541
re-parameterised with the branch (``forget=True``, the authors' deploy form), 52,332 without it
(``forget=False``: the branch's fused 3x3 conv, 5,208, and ``gamma`` dropped).

Re-parameterisable conv (training form): 1x1 expand (c -> 2c), 3x3 on it, plus the expanded
features, 1x1 reduce (2c -> c), plus the input. ``RepConv.fuse()`` folds it into one 3x3 conv with
the same output (the expand is applied to the zero-padded input, so the border is exact).

``create_model("rt4ksr")`` returns the fused (deploy) form; ``create_model("rt4ksr", train_form=True)``
returns the multi-branch training form. ``RT4KSR.reparameterize()`` converts in place. Loading a
checkpoint saved in training form gives the fused model unless ``train_form=True`` is passed
(the checkpoint loader is ``models.loaders.rt4ksr_weights``; the authors' released file loads through
the layout ``models.loaders.RT4KSR_AUTHORS``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

BLUR_SIZE, BLUR_SIGMA = 5, 1.0
MIN_SIZE = 4  # the blur's reflect padding (2 px) needs > 2 px; the unshuffle needs even sides


def gaussian_kernel(size: int = BLUR_SIZE, sigma: float = BLUR_SIGMA) -> torch.Tensor:
    """Normalised ``size x size`` Gaussian, float32."""
    t = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    g = g / g.sum()
    return g[:, None] * g[None, :]


class GaussianBlur(nn.Module):
    """Depthwise 5x5 Gaussian blur (sigma 1) with reflect padding, as torchvision's GaussianBlur."""

    def __init__(self, channels: int = 3):
        super().__init__()
        kernel = gaussian_kernel().expand(channels, 1, BLUR_SIZE, BLUR_SIZE).clone()
        self.register_buffer("kernel", kernel, persistent=False)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """NCHW -> NCHW blurred, same size."""
        p = BLUR_SIZE // 2
        x = F.pad(x, (p, p, p, p), mode="reflect")
        return F.conv2d(x, self.kernel.to(x.dtype), groups=self.channels)


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel dimension of NCHW, per pixel, with affine weight and bias."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each pixel's channel vector."""
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        y = (x - mu) / torch.sqrt(var + self.eps)
        return y * self.weight[:, None, None] + self.bias[:, None, None]


class RepConv(nn.Module):
    """Training form: reduce(fea3x3(expand(x)) + expand(x)) + x; ``fuse()`` gives one 3x3 conv."""

    def __init__(self, channels: int, ratio: int = 2):
        super().__init__()
        wide = ratio * channels
        self.expand = nn.Conv2d(channels, wide, 1)
        self.fea = nn.Conv2d(wide, wide, 3)
        self.reduce = nn.Conv2d(wide, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same size as ``x``; the 3x3 sees expand() of the zero-padded input (so it is fusable)."""
        e = self.expand(F.pad(x, (1, 1, 1, 1)))
        return self.reduce(self.fea(e) + e[..., 1:-1, 1:-1]) + x

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """One 3x3 conv (padding 1) with exactly this block's output."""
        c = self.expand.in_channels
        k1, b1 = self.expand.weight[:, :, 0, 0], self.expand.bias  # (2c, c), (2c,)
        k3, b3 = self.reduce.weight[:, :, 0, 0], self.reduce.bias  # (c, 2c), (c,)
        w = torch.einsum("omhw,mi->oihw", self.fea.weight, k1)  # fea o expand
        b = self.fea.bias + torch.einsum("omhw,m->o", self.fea.weight, b1)
        w[:, :, 1, 1] += k1  # + expand (identity branch)
        b = b + b1
        w = torch.einsum("pm,mihw->pihw", k3, w)  # reduce o (...)
        b = k3 @ b + b3
        w[:, :, 1, 1] += torch.eye(c, dtype=w.dtype, device=w.device)  # + x
        conv = nn.Conv2d(c, c, 3, padding=1).to(device=w.device, dtype=w.dtype)
        conv.weight.copy_(w)
        conv.bias.copy_(b)
        return conv


def make_rep(channels: int, train_form: bool) -> nn.Module:
    """A RepConv (training form) or its plain 3x3 equivalent (deploy form)."""
    return RepConv(channels) if train_form else nn.Conv2d(channels, channels, 3, padding=1)


class NAFBlock(nn.Module):
    """Simplified NAF block: LayerNorm -> re-parameterisable conv -> GELU (no block residual)."""

    def __init__(self, channels: int, train_form: bool):
        super().__init__()
        self.norm = LayerNorm2d(channels)
        self.conv = make_rep(channels, train_form)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same shape as ``x``."""
        return self.act(self.conv(self.norm(x)))


class RT4KSR(nn.Module):
    """NCHW [0, 1] RGB with even H, W (>= 4) -> NCHW s times the size, unclamped."""

    def __init__(self, scale: int = 3, feats: int = 24, num_blocks: int = 4,
                 train_form: bool = False, colors: int = 3, forget: bool = False):
        super().__init__()
        self.forget = forget
        self.down = nn.PixelUnshuffle(2)
        self.head = nn.Conv2d(4 * colors, feats, 3, padding=1)
        if forget or train_form:  # the high-frequency branch's weights (computed only when forget)
            self.blur = GaussianBlur(colors)
            self.hf_conv = make_rep(feats, train_form)
            self.gamma = nn.Parameter(torch.zeros(1))
        self.act = nn.GELU()
        self.body = nn.Sequential(*(NAFBlock(feats, train_form) for _ in range(num_blocks)))
        self.tail_norm = LayerNorm2d(feats)
        self.tail_conv = make_rep(feats, train_form)
        self.upsample = nn.Conv2d(feats, colors * (2 * scale) ** 2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2 * scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Body (plus, with ``forget``, the high-frequency branch) at half resolution, then sub-pixel x(2s)."""
        feats = self.body(self.head(self.down(x)))
        if self.forget:
            hf = self.head(self.down(x - self.blur(x)))
            feats = self.gamma * feats + self.act(self.hf_conv(hf))
        feats = self.tail_conv(self.tail_norm(feats))
        return self.shuffle(self.upsample(feats))

    def reparameterize(self) -> RT4KSR:
        """Fuse every RepConv into its 3x3 conv and, without ``forget``, delete the unused branch; returns self."""
        if not self.forget and hasattr(self, "hf_conv"):
            del self.hf_conv, self.gamma, self.blur
        for parent in list(self.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, RepConv):
                    setattr(parent, name, child.fuse())
        return self


def rt4ksr(scale: int = 3, train_form: bool = False, forget: bool = False, **kwargs) -> RT4KSR:
    """RT4KSR; fused (deploy) form unless ``train_form=True``; ``forget=False`` is the authors' released build."""
    return RT4KSR(scale=scale, train_form=train_form, forget=forget, **kwargs)
