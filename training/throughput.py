"""Training throughput: LR/HR patch pairs per second of the trainer's own step, AMP on or off.

The measured loop is ``training.loop``'s: random aligned patch batches drawn from uint8 images
resident on the training device (``patch_batch``), then ``train_step`` (Adam, the config's loss,
FP16 autocast + loss scaling when ``cfg.amp`` on CUDA). ``warmup`` steps are run first (cuDNN
autotuning, allocator), then ``steps`` steps are timed with a device synchronize before and after;
patches/s = steps x batch / seconds. Validation, checkpoints and logging are not counted; the model
is not saved.
"""
from __future__ import annotations

import math
import time

import torch

from datasets.patches import check_patch_fits
from training.checkpoints import build_model
from training.config import LOSSES, TrainConfig, TrainError
from training.data import load_split
from training.loop import optimizer_for, patch_batch, resolve_device, uses_amp
from training.step import train_step


def synchronize(device: torch.device) -> None:
    """Wait for queued work on ``device`` (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_throughput(cfg: TrainConfig, steps: int, warmup: int = 5) -> dict:
    """{"patches_per_s", "steps", "batch", "lr_patch", "amp", "seconds", "device", ...} of ``cfg``'s model and data."""
    if steps < 1 or warmup < 0:
        raise TrainError(f"need steps >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")
    device = resolve_device(cfg.device)
    cuda = device.type == "cuda"
    model, _ = build_model(cfg)
    model, opt, scaler = optimizer_for(model.to(device).train(), cfg, cuda)
    lrs, hrs, names = load_split(cfg.train_sets, cfg, device)
    check_patch_fits(lrs, cfg.lr_patch, names)
    amp = uses_amp(cfg, cuda)
    gen = torch.Generator().manual_seed(cfg.seed)

    def step() -> torch.Tensor:
        return train_step(model, opt, scaler, LOSSES[cfg.loss], *patch_batch((lrs, hrs), cfg, gen, cuda),
                          torch.float16 if amp else None)

    for _ in range(warmup):
        step()
    synchronize(device)
    t0 = time.perf_counter()
    loss = torch.zeros((), device=device)
    for _ in range(steps):
        loss += step()
    synchronize(device)
    seconds = time.perf_counter() - t0
    mean_loss = float(loss) / steps
    return {"patches_per_s": steps * cfg.batch / seconds, "steps": steps, "warmup": warmup,
            "batch": cfg.batch, "lr_patch": cfg.lr_patch, "amp": amp, "seconds": seconds,
            "mean_loss": mean_loss if math.isfinite(mean_loss) else None, "device": str(device),
            "model": cfg.model, "model_kwargs": dict(cfg.model_kwargs), "train_sets": list(cfg.train_sets)}


def estimated_seconds(pairs: int, patches_per_s: float) -> float:
    """Seconds of pure training steps for ``pairs`` patch pairs at ``patches_per_s``."""
    return pairs / patches_per_s
