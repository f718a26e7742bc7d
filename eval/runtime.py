"""Runtime measurement: the NTIRE 2023 RTSR procedure on CUDA, and a labelled FP32 CPU fallback.

GPU protocol ``ntire23-gpu-fp16`` (the challenge's ``runtime_demo.py``, exactly):
``torch.backends.cudnn.benchmark = True``; parameters frozen; model and input ``.half()``; input
``torch.randn((1, 3, 3840 // S, 2160 // S))`` drawn on the CPU and moved to the GPU: the script passes
its ``--crop-size`` default ``[3840, 2160]`` as (H, W), so the official tensor is **portrait**, 1280 x 720
(H x W) at x3 (``ORIENTATION = "portrait"``); 50 warm-up passes and 244 timed passes under
``torch.no_grad()``, each pass between two CUDA events followed by ``torch.cuda.synchronize()``.
The challenge figure is the mean in ms; we also report median, p10/p90 and std, and the peak
allocated GPU memory.
Named option ``orientation="landscape"``: ``randn(1, 3, 2160 // S, 3840 // S)`` (720 x 1280 at x3),
recorded in the result and never mixed with portrait figures.
Call: the module is called directly, as the script does, when the protocol tensor already fits its
registry entry (``multiple``/``min_size``); otherwise through ``models.padding.pad_and_crop`` (pad,
crop; no contract conversion: the tensor is random anyway), and the result says so (``call``:
``direct`` or ``pad_and_crop``).
CPU fallback ``cpu-fp32``: FP32, same input, fewer passes (``warmup``/``passes``), timed with
``time.perf_counter``; never scored against GPU figures. ``lr_hw`` replaces the protocol input size
(toy sizes for quick checks; such a block records ``toy_input: true``).
"""
from __future__ import annotations

import copy
import statistics
import time

import numpy as np
import torch
from torch import nn

from core.protocol import (
    CPU_PASSES,
    CPU_PROTOCOL,
    CPU_WARMUP,
    GPU_PASSES,
    GPU_PROTOCOL,
    GPU_WARMUP,
    ORIENTATION,
    OUTPUT_HW,
)
from eval.errors import EvalError
from eval.provenance import device_info
from models.padding import pad_and_crop, pad_to_multiple


class RuntimeUnavailable(EvalError):
    """The requested runtime device is not available; the message says what to do."""


def require_cuda() -> None:
    """Raise ``RuntimeUnavailable`` (one line) when CUDA is not available."""
    if not torch.cuda.is_available():
        raise RuntimeUnavailable("--runtime gpu needs a CUDA device and none is available; "
                                 "use --runtime cpu (labelled cpu-fp32, not scored) or --runtime off")


