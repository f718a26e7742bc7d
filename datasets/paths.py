"""The dataset layout under the data root (``core.paths.data_root``: ``<repo>/data`` or ``$RTSR_DATA_ROOT``).

Layout (all images PNG, RGB uint8):
    data/hr/<dataset>/<stem>.png                         verified HR images
    data/lr/<degradation>_x<S>/<dataset>/<stem>.png      LR inputs (+ manifest.json)
    data/gt/<degradation>_x<S>/<dataset>/<stem>.png      HR cropped to a multiple of S (+ manifest.json;
                                                         ntire23: centre crop, classic: top-left)
    <sr root>/<degradation>_x<S>/<dataset>/<label>/<stem>.png   a model's saved SR outputs (``sr_dir``;
                                                         the pipeline's sr root is data/sr)
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from core.names import path_component
from core.paths import data_root


def hr_dir(dataset: str) -> Path:
    """Folder of the verified HR PNGs of ``dataset``."""
    return data_root() / "hr" / _safe(dataset)


def lr_dir(dataset: str, scale: int, degradation: str = "ntire23") -> Path:
    """Folder of the LR inputs of ``dataset`` at ``scale`` under ``degradation``."""
    return data_root() / "lr" / f"{degradation}_x{scale}" / _safe(dataset)


def gt_dir(dataset: str, scale: int, degradation: str = "ntire23") -> Path:
    """Folder of the ground truth (HR cropped to a multiple of ``scale`` by the degradation's crop rule)."""
    return data_root() / "gt" / f"{degradation}_x{scale}" / _safe(dataset)


def sr_dir(sr_root: Path, label: str, dataset: str, scale: int, degradation: str = "ntire23") -> Path:
    """Folder of one model's saved SR PNGs: ``<sr root>/<deg>_x<S>/<dataset>/<label>`` (the one layout rule)."""
    return Path(sr_root) / f"{degradation}_x{scale}" / _safe(dataset) / path_component(label)


def _safe(dataset: str) -> str:
    """Folder name for a dataset name; ``folder:<path>`` becomes ``folder-<basename>-<hash>``.

    The hash (8 hex digits of the sha256 of the resolved absolute path) keeps two user folders with
    the same last name apart; the basename keeps the folder readable.
    """
    if dataset.startswith("folder:"):
        path = Path(dataset[len("folder:"):]).resolve()
        digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:8]
        return f"folder-{path.name}-{digest}"
    return dataset
