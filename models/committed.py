"""Weights this project trained and committed: ``models/trained/<name>.pt`` + ``<name>.json``, loaded by name.

Each set of weights is a checkpoint written by ``training.loop`` (``best.pt``: arch, state_dict)
and a provenance record (``TrainedRecord``: card, commit, composed config, training-set
fingerprint, epochs, validation curve, sha256 of the .pt). ``load_trained(name)`` reads the
record, checks the file's sha256 against it and builds the model through the registry
(``models.registry.create_model``), the way released checkpoints load. Only weights the project's
own code trained belong here, each with its record; ``training.publish`` writes both and
rewrites ``index.yaml`` (``write_index``): ``committed: [{name, model}, ...]``, the list the
pipeline's ``evaluate_committed`` stages run over (``dvc.yaml`` reads it as ``vars``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from torch import nn

from core.hashing import file_sha256
from core.io import write_atomic
from core.paths import REPO_ROOT
from models.errors import ModelError
from models.registry import create_model

TRAINED_DIR = REPO_ROOT / "models" / "trained"
INDEX_FILE = "index.yaml"  # committed: [{name, model}] of every record: what dvc.yaml's evaluate_committed reads
INDEX_HEADER = ("# Written by `python -m training.publish` (models.committed.write_index): every committed set of\n"
                "# weights here, {name, model}; dvc.yaml's evaluate_committed stages evaluate each. Never edit.\n")


class TrainedRecord(BaseModel):
    """Provenance of one committed set of weights (``<name>.json`` beside ``<name>.pt``)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str
    model: str  # registered model name
    scale: int
    model_kwargs: dict[str, Any]
    card: str  # the device it was trained on, e.g. "NVIDIA H200" or "cpu (2 vCPU)"
    budget: str  # what budget it was trained at, e.g. "paper" or "cpu"
    commit: str  # git commit of the code that trained it
    config: dict[str, Any]  # the composed TrainConfig identity of the run
    training_set: dict[str, Any]  # datasets.fingerprint of the training sets
    epochs: int
    validation_curve: list[tuple[int, float]]  # (epoch, validation RGB PSNR dB)
    sha256: str  # of <name>.pt


def record_path(name: str, root: Path = TRAINED_DIR) -> Path:
    """``root/<name>.json``."""
    return Path(root) / f"{name}.json"


def list_trained(root: Path = TRAINED_DIR) -> list[str]:
    """Names of the committed weights under ``root`` (those with a record), sorted."""
    return sorted(p.stem for p in Path(root).glob("*.json"))


def read_record(name: str, root: Path = TRAINED_DIR) -> TrainedRecord:
    """The checked record of ``name``; ModelError naming the file when it is missing or malformed."""
    path = record_path(name, root)
    if not path.is_file():
        known = ", ".join(list_trained(root)) or "none yet"
        raise ModelError(f"no committed weights named {name!r} in {root} (known: {known})")
    try:
        return TrainedRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise ModelError(f"{path}: not a provenance record ({str(exc).splitlines()[0]})") from None


def checked_weights(name: str, root: Path = TRAINED_DIR) -> tuple[Path, TrainedRecord]:
    """(path of ``<name>.pt``, its record) after checking the file's sha256 against the record."""
    record = read_record(name, root)
    path = Path(root) / f"{name}.pt"
    if not path.is_file():
        raise ModelError(f"{path}: missing, but {record_path(name, root)} records it")
    digest = file_sha256(path)
    if digest != record.sha256:
        raise ModelError(f"{path}: sha256 {digest[:12]}... does not match its record ({record.sha256[:12]}...); "
                         "the file was changed or replaced: restore it from git")
    return path, record


def load_trained(name: str, root: Path = TRAINED_DIR) -> nn.Module:
    """The model of committed weights ``name`` (sha256-checked), in eval mode on the CPU; record in ``rtsr_record``."""
    path, record = checked_weights(name, root)
    model = create_model(record.model, scale=record.scale, weights=path)  # the arch kwargs come from the file
    model.rtsr_record = record  # type: ignore[attr-defined]
    return model


def index_entries(root: Path = TRAINED_DIR) -> list[dict[str, str]]:
    """``[{name, model}]`` of every committed record under ``root``, by name (ModelError on a bad record)."""
    return [{"name": name, "model": read_record(name, root).model} for name in list_trained(root)]


def index_text(root: Path = TRAINED_DIR) -> str:
    """The content of ``root/index.yaml``: ``INDEX_HEADER`` and ``committed: [...]``."""
    return INDEX_HEADER + yaml.safe_dump({"committed": index_entries(root)}, sort_keys=False,
                                         default_flow_style=None)


def write_index(root: Path = TRAINED_DIR) -> Path:
    """Rewrite ``root/index.yaml`` from the records there (atomically); returns its path."""
    path = Path(root) / INDEX_FILE
    write_atomic(path, index_text(root))
    return path