def input_shape(scale: int, orientation: str = ORIENTATION) -> list[int]:
    """The protocol input shape: portrait [1, 3, 3840 // S, 2160 // S] (official), or landscape."""
    if orientation not in OUTPUT_HW:
        raise EvalError(f"orientation {orientation!r} unknown; use one of {', '.join(OUTPUT_HW)}")
    h, w = OUTPUT_HW[orientation]
    return [1, 3, h // scale, w // scale]


def needs_padding(model: nn.Module, shape: list[int]) -> bool:
    """True when an NCHW input of ``shape`` does not fit the model's registry ``multiple``/``min_size``."""
    info = getattr(model, "rtsr_info", None)
    if info is None:
        return False
    _, pad_h, pad_w = pad_to_multiple(torch.empty(shape, device="meta"), info.multiple, info.min_size)
    return bool(pad_h or pad_w)


def frozen_copy(model: nn.Module) -> nn.Module:
    """A deep copy in eval mode with ``requires_grad=False`` (``.half()`` must not touch the caller's model)."""
    net = copy.deepcopy(model)
    for attr in ("rtsr_info", "rtsr_scale"):
        if hasattr(model, attr):
            setattr(net, attr, getattr(model, attr))
    for param in net.parameters():
        param.requires_grad_(False)
    return net.eval()


def protocol_runner(net: nn.Module, scale: int, shape: list[int]):
    """(callable, call name): the bare module when ``shape`` fits it, else the pad-and-crop helper."""
    if needs_padding(net, shape):
        return (lambda inp: pad_and_crop(net, inp, scale)), "pad_and_crop"
    return net, "direct"


def summarize(times_ms: list[float]) -> dict:
    """mean/median/p10/p90/std (population) of per-pass times in ms."""
    arr = np.asarray(times_ms, dtype=np.float64)
    return {"mean_ms": float(arr.mean()), "median_ms": float(statistics.median(times_ms)),
            "p10_ms": float(np.percentile(arr, 10)), "p90_ms": float(np.percentile(arr, 90)),
            "std_ms": float(arr.std())}


def timed_passes_cuda(run, x: torch.Tensor, warmup: int, passes: int) -> list[float]:
    """Challenge loop: warm-up, then each pass between CUDA events with a synchronize."""
    for _ in range(warmup):
        run(x)
    torch.cuda.synchronize()
    times = []
    for _ in range(passes):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        run(x)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return times


def timed_passes_cpu(run, x: torch.Tensor, warmup: int, passes: int) -> list[float]:
    """Wall-clock loop on CPU (perf_counter), ms per pass."""
    for _ in range(warmup):
        run(x)
    times = []
    for _ in range(passes):
        t0 = time.perf_counter()
        run(x)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def timed_passes(run, x: torch.Tensor, device: str, warmup: int, passes: int) -> list[float]:
    """Per-pass times (ms) of ``run(x)``: CUDA events + synchronize on cuda, perf_counter on cpu."""
    loop = timed_passes_cuda if device == "cuda" else timed_passes_cpu
    return loop(run, x, warmup, passes)


def measure_runtime(model: nn.Module, scale: int, device: str = "cuda", warmup: int | None = None,
                    passes: int | None = None, seed: int = 0, orientation: str = ORIENTATION,
                    lr_hw: tuple[int, int] | None = None) -> dict:
    """Runtime block of the result JSON for ``model`` at ``scale`` (official tensor); see module doc."""
    if device not in ("cuda", "cpu"):
        raise EvalError(f"runtime device must be 'cuda' or 'cpu', got {device!r}")
    if device == "cuda":
        require_cuda()
    gpu = device == "cuda"
    warmup = (GPU_WARMUP if gpu else CPU_WARMUP) if warmup is None else warmup
    passes = (GPU_PASSES if gpu else CPU_PASSES) if passes is None else passes
    if passes < 1 or warmup < 0:
        raise EvalError(f"need passes >= 1 and warmup >= 0, got passes={passes}, warmup={warmup}")
    shape = input_shape(scale, orientation) if lr_hw is None else [1, 3, *lr_hw]
    torch.manual_seed(seed)
    x = torch.randn(*shape)  # on the CPU, then moved: as the official script
    net = frozen_copy(model)
    with torch.no_grad():
        if gpu:
            torch.backends.cudnn.benchmark = True
            net, x = net.cuda().half(), x.cuda().half()
            run, call = protocol_runner(net, scale, shape)
            torch.cuda.reset_peak_memory_stats()
            times = timed_passes_cuda(run, x, warmup, passes)
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            net = net.float()
            run, call = protocol_runner(net, scale, shape)
            times = timed_passes_cpu(run, x, warmup, passes)
            peak = None
    return {"protocol": GPU_PROTOCOL if gpu else CPU_PROTOCOL, "device_type": device,
            **summarize(times), "warmup": warmup, "passes": passes, "input_shape": shape,
            "orientation": orientation if lr_hw is None else None, "toy_input": lr_hw is not None,
            "call": call, "padded": call != "direct", "grad_mode": "no_grad",
            "peak_mem_mb": peak, "device": device_info(device)}
