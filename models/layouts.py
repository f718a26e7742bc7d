"""Checkpoint layouts: read a state dict saved in another repository's conventions, strictly.

A registered model may declare ``layouts`` (``register(..., layouts=(Layout(...),))``): the foreign
layouts its checkpoints come in besides its own. ``models.registry.create_model`` reads any
checkpoint in four named steps:

1. **unwrap** (``unwrap``): descend into the first container key present, in the order of
   ``CONTAINER_KEYS`` (BasicSR's ``params_ema`` before ``params``: the EMA weights released models
   are evaluated with; then ``state_dict``, ours and Lightning's; then ``model``), until a flat dict of
   tensors; then strip a prefix that *every* key carries (``PREFIXES``: ``module.`` from DDP /
   DataParallel, ``_orig_mod.`` from ``torch.compile``).
2. **match** (``choose_layout``): the model's own key set, else the first declared layout whose
   renames give exactly the model's key set. Renames are prefix rules (``Rename``); ``{i}`` stands
   for a block index, shifted by ``offset`` (``Rename("B{i}.", "blocks.{i}.", offset=-1)``).
3. **transform**: the layout's tensor transform on the renamed state (the released Bicubic++'s BGR
   weights are permuted to RGB here), and the architecture kwargs it implies (``arch_kwargs``).
4. **strict load** (``load_state_dict_strict``): every key and every shape must fit; the one-line
   error lists what still does not fit *after* the mapping, and names the layout and container.

A layout maps both ways (``Layout.to_ours`` / ``Layout.to_theirs``), so a project state dict can be
written back in the foreign layout; a loaded model carries the layout's contract (channel order,
value range: ``models.contract``) on its ``rtsr_info``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from models.errors import ModelError

CONTAINER_KEYS = ("params_ema", "params", "state_dict", "model")  # looked for in this order
PREFIXES = ("module.", "_orig_mod.")  # stripped when every key starts with one


@dataclass(frozen=True)
class Rename:
    """Key prefix ``theirs`` <-> ``ours``; ``{i}`` is a block index, ``ours = theirs + offset``."""

    theirs: str
    ours: str
    offset: int = 0

    def apply(self, key: str, to_ours: bool = True) -> str | None:
        """``key`` with its prefix renamed in the given direction, or None when the prefix does not match."""
        src, dst, shift = (self.theirs, self.ours, self.offset) if to_ours else (self.ours, self.theirs, -self.offset)
        match = _prefix_regex(src).match(key)
        if match is None:
            return None
        head = dst.replace("{i}", str(int(match.group(1)) + shift)) if match.groups() else dst
        return head + key[match.end():]


def _prefix_regex(template: str) -> re.Pattern:
    """The anchored regex of a prefix template (``{i}`` matches a non-negative integer)."""
    return re.compile("^" + re.escape(template).replace(re.escape("{i}"), r"(\d+)"))


def rename_keys(state: dict, renames: Iterable[Rename], to_ours: bool = True, what: str = "layout") -> dict:
    """``state`` with each key renamed by the first rule that matches it (others kept); collisions refused."""
    renames = tuple(renames)
    out: dict = {}
    for key, value in state.items():
        new = next((n for n in (r.apply(key, to_ours) for r in renames) if n is not None), key)
        if new in out:
            raise ModelError(f"{what}: two keys map to {new!r}; the layout's renames are ambiguous")
        out[new] = value
    return out


@dataclass(frozen=True)
class Layout:
    """A foreign checkpoint layout a registered model reads: renames, a tensor transform, a contract."""

    name: str
    renames: tuple[Rename, ...] = ()
    transform: Callable[[dict], dict] | None = field(default=None, repr=False)  # on renamed keys -> ours
    inverse: Callable[[dict], dict] | None = field(default=None, repr=False)  # ours -> before renaming back
    arch_kwargs: Callable[[dict, Path], dict] | None = field(default=None, repr=False)  # may hold "scale"
    channel_order: str | None = None  # the loaded module's order (None: the registered model's)
    value_range: str | None = None  # the loaded module's value range (None: the registered model's)
    source: str = ""  # where files in this layout come from, for messages and the README

    def rename_to_ours(self, state: dict) -> dict:
        """Keys renamed to the project's names, tensors untouched."""
        return rename_keys(state, self.renames, True, f"layout {self.name!r}")

    def to_ours(self, state: dict) -> dict:
        """A state dict in this layout -> the project's keys and tensors (renames, then the transform)."""
        state = self.rename_to_ours(state)
        return self.transform(state) if self.transform is not None else state

    def to_theirs(self, state: dict) -> dict:
        """A project state dict -> this layout's keys and tensors (the inverse transform, then renames)."""
        if self.transform is not None and self.inverse is None:
            raise ModelError(f"layout {self.name!r} has a transform but no inverse; it reads only")
        if self.inverse is not None:
            state = self.inverse(state)
        return rename_keys(state, self.renames, False, f"layout {self.name!r}")


