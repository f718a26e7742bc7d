"""The project's import graph, read from the source with ``ast`` (nothing is imported).

Used by ``tests/test_layers.py`` (layer order, no cycles) and ``tests/pipeline/test_dvc_deps.py``
(a stage's command module imports nothing outside the stage's deps). Every ``import`` statement
counts, also those inside functions (a lazy import is still a dependency); importing ``a.b.c``
also imports the packages ``a`` and ``a.b`` (their ``__init__.py``).
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from core.paths import REPO_ROOT

PACKAGES = ("core", "datasets", "baselines", "models", "eval", "training")


def module_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """{dotted module name: file} of every project module (``a/__init__.py`` is module ``a``)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _parents(name: str) -> list[str]:
    """``a.b.c`` -> [``a``, ``a.b``]: the packages Python imports before ``a.b.c``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


@cache
def direct_imports(name: str) -> frozenset[str]:
    """Project modules that module ``name``'s import statements name (``from a import b``: ``a.b``
    when that is a module, else ``a``); the parent packages Python runs first are not included."""
    files = module_files()
    tree = ast.parse(files[name].read_text(encoding="utf-8"), filename=str(files[name]))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in files else node.module)
    found.discard(name)
    return frozenset(m for m in found if m in files)


@cache
def imports_of(name: str) -> frozenset[str]:
    """What importing module ``name`` runs: its direct imports and their parent packages."""
    found = set(direct_imports(name))
    for target in direct_imports(name):
        found.update(_parents(target))
    found.discard(name)
    return frozenset(found)


def closure(name: str) -> set[str]:
    """Every project module that running ``python -m name`` imports (itself and its packages included)."""
    todo, seen = [name, *_parents(name)], set()
    while todo:
        mod = todo.pop()
        if mod not in seen:
            seen.add(mod)
            todo.extend(imports_of(mod))
    return seen


def closure_files(name: str, root: Path = REPO_ROOT) -> set[str]:
    """The repository-relative POSIX paths of ``closure(name)``."""
    files = module_files(root)
    return {files[m].relative_to(root).as_posix() for m in closure(name)}
