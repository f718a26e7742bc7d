"""The one pad-and-crop helper every caller (tests, evaluator, runtime) uses to run a model."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.registry import ModelError, describe


def pad_to_multiple(x: torch.Tensor, multiple: int, min_size: int = 1) -> tuple[torch.Tensor, int, int]:
    """Replicate-pad NCHW ``x`` at the bottom/right to H, W that are multiples and >= min_size; return pads."""
    h, w = x.shape[-2:]
    pad_h, pad_w = _pad_amount(h, multiple, min_size), _pad_amount(w, multiple, min_size)
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return x, pad_h, pad_w


def _pad_amount(n: int, multiple: int, min_size: int) -> int:
    """Pixels to add to a side of length ``n`` so it is a multiple of ``multiple`` and >= ``min_size``."""
    target = max(n, min_size)
    return target + (-target) % multiple - n


def upscale(model: nn.Module, lr: torch.Tensor, scale: int, multiple: int | None = None) -> torch.Tensor:
    """Run ``model`` on NCHW ``lr`` (any size), padding to its multiple and cropping to scale*size.

    ``multiple`` defaults to the model's registry entry (``model.rtsr_info.multiple``); the
    entry's ``min_size`` (smallest H, W the network accepts) is honoured the same way.
    Raises ``ModelError`` when the output is not one tensor of 3 channels and ``scale`` x the padded
    input's size.
    """
    info = getattr(model, "rtsr_info", None)
    if multiple is None:
        multiple = info.multiple if info is not None else 1
    min_size = info.min_size if info is not None else 1
    h, w = lr.shape[-2:]
    padded, _, _ = pad_to_multiple(lr, multiple, min_size)
    out = model(padded)
    who = describe(getattr(info, "name", type(model).__name__))
    if not isinstance(out, torch.Tensor):
        raise ModelError(f"{who} returned a {type(out).__name__}, not a tensor; its forward "
                         "must return one NCHW tensor (no tuple or list)")
    expected = (lr.shape[0], 3, scale * padded.shape[-2], scale * padded.shape[-1])
    if tuple(out.shape) != expected:
        raise ModelError(
            f"{who} returned shape {tuple(out.shape)} for input {tuple(padded.shape)}; "
            f"expected {expected} (3 channels, {scale}x the size)"
        )
    return out[..., : scale * h, : scale * w]
