"""Model cost: parameter count and multiply-accumulates at a given LR input size.

Counted with ``torch.utils.flop_counter.FlopCounterMode``, which counts convolutions, transposed
convolutions and matrix multiplies only (no activations, norms, interpolation or elementwise ops),
and reports FLOPs = 2 x MACs. We report both: ``macs = flops / 2``. The forward pass runs on the
``meta`` device (shapes only, no arithmetic), so a 720p count is instant on any machine.
Default input: one 720p LR frame (1 x 3 x 720 x 1280), the NTIRE 2023 x3 track's input.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from core.protocol import LR_720P
from models.padding import pad_to_multiple
from models.registry import ModelError


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not); buffers excluded."""
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, scale: int, lr_hw: tuple[int, int] = LR_720P) -> dict:
    """{"macs", "flops", "input"} for one forward at LR size ``lr_hw`` (H, W), padded like ``upscale``."""
    info = getattr(model, "rtsr_info", None)
    multiple = info.multiple if info is not None else 1
    min_size = info.min_size if info is not None else 1
    dtype = next(model.parameters(), torch.empty(0)).dtype
    meta = copy.deepcopy(model).to("meta")
    x = torch.empty(1, 3, *lr_hw, device="meta", dtype=dtype)
    x, _, _ = pad_to_multiple(x, multiple, min_size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = meta(x)
    expected = (1, 3, scale * x.shape[-2], scale * x.shape[-1])
    if tuple(out.shape) != expected:
        raise ModelError(f"cost: model returned {tuple(out.shape)} for input {tuple(x.shape)}; "
                         f"expected {expected} at scale {scale}")
    flops = int(counter.get_total_flops())
    return {"macs": flops // 2, "flops": flops, "input": list(x.shape)}
