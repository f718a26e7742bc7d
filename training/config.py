"""What one training run is: ``TrainConfig`` (one stage), read from the pipeline's params, and its checks.

Patch sizes are in LR pixels, ``lr`` is the Adam learning rate (not a low-resolution image),
images are RGB uint8. Every value that decides the result is a required field: the values come
from ``params.yaml`` (generated from ``conf/``; ``train.base`` then the stage's section, later
wins) and the command line, never from defaults in code. The run-control fields (``out``,
``init``, ``drop_bias``, ``device``, ``threads``, ``progress``) are given per run.
``TrainConfig.identity()`` is what a resumed run must share.
"""
from __future__ import annotations

from pathlib import Path

import torch.nn.functional as F
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import RtsrError
from core.hashing import file_sha256
from core.params import composed_params
from models.registry import model_info

LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}
# Settings that do not change the result: a run may resume with different values of these.
NON_SEMANTIC = ("out", "device", "progress", "threads")


class TrainError(RtsrError):
    """Training cannot start or continue; the one-line message says why and what to do."""


class ConfigError(TrainError):
    """A params file, section or key that cannot be used; the message says which."""


class TrainConfig(BaseModel):
    """One training run (one stage). Patch sizes in LR pixels; lr in Adam units; images RGB uint8."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str  # registered name or module:factory plug-in
    out: str  # run folder: last.pt, best.pt, metrics.csv, val.csv, summary.json
    scale: int
    degradation: str
    quality: int  # JPEG quality of the ntire23 LR inputs
    model_kwargs: dict  # factory kwargs (e.g. {channels: 34, bias: true} for stage 1)
    train_sets: list[str]
    val_sets: list[str]
    epochs: int
    pairs_per_epoch: int  # random LR/HR patch pairs per epoch (ceil(pairs / batch) steps)
    batch: int
    lr_patch: int  # LR patch side in px (HR patch = scale x this)
    lr: float  # Adam learning rate at epoch 0 (the schedule decides the rest)
    beta1: float
    beta2: float
    schedule: str  # training.schedule name: paper, public, constant
    loss: str  # mse or l1
    val_every: int  # validate every N epochs and at the last one
    val_crop: int  # centre-crop validation LR images to at most this many px per side (0: whole)
    augment: bool  # the 8 dihedral augmentations
    seed: int
    amp: bool  # FP16 autocast + loss scaling on CUDA (the CPU always trains in FP32)
    init: str | None = None  # start from this checkpoint's weights (stages 2 and 3)
    drop_bias: bool = False  # remove every bias of the init model first (stage 3)
    device: str = "auto"  # auto (cuda if available), cpu, cuda, cuda:1
    threads: int = 0  # torch CPU threads (0: torch's default)
    progress: bool = True  # rich bar of the steps on a terminal (the per-epoch lines are always printed)

    def identity(self) -> dict:
        """The settings that determine the result (what a resumed run must share)."""
        ident = self.model_dump(exclude=set(NON_SEMANTIC))
        if self.init and Path(self.init).is_file():
            ident["init_sha256"] = file_sha256(self.init)
        return ident


def read_params(path: str | Path) -> dict:
    """The parsed YAML mapping of a params file (``params.yaml``); ConfigError naming the file."""
    try:
        with open(path, encoding="utf-8") as fh:
            node = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(node, dict):
        raise ConfigError(f"{path}: top level is not a mapping")
    return node


def read_section(params: dict, section: str, path: str | Path) -> dict:
    """The mapping at dotted ``section`` (e.g. ``train.base``), checked against TrainConfig's fields."""
    node = params
    for key in section.split("."):
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(f"{path}: no section {section!r} (missing {key!r})")
        node = node[key]
    if not isinstance(node, dict):
        raise ConfigError(f"{path}: section {section!r} is not a mapping")
    unknown = sorted(set(node) - set(TrainConfig.model_fields))
    if unknown:
        raise ConfigError(f"{path}: section {section!r} has unknown keys {unknown}; "
                          f"known: {sorted(TrainConfig.model_fields)}")
    return dict(node)


def read_sections(path: str | Path, sections: list[str]) -> dict:
    """The ``sections`` of params file ``path`` merged in order (a later section's keys win)."""
    params = read_params(path)
    values: dict = {}
    for section in sections:
        values.update(read_section(params, section, path))
    return values


def conf_sections(overrides: list[str], sections: list[str]) -> dict:
    """The ``sections`` of conf/ composed with Hydra ``overrides`` (``budget=paper``, ...), merged in order.

    The same values ``python -m core.params OVERRIDE...`` writes to params.yaml, for callers that
    train outside the pipeline (the GPU suite) without a second set of values in code.
    """
    params, source = composed_params(overrides), f"conf/ with {overrides}"
    values: dict = {}
    for section in sections:
        values.update(read_section(params, section, source))
    return values


def make_train_config(values: dict, source: str) -> TrainConfig:
    """Validate ``values`` into a TrainConfig; one-line ConfigError naming ``source`` and the key."""
    missing = sorted(k for k, f in TrainConfig.model_fields.items() if f.is_required() and k not in values)
    if missing:
        raise ConfigError(f"{source}: no value for {', '.join(missing)}; read them from the params file "
                          "(--config params.yaml --section train.base train.<stage>) or pass them as flags")
    try:
        return TrainConfig(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{source}: {key}={err.get('input')!r}: {err['msg']}") from None


def load_train_config(path: str | Path, sections: list[str], overrides: dict | None = None) -> TrainConfig:
    """TrainConfig from the ``sections`` of params file ``path`` (merged in order), ``overrides`` last."""
    values = {**read_sections(path, sections), **(overrides or {})}
    return make_train_config(values, f"{path} [{' + '.join(sections)}]")


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
