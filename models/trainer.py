"""The training loop for any registered trainable model: Adam, named lr schedule, random aligned patches.

Data: (LR, HR) uint8 RGB pairs from ``datasets.patches.load_pairs`` (the exact ``datasets.degrade``
output), kept as uint8 CHW tensors on the training device; every iteration draws ``batch`` random
aligned patch pairs (LR ``lr_patch`` px, 8 dihedral augmentations) as float NCHW in [0, 1].
An epoch is ``ceil(pairs_per_epoch / batch)`` full batches. Loss: MSE (or L1) on [0, 1] floats.
Validation: mean challenge RGB PSNR (``eval.metrics.psnr_rgb``) of uint8-rounded outputs, run
through ``models.padding.upscale``, every ``val_every`` epochs and at the last one.

Outputs in ``out``: last.pt (resume state), best.pt (best validation PSNR), metrics.csv (per epoch:
epoch, lr, train_loss, seconds), val.csv (epoch, val_psnr_rgb), summary.json. All written atomically.
A run whose ``out/last.pt`` exists resumes from it (model, optimizer, AMP scaler, epoch, RNG states).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from datasets.imageio import write_atomic
from datasets.patches import check_patch_fits, load_pairs, random_patch_batch, to_chw_tensor
from eval.metrics import psnr_rgb
from models.debias import without_biases
from models.padding import upscale
from models.registry import create_model, load_checkpoint, model_info
from models.schedule import lr_at

LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}
# Settings that do not change the result: a run may resume with different values of these.
NON_SEMANTIC = ("out", "device", "progress", "threads")


class TrainError(RuntimeError):
    """Training cannot start or continue; the one-line message says why and what to do."""


@dataclass
class TrainConfig:
    """One training run (one stage). Patch sizes in LR pixels; lr in Adam units; images RGB uint8."""

    model: str
    out: str
    scale: int = 3
    model_kwargs: dict = field(default_factory=dict)
    train_sets: list = field(default_factory=lambda: ["demo_train"])
    val_sets: list = field(default_factory=lambda: ["demo_valid"])
    degradation: str = "ntire23"
    quality: int = 90
    epochs: int = 10
    pairs_per_epoch: int = 800
    batch: int = 16
    lr_patch: int = 108
    lr: float = 5e-4
    beta1: float = 0.99
    beta2: float = 0.999
    schedule: str = "paper"
    loss: str = "mse"
    val_every: int = 1
    val_crop: int = 0  # centre-crop validation LR images to at most this many px per side (0: whole)
    augment: bool = True
    seed: int = 0
    init: str | None = None  # start from this checkpoint's weights (stages 2 and 3)
    drop_bias: bool = False  # remove every bias of the init model first (stage 3)
    device: str = "auto"
    amp: bool = True  # FP16 autocast + loss scaling; takes effect on CUDA only
    threads: int = 0  # torch CPU threads (0: torch's default)
    progress: bool = True

    def identity(self) -> dict:
        """The settings that determine the result (what a resumed run must share)."""
        ident = {k: v for k, v in asdict(self).items() if k not in NON_SEMANTIC}
        if self.init and Path(self.init).is_file():
            ident["init_sha256"] = file_sha256(self.init)
        return ident


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file (identifies the checkpoint a run started from)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def resolve_device(name: str) -> torch.device:
    """"auto" -> cuda if available else cpu; otherwise the named device (error if CUDA is missing)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainError(f"device {name!r} asked for but CUDA is not available; use --device cpu")
    return torch.device(name)


