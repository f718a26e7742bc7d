"""Runtime measurement: the NTIRE 2023 RTSR procedure on CUDA, and a labelled FP32 CPU fallback.

GPU protocol ``ntire23-gpu-fp16`` (the challenge's runtime script, exactly):
``torch.backends.cudnn.benchmark = True``; model and input ``.half()``; input
``torch.randn(1, 3, 2160 // S, 3840 // S)`` (a 3840x2160 output); 50 warm-up passes; 244 passes,
each between two CUDA events followed by ``torch.cuda.synchronize()``. The challenge figure is the
mean in ms; we also report median, p10/p90 and std, and the peak allocated GPU memory.
The model runs through ``models.padding.upscale`` (pad to its multiple, crop), as everywhere.
CPU fallback ``cpu-fp32``: FP32, same input size, fewer passes (``warmup``/``passes``), timed with
``time.perf_counter``; never scored against GPU figures.
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
    OUTPUT_HW,
)
from eval.errors import EvalError
from eval.provenance import device_info
from models.padding import upscale


class RuntimeUnavailable(EvalError):
    """The requested runtime device is not available; the message says what to do."""


def require_cuda() -> None:
    """Raise ``RuntimeUnavailable`` (one line) when CUDA is not available."""
    if not torch.cuda.is_available():
        raise RuntimeUnavailable("--runtime gpu needs a CUDA device and none is available; "
                                 "use --runtime cpu (labelled cpu-fp32, not scored) or --runtime off")


def input_shape(scale: int) -> list[int]:
    """The protocol input shape [1, 3, 2160 // S, 3840 // S]."""
    return [1, 3, OUTPUT_HW[0] // scale, OUTPUT_HW[1] // scale]


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
                    passes: int | None = None, seed: int = 0) -> dict:
    """Runtime block of the result JSON for ``model`` at ``scale`` (720p -> 4K for x3); see module doc."""
    if device not in ("cuda", "cpu"):
        raise EvalError(f"runtime device must be 'cuda' or 'cpu', got {device!r}")
    if device == "cuda":
        require_cuda()
    gpu = device == "cuda"
    warmup = (GPU_WARMUP if gpu else CPU_WARMUP) if warmup is None else warmup
    passes = (GPU_PASSES if gpu else CPU_PASSES) if passes is None else passes
    if passes < 1 or warmup < 0:
        raise EvalError(f"need passes >= 1 and warmup >= 0, got passes={passes}, warmup={warmup}")
    torch.manual_seed(seed)
    shape = input_shape(scale)
    net = copy.deepcopy(model)  # .half() must not change the caller's model
    for attr in ("rtsr_info", "rtsr_scale"):
        if hasattr(model, attr):
            setattr(net, attr, getattr(model, attr))
    net.eval()

    def run(inp):
        return upscale(net, inp, scale)

    with torch.inference_mode():
        if gpu:
            torch.backends.cudnn.benchmark = True
            net = net.cuda().half()
            x = torch.randn(*shape).cuda().half()
            torch.cuda.reset_peak_memory_stats()
            times = timed_passes_cuda(run, x, warmup, passes)
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            net = net.float()
            x = torch.randn(*shape)
            times = timed_passes_cpu(run, x, warmup, passes)
            peak = None
    return {"protocol": GPU_PROTOCOL if gpu else CPU_PROTOCOL, "device_type": device,
            **summarize(times), "warmup": warmup, "passes": passes, "input_shape": shape,
            "peak_mem_mb": peak, "device": device_info(device)}
