"""Runtime variants beyond the challenge protocol, a plain eager loop, and each variant's output fidelity.

Variants (``VARIANTS``; they never replace the protocol figure of ``eval.runtime``), all FP16 on
CUDA (FP32 on the CPU, where only ``eager``, ``channels_last`` and the compile variants run):
- ``eager``: the bare module in a plain loop written here: ``passes`` back-to-back calls between ONE
  pair of CUDA events (one synchronize at the end); mean = total / passes.
- ``channels_last``: NHWC model and input.
- ``cuda_graphs``: ``channels_last`` plus one forward captured in a CUDA graph and replayed.
- ``compile`` / ``compile_max_autotune``: ``torch.compile(model)`` in mode ``default`` /
  ``max-autotune``.
- ``tensorrt``: ``torch_tensorrt.compile`` with FP16 precision (the challenge script's ``--trt``
  path), only when ``torch_tensorrt`` imports.
Every variant except ``eager`` is timed like the protocol (events per pass + synchronize).
Input: ``randn`` in the protocol shape (``eval.runtime.input_shape``), or a toy ``lr_hw``.
Fidelity: a variant's output on a test-set mosaic (``eval.gpu_suite.mosaic``, same shape as timed) vs the
FP32 eager output of the same model: RGB PSNR (uint8, clamp-x255-round) of both against the GT
mosaic; ``drop_db`` = FP32 - variant; flagged when an output is NaN/Inf or ``drop_db`` exceeds
``core.protocol.FP16_TOLERANCE_DB`` (the one FP16 fidelity tolerance, 0.05 dB). Both outputs come
from the one run path, ``models.padding.upscale_uint8`` (``mosaic_sr``: the model's contract, the
variant's callable, no padding, the range and mean rules off).
"""
from __future__ import annotations

import importlib.util
import statistics
import time

import numpy as np
import torch
from torch import nn

from core.protocol import FP16_TOLERANCE_DB
from eval.errors import EvalError
from eval.evaluate import to_tensor
from eval.metrics import psnr_rgb
from eval.runtime import RuntimeUnavailable, frozen_copy, summarize, timed_passes
from models.padding import upscale_uint8

VARIANTS = ("eager", "channels_last", "cuda_graphs", "compile", "compile_max_autotune", "tensorrt")
CUDA_ONLY = ("cuda_graphs", "tensorrt")


def prepared(model: nn.Module, device: str, half: bool) -> nn.Module:
    """Frozen eval copy of ``model`` on ``device``, FP16 when ``half`` else FP32."""
    net = frozen_copy(model).to(device)
    return net.half() if half else net.float()


