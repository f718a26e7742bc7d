"""The authors' released Bicubic++ x3 state dict -> this project's BicubicPP keys, in RGB order.

The released file (keys ``conv0``, ``conv1``, ``conv2``, ``conv_out``; bias-free) was trained on
OpenCV-read images, i.e. BGR in and BGR out. Instead of flipping tensors at run time we permute the
weights once, exactly: the head's input channels are reversed, and the tail's output channels are
reordered so that PixelShuffle produces R, G, B instead of B, G, R. The result is a plain BicubicPP
that takes and returns RGB, with the same speed as the original (equivalence is tested).
"""
from __future__ import annotations

from pathlib import Path

import torch

from models.registry import ModelError

KEY_MAP = {  # released key -> project key
    "conv0.weight": "head.weight",
    "conv1.weight": "blocks.0.0.weight",
    "conv2.weight": "blocks.0.1.weight",
    "conv_out.weight": "tail.weight",
}


def is_official(checkpoint: dict) -> bool:
    """True when ``checkpoint`` has the released key set (a plain state dict, no ``arch``)."""
    return set(checkpoint) == set(KEY_MAP)


def rename(state: dict) -> dict:
    """Released keys -> project keys, weights untouched (still BGR order)."""
    return {KEY_MAP[k]: v for k, v in state.items()}


def bgr_to_rgb(state: dict) -> dict:
    """Permute a BicubicPP state dict made for BGR tensors so the model maps RGB -> RGB exactly."""
    out = dict(state)
    out["head.weight"] = state["head.weight"].flip(1)
    tail = state["tail.weight"]
    r2 = tail.shape[0] // 3  # PixelShuffle: output channel c takes input channels c*r2 .. c*r2+r2-1
    out["tail.weight"] = tail.reshape(3, r2, *tail.shape[1:]).flip(0).reshape(tail.shape)
    if "tail.bias" in state:
        out["tail.bias"] = state["tail.bias"].reshape(3, r2).flip(0).reshape(-1)
    return out


def to_project_state(checkpoint: dict, path: Path | str = "checkpoint", rgb: bool = True) -> dict:
    """Released state dict -> project BicubicPP state dict (RGB order unless ``rgb=False``)."""
    for key, value in checkpoint.items():
        if not isinstance(value, torch.Tensor) or value.ndim != 4:
            raise ModelError(f"{path}: {key} should be a 4-D conv weight, found "
                             f"{getattr(value, 'shape', type(value).__name__)}")
    state = rename(checkpoint)
    return bgr_to_rgb(state) if rgb else state


def arch_kwargs(state: dict, path: Path | str = "checkpoint") -> dict:
    """Infer ``scale`` and ``channels`` from the tail and head shapes of a renamed released state dict."""
    channels, in_ch = state["head.weight"].shape[:2]
    out_ch = state["tail.weight"].shape[0]
    r = round((out_ch / 3) ** 0.5)
    if in_ch != 3 or 3 * r * r != out_ch or r % 2:
        raise ModelError(f"{path}: released-layout weights have head {tuple(state['head.weight'].shape)}"
                         f" and tail {tuple(state['tail.weight'].shape)}; expected 3 input channels and"
                         " 3*(2s)^2 tail outputs")
    return {"scale": r // 2, "channels": int(channels)}
