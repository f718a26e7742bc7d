"""Checkpoint adapters of the built-in models whose checkpoints need more than a strict load.

Each is ``load_weights(checkpoint, scale, path, **kwargs) -> nn.Module`` (see ``models.registry``),
passed to ``register(..., load_weights=...)`` in ``models/zoo.py``:
- ``bicubic_pp_weights``: a project checkpoint ({"arch", "state_dict"}) or the authors' released
  x3 state dict (keys renamed and BGR weights permuted to RGB once, by ``models.official``).
- ``rt4ksr_weights``: a project checkpoint in the training (multi-branch) or the fused form; the
  result is fused unless ``train_form=True`` is asked for (and the checkpoint has that form).
"""
from __future__ import annotations

from pathlib import Path

from baselines.rt4ksr import RT4KSR
from models import official
from models.bicubic_pp import BicubicPP
from models.registry import ModelError, load_state_dict_strict, merge_arch_kwargs


def bicubic_pp_weights(checkpoint: dict, scale: int, path: Path, **kwargs) -> BicubicPP:
    """Build Bicubic++ from a project checkpoint ({"arch", "state_dict"}) or the authors' released state dict."""
    if official.is_official(checkpoint):
        state = official.to_project_state(checkpoint, path)
        arch = official.arch_kwargs(state, path)
        released_scale = arch.pop("scale")
        if released_scale != scale:
            raise ModelError(f"{path}: the released checkpoint is for scale {released_scale}, "
                             f"not {scale}; use --scale {released_scale}")
        kwargs = merge_arch_kwargs({"arch": {"kwargs": arch}}, "bicubic_pp", scale, kwargs, path)
    else:
        kwargs = merge_arch_kwargs(checkpoint, "bicubic_pp", scale, kwargs, path)
        state = checkpoint.get("state_dict", checkpoint)
    try:
        model = BicubicPP(scale=scale, **kwargs)
    except TypeError as exc:
        raise ModelError(f"{path}: bicubic_pp got a bad argument ({exc})") from None
    load_state_dict_strict(model, state, path)
    return model


def rt4ksr_weights(checkpoint: dict, scale: int, path: Path, **kwargs) -> RT4KSR:
    """Load a project checkpoint in either form; fuse unless the caller asked ``train_form=True``."""
    want_train = bool(kwargs.pop("train_form", False))
    kwargs = merge_arch_kwargs(checkpoint, "rt4ksr", scale, kwargs, path)
    saved_train = bool(kwargs.pop("train_form", False))
    if want_train and not saved_train:
        raise ModelError(f"{path}: checkpoint holds fused (deploy) weights; the training form "
                         "cannot be recovered from them (drop train_form=True)")
    try:
        model = RT4KSR(scale=scale, train_form=saved_train, **kwargs)
    except TypeError as exc:
        raise ModelError(f"{path}: rt4ksr got a bad argument ({exc})") from None
    load_state_dict_strict(model, checkpoint.get("state_dict", checkpoint), path)
    return model if want_train else model.reparameterize()
