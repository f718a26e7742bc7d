"""Training throughput: LR/HR patch pairs per second of the trainer's own step, AMP on or off.

The measured loop is ``models.trainer``'s: random aligned patch batches drawn from uint8 images
resident on the training device (``random_patch_batch``), ``train_step`` (Adam, MSE, autocast FP16 +
loss scaling when ``amp``). ``warmup`` steps are run first (cuDNN autotuning, allocator), then
``steps`` steps are timed with a device synchronize before and after; patches/s = steps x batch /
seconds. Validation, checkpoints and logging are not counted. The model is not saved.
"""
from __future__ import annotations

import math
import time

import torch

from datasets.patches import check_patch_fits, random_patch_batch
from models.trainer import LOSSES, TrainConfig, build_model, load_split, resolve_device, train_step


def synchronize(device: torch.device) -> None:
    """Wait for queued work on ``device`` (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_throughput(cfg: TrainConfig, steps: int, warmup: int = 5, amp: bool = True) -> dict:
    """{"patches_per_s", "steps", "batch", "lr_patch", "amp", "seconds", "device"} of ``cfg``'s model and data."""
    if steps < 1 or warmup < 0:
        raise ValueError(f"need steps >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")
    device = resolve_device(cfg.device)
    model, _ = build_model(cfg)
    model = model.to(device).train()
    cuda = device.type == "cuda"
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    lrs, hrs, names = load_split(cfg.train_sets, cfg, device)
    check_patch_fits(lrs, cfg.lr_patch, names)
    use_amp = cuda and amp
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    gen = torch.Generator().manual_seed(cfg.seed)

    def step() -> torch.Tensor:
        lr_b, hr_b = random_patch_batch(lrs, hrs, cfg.batch, cfg.lr_patch, cfg.scale, gen, cfg.augment)
        if cuda:
            lr_b = lr_b.contiguous(memory_format=torch.channels_last)
        return train_step(model, opt, scaler, LOSSES[cfg.loss], lr_b, hr_b, use_amp)

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
            "batch": cfg.batch, "lr_patch": cfg.lr_patch, "amp": use_amp, "seconds": seconds,
            "mean_loss": mean_loss if math.isfinite(mean_loss) else None, "device": str(device),
            "model": cfg.model, "model_kwargs": dict(cfg.model_kwargs), "train_sets": list(cfg.train_sets)}


def estimated_seconds(pairs: int, patches_per_s: float) -> float:
    """Seconds of pure training steps for ``pairs`` patch pairs at ``patches_per_s``."""
    return pairs / patches_per_s
