"""Training throughput: LR/HR patch pairs per second of the trainer's own step, today's path beside the lean one.

The measured loop is ``training.loop``'s: random aligned patch batches drawn from uint8 images
resident on the training device (``patch_batch``), then the step of ``training.step`` (Adam, the
config's loss and precision). ``warmup`` steps are run first (cuDNN autotuning, allocator,
compilation), then ``steps`` steps are timed with a device synchronize before and after;
pairs/s = steps x batch / seconds. Validation, checkpoints and logging are not counted.

``python -m training.throughput`` times two paths in one process on the same images, for
Bicubic++ stage 1 and every baseline, ``repeats`` times each (interleaved), and prints the medians:
- old: today's path before the sampler (per-patch crops in a Python loop, torch's own Adam kernels);
- new: the batched sampler (one gather), fused Adam, channels_last, plus ``--compile`` if asked.
Both use the config's precision (fp32 on the CPU). ``--budget cpu`` is the mirror profile's batch
and patch (32, 24), ``--budget paper`` the paper's (16, LR 108; on the mirror's T91 + BSD200 at x3,
where no BSD200 image fits 108, the released code's LR 96 / HR 288 on the 216 images that fit it:
all 200 of BSD200 and 16 of T91).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import torch

from core.cli import cli_main, description
from datasets.patches import check_patch_fits
from training.checkpoints import build_model
from training.config import TrainConfig, TrainError, conf_sections, make_train_config
from training.data import load_split
from training.loop import (
    optimizer_for,
    patch_batch,
    patch_generator,
    resolve_device,
    training_data,
    uses_amp,
)
from training.step import make_step

PATHS = {"old": {"sampler": "loop", "optimizer_impl": "torch", "compile": False, "memory_format": "auto"},
         "new": {"sampler": "batched", "optimizer_impl": "fused", "compile": False, "memory_format": "channels_last"}}
STAGE1 = "bicubic_pp_stage1"
RELEASED_LR_PATCH = 96  # the released Bicubic++ code's LR patch (HR 288 at x3)


def synchronize(device: torch.device) -> None:
    """Wait for queued work on ``device`` (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_throughput(cfg: TrainConfig, steps: int, warmup: int = 5, images=None) -> dict:
    """{"patches_per_s", "steps", "batch", "lr_patch", "amp", "seconds", "device", ...} of ``cfg``'s model and data.

    ``images``: (LR list, HR list) uint8 CHW on the device, already loaded (default: ``cfg.train_sets``).
    """
    if steps < 1 or warmup < 0:
        raise TrainError(f"need steps >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")
    device = resolve_device(cfg.device)
    cuda = device.type == "cuda"
    torch.manual_seed(cfg.seed)
    model, _ = build_model(cfg)
    model, opt, scaler = optimizer_for(model.to(device).train(), cfg, cuda)
    if images is None:
        lrs, hrs, names = load_split(cfg.train_sets, cfg, device)
        check_patch_fits(lrs, cfg.lr_patch, names)
        images = (lrs, hrs)
    data = training_data(*images, cfg)
    gen = patch_generator(cfg, device)
    train_step = make_step(model, opt, scaler, cfg, cuda)

    def step() -> torch.Tensor:
        return train_step(*patch_batch(data, cfg, gen, cuda))

    for _ in range(warmup):
        step()
    synchronize(device)
    t0 = time.perf_counter()
    loss = torch.zeros((), device=device)
    times = []  # per-step seconds: exact on the CPU (no queue); on CUDA only the total counts
    for _ in range(steps):
        t = time.perf_counter()
        loss += step()
        times.append(time.perf_counter() - t)
    synchronize(device)
    seconds = time.perf_counter() - t0
    mean_loss = float(loss) / steps
    median = statistics.median(times) if not cuda else seconds / steps
    return {"patches_per_s": steps * cfg.batch / seconds, "median_patches_per_s": cfg.batch / median,
            "steps": steps, "warmup": warmup, "batch": cfg.batch, "lr_patch": cfg.lr_patch,
            "amp": uses_amp(cfg, cuda), "seconds": seconds,
            "mean_loss": mean_loss if math.isfinite(mean_loss) else None, "device": str(device),
            "model": cfg.model, "model_kwargs": dict(cfg.model_kwargs), "train_sets": list(cfg.train_sets),
            "sampler": cfg.sampler, "optimizer_impl": cfg.optimizer_impl, "compile": cfg.compile,
            "memory_format": cfg.memory_format}


def estimated_seconds(pairs: int, patches_per_s: float) -> float:
    """Seconds of pure training steps for ``pairs`` patch pairs at ``patches_per_s``."""
    return pairs / patches_per_s


def fitting_patch(images: list, lr_patch: int, multiple: int = 1) -> int:
    """The largest LR patch <= ``lr_patch`` (a multiple of ``multiple``) that every LR image (CHW) fits."""
    smallest = min(min(im.shape[-2:]) for im in images)
    return min(lr_patch, smallest // multiple * multiple)


def paper_patch(lrs: list, hrs: list, lr_patch: int) -> tuple[int, list, list]:
    """(LR patch, LR images, HR images) for the paper's patch: ``lr_patch`` on the images it fits, else the
    released code's LR 96 (HR 288 at x3) on the images that fit 96 (BSD200's 481x321 fits 96, not 108)."""
    for patch in (lr_patch, RELEASED_LR_PATCH):
        keep = [i for i, im in enumerate(lrs) if min(im.shape[-2:]) >= patch]
        if keep:
            return patch, [lrs[i] for i in keep], [hrs[i] for i in keep]
    raise TrainError(f"no training image fits an LR patch of {lr_patch} or {RELEASED_LR_PATCH} px")


def bench_configs(profile: str, budget: str, models: list[str], device: str, **run) -> dict:
    """{label: TrainConfig} of Bicubic++ stage 1 and each baseline in ``models`` per conf/ (profile, budget)."""
    overrides = [f"profile={profile}", f"budget={budget}"]
    cfgs = {}
    for name in models:
        section = STAGE1 if name == "bicubic_pp" else "baseline"
        values = conf_sections(overrides, ["train.base", f"train.{section}"])
        values.update({"model": name, "out": "throughput-scratch", "device": device, "progress": False, **run})
        cfgs["bicubic_pp stage 1" if name == "bicubic_pp" else name] = make_train_config(
            values, f"conf/ ({' '.join(overrides)}) train.base + train.{section}")
    return cfgs


def compare(cfg: TrainConfig, images, steps: int, warmup: int, repeats: int, compile_new: bool) -> dict:
    """{"old": [pairs/s per repeat], "new": [...]} of one config, the two paths interleaved.

    Each figure is batch / the median step time on the CPU (robust to other users of a shared
    machine), batch x steps / total seconds on CUDA."""
    runs: dict = {"old": [], "new": []}
    for _ in range(repeats):
        for path, options in PATHS.items():
            options = {**options, "compile": compile_new and path == "new"}
            row = measure_throughput(cfg.model_copy(update=options), steps, warmup, images)
            runs[path].append(row["median_patches_per_s"])
    return runs


def print_table(rows: list[dict], title: str) -> None:
    """A rich table: model, batch, LR patch, old and new pairs/s (medians), new/old (median of the paired repeats)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("model", "batch", "LR patch", "old pairs/s", "new pairs/s", "new / old"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in rows:
        table.add_row(r["label"], str(r["batch"]), str(r["lr_patch"]), f"{r['old']:,.0f}", f"{r['new']:,.0f}",
                      f"{r['ratio']:.2f}x")
    Console().print(table)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m training.throughput", description=description(__doc__))
    p.add_argument("--profile", default="mirror", help="conf/ profile whose data is used (default: mirror)")
    p.add_argument("--budget", default="cpu", help="conf/ budget whose batch and patch are used: cpu (the "
                   "mirror profile's, default) or paper")
    p.add_argument("--models", nargs="+", help="models (default: bicubic_pp and the budget's baselines)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    p.add_argument("--steps", type=int, default=20, help="timed steps per measurement (default: 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (default: 3)")
    p.add_argument("--repeats", type=int, default=3, help="measurements per path; medians printed (default: 3)")
    p.add_argument("--compile", action="store_true", help="the new path also captures the step (torch.compile)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: 0, torch's own)")
    return p.parse_args(argv)


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Entry point: old vs new pairs/s for each model, one rich table."""
    from core.params import composed_params

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    params = composed_params([f"profile={args.profile}", f"budget={args.budget}"])
    models = args.models or ["bicubic_pp", *params["baseline_models"]]
    cfgs = bench_configs(args.profile, args.budget, models, args.device)
    first = next(iter(cfgs.values()))
    device = resolve_device(first.device)
    lrs, hrs, _ = load_split(first.train_sets, first, device)
    patch, lrs, hrs = paper_patch(lrs, hrs, first.lr_patch)
    print(f"LR patch {patch} on {len(lrs)} images of {'+'.join(first.train_sets)}", file=sys.stderr)
    rows = []
    for label, cfg in cfgs.items():
        multiple = build_model(cfg)[0].rtsr_info.multiple
        cfg = cfg.model_copy(update={"lr_patch": fitting_patch(lrs, patch, multiple)})
        runs = compare(cfg, (lrs, hrs), args.steps, args.warmup, args.repeats, args.compile)
        rows.append({"label": label, "batch": cfg.batch, "lr_patch": cfg.lr_patch,
                     "old": statistics.median(runs["old"]), "new": statistics.median(runs["new"]),
                     "ratio": statistics.median(n / o for n, o in zip(runs["new"], runs["old"]))})
        print(f"{label}: old {runs['old']}, new {runs['new']} pairs/s", file=sys.stderr)
    print_table(rows, f"training pairs/s, {device}, {torch.__version__}, {torch.get_num_threads()} threads, "
                f"profile={args.profile} budget={args.budget}, median of {args.repeats} x {args.steps} steps")


if __name__ == "__main__":
    sys.exit(main())
