"""A run's weights: the model a stage starts from, atomic checkpoint saves, and resuming from ``last.pt``.

Project checkpoints are dicts ``{"arch": {"name", "scale", "kwargs"}, "state_dict", ...}`` loaded
with ``torch.load(weights_only=True)`` (``models.registry.load_checkpoint``); ``last.pt`` also
holds the optimizer, AMP scaler, epoch, history, best and RNG states, and the run's identity.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from core.io import atomic_path
from models.registry import create_model, load_checkpoint, model_info
from training import distributed
from training.config import TrainConfig, TrainError
from training.debias import without_biases


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


def save_checkpoint(obj, path: Path) -> None:
    """``torch.save`` to a temp file in the same folder, then rename over ``path``."""
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(obj, tmp)


def cpu_state(model: nn.Module) -> dict:
    """Contiguous CPU copies of the model's state dict (loadable anywhere)."""
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}


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
        if distributed.is_main():
            print(f"note: {path} was made with other settings ({', '.join(changed)}); starting this run over")
        return None
    return ckpt


def best_state(cfg: TrainConfig, arch: dict, model: nn.Module, epoch: int, val_psnr_rgb: float) -> dict:
    """What best.pt holds: the weights of the best validated epoch, its PSNR and the run identity."""
    return {"arch": arch, "state_dict": cpu_state(model), "epoch": epoch, "val_psnr_rgb": val_psnr_rgb,
            "seed": cfg.seed, "config": cfg.identity()}


def last_state(cfg: TrainConfig, arch: dict, model: nn.Module, opt, scaler, gen: torch.Generator,
               history: list, best: dict) -> dict:
    """What last.pt holds: everything a killed run needs to continue exactly (weights, optimizer, RNGs)."""
    return {"arch": arch, "state_dict": cpu_state(model), "optimizer": opt.state_dict(),
            "scaler": scaler.state_dict(), "epoch": history[-1]["epoch"], "history": history, "best": best,
            "rng": {"patches": gen.get_state(), "torch": torch.get_rng_state()},
            "seed": cfg.seed, "config": cfg.identity()}


def restore(state: dict, model: nn.Module, opt, scaler, gen: torch.Generator, amp: bool):
    """Load a last.pt state into the run's objects and RNGs; returns (start epoch, history, best)."""
    model.load_state_dict(state["state_dict"])
    opt.load_state_dict(state["optimizer"])
    if amp and state["scaler"]:  # a disabled scaler (CPU, or AMP off) has no state
        scaler.load_state_dict(state["scaler"])
    gen.set_state(state["rng"]["patches"])
    torch.set_rng_state(state["rng"]["torch"])
    return state["epoch"], list(state["history"]), dict(state["best"])
