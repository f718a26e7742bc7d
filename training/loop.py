"""The training loop for any registered trainable model: Adam, named lr schedule, random aligned patches.

Data: (LR, HR) uint8 RGB pairs from ``datasets.patches.load_pairs`` (the exact ``datasets.degrade``
output), kept as uint8 CHW tensors on the training device; every iteration draws ``batch`` random
aligned patch pairs (LR ``lr_patch`` px, 8 dihedral augmentations) as float NCHW in [0, 1].
An epoch is ``ceil(pairs_per_epoch / batch)`` full batches (``train_step``). Loss: MSE (or L1) on
[0, 1] floats; on CUDA with ``amp`` the forward runs under FP16 autocast with loss scaling.
Validation: mean challenge RGB PSNR (``eval.metrics.psnr_rgb``) of uint8-rounded outputs, run
through ``models.padding.upscale_uint8`` (``training.validation``), every ``val_every`` epochs and at the last one.

Outputs in ``out``: last.pt (resume state), best.pt (best validation PSNR), metrics.csv (per epoch:
epoch, lr, train_loss, seconds), val.csv (epoch, val_psnr_rgb), summary.json. All written atomically.
A run whose ``out/last.pt`` exists resumes from it (model, optimizer, AMP scaler, epoch, RNG states).
Under ``torchrun --nproc-per-node N`` (``training.distributed``): ``batch`` is the global batch, split
over the N processes, gradients are all-reduced by DDP, and only rank 0 validates and writes.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from core.progress import EpochProgress, hms, say
from datasets.patches import batch_coords, check_patch_fits, crop_batch
from models.registry import describe, plugin_errors
from training import distributed
from training.checkpoints import (
    best_state,
    build_model,
    last_state,
    restore_state,
    resume_state,
    save_checkpoint,
)
from training.config import TrainConfig, TrainError, check_config
from training.data import load_split, load_validation
from training.logs import write_summary, write_tables
from training.sampler import BatchSampler
from training.schedule import lr_at
from training.step import (
    make_adam,
    make_step,
    resolve_precision,
    set_matmul_precision,
    uses_channels_last,
    uses_scaler,
)
from training.validation import validate


def resolve_device(name: str) -> torch.device:
    """"auto" -> cuda if available else cpu; otherwise the named device (error if CUDA is missing)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainError(f"device {name!r} asked for but CUDA is not available; use --device cpu")
    return torch.device(name)


def kept_checkpoint(out: Path) -> str:
    """What a stopped run leaves: the last good ``last.pt``, or nothing when no epoch finished."""
    last = out / "last.pt"
    if last.is_file():
        return f"The last good checkpoint is kept in {last}"
    return f"No epoch finished, so no checkpoint was written ({out} holds no last.pt)"


def check_patch_multiple(cfg: TrainConfig, model: nn.Module) -> None:
    """TrainError unless the model has weights to train and the LR patch side is a multiple of its input multiple."""
    if not any(p.requires_grad for p in model.parameters()):
        raise TrainError(f"{describe(cfg.model)} has no trainable parameters; nothing to train")
    multiple = model.rtsr_info.multiple
    if cfg.lr_patch % multiple:
        raise TrainError(f"lr_patch={cfg.lr_patch} must be a multiple of {multiple} for {cfg.model}")


def uses_amp(cfg: TrainConfig, cuda: bool) -> bool:
    """FP16 autocast + loss scaling (``training.step``: precision fp16, or auto on CUDA with ``cfg.amp``)."""
    return uses_scaler(resolve_precision(cfg, cuda))


def optimizer_for(model: nn.Module, cfg: TrainConfig, cuda: bool):
    """(model on its device layout, Adam with the config's betas and kernels, AMP grad scaler per ``uses_amp``)."""
    if uses_channels_last(cfg, cuda):
        model = model.to(memory_format=torch.channels_last)
    set_matmul_precision(resolve_precision(cfg, cuda))
    opt = make_adam(model, cfg, cuda)
    return model, opt, torch.amp.GradScaler("cuda", enabled=uses_amp(cfg, cuda))


def patch_batch(data, cfg: TrainConfig, gen: torch.Generator, cuda: bool):
    """This rank's share of one random aligned (LR, HR) float NCHW [0, 1] global batch (LR per ``memory_format``).

    ``data``: a ``training.sampler.BatchSampler`` (one gather) or the (LR list, HR list) of the loop sampler.
    """
    if isinstance(data, BatchSampler):
        draw = data.vector_coords if cfg.sampler == "device" else data.exact_coords
        inputs, targets = data.crop(draw(cfg.batch, gen, cfg.augment))  # coords: the same on every rank
    else:
        coords = batch_coords(data[0], cfg.batch, cfg.lr_patch, gen, cfg.augment)
        inputs, targets = crop_batch(*data, distributed.shard(coords), cfg.lr_patch, cfg.scale)
    if uses_channels_last(cfg, cuda):
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    return inputs, targets


def training_data(images: list, targets: list, cfg: TrainConfig):
    """What ``patch_batch`` draws from: a BatchSampler (sampler batched/device) or the two lists (loop)."""
    if cfg.sampler == "loop":
        return images, targets
    return BatchSampler(images, targets, cfg.lr_patch, cfg.scale)


def patch_generator(cfg: TrainConfig, device: torch.device) -> torch.Generator:
    """The seeded patch generator: on the CPU (exact draw), or on the training device (sampler ``device``)."""
    return torch.Generator(device if cfg.sampler == "device" else "cpu").manual_seed(cfg.seed)


