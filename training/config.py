"""What one training run is: ``TrainConfig`` (one stage), its checks, and the errors of the training layer.

Patch sizes are in LR pixels, ``lr`` is the Adam learning rate (not a low-resolution image),
images are RGB uint8. ``TrainConfig.identity()`` is what a resumed run must share.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch.nn.functional as F

from core.errors import RtsrError
from core.hashing import file_sha256
from models.registry import model_info

LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}
# Settings that do not change the result: a run may resume with different values of these.
NON_SEMANTIC = ("out", "device", "progress", "threads")


class TrainError(RtsrError):
    """Training cannot start or continue; the one-line message says why and what to do."""


@dataclass
class TrainConfig:
    """One training run (one stage). Patch sizes in LR pixels; lr in Adam units; images RGB uint8."""

    model: str
    out: str
    scale: int = 3
    model_kwargs: dict = field(default_factory=dict)
    train_sets: list = field(default_factory=lambda: ["demo_train"])
    val_sets: list = field(default_factory=lambda: ["demo_valid"])
    degradation: str = "ntire23"
    quality: int = 90
    epochs: int = 10
    pairs_per_epoch: int = 800
    batch: int = 16
    lr_patch: int = 108
    lr: float = 5e-4
    beta1: float = 0.99
    beta2: float = 0.999
    schedule: str = "paper"
    loss: str = "mse"
    val_every: int = 1
    val_crop: int = 0  # centre-crop validation LR images to at most this many px per side (0: whole)
    augment: bool = True
    seed: int = 0
    init: str | None = None  # start from this checkpoint's weights (stages 2 and 3)
    drop_bias: bool = False  # remove every bias of the init model first (stage 3)
    device: str = "auto"
    threads: int = 0  # torch CPU threads (0: torch's default)
    progress: bool = True

    def identity(self) -> dict:
        """The settings that determine the result (what a resumed run must share)."""
        ident = {k: v for k, v in asdict(self).items() if k not in NON_SEMANTIC}
        if self.init and Path(self.init).is_file():
            ident["init_sha256"] = file_sha256(self.init)
        return ident


def check_config(cfg: TrainConfig) -> None:
    """One-line TrainError for settings that cannot work."""
    if cfg.loss not in LOSSES:
        raise TrainError(f"loss {cfg.loss!r} unknown; choose one of {', '.join(LOSSES)}")
    for key in ("epochs", "pairs_per_epoch", "batch", "lr_patch", "val_every"):
        if int(getattr(cfg, key)) < 1:
            raise TrainError(f"{key}={getattr(cfg, key)} must be >= 1")
    if not (cfg.lr > 0 and 0 <= cfg.beta1 < 1 and 0 <= cfg.beta2 < 1):
        raise TrainError(f"lr={cfg.lr}, betas=({cfg.beta1}, {cfg.beta2}): need lr > 0 and 0 <= beta < 1")
    if cfg.drop_bias and not cfg.init:
        raise TrainError("drop_bias needs init (the checkpoint whose biases are removed)")
    if not model_info(cfg.model).trainable:
        raise TrainError(f"model {cfg.model!r} is not trainable (it has no learned weights)")
