"""The authors' released Bicubic++ x3 state dict as a checkpoint layout (``RELEASED_LAYOUT``).

The released file (keys ``conv0``, ``conv1``, ``conv2``, ``conv_out``; bias-free) was trained on
OpenCV-read images, i.e. BGR in and BGR out. Instead of flipping tensors at run time the layout's
transform permutes the weights once, exactly: the head's input channels are reversed, and the
tail's output channels are reordered so that PixelShuffle produces R, G, B instead of B, G, R. The
result is a plain BicubicPP that takes and returns RGB, with the same speed as the original
(equivalence is tested). The permutation is its own inverse, so the layout maps both ways.
"""
from __future__ import annotations

from pathlib import Path

import torch

from models.errors import ModelError
from models.layouts import Layout, Rename


def bgr_to_rgb(state: dict) -> dict:
    """Permute a BicubicPP state dict made for BGR tensors so the model maps RGB -> RGB exactly (an involution)."""
    out = dict(state)
    out["head.weight"] = state["head.weight"].flip(1)
    tail = state["tail.weight"]
    r2 = tail.shape[0] // 3  # PixelShuffle: output channel c takes input channels c*r2 .. c*r2+r2-1
    out["tail.weight"] = tail.reshape(3, r2, *tail.shape[1:]).flip(0).reshape(tail.shape)
    if "tail.bias" in state:
        out["tail.bias"] = state["tail.bias"].reshape(3, r2).flip(0).reshape(-1)
    return out


def arch_kwargs(state: dict, path: Path | str = "checkpoint") -> dict:
    """Infer ``scale`` and ``channels`` from the head and tail shapes of a renamed released state dict."""
    for key, value in state.items():
        if not isinstance(value, torch.Tensor) or value.ndim != 4:
            raise ModelError(f"{path}: {key} should be a 4-D conv weight, found "
                             f"{getattr(value, 'shape', type(value).__name__)}")
    channels, in_ch = state["head.weight"].shape[:2]
    out_ch = state["tail.weight"].shape[0]
    r = round((out_ch / 3) ** 0.5)
    if in_ch != 3 or 3 * r * r != out_ch or r % 2:
        raise ModelError(f"{path}: released-layout weights have head {tuple(state['head.weight'].shape)}"
                         f" and tail {tuple(state['tail.weight'].shape)}; expected 3 input channels and"
                         " 3*(2s)^2 tail outputs")
    return {"scale": r // 2, "channels": int(channels)}


RELEASED_LAYOUT = Layout(
    name="bicubic_pp-released",
    renames=(Rename("conv0.", "head."), Rename("conv1.", "blocks.0.0."), Rename("conv2.", "blocks.0.1."),
             Rename("conv_out.", "tail.")),
    transform=bgr_to_rgb, inverse=bgr_to_rgb, arch_kwargs=arch_kwargs,
    source="aselsan-research-imaging-team/bicubic-plusplus pretrained/bicubic_pp_x3.pth (BGR weights)",
)