def check_config(cfg: TrainConfig) -> None:
    """One-line TrainError for settings that cannot work."""
    if cfg.loss not in LOSSES:
        raise TrainError(f"loss {cfg.loss!r} unknown; choose one of {', '.join(LOSSES)}")
    for key in ("epochs", "pairs_per_epoch", "batch", "lr_patch", "val_every"):
        if int(getattr(cfg, key)) < 1:
            raise TrainError(f"{key}={getattr(cfg, key)} must be >= 1")
    if not (cfg.lr > 0 and 0 <= cfg.beta1 < 1 and 0 <= cfg.beta2 < 1):
        raise TrainError(f"lr={cfg.lr}, betas=({cfg.beta1}, {cfg.beta2}): need lr > 0 and 0 <= beta < 1")
    if cfg.drop_bias and not cfg.init:
        raise TrainError("drop_bias needs init (the checkpoint whose biases are removed)")
    if not model_info(cfg.model).trainable:
        raise TrainError(f"model {cfg.model!r} is not trainable (it has no learned weights)")


def build_model(cfg: TrainConfig) -> tuple[nn.Module, dict]:
    """The model to train (fresh, seeded; or from ``init``, optionally without biases) and its arch dict."""
    torch.manual_seed(cfg.seed)
    kwargs = {**model_info(cfg.model).train_kwargs, **cfg.model_kwargs}  # e.g. RT4KSR's multi-branch form
    if cfg.init:
        ckpt = load_checkpoint(cfg.init)
        arch = ckpt.get("arch") or {}
        kwargs = {**(arch.get("kwargs") or {}), **kwargs}
        if cfg.drop_bias:
            base = create_model(cfg.model, cfg.scale, weights=cfg.init, **cfg.model_kwargs)
            model, kwargs = without_biases(cfg.model, cfg.scale, kwargs, base.state_dict())
        else:
            model = create_model(cfg.model, cfg.scale, weights=cfg.init, **cfg.model_kwargs)
    else:
        model = create_model(cfg.model, cfg.scale, **kwargs)
    return model, {"name": cfg.model, "scale": cfg.scale, "kwargs": kwargs}


def load_split(names: list, cfg: TrainConfig, device: torch.device):
    """(lr uint8 CHW tensors, hr uint8 CHW tensors, names) of datasets ``names`` on ``device``."""
    pairs = load_pairs(list(names), cfg.scale, cfg.degradation, cfg.quality)
    lrs = [to_chw_tensor(lr, device) for lr, _ in pairs]
    hrs = [to_chw_tensor(hr, device) for _, hr in pairs]
    return lrs, hrs, [getattr(p, "name", f"image #{i}") for i, p in enumerate(pairs)]


def centre_crop_pair(lr: torch.Tensor, hr: torch.Tensor, size: int, scale: int):
    """Centre crop of an LR CHW tensor to at most ``size`` px per side, and the aligned HR crop."""
    h, w = lr.shape[-2:]
    ch, cw = min(h, size), min(w, size)
    top, left = (h - ch) // 2, (w - cw) // 2
    return (lr[:, top:top + ch, left:left + cw],
            hr[:, top * scale:(top + ch) * scale, left * scale:(left + cw) * scale])


def load_validation(cfg: TrainConfig, device: torch.device) -> list:
    """Validation items: (lr float 1x3xhxw in [0, 1] on device, gt uint8 HxWx3 RGB numpy)."""
    lrs, hrs, _ = load_split(cfg.val_sets, cfg, device)
    items = []
    for lr, hr in zip(lrs, hrs):
        if cfg.val_crop:
            lr, hr = centre_crop_pair(lr, hr, cfg.val_crop, cfg.scale)
        items.append((lr[None].float().div(255), hr.permute(1, 2, 0).cpu().numpy()))
    return items


@torch.no_grad()
def validate(model: nn.Module, items: list, scale: int) -> float:
    """Mean challenge RGB PSNR (dB) of ``model`` on validation ``items`` (outputs clamped, rounded to uint8)."""
    was_training = model.training
    model.eval()
    scores = []
    for lr, gt in items:
        sr = upscale(model, lr, scale).float().clamp_(0, 1).mul_(255).round_()
        scores.append(psnr_rgb(sr[0].permute(1, 2, 0).to(torch.uint8).cpu().numpy(), gt))
    model.train(was_training)
    return float(np.mean(scores))


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to a temp file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pt", dir=path.parent)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cpu_state(model: nn.Module) -> dict:
    """Contiguous CPU copies of the model's state dict (loadable anywhere)."""
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}


