"""The suite's settings, shared by the parent and every step process as one JSON file."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.io import write_atomic
from core.paths import DEFAULT_MIRROR
from datasets.fetch import default_mirror as env_mirror
from eval.errors import EvalError

QUICK_LR_HW = (32, 48)  # toy protocol input (H, W) for --quick


@dataclass
class SuiteContext:
    """Everything a step needs; paths are strings so the object round-trips through JSON."""

    device: str
    quick: bool
    scale: int
    out: str  # the report folder <out>/<card>
    work: str  # scratch: training runs, SR images (never committed)
    card: str
    test_sets: list
    train_sets: list
    val_sets: list
    throughput_sets: list
    fidelity_set: str
    mirror: str | None
    official: str | None  # the released Bicubic++ x3 checkpoint, when present
    weights_dir: str | None  # <dir>/<model>/best.pt from the CPU pipeline, when present
    warmup: int | None  # None: the protocol's (50 GPU / 1 CPU)
    passes: int | None  # None: the protocol's (244 GPU / 5 CPU)
    repeats: int
    lr_hw: list | None  # None: the protocol tensor; else a toy (H, W)
    variants: list
    variant_models: list
    sweep_channels: list
    train_patch: int
    train_batch: int
    train_baselines: list = field(default_factory=list)  # baselines trained after Bicubic++ (same trainer)
    step_deadline: float = 0.0  # unix time by which the running step should wrap up
    extra: dict = field(default_factory=dict)

    @property
    def lr_hw_tuple(self) -> tuple[int, int] | None:
        """``lr_hw`` as a tuple (None for the protocol tensor)."""
        return None if self.lr_hw is None else (int(self.lr_hw[0]), int(self.lr_hw[1]))

    def save(self, path: Path) -> None:
        """Write as JSON (atomically)."""
        write_atomic(Path(path), json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> SuiteContext:
        """Read a context written by ``save``; EvalError naming the file when it cannot be used."""
        try:
            return cls(**json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            raise EvalError(f"{path}: not a suite context ({str(exc).splitlines()[0]}); "
                            "it is written by python -m eval.gpu_suite") from None


def card_slug(name: str) -> str:
    """Folder name for a device name: "NVIDIA H200" -> "nvidia-h200"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "device"


def suite_mirror() -> str | None:
    """$RTSR_DATA_MIRROR, else ../shared/sr-data when present."""
    env = env_mirror()
    if env is not None:
        return str(env)
    return str(DEFAULT_MIRROR) if (DEFAULT_MIRROR / "MANIFEST.tsv").is_file() else None
