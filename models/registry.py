"""The model registry: ``register``, ``list_models``, ``model_info``, ``create_model``.

A model is a factory ``f(scale: int, **kwargs) -> nn.Module`` whose module maps an
NCHW float tensor in [0, 1], RGB order, of size H x W to one of size sH x sW (unless its
``ModelInfo.channel_order`` says otherwise). Registered names are plain identifiers (the
built-in ones are registered in ``models/zoo.py``); ``"package.module:factory"`` or
``"path/to/file.py:factory"`` names a plug-in, whose metadata are attributes of its factory
(``scales``, ``multiple``, ``min_size``, ``channel_order``, ``load_weights``).

Checkpoints: ``load_checkpoint`` (``torch.load(weights_only=True)``; an empty, truncated or
non-dict file is a one-line ``ModelError`` naming it, for every caller: ``--weights``, ``--init``,
resume), then the entry's ``load_weights(checkpoint, scale=, path=, **kwargs)`` when it has one,
else a strict load into the factory's model with the architecture kwargs recorded in the
checkpoint's ``arch`` entry (``checkpoint_arch``: a mapping, or refused). ``load_state_dict_strict``
refuses a state dict that is not a mapping of names to tensors before comparing keys.
Plug-in code (import, factory, forward) runs under ``plugin_errors``: whatever it raises, even
``SystemExit``, becomes one line naming the plug-in.
"""
from __future__ import annotations

import difflib
import fnmatch
import importlib
import importlib.util
import pickle
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from core.errors import RtsrError, one_line
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
MAX_DETAIL_CHARS = 160  # of a wrapped exception's message in our one-line errors


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
    except (Exception, SystemExit) as exc:  # noqa: BLE001  (a plug-in's own bug or exit: say whose)
        raise ModelError(f"{describe(info.name)}: factory {_raised(exc)}") from None
    if not isinstance(model, nn.Module):
        raise ModelError(
            f"{describe(info.name)}: factory returned {type(model).__name__}, not a torch.nn.Module"
        )
    return model


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint dict with ``torch.load(weights_only=True)`` (no pickled code runs).

    Every failure is a one-line ``ModelError`` naming the file: missing, a folder, empty (0 bytes),
    truncated or corrupt, holding pickled code, or not a dict.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder, not a checkpoint file; give the .pt/.pth file")
    if not path.is_file():
        raise ModelError(f"{path}: checkpoint not found; check the path (--weights / --init)")
    if path.stat().st_size == 0:
        raise ModelError(f"{path}: empty file (0 bytes), not a checkpoint; its write was interrupted "
                         "or the path is wrong: delete it and re-create it (re-run its stage)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower():
            raise ModelError(
                f"{path}: refused to load ({type(exc).__name__}: {one_line(exc)}); "
                "only plain tensors/dicts are accepted (weights_only=True)"
            ) from None
        raise ModelError(f"{path}: corrupt or truncated checkpoint ({_raised(exc, 'torch.load')}); "
                         "re-create it or download it again") from None
    except Exception as exc:  # noqa: BLE001  (any failure becomes a one-line ModelError)
        raise ModelError(f"{path}: corrupt or truncated checkpoint ({_raised(exc, 'torch.load')}); "
                         "re-create it or download it again") from None
    if not isinstance(obj, dict):
        raise ModelError(f"{path}: expected a state dict, found {type(obj).__name__}; "
                         "give a file written by torch.save(model.state_dict()) or by our trainer")
    return obj


def _raised(exc: BaseException, who: str = "") -> str:
    """``raised RuntimeError: msg`` / ``called sys.exit(0)``: one line saying what code did."""
    prefix = f"{who} " if who else ""
    if isinstance(exc, SystemExit):
        return f"{prefix}called sys.exit({exc.code!r})"
    msg = one_line(exc)
    if len(msg) > MAX_DETAIL_CHARS:  # torch's messages run on: keep the first sentence
        msg = msg.split(". ")[0][:MAX_DETAIL_CHARS]
    return f"{prefix}raised {type(exc).__name__}" + ("" if msg == type(exc).__name__ else f": {msg}")


def checkpoint_arch(checkpoint: dict, path) -> dict | None:
    """A project checkpoint's ``arch`` entry ({name, scale, kwargs}), None when absent; refused if malformed."""
    arch = checkpoint.get("arch")
    if arch is None:
        return None
    if not isinstance(arch, dict):
        raise ModelError(f"{path}: 'arch' is a {type(arch).__name__}, expected a mapping "
                         "{name, scale, kwargs}; the file is not one of our checkpoints")
    kwargs = arch.get("kwargs")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise ModelError(f"{path}: arch.kwargs is a {type(kwargs).__name__}, expected a mapping")
    scale = arch.get("scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int)):
        raise ModelError(f"{path}: arch.scale is {scale!r}, expected an integer")
    return arch


def merge_arch_kwargs(checkpoint: dict, name: str, scale: int, kwargs: dict, path) -> dict:
    """Take architecture kwargs from a project checkpoint's ``arch`` entry; reject conflicts."""
    arch = checkpoint_arch(checkpoint, path)
    if arch is None:
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
    check_state_dict(state, path)
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


def check_state_dict(state, path) -> None:
    """ModelError unless ``state`` is a non-empty mapping of string names to tensors."""
    if not isinstance(state, dict):
        raise ModelError(f"{path}: the state dict is a {type(state).__name__}, expected a mapping of "
                         "parameter names to tensors; the file is not a weights file")
    if not state:
        raise ModelError(f"{path}: the state dict is empty; the file holds no weights")
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise ModelError(f"{path}: state dict entry {key!r} is a {type(value).__name__}, "
                             "expected a tensor; the file is not a weights file")


def is_plugin(name: str) -> bool:
    """True for a ``module:factory`` plug-in name (not a registered model)."""
    return ":" in name


def describe(name: str) -> str:
    """``plug-in 'file.py:f'`` or ``model 'espcn'``: how messages name a model."""
    return f"plug-in {name!r}" if is_plugin(name) else f"model {name!r}"


@contextmanager
def plugin_errors(info: ModelInfo, stage: str) -> Iterator[None]:
    """Run plug-in code: anything it raises (even ``SystemExit``) -> one-line ModelError naming it.

    ``stage`` says what ran ("forward on baby", "runtime measurement"). Registered models pass
    through untouched: an exception in their code is a bug of ours and keeps its traceback.
    ``KeyboardInterrupt`` always passes.
    """
    try:
        yield
    except RtsrError:
        raise
    except (Exception, SystemExit) as exc:
        if not is_plugin(info.name):
            raise
        raise ModelError(f"{describe(info.name)}: {stage} {_raised(exc)}") from None


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
    except (Exception, SystemExit) as exc:  # noqa: BLE001  (any failure becomes a one-line ModelError)
        raise ModelError(f"plug-in {spec!r}: cannot import {module_name} ({_raised(exc)})") from None
