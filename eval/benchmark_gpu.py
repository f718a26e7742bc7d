"""GPU runtime benchmark of every registered model at the protocol size (720p -> 4K for x3).

``python -m eval.benchmark_gpu [--scale 3] [--models PATTERN ...] [--variants channels_last,compile,cuda_graphs]
[--passes 244] [--warmup 50] [--device cuda|cpu] [--out-dir leaderboard]``

Rows, each labelled by ``variant``:
- ``protocol``: ``eval.runtime.measure_runtime`` (the challenge procedure: FP16, cudnn.benchmark,
  50 warm-up, 244 passes between CUDA events + synchronize, through the pad-and-crop helper).
- ``eager_loop`` (bicubic and bicubic_pp only): a plain hand-written eager FP16 loop in the same
  process: the bare module called on a ``randn`` half input, ``passes`` calls, ONE synchronize at
  the end, mean = total / passes. Shows whether the protocol harness adds overhead.
- optional ``channels_last``, ``compile`` (``torch.compile``, default mode) and ``cuda_graphs``
  (one captured forward replayed), timed like the protocol (events per pass). Not challenge figures.
A model or variant that fails is recorded with its one-line error; the others still run.
Writes ``<out-dir>/runtime_gpu.{json,md}`` (``runtime_cpu_dryrun.*`` with ``--device cpu``, an FP32
dry run to check the script without a GPU; its numbers mean nothing).
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch

from core.cli import cli_main
from core.io import write_atomic
from eval.errors import EvalError
from eval.provenance import device_info, git_commit, versions
from eval.runtime import (GPU_PASSES, GPU_WARMUP, RuntimeUnavailable, input_shape, measure_runtime,
                          require_cuda, summarize, timed_passes)
from models.cost import count_params
from models.padding import upscale
from models.registry import create_model, list_models

EAGER_MODELS = ("bicubic", "bicubic_pp")
VARIANTS = ("channels_last", "compile", "cuda_graphs")


def prepared(model, device: str):
    """A copy of ``model`` on ``device``: FP16 on cuda, FP32 on cpu, registry info kept."""
    net = copy.deepcopy(model).to(device)
    net = net.half() if device == "cuda" else net.float()
    net.rtsr_info, net.rtsr_scale = model.rtsr_info, model.rtsr_scale
    return net.eval()


def protocol_input(scale: int, device: str, channels_last: bool = False) -> torch.Tensor:
    """``randn(1, 3, 2160 // S, 3840 // S)`` in FP16 (cuda) or FP32 (cpu)."""
    x = torch.randn(*input_shape(scale), device=device)
    x = x.half() if device == "cuda" else x
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def eager_loop(model, scale: int, device: str, warmup: int, passes: int) -> dict:
    """Hand-written loop: bare module, ``passes`` calls, one synchronize; mean ms per call."""
    net, x = prepared(model, device), protocol_input(scale, device)
    with torch.inference_mode():
        for _ in range(warmup):
            net(x)
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        sync()
        t0 = time.perf_counter()
        for _ in range(passes):
            net(x)
        sync()
    mean = (time.perf_counter() - t0) * 1e3 / passes
    return {"mean_ms": mean, "median_ms": None, "p10_ms": None, "p90_ms": None, "std_ms": None,
            "peak_mem_mb": None}


def variant_runner(variant: str, model, scale: int, device: str):
    """(callable, input) for an optional variant, timed like the protocol."""
    if variant == "cuda_graphs" and device != "cuda":
        raise RuntimeUnavailable("cuda_graphs needs CUDA")
    net = prepared(model, device)
    x = protocol_input(scale, device, channels_last=variant == "channels_last")
    if variant == "channels_last":
        net = net.to(memory_format=torch.channels_last)
        return (lambda inp: upscale(net, inp, scale)), x
    if variant == "compile":
        compiled = torch.compile(net)
        compiled.rtsr_info = net.rtsr_info
        return (lambda inp: upscale(compiled, inp, scale)), x
    return cuda_graph_runner(net, scale, x), x


def cuda_graph_runner(net, scale: int, x: torch.Tensor):
    """Capture one ``upscale`` forward in a CUDA graph; the runner replays it."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            upscale(net, x, scale)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        upscale(net, x, scale)
    return lambda inp: graph.replay()


def time_variant(variant: str, model, scale: int, device: str, warmup: int, passes: int) -> dict:
    """Runtime summary of one optional variant (events per pass on cuda)."""
    with torch.inference_mode():
        run, x = variant_runner(variant, model, scale, device)
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        times = timed_passes(run, x, device, warmup, passes)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
    return {**summarize(times), "peak_mem_mb": peak}


def row(name: str, variant: str, params: int | None, fn) -> dict:
    """Run ``fn()`` -> timing dict; a failure becomes a row with its one-line error."""
    base = {"model": name, "variant": variant, "params": params, "error": None}
    try:
        timing = fn()
    except Exception as exc:  # recorded in the output, never hidden
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"  {name} [{variant}] failed: {msg}", file=sys.stderr)
        return {**base, "mean_ms": None, "error": f"{type(exc).__name__}: {msg}"}
    keep = ("mean_ms", "median_ms", "p10_ms", "p90_ms", "std_ms", "peak_mem_mb")
    print(f"  {name} [{variant}] {timing['mean_ms']:.3f} ms", file=sys.stderr)
    return {**base, **{k: timing.get(k) for k in keep}}


def benchmark(names: list[str], scale: int, device: str, warmup: int, passes: int,
              variants: list[str]) -> list[dict]:
    """All rows for ``names`` (protocol first, then the eager loop and the asked variants)."""
    rows = []
    for name in names:
        try:
            model = create_model(name, scale=scale)
        except Exception as exc:
            rows.append(row(name, "protocol", None, lambda e=exc: (_ for _ in ()).throw(e)))
            continue
        params = count_params(model)
        rows.append(row(name, "protocol", params, lambda: measure_runtime(
            model, scale, device, warmup=warmup, passes=passes)))
        if name in EAGER_MODELS:
            rows.append(row(name, "eager_loop", params,
                            lambda: eager_loop(model, scale, device, warmup, passes)))
        for variant in variants:
            rows.append(row(name, variant, params,
                            lambda v=variant: time_variant(v, model, scale, device, warmup, passes)))
    return rows


def markdown(report: dict) -> str:
    """The report as a Markdown table, the card named in the title."""
    dev = report["device"]
    lines = [f"# Runtime, x{report['scale']} ({report['input_shape'][3]}x{report['input_shape'][2]} -> "
             f"{report['input_shape'][3] * report['scale']}x{report['input_shape'][2] * report['scale']})",
             "", f"Device: **{dev['name']}** (driver {dev['driver']}, torch {dev['torch']}, CUDA {dev['cuda']}); "
             f"precision {report['precision']}; {report['warmup']} warm-up, {report['passes']} passes; "
             f"commit {report['git_commit']}.", "",
             "`protocol` is the challenge procedure (eval.runtime); `eager_loop` a bare loop with one "
             "synchronize; other variants are optimisations, not challenge figures.", "",
             "| model | variant | params | mean ms | median ms | p10 | p90 | peak MiB | error |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    fmt = lambda v, f=".3f": "" if v is None else format(v, f)  # noqa: E731
    for r in report["rows"]:
        lines.append(f"| {r['model']} | {r['variant']} | {fmt(r['params'], 'd')} | {fmt(r['mean_ms'])} | "
                     f"{fmt(r.get('median_ms'))} | {fmt(r.get('p10_ms'))} | {fmt(r.get('p90_ms'))} | "
                     f"{fmt(r.get('peak_mem_mb'), '.1f')} | {r['error'] or ''} |")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    """CLI options."""
    p = argparse.ArgumentParser(prog="python -m eval.benchmark_gpu", description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=int, default=3)
    p.add_argument("--models", nargs="*", default=["*"], help="shell patterns of registered names")
    p.add_argument("--variants", default="", help=f"comma list from {', '.join(VARIANTS)}")
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--passes", type=int, default=GPU_PASSES)
    p.add_argument("--warmup", type=int, default=GPU_WARMUP)
    p.add_argument("--out-dir", type=Path, default=Path("leaderboard"))
    return p


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write JSON + Markdown (``core.cli``: bad input -> one line, exit 2)."""
    args = build_parser().parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        raise EvalError(f"unknown variant {bad[0]!r}; choose from {', '.join(VARIANTS)}")
    if args.device == "cuda":
        require_cuda()
    names = sorted({n for pattern in args.models for n in list_models(pattern)})
    if not names:
        raise EvalError(f"no registered model matches {args.models}")
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
    rows = benchmark(names, args.scale, args.device, args.warmup, args.passes, variants)
    report = {"scale": args.scale, "input_shape": input_shape(args.scale), "device_type": args.device,
              "precision": "fp16" if args.device == "cuda" else "fp32 (dry run)",
              "warmup": args.warmup, "passes": args.passes, "device": device_info(args.device),
              "git_commit": git_commit(), "versions": versions(), "rows": rows}
    stem = "runtime_gpu" if args.device == "cuda" else "runtime_cpu_dryrun"
    write_atomic(args.out_dir / f"{stem}.json", json.dumps(report, indent=2, allow_nan=False) + "\n")
    write_atomic(args.out_dir / f"{stem}.md", markdown(report))
    print(f"wrote {args.out_dir / stem}.json and .md", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
