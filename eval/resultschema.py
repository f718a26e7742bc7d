"""The typed schema of a result JSON (``eval.evaluate --json``), as the leaderboard and the gate read it.

Every block a reader uses has a type (pydantic, strict like the configs, ``core.schema``): a string
where a mapping goes, a list where a name goes, a zero-size shape or a number where a path goes is
a ``ValidationError``, which ``eval.report.resultfiles`` turns into one line naming the file and the field.
Unknown keys are allowed (results carry more than is read); ``eval.report.resultfiles`` checks the
per-image values and their means itself.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from core.schema import (
    Float,
    Name,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Scale,
)
from eval.origin import KINDS

Shape = Annotated[list[PositiveInt], Field(min_length=4, max_length=4)]  # NCHW, no zero-size side


class _Block(BaseModel):
    """A result block: typed where read, other keys kept."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())


class Device(_Block):
    """``runtime.device``: the machine the runtime was measured on."""

    name: StrictStr | None = None


class Runtime(_Block):
    """``runtime``: the measured latency and its platform."""

    protocol: Name
    device_type: Name
    mean_ms: PositiveFloat
    device: Device
    input_shape: Shape | None = None


class Flops(_Block):
    """``flops``: the operation count and the input it was counted on."""

    flops: NonNegativeFloat | None = None
    macs: NonNegativeFloat | None = None
    input: Shape | None = None


class Provenance(_Block):
    """``provenance``: where the LR inputs came from."""

    lr_manifest_sha256: StrictStr | None = None


class Conventions(_Block):
    """``conventions``: the named metric choices."""

    y_preset: StrictStr | None = None


class WeightsOrigin(_Block):
    """``weights_origin``: where the weights came from (``eval.weights_origin``; absent in older results)."""

    kind: Literal[KINDS]  # type: ignore[valid-type]
    budget: StrictStr | None = None
    card: StrictStr | None = None
    name: StrictStr | None = None
    sha256: StrictStr | None = None


class ResultFile(_Block):
    """One result JSON."""

    model: Name
    label: Name | None = None
    weights: Name | None = None  # a path as text
    dataset: Name
    scale: Scale
    degradation: Name
    psnr_rgb: Float
    ssim_rgb: Float
    psnr_y: Float
    ssim_y: Float
    per_image: list[dict[str, Any]]
    runtime: Runtime | None = None
    flops: Flops | None = None
    params: NonNegativeInt | None = None
    provenance: Provenance | None = None
    conventions: Conventions | None = None
    contract: dict[str, Any] | None = None
    external: dict[str, Any] | None = None
    fp16_check: dict[str, Any] | None = None
    weights_origin: WeightsOrigin | None = None  # optional: results written before it are classified by eval.origin
