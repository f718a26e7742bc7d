"""Outputs never touch inputs: an output path that is, contains or lies inside an input is refused.

``refuse_overlap(outputs, inputs)`` compares resolved paths (symlinks followed, so a link to a
dataset folder is that folder). Inputs are what a command reads and must not destroy: a dataset
folder, a weights or config file, the data mirror, a reference file. The error is one line naming
the output, the input and what to do.
"""
from __future__ import annotations

import os
from pathlib import Path

from core.io import OutputPathError


def resolved(path: str | os.PathLike) -> Path:
    """``path`` absolute with symlinks followed (also when it does not exist yet)."""
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def overlaps(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` are the same path or one lies inside the other."""
    ra, rb = resolved(a), resolved(b)
    return ra == rb or ra in rb.parents or rb in ra.parents


def refuse_overlap(outputs: dict[str, str | os.PathLike | None],
                   inputs: dict[str, str | os.PathLike | None]) -> None:
    """``OutputPathError`` when an output (option -> path) is, holds or lies in an input (what -> path)."""
    for option, out in outputs.items():
        if out is None:
            continue
        for what, src in inputs.items():
            if src is not None and overlaps(out, src):
                raise OutputPathError(f"{option} {out} overlaps the input {what} {src}: an output must "
                                      "not be, hold or lie inside an input; choose another path")
