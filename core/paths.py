"""Where things are: the workspace root, the generated-data root, the shared folder beside the checkout.

The project runs from its workspace (``python -m ...`` from the repository root; the install
exposes no packages), so ``REPO_ROOT`` is this checkout. Generated data goes under
``$RTSR_DATA_ROOT`` or ``<repo>/data``; the dataset layout inside it is ``datasets.paths``'.
"""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import RtsrError

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"  # ../shared: offline mirror, external checkpoints, PROTOCOL.md
DEFAULT_MIRROR = SHARED_DIR / "sr-data"
RELEASED_CHECKPOINT = "bicubic_pp_x3.pth"  # the authors' released Bicubic++ x3 state dict (never committed)


def official_dir() -> Path:
    """Folder of external checkpoints: ``$RTSR_OFFICIAL_DIR`` or ``../shared/official``."""
    return Path(os.environ.get("RTSR_OFFICIAL_DIR", SHARED_DIR / "official"))


def data_root() -> Path:
    """Root of all generated data: ``$RTSR_DATA_ROOT`` if set, else ``<repo>/data``; set but empty is an error."""
    value = os.environ.get("RTSR_DATA_ROOT")
    if value is not None and not value.strip():
        raise RtsrError("RTSR_DATA_ROOT is set but empty (that would be the current folder); "
                        "unset it or give a folder")
    return Path(value) if value is not None else REPO_ROOT / "data"