def train_epoch(model: nn.Module, opt, scaler, data, cfg: TrainConfig,
                learning_rate: float, gen: torch.Generator, iters: int, on_step, step=None) -> float:
    """``iters`` Adam steps on random aligned patch batches at ``learning_rate``; the mean loss (over ranks)."""
    for group in opt.param_groups:
        group["lr"] = learning_rate
    cuda = next(model.parameters()).is_cuda
    step = step or make_step(model, opt, scaler, cfg, cuda)
    loss_sum = torch.zeros((), device=next(model.parameters()).device)
    for _ in range(iters):
        loss = step(*patch_batch(data, cfg, gen, cuda))
        loss_sum += loss
        on_step(loss)
    return distributed.mean_over_ranks(loss_sum) / iters


def train(cfg: TrainConfig, on_epoch_end: Callable[[int], None] | None = None) -> dict:
    """Run (or resume) training per ``cfg``; returns the summary dict (also written to summary.json)."""
    check_config(cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = distributed.local_device(resolve_device(cfg.device))
    cuda = device.type == "cuda"
    distributed.check_global_batch(cfg.batch)
    out = Path(cfg.out)
    model, arch = build_model(cfg)
    check_patch_multiple(cfg, model)
    state = resume_state(cfg, arch, out)
    if state is not None and state["epoch"] >= cfg.epochs:
        return already_trained(cfg, arch, model, state, device)
    with distributed.main_first():  # rank 0 degrades missing inputs, the others then read them
        images, targets, names = load_split(cfg.train_sets, cfg, device)
    check_patch_fits(images, cfg.lr_patch, names)
    val_items = load_validation(cfg, device) if distributed.is_main() else []

    model, opt, scaler = optimizer_for(model.to(device).train(), cfg, cuda)
    trained = distributed.wrap(model, device)  # DDP in a process group; ``model`` is what is saved
    gen = patch_generator(cfg, device)
    data = training_data(images, targets, cfg)
    step = make_step(trained, opt, scaler, cfg, cuda)
    start, history, best = 0, [], {"val_psnr_rgb": None, "epoch": None}
    if state is not None:
        start, history, best = restore_state(state, model, opt, scaler, gen, uses_amp(cfg, cuda), out / "last.pt")
    distributed.check_same_on_all_ranks(start, f"the epoch to resume from ({out / 'last.pt'})")

    iters = math.ceil(cfg.pairs_per_epoch / cfg.batch)
    say(f"{out.name}: {cfg.model} x{cfg.scale} on {'+'.join(cfg.train_sets)} (val {'+'.join(cfg.val_sets)}), "
        f"{'resuming at ' if start else ''}epoch {start + 1} of {cfg.epochs}, {iters} steps of "
        f"{cfg.batch} patches per epoch, {device}")
    with EpochProgress(out.name, start + 1, cfg.epochs, iters, bar=cfg.progress and distributed.is_main()) as progress:
        for epoch in range(start, cfg.epochs):
            t0 = time.perf_counter()
            learning_rate = lr_at(cfg.schedule, epoch, cfg.epochs, cfg.lr)
            with plugin_errors(model.rtsr_info, f"training epoch {epoch + 1}"):
                mean_loss = train_epoch(trained, opt, scaler, data, cfg, learning_rate, gen,
                                        iters, progress.step, step)
            if not math.isfinite(mean_loss):
                raise TrainError(f"epoch {epoch + 1}: training loss is {mean_loss}; stopped. "
                                 f"{kept_checkpoint(out)}; lower --lr or check the data")
            val = None
            if distributed.is_main() and ((epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs):
                with plugin_errors(model.rtsr_info, f"validation after epoch {epoch + 1}"):
                    val = validate(model, val_items, cfg.scale)
                if best["val_psnr_rgb"] is None or val > best["val_psnr_rgb"]:
                    best = {"val_psnr_rgb": val, "epoch": epoch + 1}
                    save_checkpoint(best_state(cfg, arch, model, epoch + 1, val), out / "best.pt")
            history.append({"epoch": epoch + 1, "lr": learning_rate, "train_loss": mean_loss,
                            "val_psnr_rgb": val, "seconds": time.perf_counter() - t0})
            if distributed.is_main():
                save_checkpoint(last_state(cfg, arch, model, opt, scaler, gen, history, best), out / "last.pt")
                write_tables(out, history)
            distributed.barrier()
            progress.epoch(epoch + 1, mean_loss, val, best["val_psnr_rgb"])
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1)
    if not distributed.is_main():
        return {}
    summary = write_summary(cfg, arch, model, history, best, device)
    say(f"{out.name}: done: best val PSNR {best['val_psnr_rgb']:.3f} dB (epoch {best['epoch']}), "
        f"{summary['params']:,} params, epochs {start + 1}-{cfg.epochs} in "
        f"{hms(sum(r['seconds'] for r in history[start:]))}")
    return summary


def already_trained(cfg: TrainConfig, arch: dict, model: nn.Module, state: dict, device) -> dict:
    """A run whose last.pt already holds every epoch: say so, rewrite its summary, train nothing."""
    out = Path(cfg.out)
    model.load_state_dict(state["state_dict"])
    best = state["best"]
    say(f"{out.name}: nothing to do: {out / 'last.pt'} already holds all {cfg.epochs} epochs "
        f"(best val PSNR {best['val_psnr_rgb']:.3f} dB at epoch {best['epoch']})")
    if not distributed.is_main():
        return {}
    return write_summary(cfg, arch, model, list(state["history"]), dict(best), device)
