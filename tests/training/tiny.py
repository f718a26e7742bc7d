"""A tiny training setup for the trainer tests: smooth random RGB images as a ``folder:`` dataset, and
a complete ``TrainConfig`` (every field conf/ supplies in a pipeline run, written out here)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from training.config import TrainConfig

BASE = {"model": "bicubic_pp", "scale": 3, "degradation": "ntire23", "quality": 90,
        "model_kwargs": {"channels": 8, "bias": True}, "epochs": 3, "pairs_per_epoch": 8, "batch": 4,
        "lr_patch": 8, "lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "schedule": "public", "loss": "mse",
        "val_every": 1, "val_crop": 0, "augment": True, "seed": 3, "amp": True, "progress": False,
        "device": "cpu"}


def write_images(folder: Path, sizes) -> str:
    """Smooth random RGB PNGs of the given (w, h) HR sizes; returns the folder: dataset name."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(sizes))
    for i, (w, h) in enumerate(sizes):
        small = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
        Image.fromarray(small).resize((w, h), Image.BICUBIC).save(folder / f"img{i}.png")
    return f"folder:{folder}"


def tiny_config(dataset: str, out: Path, **kw) -> TrainConfig:
    """``BASE`` training and validating on ``dataset``, writing to ``out``; ``kw`` overrides."""
    return TrainConfig(**{**BASE, "out": str(out), "train_sets": [dataset], "val_sets": [dataset], **kw})
