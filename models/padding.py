"""The one run path of every caller (tests, evaluator, validation, runtime variants): contract, pad, crop, checks.

``upscale`` takes and returns the project's canonical tensors (NCHW, RGB, [0, 1] scale) and applies
the model's contract (``models.contract``: channel order, value range) exactly once, around the
geometry (``pad_and_crop``: replicate padding to the model's ``multiple``/``min_size``, crop to
``scale`` x the input). It holds every output check (``ModelError`` naming the model): one float
tensor of 3 channels and ``scale`` x the size; ``models.contract.OUTPUT_RANGE_RULE`` in the module's
units; no NaN/Inf (``NonFiniteOutput``); the mean within ``OUTPUT_MEAN_RANGE`` (a 0..255 output is
refused, mild overshoot is clamped later as always). ``upscale_uint8`` adds the one float -> uint8
conversion (``core.quantize.to_uint8_rgb``) and what a caller does with a NaN/Inf output
(``NONFINITE``). The runtime protocol times the bare module, or ``pad_and_crop`` when the protocol
tensor needs padding: a timing pass never converts nor checks.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.quantize import to_uint8_rgb
from models.contract import from_model, module_contract, output_range_problem, to_model
from models.errors import ModelError
from models.registry import describe

OUTPUT_MEAN_RANGE = (-0.5, 1.5)  # an output on the [0, 1] scale has its mean in [0, 1]; beyond: 0..255
NONFINITE = {  # upscale_uint8's ``nonfinite``: what a NaN/Inf output does
    "raise": "NonFiniteOutput naming the model (evaluation)",
    "none": "returns None, for the caller to count (the FP16 fidelity checks)",
    "score": "unchecked: the uint8 conversion scores it as it is (validation, the FP32 variant reference)",
}


class NonFiniteOutput(ModelError):
    """A model output holding NaN/Inf; the message names the model."""


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


def pad_and_crop(model: nn.Module, x: torch.Tensor, scale: int, multiple: int | None = None,
                 forward: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Run ``model`` on NCHW ``x`` (its own units) padded to its multiple/min_size; crop to scale*size.

    ``multiple`` defaults to the model's registry entry (``model.rtsr_info.multiple``); the
    entry's ``min_size`` (smallest H, W the network accepts) is honoured the same way. ``forward``
    (default: ``model`` itself) is what runs. Raises ``ModelError`` when the output is not one tensor
    of 3 channels and ``scale`` x the padded input's size.
    """
    info = getattr(model, "rtsr_info", None)
    if multiple is None:
        multiple = info.multiple if info is not None else 1
    min_size = info.min_size if info is not None else 1
    h, w = x.shape[-2:]
    padded, _, _ = pad_to_multiple(x, multiple, min_size)
    out = checked_shape(model, (model if forward is None else forward)(padded), padded, scale)
    return out[..., : scale * h, : scale * w]


def checked_shape(model: nn.Module, out, x: torch.Tensor, scale: int) -> torch.Tensor:
    """``out`` when it is one NCHW tensor of 3 channels and ``scale`` x ``x``'s size; ``ModelError`` otherwise."""
    who = _who(model)
    if not isinstance(out, torch.Tensor):
        raise ModelError(f"{who} returned a {type(out).__name__}, not a tensor; its forward "
                         "must return one NCHW tensor (no tuple or list)")
    expected = (x.shape[0], 3, scale * x.shape[-2], scale * x.shape[-1])
    if tuple(out.shape) != expected:
        raise ModelError(
            f"{who} returned shape {tuple(out.shape)} for input {tuple(x.shape)}; "
            f"expected {expected} (3 channels, {scale}x the size)"
        )
    return out