def unwrap(checkpoint: dict, path: Path | str = "checkpoint") -> tuple[dict, list[str]]:
    """(flat tensor state dict, the steps taken) of a loaded checkpoint; see the module doc, step 1."""
    state, steps = checkpoint, []
    while not all(isinstance(v, torch.Tensor) for v in state.values()):
        key = next((k for k in CONTAINER_KEYS if isinstance(state.get(k), dict)), None)
        if key is None:
            present = next((k for k in CONTAINER_KEYS if k in state), None)
            if present is not None:  # {"state_dict": "oops"}: say what the state dict is
                check_state_dict(state[present], path)
            if any("." in str(k) for k in state) and not any(isinstance(v, dict) for v in state.values()):
                check_state_dict(state, path)  # parameter names ("head.weight") holding a non-tensor
            shown = ", ".join(map(repr, sorted(map(str, state))[:8]))
            raise ModelError(f"{path}: no state dict found (top-level keys {shown}); expected a dict of "
                             f"tensors or one inside {', '.join(CONTAINER_KEYS)}")
        steps.append(f"container {key!r}")
        state = state[key]
    if not state:
        raise ModelError(f"{path}: the state dict is empty")
    for prefix in PREFIXES:
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
            steps.append(f"prefix {prefix!r} stripped")
    return dict(state), steps


def choose_layout(state: dict, own_keys: Iterable[str], layouts: Iterable[Layout], path: Path | str,
                  name: str, steps: list[str] | None = None) -> tuple[Layout | None, dict]:
    """(layout, renamed state) whose keys are exactly ``own_keys`` (None: the model's own); else a ModelError.

    The error reports the closest candidate (fewest missing + unexpected keys) after its mapping.
    """
    own = set(own_keys)
    candidates: list[tuple[Layout | None, dict]] = [(None, state)]
    candidates += [(layout, layout.rename_to_ours(state)) for layout in layouts]
    for layout, renamed in candidates:
        if set(renamed) == own:
            return layout, renamed
    layout, renamed = min(candidates, key=lambda c: len(own ^ set(c[1])))
    missing, unexpected = sorted(own - set(renamed)), sorted(set(renamed) - own)
    tried = ", ".join(["its own"] + [repr(lay.name) for lay in layouts])
    raise ModelError(f"{path}: weights do not fit model {name!r}{_how(layout, steps)}: "
                     f"missing {missing[:4]}{_more(missing)}; unexpected {unexpected[:4]}{_more(unexpected)}"
                     f" (layouts tried: {tried})")


def _how(layout: Layout | None, steps: list[str] | None) -> str:
    """' (read as layout X, container ..., prefix ... stripped)' or '' when nothing was mapped."""
    parts = ([f"read as layout {layout.name!r}"] if layout is not None else []) + list(steps or [])
    return f" ({', '.join(parts)})" if parts else ""


def _more(keys: list[str]) -> str:
    """' and N more' when a key list was cut to four."""
    return f" and {len(keys) - 4} more" if len(keys) > 4 else ""


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
        kind = _unusable_kind(value)
        if kind:
            raise ModelError(f"{path}: state dict entry {key!r} is a {kind} tensor ({value.dtype}), "
                             "expected dense real weights; the file is not a usable weights file")


def _unusable_kind(value: torch.Tensor) -> str | None:
    """"meta", "sparse" or "complex" for a tensor no model can take as weights; None otherwise."""
    if value.is_meta:
        return "meta (no data)"
    if value.layout != torch.strided:
        return f"sparse ({value.layout})"
    if value.is_complex():
        return "complex"
    return None


def check_dtypes(own: dict, state: dict, path) -> None:
    """ModelError naming the first key whose tensor is not floating point where the model's is."""
    for key, mine in own.items():
        theirs = state.get(key)
        if theirs is not None and mine.is_floating_point() and not theirs.is_floating_point():
            raise ModelError(f"{path}: state dict entry {key!r} has dtype {theirs.dtype}, expected "
                             f"floating-point weights ({mine.dtype}); the file is not a usable weights file")


def load_state_dict_strict(model: nn.Module, state: dict, path, layout: Layout | None = None,
                           steps: list[str] | None = None) -> None:
    """``load_state_dict(strict=True)`` with a one-line error naming missing/unexpected/misshaped keys."""
    check_state_dict(state, path)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    misshaped = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if not (missing or unexpected or misshaped):
        check_dtypes(own, state, path)
    if missing or unexpected or misshaped:
        parts = []
        if missing:
            parts.append(f"missing {missing[:4]}{_more(missing)}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:4]}{_more(unexpected)}")
        if misshaped:
            k = misshaped[0]
            parts.append(f"shape of {k} is {tuple(state[k].shape)}, model wants {tuple(own[k].shape)}")
        raise ModelError(f"{path}: weights do not fit the model{_how(layout, steps)}: {'; '.join(parts)}")
    model.load_state_dict(state, strict=True)
