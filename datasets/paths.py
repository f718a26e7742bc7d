"""Where generated data lives: ``data/`` under the repo root, or ``$RTSR_DATA_ROOT``.

Layout (all images PNG, RGB uint8):
    data/hr/<dataset>/<stem>.png                         verified HR images
    data/lr/<degradation>_x<S>/<dataset>/<stem>.png      LR inputs (+ manifest.json)
    data/gt/<degradation>_x<S>/<dataset>/<stem>.png      HR cropped to a multiple of S (+ manifest.json;
                                                         ntire23: centre crop, classic: top-left)
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MIRROR = REPO_ROOT.parent / "shared" / "sr-data"


def data_root() -> Path:
    """Root of all generated data: ``$RTSR_DATA_ROOT`` if set, else ``<repo>/data``."""
    return Path(os.environ.get("RTSR_DATA_ROOT", REPO_ROOT / "data"))


def hr_dir(dataset: str) -> Path:
    """Folder of the verified HR PNGs of ``dataset``."""
    return data_root() / "hr" / _safe(dataset)


def lr_dir(dataset: str, scale: int, degradation: str = "ntire23") -> Path:
    """Folder of the LR inputs of ``dataset`` at ``scale`` under ``degradation``."""
    return data_root() / "lr" / f"{degradation}_x{scale}" / _safe(dataset)


def gt_dir(dataset: str, scale: int, degradation: str = "ntire23") -> Path:
    """Folder of the ground truth (HR cropped to a multiple of ``scale`` by the degradation's crop rule)."""
    return data_root() / "gt" / f"{degradation}_x{scale}" / _safe(dataset)


def _safe(dataset: str) -> str:
    """Folder name for a dataset name; ``folder:<path>`` becomes ``folder-<basename>``."""
    if dataset.startswith("folder:"):
        return "folder-" + Path(dataset[len("folder:"):]).resolve().name
    return dataset
