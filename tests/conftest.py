"""Shared fixtures: one temporary data root per session, the offline mirror, the released checkpoint,
the challenge's own scripts.

Tests reach the mirror through ``datasets.fetch`` exactly as a user with a local mirror does.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.paths import DEFAULT_MIRROR, RELEASED_CHECKPOINT, SHARED_DIR, official_dir


def mirror_path() -> Path | None:
    """The offline mirror: ``$RTSR_DATA_MIRROR`` or ``../shared/sr-data``; None if absent."""
    path = Path(os.environ.get("RTSR_DATA_MIRROR", DEFAULT_MIRROR))
    return path if (path / "MANIFEST.tsv").is_file() else None


@pytest.fixture(scope="session", autouse=True)
def data_root(tmp_path_factory) -> Path:
    """A fresh ``RTSR_DATA_ROOT`` for the whole session, so tests never touch ``./data``."""
    root = tmp_path_factory.mktemp("data")
    old = os.environ.get("RTSR_DATA_ROOT")
    os.environ["RTSR_DATA_ROOT"] = str(root)
    yield root
    if old is None:
        os.environ.pop("RTSR_DATA_ROOT", None)
    else:
        os.environ["RTSR_DATA_ROOT"] = old


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The offline mirror; tests that need it are skipped (with the reason) when it is absent."""
    path = mirror_path()
    if path is None:
        pytest.skip("offline mirror not found: set RTSR_DATA_MIRROR or place ../shared/sr-data")
    return path


@pytest.fixture(scope="session")
def fetched(mirror, data_root):
    """Call ``fetched("set5", ...)`` to fetch sets from the mirror once per session (real code path)."""
    from datasets.fetch import fetch

    done: set[str] = set()

    def _fetch(*names: str) -> None:
        todo = [n for n in names if n not in done]
        if todo:
            fetch(todo, mirror=mirror)
            done.update(todo)

    return _fetch


@pytest.fixture(scope="session")
def released_checkpoint() -> Path:
    """The authors' released Bicubic++ x3 state dict: ``$RTSR_OFFICIAL_DIR`` or ``../shared/official``.

    Skipped (with the reason) when absent; the file is never committed.
    """
    path = official_dir() / RELEASED_CHECKPOINT
    if not path.is_file():
        pytest.skip(f"released checkpoint not found at {path}: set RTSR_OFFICIAL_DIR or place ../shared/official")
    return path


def ntire23_official_path() -> Path:
    """The challenge's own scripts: ``$RTSR_NTIRE23_OFFICIAL`` or ``../shared/ntire23-official``."""
    return Path(os.environ.get("RTSR_NTIRE23_OFFICIAL", SHARED_DIR / "ntire23-official"))


@pytest.fixture(scope="session")
def ntire23_official() -> Path:
    """Folder of the challenge's unmodified scripts (the oracle; imported or read, never copied).

    Skipped (with the reason) when absent.
    """
    path = ntire23_official_path()
    if not (path / "util_metrics.py").is_file() or not (path / "runtime_demo.py").is_file():
        pytest.skip(f"challenge scripts not found at {path}: set RTSR_NTIRE23_OFFICIAL or place "
                    "../shared/ntire23-official")
    return path
