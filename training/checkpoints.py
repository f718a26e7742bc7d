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
from core.progress import say
from models.layouts import check_state_dict
from models.registry import (
    checkpoint_arch,
    create_model,
    load_checkpoint,
    model_info,
)
from training.config import TrainConfig, TrainError
from training.debias import without_biases


def build_model(cfg: TrainConfig) -> tuple[nn.Module, dict]:
    """The model to train (fresh, seeded; or from ``init``, optionally without biases) and its arch dict."""
    torch.manual_seed(cfg.seed)
    kwargs = {**model_info(cfg.model).train_kwargs, **cfg.model_kwargs}  # e.g. RT4KSR's multi-branch form
    if cfg.init:
        ckpt = load_checkpoint(cfg.init)
        arch = checkpoint_arch(ckpt, cfg.init) or {}
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


RESUME_KEYS = {"arch": dict, "state_dict": dict, "optimizer": dict, "scaler": dict, "epoch": int,
               "history": list, "best": dict, "rng": dict}


def check_resume_state(ckpt: dict, path: Path) -> None:
    """TrainError naming ``path`` unless it holds everything ``restore`` needs, with the right types."""
    for key, kind in RESUME_KEYS.items():
        if not isinstance(ckpt.get(key), kind) or isinstance(ckpt.get(key), bool):
            found = "missing" if key not in ckpt else f"of type {type(ckpt[key]).__name__}"
            raise TrainError(f"{path}: not a resume state ({key} is {found}, expected {kind.__name__}); "
                             "delete it to start this stage over")
    check_state_dict(ckpt["state_dict"], path)
    if not all(isinstance(ckpt["rng"].get(k), torch.Tensor) for k in ("patches", "torch")):
        raise TrainError(f"{path}: not a resume state (rng lacks the patches/torch generator states); "
                         "delete it to start this stage over")


def resume_state(cfg: TrainConfig, arch: dict, out: Path) -> dict | None:
    """The state in ``out/last.pt`` to resume from, None to start fresh; TrainError for another architecture.

    An empty, truncated or malformed ``last.pt`` is a one-line error naming it (never a traceback).
    """
    path = out / "last.pt"
    if path.is_dir():
        raise TrainError(f"{path}: is a folder, not a checkpoint; remove it")
    if not path.is_file():
        return None
    ckpt = load_checkpoint(path)
    check_resume_state(ckpt, path)
    if ckpt.get("arch") != arch:
        raise TrainError(f"{path}: holds a run of {ckpt.get('arch')}, not {arch}; "
                         "delete that folder or choose another --out")
    old = ckpt.get("config") or {}
    if old != cfg.identity():
        changed = sorted(k for k in set(old) | set(cfg.identity()) if old.get(k) != cfg.identity().get(k))
        if not cfg.force:
            raise TrainError(f"{path}: made with other settings ({', '.join(changed)}); give a new "
                             "--out, or --force to start this run over (its best.pt is replaced)")
        say(f"note: {path} was made with other settings ({', '.join(changed)}); --force: starting over")
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


def restore_state(state: dict, model: nn.Module, opt, scaler, gen: torch.Generator, amp: bool,
            path: Path | str = "last.pt"):
    """Load a last.pt state into the run's objects and RNGs; returns (start epoch, history, best)."""
    try:
        model.load_state_dict(state["state_dict"])
        opt.load_state_dict(state["optimizer"])
        if amp and state["scaler"]:  # a disabled scaler (CPU, or AMP off) has no state
            scaler.load_state_dict(state["scaler"])
        gen.set_state(state["rng"]["patches"])
        torch.set_rng_state(state["rng"]["torch"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise TrainError(f"{path}: cannot resume from it ({type(exc).__name__}: "
                         f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}); "
                         "delete it to start this stage over") from None
    return state["epoch"], list(state["history"]), dict(state["best"])
