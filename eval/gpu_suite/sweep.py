"""``python -m eval.gpu_suite.sweep``: Bicubic++ runtime against its channel count (the paper's "sweet spots").

Each point is the final Bicubic++ form (no bias, m=2, R=1, strided conv, LeakyReLU) at ``channels``,
timed with the runtime protocol (``eval.runtime.measure_runtime``: GPU FP16 on the official tensor,
or the labelled CPU FP32 fallback) ``repeats`` times; a point reports the mean, median and CV of the
per-repeat means (ms) and its parameters and GFLOPs per protocol frame. Default channels: 16..64 in
steps of 4, plus 30, 32 and 34 (the pruning stages). Runtime is not monotone in the channel count on
GPUs (kernel tiling); the curve shows where.
Writes ``sweep.json``, ``sweep.md`` and ``sweep.png`` (runtime vs channels) into ``--out``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from core.cli import cli_main, description
from core.io import atomic_path, check_output_dir, write_atomic
from core.protocol import CPU_PASSES, CPU_WARMUP, GPU_PASSES, GPU_WARMUP, SCALES
from eval.errors import EvalError
from eval.gpu_suite.runtime_variants import repeat_stats
from eval.provenance import device_info
from eval.runtime import input_shape, measure_runtime, require_cuda
from models.cost import count_flops, count_params
from models.registry import create_model

DEFAULT_CHANNELS = tuple(sorted(set(range(16, 65, 4)) | {30, 32, 34}))


def parse_channels(text: str) -> list[int]:
    """"16:64:4,30,32,34" -> sorted unique channel counts (start:stop:step ranges include stop)."""
    values: set[int] = set()
    try:
        for part in (p.strip() for p in text.split(",") if p.strip()):
            if ":" in part:
                start, stop, *step = (int(v) for v in part.split(":"))
                values.update(range(start, stop + 1, step[0] if step else 1))
            else:
                values.add(int(part))
    except ValueError:  # not an integer, a zero step, a range without its stop
        values = set()
    if not values or min(values) < 1:
        raise EvalError(f"--channels {text!r}: need channel counts >= 1 as N or start:stop:step, "
                        "e.g. 16:64:4,30,32,34")
    return sorted(values)


def sweep_point(channels: int, scale: int, device: str, warmup: int, passes: int, repeats: int,
                lr_hw: tuple[int, int] | None = None) -> dict:
    """One point of the curve: repeat statistics of the protocol runtime, params and GFLOPs."""
    model = create_model("bicubic_pp", scale=scale, channels=channels)
    means = [measure_runtime(model, scale, device, warmup=warmup, passes=passes, lr_hw=lr_hw)["mean_ms"]
             for _ in range(repeats)]
    hw = tuple(input_shape(scale)[2:]) if lr_hw is None else lr_hw
    return {"channels": channels, "params": count_params(model),
            "gflops": count_flops(model, scale, hw)["flops"] / 1e9, **repeat_stats(means)}


def sweep(channels: list[int], scale: int, device: str, warmup: int, passes: int, repeats: int,
          lr_hw: tuple[int, int] | None = None, deadline: float | None = None) -> list[dict]:
    """Every point of ``channels`` (stops early, keeping what it has, once ``deadline`` has passed)."""
    import time

    rows = []
    for ch in channels:
        if deadline is not None and time.time() > deadline:
            break
        rows.append(sweep_point(ch, scale, device, warmup, passes, repeats, lr_hw))
    return rows


def markdown(rows: list[dict], title: str) -> str:
    """The sweep as a Markdown table; the fastest point in bold."""
    best = min(rows, key=lambda r: r["median_ms"])["channels"] if rows else None
    lines = [f"## {title}", "", "| channels | params | GFLOPs | mean ms | median ms | CV |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        mark = "**" if r["channels"] == best else ""
        lines.append(f"| {mark}{r['channels']}{mark} | {r['params']:,} | {r['gflops']:.2f} | "
                     f"{r['mean_ms']:.4f} | {mark}{r['median_ms']:.4f}{mark} | {r['cv']:.3f} |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path, title: str) -> None:
    """Median runtime (ms) against channels, the paper's stages (30/32/34) marked; PNG at ``path``."""
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    xs = [r["channels"] for r in rows]
    ax.plot(xs, [r["median_ms"] for r in rows], "o-", color="tab:blue", label="median of repeat means")
    for r in rows:
        if r["channels"] in (30, 32, 34):
            ax.annotate(str(r["channels"]), (r["channels"], r["median_ms"]), textcoords="offset points",
                        xytext=(0, 8), ha="center", fontsize=8)
    ax.set_xlabel("Bicubic++ channels")
    ax.set_ylabel("runtime per frame (ms)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def title_for(device: str, scale: int, lr_hw: tuple[int, int] | None) -> str:
    """Plot/table title naming the device, precision and input."""
    dev = device_info(device)["name"]
    shape = input_shape(scale)[2:] if lr_hw is None else list(lr_hw)
    precision = "FP16" if device == "cuda" else "FP32"
    return f"Bicubic++ x{scale} runtime vs channels: {dev}, {precision}, input {shape[0]}x{shape[1]} (HxW)"


def write_outputs(rows: list[dict], out: Path, title: str, extra: dict) -> None:
    """sweep.json, sweep.md and sweep.png in ``out`` (each written atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "sweep.json", json.dumps({**extra, "title": title, "rows": rows}, indent=2) + "\n")
    write_atomic(out / "sweep.md", markdown(rows, title))
    if rows:
        plot(rows, out / "sweep.png", title)


def build_parser() -> argparse.ArgumentParser:
    """CLI options."""
    p = argparse.ArgumentParser(prog="python -m eval.gpu_suite.sweep", description=description(__doc__))
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"),
                   help="cuda: GPU FP16 protocol (default); cpu: the FP32 CPU fallback")
    p.add_argument("--scale", type=int, default=3, help="upscaling factor (default 3)")
    p.add_argument("--channels", default="16:64:4,30,32,34",
                   help="channel counts: comma list of N or start:stop:step (default 16:64:4,30,32,34)")
    p.add_argument("--repeats", type=int, default=3, help="protocol runs per point (default 3)")
    p.add_argument("--passes", type=int, default=None,
                   help=f"timed passes per run (default {GPU_PASSES} cuda / {CPU_PASSES} cpu)")
    p.add_argument("--warmup", type=int, default=None,
                   help=f"warm-up passes per run (default {GPU_WARMUP} cuda / {CPU_WARMUP} cpu)")
    p.add_argument("--out", type=Path, default=Path("leaderboard") / "sweep",
                   help="output folder (default leaderboard/sweep)")
    return p


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Run the sweep and write its files (``core.cli``: a bad option is one line on stderr, exit status 2)."""
    args = build_parser().parse_args(argv)
    channels = parse_channels(args.channels)
    if args.repeats < 1:
        raise EvalError(f"--repeats {args.repeats}: need at least 1")
    if args.scale not in SCALES:
        raise EvalError(f"--scale {args.scale}: Bicubic++ supports {', '.join(map(str, SCALES))}")
    if args.passes is not None and args.passes < 1 or args.warmup is not None and args.warmup < 0:
        raise EvalError(f"--passes {args.passes} / --warmup {args.warmup}: need passes >= 1, warmup >= 0")
    check_output_dir(args.out, "--out")
    if args.device == "cuda":
        require_cuda()
    rows = sweep(channels, args.scale, args.device, args.warmup, args.passes, args.repeats)
    title = title_for(args.device, args.scale, None)
    write_outputs(rows, args.out, title, {"device": device_info(args.device), "scale": args.scale})
    print(markdown(rows, title))
    print(f"wrote {args.out}/sweep.{{json,md,png}}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
