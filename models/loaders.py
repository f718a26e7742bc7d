"""Checkpoint adapters of the built-in models, passed to ``register`` in ``models/catalog.py``.

Layouts (``models.layouts.Layout``: renames, transform, contract) of released checkpoints:
- ``models.official.RELEASED_LAYOUT``: the authors' Bicubic++ x3 file (BGR weights permuted to RGB).
- ``RFDN_AIM2020``: the AIM 2020 RFDN file of the NTIRE 2023 model zoo (``rfdn_x4_aim2020.pth``):
  ``B1..B4`` -> ``blocks.0..3``, ``c.0`` -> ``c``, ``LR_conv`` -> ``lr_conv``, ``upsampler.0`` ->
  ``upsampler``; trained on RGB in [0, 255] (EDSR-style ``rgb_range=255``), so a model loaded from it
  carries ``value_range="255"``.
Loaders (``load_weights(checkpoint, scale, path, **kwargs) -> nn.Module``) where a mapping is not enough:
- ``rt4ksr_weights``: a project checkpoint, or the authors' released file (layout ``RT4KSR_AUTHORS``:
  training dict ``state_dict``, ``module.`` prefix, their module names), in the training
  (multi-branch) or the fused form (told by the keys when the file has no ``arch`` entry); the result
  is re-parameterised unless ``train_form=True`` is asked for (and the checkpoint has that form).
"""
from __future__ import annotations

from pathlib import Path

from baselines.rt4ksr import RT4KSR
from models.errors import ModelError
from models.layouts import Layout, Rename, choose_layout, load_state_dict_strict, unwrap
from models.official import RELEASED_LAYOUT
from models.registry import merge_arch_kwargs

__all__ = ["RELEASED_LAYOUT", "RFDN_AIM2020", "RT4KSR_AUTHORS", "rt4ksr_weights"]


def rfdn_arch_kwargs(state: dict, path: Path | str = "checkpoint") -> dict:
    """``scale`` of an RFDN state dict from its sub-pixel conv (3 * scale**2 output channels)."""
    out_ch = int(state["upsampler.weight"].shape[0])
    scale = round((out_ch / 3) ** 0.5)
    if 3 * scale * scale != out_ch:
        raise ModelError(f"{path}: upsampler.weight has {out_ch} outputs, not 3 * scale**2")
    return {"scale": scale}


RFDN_AIM2020 = Layout(
    name="rfdn-aim2020",
    renames=(Rename("B{i}.", "blocks.{i}.", offset=-1), Rename("c.0.", "c."), Rename("LR_conv.", "lr_conv."),
             Rename("upsampler.0.", "upsampler.")),
    arch_kwargs=rfdn_arch_kwargs, value_range="255",
    source="eduardzamfir/NTIRE23-RTSR demo/model_zoo/rfdn_X4.pth (AIM 2020, RGB in [0, 255])",
)


def rt4ksr_arch_kwargs(state: dict, path: Path | str = "checkpoint") -> dict:
    """``scale`` of an RT4KSR state dict (our names) from its sub-pixel conv (3 * (2 scale)**2 outputs)."""
    out_ch = int(state["upsample.weight"].shape[0])
    r = round((out_ch / 3) ** 0.5)
    if 3 * r * r != out_ch or r % 2:
        raise ModelError(f"{path}: upsample.weight has {out_ch} outputs, not 3 * (2 scale)**2")
    return {"scale": r // 2}


def _rt4ksr_renames() -> tuple[Rename, ...]:
    """The authors' module names (eduardzamfir/RT4KSR ``code/model``) -> ours, per re-parameterisable conv."""
    convs = [("hfb.0.", "hf_conv."), ("body.{i}.conv1.", "body.{i}.conv."), ("tail.1.", "tail_conv.")]
    parts = [("expand_conv.", "expand."), ("fea_conv.", "fea."), ("reduce_conv.", "reduce."), ("rep_conv.", "")]
    renames = [Rename(theirs + a, ours + b) for theirs, ours in convs for a, b in parts]
    return (*renames, Rename("head.0.", "head."), Rename("tail.0.", "tail_norm."), Rename("upsample.0.", "upsample."))


RT4KSR_AUTHORS = Layout(
    name="rt4ksr-authors", renames=_rt4ksr_renames(), arch_kwargs=rt4ksr_arch_kwargs,
    source="eduardzamfir/RT4KSR code/checkpoints/rt4ksr_x3.pth (training checkpoint, RGB in [0, 1])",
)


def is_training_form(state: dict) -> bool:
    """True when an RT4KSR state dict (ours or the authors' names) holds the multi-branch form."""
    return any(".expand" in key for key in state)


def rt4ksr_weights(checkpoint: dict, scale: int, path: Path, **kwargs) -> RT4KSR:
    """Load an RT4KSR checkpoint (ours or the authors') in either form; re-parameterise unless ``train_form=True``."""
    want_train = bool(kwargs.pop("train_form", False))
    kwargs = merge_arch_kwargs(checkpoint, "rt4ksr", scale, kwargs, path)
    state, steps = unwrap(checkpoint, path)
    saved_train = bool(kwargs.pop("train_form", is_training_form(state)))
    if want_train and not saved_train:
        raise ModelError(f"{path}: checkpoint holds fused (deploy) weights; the training form "
                         "cannot be recovered from them (drop train_form=True)")
    try:
        model = RT4KSR(scale=scale, train_form=saved_train, **kwargs)
    except TypeError as exc:
        raise ModelError(f"{path}: rt4ksr got a bad argument ({exc})") from None
    layout, state = choose_layout(state, model.state_dict(), (RT4KSR_AUTHORS,), path, "rt4ksr", steps)
    if layout is not None:
        arch_scale = layout.arch_kwargs(state, path)["scale"]
        if arch_scale != scale:
            raise ModelError(f"{path}: the {layout.name} checkpoint is for scale {arch_scale}, not "
                             f"{scale}; use --scale {arch_scale}")
    load_state_dict_strict(model, state, path, layout, steps)
    model.rtsr_layout = None if layout is None else layout.name
    return model if want_train else model.reparameterize()
