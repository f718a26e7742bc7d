"""``EvalOptions``: the typed options of one evaluation (``eval.evaluate.evaluate`` takes them).

Field names are the CLI's option names (``--save-sr`` -> ``save_sr``); defaults live here only
(the CLI leaves an absent option out and these apply). Types are strict (``core.schema``): a
scale below 2, ``passes`` below 1 or a negative ``warmup`` is refused when the options are made,
before any work. Cross-field rules (``classic_y`` needs the classic degradation, ...) and the
output paths are checked by ``eval.evaluate.check_options``, also before any work.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictStr, model_validator

from core.protocol import DEGRADATIONS, ORIENTATION
from core.schema import Bool, Name, Passes, Scale, Warmup
from eval.metrics import Y_DEFAULT, Y_NTIRE23_COMPAT, YPreset

RUNTIMES = ("gpu", "cpu", "off")
# The Y presets of --y: bt601 (default, Y_DEFAULT), ntire23-compat (the challenge's calc_metrics.py,
# Y_NTIRE23_COMPAT), classic (the published tables' Y-only protocol; needs the classic degradation)
Y_CHOICES = ("bt601", "ntire23-compat", "classic")
LEGACY_Y_FLAGS = {"ntire23_compat": "ntire23-compat", "classic_y": "classic"}  # kept for one release


class EvalOptions(BaseModel):
    """One model on one LR/GT set: what to load, how to time it, which Y convention, where SR PNGs go."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: Name  # registered name, plug-in ``package.module:factory`` / ``path/file.py:factory``, ``ntire23:DIR``
    dataset: Name  # registered dataset or ``folder:<path>``
    scale: Scale
    weights: Path | None = None  # checkpoint: a project one or a layout the model declares (models.layouts)
    label: Name | None = None  # display name in results and tables; None: the model name
    degradation: StrictStr = DEGRADATIONS[0]
    runtime: Literal["gpu", "cpu", "off"] = "off"  # gpu: the challenge protocol; cpu: labelled FP32
    passes: Passes | None = None  # timed passes; None: the protocol's (244 gpu / 5 cpu)
    warmup: Warmup | None = None  # warm-up passes; None: the protocol's (50 gpu / 1 cpu)
    runtime_orientation: Literal["portrait", "landscape"] = ORIENTATION  # portrait: runtime_demo.py's tensor
    save_sr: Path | None = None  # write each SR output as <save_sr>/<stem>.png (staged, then renamed)
    y: Literal[Y_CHOICES] = "bt601"  # Y preset (Y_CHOICES)
    drop_alpha: Bool = False  # a folder: set's RGBA/LA images: discard the alpha (else refused)

    @model_validator(mode="before")
    @classmethod
    def legacy_y_flags(cls, data):
        """``ntire23_compat=True`` / ``classic_y=True`` (the old flags, kept for one release) set ``y``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        chosen = [LEGACY_Y_FLAGS[k] for k in LEGACY_Y_FLAGS if data.pop(k, False)]
        if len(chosen) > 1 or (chosen and data.get("y", "bt601") not in ("bt601", chosen[0])):
            raise ValueError("--classic-y, --ntire23-compat and --y name different Y conventions; pick one")
        if chosen:
            data["y"] = chosen[0]
        return data

    @property
    def classic_y(self) -> bool:
        """The published tables' Y-only protocol (``--y classic``)."""
        return self.y == "classic"

    @property
    def ntire23_compat(self) -> bool:
        """Y metrics as the challenge's calc_metrics.py (``--y ntire23-compat``)."""
        return self.y == "ntire23-compat"

    @property
    def display_label(self) -> str:
        """The label results and tables show: ``label``, else the model name."""
        return self.label or self.model

    @property
    def y_preset(self) -> YPreset:
        """The Y metric preset: the challenge's ``calc_metrics.py`` with ``ntire23_compat``, else the default."""
        return Y_NTIRE23_COMPAT if self.ntire23_compat else Y_DEFAULT