def write_tables(out: Path, history: list) -> None:
    """metrics.csv (every epoch) and val.csv (validated epochs) from the run history."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", "lr", "train_loss", "seconds"])
    for row in history:
        writer.writerow([row["epoch"], f"{row['lr']:.6g}", f"{row['train_loss']:.6g}", f"{row['seconds']:.3f}"])
    write_atomic(out / "metrics.csv", buf.getvalue())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", "val_psnr_rgb"])
    for row in history:
        if row["val_psnr_rgb"] is not None:
            writer.writerow([row["epoch"], f"{row['val_psnr_rgb']:.4f}"])
    write_atomic(out / "val.csv", buf.getvalue())


def resume_state(cfg: TrainConfig, arch: dict, out: Path) -> dict | None:
    """The state in ``out/last.pt`` to resume from, None to start fresh; TrainError for another architecture."""
    path = out / "last.pt"
    if not path.is_file():
        return None
    ckpt = load_checkpoint(path)
    if ckpt.get("arch") != arch:
        raise TrainError(f"{path}: holds a run of {ckpt.get('arch')}, not {arch}; "
                         "delete that folder or choose another --out")
    old = ckpt.get("config") or {}
    if old != cfg.identity():
        changed = sorted(k for k in set(old) | set(cfg.identity()) if old.get(k) != cfg.identity().get(k))
        print(f"note: {path} was made with other settings ({', '.join(changed)}); starting this run over")
        return None
    return ckpt


def train_step(model: nn.Module, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler, loss_fn,
               lr_b: torch.Tensor, hr_b: torch.Tensor, amp: bool) -> torch.Tensor:
    """One optimisation step on a float NCHW [0, 1] LR/HR batch; returns the detached loss (FP32)."""
    with torch.autocast(lr_b.device.type, dtype=torch.float16, enabled=amp):
        pred = model(lr_b)
    loss = loss_fn(pred.float(), hr_b)
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    return loss.detach()


def _progress(enabled: bool):
    """A rich progress bar showing loss and validation PSNR."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("loss {task.fields[loss]}  val {task.fields[val]} dB"),
                    TimeElapsedColumn(), TimeRemainingColumn(), disable=not enabled)


