"""The one helper every caller (tests, evaluator, validation) uses to run a model: contract, pad, crop, checks.

``upscale`` takes and returns the project's canonical tensors (NCHW, RGB, [0, 1] scale) and applies
the model's contract (``models.contract``: channel order, value range) exactly once, around the
geometry (``pad_and_crop``: replicate padding to the model's ``multiple``/``min_size``, crop to
``scale`` x the input). The runtime protocol times the bare module, or ``pad_and_crop`` when the
protocol tensor needs padding: a timing pass never converts nor checks.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.contract import from_model, output_range_problem, to_model
from models.errors import ModelError
from models.registry import describe


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


def pad_and_crop(model: nn.Module, x: torch.Tensor, scale: int, multiple: int | None = None) -> torch.Tensor:
    """Run ``model`` on NCHW ``x`` (its own units) padded to its multiple/min_size; crop to scale*size.

    ``multiple`` defaults to the model's registry entry (``model.rtsr_info.multiple``); the
    entry's ``min_size`` (smallest H, W the network accepts) is honoured the same way.
    Raises ``ModelError`` when the output is not one tensor of 3 channels and ``scale`` x the padded
    input's size.
    """
    info = getattr(model, "rtsr_info", None)
    if multiple is None:
        multiple = info.multiple if info is not None else 1
    min_size = info.min_size if info is not None else 1
    h, w = x.shape[-2:]
    padded, _, _ = pad_to_multiple(x, multiple, min_size)
    out = model(padded)
    who = _who(model)
    if not isinstance(out, torch.Tensor):
        raise ModelError(f"{who} returned a {type(out).__name__}, not a tensor; its forward "
                         "must return one NCHW tensor (no tuple or list)")
    expected = (x.shape[0], 3, scale * padded.shape[-2], scale * padded.shape[-1])
    if tuple(out.shape) != expected:
        raise ModelError(
            f"{who} returned shape {tuple(out.shape)} for input {tuple(padded.shape)}; "
            f"expected {expected} (3 channels, {scale}x the size)"
        )
    return out[..., : scale * h, : scale * w]


def upscale(model: nn.Module, lr: torch.Tensor, scale: int, multiple: int | None = None,
            check_range: bool = True) -> torch.Tensor:
    """Canonical NCHW RGB [0, 1] ``lr`` (any size) -> the model's output as canonical RGB, [0, 1] scale, unclamped.

    Converts to the model's contract (``rtsr_info.channel_order`` / ``value_range``; RGB, unit when
    the module has no registry entry), runs ``pad_and_crop`` and converts back. With ``check_range``
    (the default) an output breaking ``models.contract.OUTPUT_RANGE_RULE`` raises a ``ModelError``
    naming the model and its declared range; training validation turns it off (a diverging run is
    scored, not stopped).
    """
    info = getattr(model, "rtsr_info", None)
    order = info.channel_order if info is not None else "rgb"
    value_range = info.value_range if info is not None else "unit"
    x = to_model(lr, order, value_range)
    out = pad_and_crop(model, x, scale, multiple)
    if not out.is_floating_point():
        raise ModelError(f"{_who(model)} returned dtype {out.dtype}; the contract is a float tensor in [0, 1] "
                         "(convert it, and divide a 0..255 output by 255)")
    if check_range:
        problem = output_range_problem(x, out, value_range)
        if problem is not None:
            raise ModelError(f"{_who(model)}: {problem}; is its declared value_range right? "
                             "(register(..., value_range=...), a factory attribute, or the checkpoint layout)")
    return from_model(out, order, value_range)


def _who(model: nn.Module) -> str:
    """How messages name ``model``: ``plug-in 'f.py:make'`` or ``model 'espcn'`` (class name without an entry)."""
    return describe(getattr(getattr(model, "rtsr_info", None), "name", type(model).__name__))
