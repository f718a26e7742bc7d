"""The model registry: ``register``, ``list_models``, ``model_info``, ``create_model``.

A model is a factory ``f(scale: int, **kwargs) -> nn.Module`` whose module maps an NCHW float
tensor of size H x W to one of size sH x sW. Its contract (``ModelInfo``: ``channel_order`` "rgb"
or "bgr", ``value_range`` "unit" or "255", ``models.contract``) says what the module itself takes
and returns; ``models.padding.upscale`` converts from and to the project's RGB [0, 1] once.
Registered names are plain identifiers (the built-in ones are registered in ``models/catalog.py``);
``"package.module:factory"`` or ``"path/to/file.py:factory"`` names a plug-in, whose metadata are
attributes of its factory (``scales``, ``multiple``, ``min_size``, ``channel_order``,
``value_range``, ``layouts``, ``load_weights``); ``"ntire23:DIR"`` names a team folder in the
NTIRE 2023 submission format (``models.ntire23``, added through ``register_prefix``).

Checkpoints: ``load_checkpoint`` (``torch.load(weights_only=True)``), then the entry's
``load_weights(checkpoint, scale=, path=, **kwargs)`` when it has one, else the generic reader of
``models.layouts``: unwrap containers and prefixes, match the model's own keys or one of its
declared ``layouts``, transform, strict load; the architecture kwargs come from a project
checkpoint's ``arch`` entry or from the layout. A model loaded through a layout carries that
layout's contract.
An empty, truncated or non-dict checkpoint, or a state dict that is not a mapping of names to
tensors (``check_state_dict``), is a one-line ``ModelError`` naming the file, for every caller
(``--weights``, ``--init``, resume).
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
from models.attributes import read_attributes
from models.contract import check_channel_order, white_level
from models.errors import ModelError
from models.layouts import Layout, choose_layout, load_state_dict_strict, unwrap

__all__ = [
    "ModelError",
    "ModelInfo",
    "create_model",
    "list_models",
    "load_checkpoint",
    "load_state_dict_strict",
    "merge_arch_kwargs",
    "model_info",
    "register",
]

@dataclass(frozen=True)
class ModelInfo:
    """What the benchmark needs to know about a model besides its weights."""

    name: str
    factory: Callable[..., nn.Module] = field(repr=False)
    scales: tuple[int, ...] = SCALES
    multiple: int = 1  # input H and W must be multiples of this (padding handles the rest)
    min_size: int = 1  # input H and W must be at least this (padding handles the rest)
    channel_order: str = "rgb"  # order of the tensor the module itself takes and returns
    trainable: bool = True
    paper: str = ""
    train_kwargs: dict = field(default_factory=dict)  # factory kwargs the trainer adds (e.g. a training form)
    load_weights: Callable[..., nn.Module] | None = field(default=None, repr=False)  # checkpoint adapter
    value_range: str = "unit"  # "unit": white is 1.0; "255": white is 255.0 (input and output)
    layouts: tuple[Layout, ...] = field(default=(), repr=False)  # foreign checkpoint layouts it reads


_REGISTRY: dict[str, ModelInfo] = {}
MAX_DETAIL_CHARS = 160  # of a wrapped exception's message in our one-line errors
# "prefix:" -> resolver of the rest into a ModelInfo; "ntire23:" (a team folder) is added by models.ntire23
_PREFIX_RESOLVERS: dict[str, Callable[[str], ModelInfo]] = {}


def register_prefix(prefix: str, resolver: Callable[[str], ModelInfo]) -> None:
    """Let ``prefix`` + ``rest`` name a model that ``resolver(rest)`` describes (e.g. ``ntire23:DIR``)."""
    _PREFIX_RESOLVERS[prefix] = resolver


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
    value_range: str = "unit",
    layouts: tuple[Layout, ...] = (),
):
    """Register a factory ``f(scale, **kwargs) -> nn.Module`` under ``name``; returns the factory.

    ``register(name, factory, ...)`` registers at once; ``@register(name, ...)`` is the decorator
    form. ``channel_order``/``value_range``: the module's contract (``models.contract``).
    ``layouts``: foreign checkpoint layouts it reads (``models.layouts``). ``load_weights(checkpoint,
    scale=, path=, **kwargs) -> nn.Module`` replaces the generic reader when a mapping is not enough
    (re-parameterised forms).
    """

    def decorator(fn: Callable[..., nn.Module]):
        key = name or fn.__name__
        if key in _REGISTRY:
            raise ModelError(f"model {key!r} is registered twice; pick another name")
        _REGISTRY[key] = checked_info(ModelInfo(
            key, fn, tuple(scales), multiple, min_size, channel_order, trainable, paper,
            dict(train_kwargs or {}), load_weights, value_range, tuple(layouts)))
        return fn

    return decorator if factory is None else decorator(factory)


def checked_info(info: ModelInfo) -> ModelInfo:
    """``info`` when its contract names are known (its own and its layouts'); else a ModelError naming the model."""
    try:
        for order, value_range in [(info.channel_order, info.value_range)] + [
                (lay.channel_order or "rgb", lay.value_range or "unit") for lay in info.layouts]:
            check_channel_order(order)
            white_level(value_range)
    except ModelError as exc:
        raise ModelError(f"model {info.name!r}: {exc}") from None
    if not all(isinstance(lay, Layout) for lay in info.layouts):
        raise ModelError(f"model {info.name!r}: layouts must be models.layouts.Layout objects")
    return info


def list_models(pattern: str = "*") -> list[str]:
    """Sorted registered model names matching the shell-style ``pattern``."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def model_info(name: str) -> ModelInfo:
    """The ``ModelInfo`` of a registered name or a ``module:factory`` plug-in."""
    prefix = next((p for p in _PREFIX_RESOLVERS if name.startswith(p)), None)
    if prefix is not None:
        return _PREFIX_RESOLVERS[prefix](name[len(prefix):])
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
    layout = None
    if weights is None:
        model = _build(info, scale, kwargs)
    elif info.load_weights is not None:
        model = info.load_weights(load_checkpoint(weights), scale=scale, path=Path(weights), **kwargs)
    else:
        model, layout = _load(info, scale, kwargs, load_checkpoint(weights), Path(weights))
    if layout is not None:
        info = replace(info, channel_order=layout.channel_order or info.channel_order,
                       value_range=layout.value_range or info.value_range)
    model.rtsr_info = info  # type: ignore[attr-defined]
    model.rtsr_scale = scale  # type: ignore[attr-defined]
    if layout is not None or not hasattr(model, "rtsr_layout"):  # a load_weights adapter may set it
        model.rtsr_layout = None if layout is None else layout.name  # type: ignore[attr-defined]
    return model.eval()


def _load(info: ModelInfo, scale: int, kwargs: dict, checkpoint: dict, path: Path
          ) -> tuple[nn.Module, Layout | None]:
    """Build ``info``'s model from ``checkpoint`` in its own or a declared layout (``models.layouts``)."""
    state, steps = unwrap(checkpoint, path)
    own_kwargs = merge_arch_kwargs(checkpoint, info.name, scale, kwargs, path)
    model = _build(info, scale, own_kwargs)
    layout, state = choose_layout(state, model.state_dict(), info.layouts, path, info.name, steps)
    if layout is not None:
        if layout.transform is not None:
            state = layout.transform(state)
        arch = dict(layout.arch_kwargs(state, path)) if layout.arch_kwargs is not None else {}
        arch_scale = arch.pop("scale", scale)
        if arch_scale != scale:
            raise ModelError(f"{path}: the {layout.name} checkpoint is for scale {arch_scale}, not "
                             f"{scale}; use --scale {arch_scale}")
        layout_kwargs = merge_arch_kwargs({"arch": {"kwargs": arch}}, info.name, scale, kwargs, path)
        if layout_kwargs != own_kwargs:
            model = _build(info, scale, layout_kwargs)
    load_state_dict_strict(model, state, path, layout, steps)
    return model, layout


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
    return info_from_attributes(spec, factory)


def info_from_attributes(name: str, factory: Callable[..., nn.Module]) -> ModelInfo:
    """A plug-in's ``ModelInfo`` from its factory's attributes (``scales``, ``multiple``, ...), checked."""
    base = ModelInfo(name, factory, scales=(), trainable=True)
    return checked_info(replace(base, **read_attributes(name, factory)))


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
