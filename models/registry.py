"""The model registry: ``register``, ``list_models``, ``model_info``, ``create_model``.

A model is a factory ``f(scale: int, **kwargs) -> nn.Module`` whose module maps an
NCHW float tensor in [0, 1], RGB order, of size H x W to one of size sH x sW (unless its
``ModelInfo.channel_order`` says otherwise). Registered names are plain identifiers (the
built-in ones are registered in ``models/zoo.py``); ``"package.module:factory"`` or
``"path/to/file.py:factory"`` names a plug-in, whose metadata are attributes of its factory
(``scales``, ``multiple``, ``min_size``, ``channel_order``, ``load_weights``).

Checkpoints: ``load_checkpoint`` (``torch.load(weights_only=True)``), then the entry's
``load_weights(checkpoint, scale=, path=, **kwargs)`` when it has one, else a strict load into
the factory's model with the architecture kwargs recorded in the checkpoint's ``arch`` entry.
"""
from __future__ import annotations

import difflib
import fnmatch
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from core.errors import RtsrError
from core.protocol import SCALES


class ModelError(RtsrError):
    """A model name, scale, checkpoint or plug-in that cannot be used; the message says why."""


@dataclass(frozen=True)
class ModelInfo:
    """What the benchmark needs to know about a model besides its weights."""

    name: str
    factory: Callable[..., nn.Module] = field(repr=False)
    scales: tuple[int, ...] = SCALES
    multiple: int = 1  # input H and W must be multiples of this (padding handles the rest)
    min_size: int = 1  # input H and W must be at least this (padding handles the rest)
    channel_order: str = "rgb"  # order of the tensor the module itself expects
    trainable: bool = True
    paper: str = ""
    train_kwargs: dict = field(default_factory=dict)  # factory kwargs the trainer adds (e.g. a training form)
    load_weights: Callable[..., nn.Module] | None = field(default=None, repr=False)  # checkpoint adapter


_REGISTRY: dict[str, ModelInfo] = {}


def register(
    name: str | None = None,
    factory: Callable[..., nn.Module] | None = None,
    *,
    scales: tuple[int, ...] = SCALES,
    multiple: int = 1,
    channel_order: str = "rgb",
    trainable: bool = True,
    paper: str = "",
    min_size: int = 1,
    train_kwargs: dict | None = None,
    load_weights: Callable[..., nn.Module] | None = None,
):
    """Register a factory ``f(scale, **kwargs) -> nn.Module`` under ``name``; returns the factory.

    ``register(name, factory, ...)`` registers at once; ``@register(name, ...)`` is the decorator
    form. ``load_weights(checkpoint, scale=, path=, **kwargs) -> nn.Module`` builds the model
    from a loaded checkpoint when a strict state-dict load is not enough (released layouts,
    re-parameterised forms).
    """

    def decorator(fn: Callable[..., nn.Module]):
        key = name or fn.__name__
        if key in _REGISTRY:
            raise ModelError(f"model {key!r} is registered twice; pick another name")
        _REGISTRY[key] = ModelInfo(key, fn, tuple(scales), multiple, min_size, channel_order,
                                   trainable, paper, dict(train_kwargs or {}), load_weights)
        return fn

    return decorator if factory is None else decorator(factory)