def to_layout(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x`` in NHWC (channels_last) or plain contiguous NCHW memory."""
    return x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def cuda_graph_runner(net: nn.Module, example: torch.Tensor):
    """Capture ``net(example)`` in a CUDA graph; the runner copies a new input in and replays."""
    static_in = example.clone(memory_format=torch.preserve_format)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):  # cuDNN benchmark picks its algorithms before capture
            net(static_in)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = net(static_in)

    def run(inp: torch.Tensor) -> torch.Tensor:
        if inp is not static_in:
            static_in.copy_(inp)
        graph.replay()
        return static_out

    # The graph reads net's weights at their captured addresses: keep them alive with the runner (once
    # freed, the allocator hands that memory to the next tensor and replays compute garbage).
    run.module = net
    return run, static_in


def tensorrt_module(net: nn.Module, example: torch.Tensor) -> nn.Module:
    """``torch_tensorrt.compile`` of ``net`` for ``example``'s shape in FP16; RuntimeUnavailable without it."""
    if importlib.util.find_spec("torch_tensorrt") is None:
        raise RuntimeUnavailable("torch_tensorrt is not importable (pip install torch-tensorrt)")
    import torch_tensorrt

    spec = torch_tensorrt.Input(tuple(example.shape), dtype=example.dtype)
    return torch_tensorrt.compile(net, inputs=[spec], enabled_precisions={example.dtype})


def build_runner(variant: str, model: nn.Module, device: str, example: torch.Tensor):
    """(run, timed input) for ``variant`` of ``model`` on ``device``; ``example`` is NCHW float32."""
    if variant not in VARIANTS:
        raise EvalError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    if variant in CUDA_ONLY and device != "cuda":
        raise RuntimeUnavailable(f"{variant} needs CUDA")
    half = device == "cuda"
    if half:
        torch.backends.cudnn.benchmark = True  # as the protocol
    channels_last = variant in ("channels_last", "cuda_graphs")
    net = prepared(model, device, half)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    x = to_layout(example.to(device), channels_last)
    x = x.half() if half else x
    if variant == "cuda_graphs":
        return cuda_graph_runner(net, x)
    if variant == "compile":
        net = torch.compile(net)
    elif variant == "compile_max_autotune":
        net = torch.compile(net, mode="max-autotune")
    elif variant == "tensorrt":
        net = tensorrt_module(net, x)

    def run(inp: torch.Tensor) -> torch.Tensor:
        return net(to_layout(inp, channels_last))

    return run, x


def eager_loop_ms(run, x: torch.Tensor, device: str, warmup: int, passes: int) -> float:
    """Mean ms per call of ``passes`` back-to-back calls (one event pair / perf_counter around all)."""
    for _ in range(warmup):
        run(x)
    if device == "cuda":
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(passes):
            run(x)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / passes
    t0 = time.perf_counter()
    for _ in range(passes):
        run(x)
    return (time.perf_counter() - t0) * 1e3 / passes


def repeat_stats(means_ms: list[float]) -> dict:
    """Mean, median and coefficient of variation (population std / mean) of per-repeat means (ms)."""
    arr = np.asarray(means_ms, dtype=np.float64)
    mean = float(arr.mean())
    return {"mean_ms": mean, "median_ms": float(statistics.median(means_ms)),
            "cv": float(arr.std() / mean) if mean > 0 else None, "repeat_means_ms": [float(v) for v in arr]}


def time_variant(variant: str, model: nn.Module, device: str, example: torch.Tensor, warmup: int,
                 passes: int, repeats: int) -> tuple[dict, object]:
    """(repeat statistics, runner) of ``variant``; each repeat is ``warmup`` + ``passes`` calls."""
    with torch.no_grad():
        run, x = build_runner(variant, model, device, example)
        means = []
        for _ in range(repeats):
            if variant == "eager":
                means.append(eager_loop_ms(run, x, device, warmup, passes))
            else:
                means.append(summarize(timed_passes(run, x, device, warmup, passes))["mean_ms"])
    return repeat_stats(means), run


def mosaic_sr(model: nn.Module, forward, device: str, lr: np.ndarray, half: bool, nonfinite: str) -> np.ndarray | None:
    """uint8 HxWx3 RGB output of ``forward`` (``model`` or a variant of it) on the uint8 RGB LR mosaic; None: NaN/Inf.

    The one run path (``models.padding.upscale_uint8``) under ``model``'s contract, unpadded (the mosaic
    is the shape the variant was built for) and without the range and mean rules; FP16 input when ``half``.
    """
    with torch.no_grad():
        return upscale_uint8(model, to_tensor(lr, device, half), model.rtsr_scale, forward=forward, pad=False,
                             check_range=False, nonfinite=nonfinite)


def reference_psnr(model: nn.Module, device: str, lr: np.ndarray, gt: np.ndarray) -> float:
    """RGB PSNR (dB) vs ``gt`` of the FP32 eager output of ``model`` on the uint8 RGB LR mosaic."""
    net = prepared(model, device, half=False)
    return float(psnr_rgb(mosaic_sr(model, net, device, lr, half=False, nonfinite="score"), gt))


def fidelity(run, model: nn.Module, device: str, lr: np.ndarray, gt: np.ndarray, psnr_fp32: float) -> dict:
    """The variant's output on the mosaic vs GT, compared with the FP32 figure; see module doc."""
    sr = mosaic_sr(model, run, device, lr, half=device == "cuda", nonfinite="none")
    finite = sr is not None
    value = float(psnr_rgb(sr, gt)) if finite else None
    drop = None if value is None else float(psnr_fp32) - value
    return {"psnr_fp32": psnr_fp32, "psnr_variant": value, "drop_db": drop, "finite": finite,
            "tolerance_db": FP16_TOLERANCE_DB, "ok": finite and drop is not None and drop <= FP16_TOLERANCE_DB}
