"""``--model ntire23:DIR``: a team folder in the NTIRE 2023 RTSR challenge's submission format.

The challenge's runtime script (``runtime_demo.py``, ``import_srmodel``) imports ``models.<team>.arch``
and calls its ``srmodel()`` with no arguments; a team's weights lie beside ``arch.py`` and
``srmodel()`` loads them itself. Here:

- DIR is imported as a package of its own (a unique name per folder; its ``__init__.py`` runs when
  present, as in the challenge's tree), then ``DIR/arch.py`` as its ``arch`` module, so ``arch.py``
  may import sibling files relatively (``from .blocks import Block``) and find its weights through
  ``__file__``. Absolute imports of the challenge's tree (``models.<team>...``) do not exist here.
- ``srmodel()`` is called once per ``create_model``. ``--weights PATH`` additionally loads a
  checkpoint into the module it returns, through the same reader as any model (containers,
  ``module.`` prefixes, strict); without it the module is used as ``srmodel()`` returned it.
- The contract, as a plug-in's, comes from attributes of ``srmodel`` (``scales``, ``multiple``,
  ``min_size``, ``channel_order``, ``value_range``, ``layouts``). Defaults: RGB in [0, 1] (the
  challenge's ``util_image.uint2tensor4``) and any scale: ``models.padding.upscale`` checks every
  output's shape (3 channels, exactly ``scale`` x the input) and range, as for any plug-in.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path

from torch import nn

from models.errors import ModelError
from models.registry import ModelInfo, info_from_attributes, register_prefix

NTIRE23_PREFIX = "ntire23:"  # "ntire23:DIR": a team folder in the challenge's submission format

ARCH_FILE = "arch.py"
FACTORY = "srmodel"


def team_info(folder: str) -> ModelInfo:
    """The ``ModelInfo`` of the team folder ``folder`` (``ntire23:`` stripped)."""
    spec = f"{NTIRE23_PREFIX}{folder}"
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise ModelError(f"{spec}: no such folder; a team folder holds {ARCH_FILE} defining {FACTORY}()")
    if not (path / ARCH_FILE).is_file():
        raise ModelError(f"{spec}: {path / ARCH_FILE} not found; a team folder in the NTIRE 2023 format "
                         f"holds {ARCH_FILE} defining {FACTORY}()")
    srmodel = getattr(_import_arch(path, spec), FACTORY, None)
    if not callable(srmodel):
        raise ModelError(f"{spec}: {path / ARCH_FILE} defines no callable {FACTORY}()")
    return info_from_attributes(spec, _factory(srmodel, spec))


CONTRACT_ATTRIBUTES = ("scales", "multiple", "min_size", "channel_order", "value_range", "layouts")


def _factory(srmodel, spec: str):
    """``f(scale, **kwargs)`` calling ``srmodel()``, carrying ``srmodel``'s contract attributes.

    The team's scale is fixed by its code (``scale`` is ignored; the output shape check catches a
    mismatch); keyword arguments are refused.
    """

    def factory(scale: int | None = None, **kwargs) -> nn.Module:
        if kwargs:
            raise ModelError(f"{spec}: {FACTORY}() takes no arguments; got {', '.join(sorted(kwargs))}")
        return srmodel()

    for name in CONTRACT_ATTRIBUTES:
        if hasattr(srmodel, name):
            setattr(factory, name, getattr(srmodel, name))
    return factory


def _import_arch(path: Path, spec: str) -> types.ModuleType:
    """Import ``path`` as a uniquely named package and return its ``arch`` module."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    package = f"rtsr_ntire23_{re.sub(r'[^0-9a-zA-Z_]', '_', path.name)}_{digest}"
    try:
        if package not in sys.modules:
            _load_package(package, path)
        return importlib.import_module(f"{package}.arch")
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001  (any failure of the team's code becomes one line)
        sys.modules.pop(package, None)
        raise ModelError(f"{spec}: cannot import {path / ARCH_FILE} ({type(exc).__name__}: {exc})") from None


def _load_package(package: str, path: Path) -> None:
    """Register ``path`` as package ``package`` (running its ``__init__.py`` when there is one)."""
    init = path / "__init__.py"
    if init.is_file():
        mod_spec = importlib.util.spec_from_file_location(package, init, submodule_search_locations=[str(path)])
        module = importlib.util.module_from_spec(mod_spec)
        sys.modules[package] = module
        mod_spec.loader.exec_module(module)  # type: ignore[union-attr]
    else:
        module = types.ModuleType(package)
        module.__path__ = [str(path)]  # type: ignore[attr-defined]
        module.__file__ = None
        sys.modules[package] = module


register_prefix(NTIRE23_PREFIX, team_info)