def upscale(model: nn.Module, lr: torch.Tensor, scale: int, multiple: int | None = None,
            check_range: bool = True, *, forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
            pad: bool = True, check_finite: bool = True) -> torch.Tensor:
    """Canonical NCHW RGB [0, 1] ``lr`` (any size) -> the model's output as canonical RGB, [0, 1] scale, unclamped.

    Converts to the model's contract (``models.contract.module_contract``: ``rtsr_info``'s channel order
    and value range; RGB, unit without an entry), runs ``forward`` (default: the module; else a compiled
    or TensorRT callable of it) through ``pad_and_crop``, or on ``lr`` as it is when not ``pad``, and
    converts back. Every output check is here (module doc). ``check_range``: ``OUTPUT_RANGE_RULE`` and,
    on a finite output, ``OUTPUT_MEAN_RANGE`` (off for training validation: a diverging run is scored,
    not stopped). ``check_finite``: a NaN/Inf output raises ``NonFiniteOutput``.
    """
    order, value_range = module_contract(model)
    x = to_model(lr, order, value_range)
    run = model if forward is None else forward
    out = pad_and_crop(model, x, scale, multiple, run) if pad else checked_shape(model, run(x), x, scale)
    if not out.is_floating_point():
        raise ModelError(f"{_who(model)} returned dtype {out.dtype}; the contract is a float tensor in [0, 1] "
                         "(convert it, and divide a 0..255 output by 255)")
    if check_range:
        problem = output_range_problem(x, out, value_range)
        if problem is not None:
            raise ModelError(f"{_who(model)}: {problem}; is its declared value_range right? "
                             "(register(..., value_range=...), a factory attribute, or the checkpoint layout)")
    out = from_model(out, order, value_range)
    check_finite_and_mean(model, out, check_finite, check_range)
    return out


def check_finite_and_mean(model: nn.Module, out: torch.Tensor, check_finite: bool, check_mean: bool) -> None:
    """Canonical ``out`` has no NaN/Inf (``NonFiniteOutput``) and, when finite, its mean in ``OUTPUT_MEAN_RANGE``."""
    if not (check_finite or check_mean):
        return
    if not (bool(torch.isfinite(out.amax())) and bool(torch.isfinite(out.amin()))):  # NaN propagates
        if check_finite:
            raise NonFiniteOutput(f"{_who(model)} output contains NaN/Inf; the model or its weights are broken")
        return
    if not check_mean:
        return
    mean = float(out.float().mean())
    lo, hi = OUTPUT_MEAN_RANGE
    if not lo <= mean <= hi:
        raise ModelError(f"{_who(model)} output has mean {mean:.4g}, outside [{lo}, {hi}]: not the "
                         "[0, 1] scale of the contract (a 0..255 output must be divided by 255)")


def upscale_uint8(model: nn.Module, lr: torch.Tensor, scale: int, *,
                  forward: Callable[[torch.Tensor], torch.Tensor] | None = None, pad: bool = True,
                  check_range: bool = True,
                  nonfinite: Literal["raise", "none", "score"] = "raise") -> np.ndarray | None:
    """Canonical float NCHW RGB [0, 1] ``lr`` -> uint8 HxWx3 RGB (first image) via ``upscale``; None: allowed NaN/Inf.

    The one run path of evaluation, training validation and the runtime variants: ``upscale``'s contract
    and checks (``forward``, ``pad``, ``check_range`` as there), then ``core.quantize.to_uint8_rgb``
    (clamp to [0, 1], x255, round half to even). ``nonfinite`` is one of ``NONFINITE``.
    """
    if nonfinite not in NONFINITE:
        raise ValueError(f"nonfinite={nonfinite!r}; choose from {', '.join(NONFINITE)}")
    try:
        out = upscale(model, lr, scale, forward=forward, pad=pad, check_range=check_range,
                      check_finite=nonfinite != "score")
    except NonFiniteOutput:
        if nonfinite == "none":
            return None
        raise
    return to_uint8_rgb(out)


def _who(model: nn.Module) -> str:
    """How messages name ``model``: ``plug-in 'f.py:make'`` or ``model 'espcn'`` (class name without an entry)."""
    return describe(getattr(getattr(model, "rtsr_info", None), "name", type(model).__name__))