def list_models(pattern: str = "*") -> list[str]:
    """Sorted registered model names matching the shell-style ``pattern``."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def model_info(name: str) -> ModelInfo:
    """The ``ModelInfo`` of a registered name or a ``module:factory`` plug-in."""
    if ":" in name:
        return _plugin_info(name)
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ModelError(
            f"unknown model {name!r}{hint} (known: {', '.join(list_models())}; "
            "or give a plug-in as package.module:factory)"
        )
    return _REGISTRY[name]


def create_model(name: str, scale: int = 3, weights: str | Path | None = None,
                 **kwargs) -> nn.Module:
    """Build model ``name`` for ``scale`` (optionally loading ``weights``), in eval mode on CPU."""
    info = model_info(name)
    if info.scales and scale not in info.scales:
        raise ModelError(
            f"model {info.name!r} does not support scale {scale}; supported: "
            f"{', '.join(map(str, info.scales))}"
        )
    checkpoint = load_checkpoint(weights) if weights is not None else None
    if checkpoint is not None and info.load_weights is not None:
        model = info.load_weights(checkpoint, scale=scale, path=Path(weights), **kwargs)
    else:
        if checkpoint is not None:
            kwargs = merge_arch_kwargs(checkpoint, info.name, scale, kwargs, weights)
        model = _build(info, scale, kwargs)
        if checkpoint is not None:
            load_state_dict_strict(model, checkpoint.get("state_dict", checkpoint), weights)
    model.rtsr_info = info  # type: ignore[attr-defined]
    model.rtsr_scale = scale  # type: ignore[attr-defined]
    return model.eval()


def _build(info: ModelInfo, scale: int, kwargs: dict) -> nn.Module:
    """Call the factory and check it returned an ``nn.Module``."""
    try:
        model = info.factory(scale=scale, **kwargs)
    except ModelError:
        raise
    except Exception as exc:  # a plug-in's own bug: say whose it is
        raise ModelError(f"model factory {info.name!r} raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, nn.Module):
        raise ModelError(
            f"model factory {info.name!r} returned {type(model).__name__}, not a torch.nn.Module"
        )
    return model


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint dict with ``torch.load(weights_only=True)`` (no pickled code runs)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: checkpoint not found; check the --weights path")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (any failure becomes a one-line ModelError)
        raise ModelError(
            f"{path}: refused to load ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
            "only plain tensors/dicts are accepted (weights_only=True)"
        ) from None
    if not isinstance(obj, dict):
        raise ModelError(f"{path}: expected a state dict, found {type(obj).__name__}")
    return obj


def merge_arch_kwargs(checkpoint: dict, name: str, scale: int, kwargs: dict, path) -> dict:
    """Take architecture kwargs from a project checkpoint's ``arch`` entry; reject conflicts."""
    arch = checkpoint.get("arch")
    if not isinstance(arch, dict):
        return kwargs
    if arch.get("name") not in (None, name):
        raise ModelError(f"{path}: checkpoint is for model {arch.get('name')!r}, not {name!r}")
    if arch.get("scale") not in (None, scale):
        raise ModelError(f"{path}: checkpoint is for scale {arch.get('scale')}, not {scale}")
    merged = dict(arch.get("kwargs") or {})
    for key, value in kwargs.items():
        if key in merged and merged[key] != value:
            raise ModelError(f"{path}: checkpoint has {key}={merged[key]!r}, you asked {value!r}")
        merged[key] = value
    return merged


def load_state_dict_strict(model: nn.Module, state: dict, path) -> None:
    """``load_state_dict(strict=True)`` with a one-line error naming missing/unexpected/misshaped keys."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    misshaped = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or misshaped:
        parts = []
        if missing:
            parts.append(f"missing {missing[:4]}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:4]}")
        if misshaped:
            k = misshaped[0]
            parts.append(f"shape of {k} is {tuple(state[k].shape)}, model wants {tuple(own[k].shape)}")
        raise ModelError(f"{path}: weights do not fit the model: {'; '.join(parts)}")
    model.load_state_dict(state, strict=True)


def _plugin_info(spec: str) -> ModelInfo:
    """Resolve ``package.module:factory`` or ``file.py:factory`` to a ``ModelInfo``."""
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise ModelError(f"plug-in {spec!r} must look like package.module:factory")
    module = _import_plugin_module(module_name, spec)
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ModelError(f"plug-in {spec!r}: {module_name} has no callable {attr!r}")
    base = ModelInfo(spec, factory, scales=(), trainable=True)
    return replace(
        base,
        scales=tuple(getattr(factory, "scales", ())),
        multiple=int(getattr(factory, "multiple", 1)),
        min_size=int(getattr(factory, "min_size", 1)),
        channel_order=str(getattr(factory, "channel_order", "rgb")),
        load_weights=getattr(factory, "load_weights", None),
    )


def _import_plugin_module(module_name: str, spec: str):
    """Import a plug-in module by dotted name, or by file path when it ends in ``.py``."""
    try:
        if module_name.endswith(".py"):
            path = Path(module_name).resolve()
            mod_spec = importlib.util.spec_from_file_location(f"rtsr_plugin_{path.stem}", path)
            if mod_spec is None or not path.is_file():
                raise FileNotFoundError(path)
            module = importlib.util.module_from_spec(mod_spec)
            sys.modules[mod_spec.name] = module
            mod_spec.loader.exec_module(module)  # type: ignore[union-attr]
            return module
        return importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001  (any failure becomes a one-line ModelError)
        raise ModelError(f"plug-in {spec!r}: cannot import {module_name} "
                         f"({type(exc).__name__}: {exc})") from None
