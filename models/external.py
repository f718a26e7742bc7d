"""The zoo of external checkpoints: released files this benchmark knows by content.

Each ``ExternalCheckpoint`` names a file (looked for in ``core.paths.official_dir()``:
``$RTSR_OFFICIAL_DIR`` or ``../shared/official``), its sha256, the registered model and scale it
loads into (through that model's declared layouts, ``models.layouts``), and what it was trained on.
``identify(path)`` recognises a file by its hash wherever it lies, so a result evaluated from any
path carries the same ``external`` block (``eval.evaluate``) and the leaderboard labels it as an
external checkpoint with its training degradation. The files are never committed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from core.hashing import file_sha256
from core.paths import official_dir
from models.errors import ModelError


@dataclass(frozen=True)
class ExternalCheckpoint:
    """One released checkpoint: where it lies, what it loads into, what it was trained on."""

    name: str  # the label of its results, e.g. "rfdn_aim2020"
    model: str  # registered model name
    file: str  # file name inside the official folder
    scale: int
    sha256: str
    trained_on: str  # training data and degradation
    source: str  # repository, path, commit, licence
    paper: str

    def path(self, folder: Path | None = None) -> Path:
        """Where the file is expected: ``folder`` or ``official_dir()``."""
        return Path(folder if folder is not None else official_dir()) / self.file

    def as_dict(self) -> dict:
        """The entry as a plain dict (the result JSON's ``external`` block)."""
        return asdict(self)


ZOO = (
    ExternalCheckpoint(
        name="rfdn_aim2020", model="rfdn", file="rfdn_x4_aim2020.pth", scale=4,
        sha256="11af8ec8ebd68689e90ef1e29044f9804c72d3bd9f7573820b7b26035782760c",
        trained_on="DIV2K, MATLAB bicubic x4 (AIM 2020 efficient SR); RGB in [0, 255]",
        source="eduardzamfir/NTIRE23-RTSR demo/model_zoo/rfdn_X4.pth @2bc37ba (Apache-2.0)",
        paper="Liu, Tang & Wu, Residual Feature Distillation Network, ECCV Workshops 2020"),
    ExternalCheckpoint(
        name="imdn_aim2019", model="imdn", file="imdn_x4_aim2019.pth", scale=4,
        sha256="115b4cc557eba9daaf1a6543c4858014c7e2a410655aafef7c8348ae54acc203",
        trained_on="DIV2K, MATLAB bicubic x4 (AIM 2019 constrained SR); RGB in [0, 1]",
        source="eduardzamfir/NTIRE23-RTSR demo/model_zoo/imdn_X4.pth @2bc37ba (Apache-2.0)",
        paper="Hui, Gao, Yang & Wang, Information Multi-distillation Network, ACM MM 2019"),
    ExternalCheckpoint(
        name="bicubic_pp_released", model="bicubic_pp", file="bicubic_pp_x3.pth", scale=3,
        sha256="38a0cff7927b7658c78f19df2281d0e5c3b20e948955e9dd58e9f91d13ebc7df",
        trained_on="DIV2K train, NTIRE 2023 degradation x3 (bicubic + JPEG q90), per the paper; BGR",
        source="aselsan-research-imaging-team/bicubic-plusplus pretrained/bicubic_pp_x3.pth @52084c8 "
               "(CC BY-NC-SA 4.0)",
        paper="Bilecen & Ayazoglu, Bicubic++, CVPR Workshops 2023"),
    ExternalCheckpoint(
        name="rt4ksr_released", model="rt4ksr", file="rt4ksr_x3.pth", scale=3,
        sha256="13229f15a7f3897096ab0ee92b7c3d3c64fd59b4e558fea3248147cec225e65e",
        trained_on="the authors' data, MATLAB-style bicubic x3 LR without JPEG; RGB in [0, 1], output "
                   "unclamped; training checkpoint (layout rt4ksr-authors), re-parameterised on load",
        source="eduardzamfir/RT4KSR code/checkpoints/rt4ksr_x3.pth @fd6627a (Apache-2.0)",
        paper="Zamfir, Conde & Timofte, Towards Real-Time 4K Image Super-Resolution, CVPR Workshops 2023"),
)


def zoo_names() -> list[str]:
    """Names of the zoo entries, in table order."""
    return [entry.name for entry in ZOO]


def zoo_entry(name: str) -> ExternalCheckpoint:
    """The entry called ``name``; a ModelError listing the known ones otherwise."""
    for entry in ZOO:
        if entry.name == name:
            return entry
    raise ModelError(f"unknown zoo entry {name!r}; known: {', '.join(zoo_names())}")


@cache
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """``file_sha256`` memoised per (path, size, mtime)."""
    return file_sha256(path)


def identify(path: str | Path | None) -> ExternalCheckpoint | None:
    """The zoo entry whose sha256 is the file's, or None (no file, or an unknown one)."""
    if path is None or not Path(path).is_file():
        return None
    stat = Path(path).stat()
    digest = _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    return next((entry for entry in ZOO if entry.sha256 == digest), None)