def train(cfg: TrainConfig, on_epoch_end: Callable[[int], None] | None = None) -> dict:
    """Run (or resume) training per ``cfg``; returns the summary dict (also written to summary.json)."""
    check_config(cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    out = Path(cfg.out)
    model, arch = build_model(cfg)
    multiple = model.rtsr_info.multiple
    if cfg.lr_patch % multiple:
        raise TrainError(f"lr_patch={cfg.lr_patch} must be a multiple of {multiple} for {cfg.model}")
    state = resume_state(cfg, arch, out)

    lrs, hrs, names = load_split(cfg.train_sets, cfg, device)
    check_patch_fits(lrs, cfg.lr_patch, names)
    val_items = load_validation(cfg, device)

    cuda = device.type == "cuda"
    model = model.to(device).train()
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    amp = cuda and cfg.amp
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    gen = torch.Generator().manual_seed(cfg.seed)
    start, history, best = 0, [], {"val_psnr_rgb": None, "epoch": None}
    if state is not None:
        model.load_state_dict(state["state_dict"])
        opt.load_state_dict(state["optimizer"])
        if amp and state["scaler"]:  # a disabled scaler (CPU, or AMP off) has no state
            scaler.load_state_dict(state["scaler"])
        gen.set_state(state["rng"]["patches"])
        torch.set_rng_state(state["rng"]["torch"])
        start, history, best = state["epoch"], list(state["history"]), dict(state["best"])

    loss_fn = LOSSES[cfg.loss]
    iters = math.ceil(cfg.pairs_per_epoch / cfg.batch)
    with _progress(cfg.progress) as bar:
        last_val = history[-1]["val_psnr_rgb"] if history else None
        task = bar.add_task(f"{cfg.model} x{cfg.scale}", total=iters * (cfg.epochs - start),
                            loss="-", val=f"{last_val:.3f}" if last_val else "-")
        for epoch in range(start, cfg.epochs):
            t0 = time.perf_counter()
            lr = lr_at(cfg.schedule, epoch, cfg.epochs, cfg.lr)
            for group in opt.param_groups:
                group["lr"] = lr
            loss_sum = torch.zeros((), device=device)
            for _ in range(iters):
                lr_b, hr_b = random_patch_batch(lrs, hrs, cfg.batch, cfg.lr_patch, cfg.scale, gen, cfg.augment)
                if cuda:
                    lr_b = lr_b.contiguous(memory_format=torch.channels_last)
                loss = train_step(model, opt, scaler, loss_fn, lr_b, hr_b, amp)
                loss_sum += loss
                bar.update(task, advance=1, loss=f"{loss.item():.5f}" if not cuda else "...")
            mean_loss = float(loss_sum) / iters
            if not math.isfinite(mean_loss):
                raise TrainError(f"epoch {epoch + 1}: training loss is {mean_loss}; stopped. The last good "
                                 f"checkpoint is kept in {out / 'last.pt'}; lower --lr or check the data")
            val = None
            if (epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs:
                val = validate(model, val_items, cfg.scale)
                if best["val_psnr_rgb"] is None or val > best["val_psnr_rgb"]:
                    best = {"val_psnr_rgb": val, "epoch": epoch + 1}
                    save_atomic({"arch": arch, "state_dict": cpu_state(model), "epoch": epoch + 1,
                                 "val_psnr_rgb": val, "seed": cfg.seed, "config": cfg.identity()},
                                out / "best.pt")
            history.append({"epoch": epoch + 1, "lr": lr, "train_loss": mean_loss, "val_psnr_rgb": val,
                            "seconds": time.perf_counter() - t0})
            save_atomic({"arch": arch, "state_dict": cpu_state(model), "optimizer": opt.state_dict(),
                         "scaler": scaler.state_dict(), "epoch": epoch + 1, "history": history, "best": best,
                         "rng": {"patches": gen.get_state(), "torch": torch.get_rng_state()},
                         "seed": cfg.seed, "config": cfg.identity()}, out / "last.pt")
            write_tables(out, history)
            bar.update(task, loss=f"{mean_loss:.5f}", val=f"{val:.3f}" if val is not None else bar.tasks[0].fields["val"])
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1)
    return write_summary(cfg, arch, model, history, best, device)


def write_summary(cfg: TrainConfig, arch: dict, model: nn.Module, history: list, best: dict,
                  device: torch.device) -> dict:
    """summary.json for ``dvc metrics``: best/final validation PSNR, loss, params, seconds, seed.

    ``train_seconds`` and ``pairs_per_second`` count whole epochs (training plus validation) of this
    process and any earlier, resumed ones.
    """
    summary = {
        "model": cfg.model, "arch": arch, "scale": cfg.scale,
        "params": sum(p.numel() for p in model.parameters()),
        "epochs": len(history), "best_epoch": best["epoch"], "best_val_psnr_rgb": best["val_psnr_rgb"],
        "final_val_psnr_rgb": history[-1]["val_psnr_rgb"] if history else None,
        "final_train_loss": history[-1]["train_loss"] if history else None,
        "train_seconds": round(sum(r["seconds"] for r in history), 2),
        "pairs_per_second": round(len(history) * math.ceil(cfg.pairs_per_epoch / cfg.batch) * cfg.batch
                                  / max(1e-9, sum(r["seconds"] for r in history)), 1),
        "seed": cfg.seed, "device": str(device), "val_sets": list(cfg.val_sets),
    }
    write_atomic(Path(cfg.out) / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
