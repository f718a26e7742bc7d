"""What one training run is: ``TrainConfig`` (one stage), read from the pipeline's params, and its checks.

Patch sizes are in LR pixels, ``lr`` is the Adam learning rate (not a low-resolution image),
images are RGB uint8. Every value that decides the result is a required field: the values come
from ``params.yaml`` (generated from ``conf/``; ``train.base`` then the stage's section, later
wins) and the command line, never from defaults in code. The run-control fields (``out``,
``init``, ``drop_bias``, ``device``, ``threads``, ``progress``) are given per run.
``TrainConfig.identity()`` is what a resumed run must share.

One typed schema (pydantic, strict: ``core.schema``) checks everything before any work: the
fields of ``TrainConfig`` (``epochs: true`` or ``2.7`` is not an integer, a string is not a list
of datasets, ``lr`` must be finite and > 0; YAML's ``5e-3`` is the float it means), each params
section against those fields (``TrainSection``: the same types, every key optional), and the
params file as a whole (``PipelineParams``: also the keys the other stages read, ``scale``,
``evaluate.passes``, ...), so a bad value anywhere in params.yaml stops the first training stage
in a second instead of the stage that reads it after an hour. Messages name the file, the dotted
key, the value and what is allowed.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

import torch
import torch.nn.functional as F
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictStr,
    ValidationError,
    create_model,
    model_validator,
)

from core.errors import RtsrError
from core.hashing import file_sha256
from core.params import composed_params
from core.protocol import DEGRADATIONS
from core.schema import (
    Batch,
    Bool,
    Epochs,
    JpegQuality,
    Name,
    Names,
    NonNegativeInt,
    PairsPerEpoch,
    Passes,
    PatchSide,
    PositiveInt,
    Scale,
    Seed,
    Threads,
    Warmup,
    YamlPositiveFloat,
    YamlUnitInterval,
    error_line,
)
from core.yamlload import load_yaml
from datasets.registry import get_dataset
from models.registry import model_info
from training.schedule import SCHEDULES

LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}
# Settings that do not change the result: a run may resume with different values of these.
NON_SEMANTIC = ("out", "device", "progress", "threads", "force", "sampler")
# The step's implementation choices (``training.step``): part of a run's identity only when not at
# their defaults, so runs made before these options existed keep their identity.
STEP_DEFAULTS = {"precision": "auto", "optimizer_impl": "auto", "compile": False, "memory_format": "auto"}
SAMPLERS = ("batched", "loop", "device")
PRECISIONS = ("auto", "fp32", "tf32", "bf16", "fp16")
OPTIMIZER_IMPLS = ("auto", "torch", "loop", "foreach", "fused")
MEMORY_FORMATS = ("auto", "contiguous", "channels_last")


class TrainError(RtsrError):
    """Training cannot start or continue; the one-line message says why and what to do."""


class ConfigError(TrainError):
    """A params file, section or key that cannot be used; the message says which."""


def _known_datasets(names: list[str]) -> list[str]:
    """Every name is a registered dataset or ``folder:<path>`` (checked now, not after the model is built)."""
    for name in names:
        try:
            get_dataset(name)
        except RtsrError as exc:
            raise ValueError(str(exc)) from None
    return names


def _device_name(name: str) -> str:
    """``auto`` or a torch device string (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    if name != "auto":
        try:
            torch.device(name)
        except (RuntimeError, ValueError):
            raise ValueError("not a device: use auto, cpu, cuda or cuda:N") from None
    return name


Datasets = Annotated[Names, AfterValidator(_known_datasets)]
DeviceName = Annotated[Name, AfterValidator(_device_name)]


class TrainConfig(BaseModel):
    """One training run (one stage). Patch sizes in LR pixels; lr in Adam units; images RGB uint8."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: Name  # registered name or module:factory plug-in
    out: Name  # run folder: last.pt, best.pt, metrics.csv, val.csv, summary.json
    scale: Scale
    degradation: Literal[DEGRADATIONS]
    quality: JpegQuality  # JPEG quality of the ntire23 LR inputs
    model_kwargs: dict[str, Any]  # factory kwargs (e.g. {channels: 34, bias: true} for stage 1)
    train_sets: Datasets
    val_sets: Datasets
    epochs: Epochs
    pairs_per_epoch: PairsPerEpoch  # random LR/HR patch pairs per epoch (ceil(pairs / batch) steps)
    batch: Batch
    lr_patch: PatchSide  # LR patch side in px (HR patch = scale x this)
    lr: YamlPositiveFloat  # Adam learning rate at epoch 0 (the schedule decides the rest)
    beta1: YamlUnitInterval
    beta2: YamlUnitInterval
    schedule: Literal[SCHEDULES]  # training.schedule name: paper, public, constant
    loss: Literal[tuple(LOSSES)]  # mse or l1
    val_every: PositiveInt  # validate every N epochs and at the last one
    val_crop: NonNegativeInt  # centre-crop validation LR images to at most this many px per side (0: whole)
    augment: Bool  # the 8 dihedral augmentations
    seed: Seed
    amp: Bool  # FP16 autocast + loss scaling on CUDA (the CPU always trains in FP32)
    init: Name | None = None  # start from this checkpoint's weights (stages 2 and 3)
    drop_bias: Bool = False  # remove every bias of the init model first (stage 3)
    device: DeviceName = "auto"  # auto (cuda if available), cpu, cuda, cuda:1
    threads: Threads = 0  # torch CPU threads (0: torch's default)
    force: Bool = False  # start over in an ``out`` that holds a run of other settings (replacing it)
    progress: Bool = True  # rich bar of the steps on a terminal (the per-epoch lines are always printed)
    # batched: one gather, today's draw; loop: per-patch crops; device: vectorised draw
    sampler: Literal[SAMPLERS] = "batched"
    precision: Literal[PRECISIONS] = "auto"  # auto: fp16+scaler on CUDA when amp, fp32 on the CPU
    # Adam kernels; auto: fused on CUDA, torch (its own default) on the CPU
    optimizer_impl: Literal[OPTIMIZER_IMPLS] = "auto"
    compile: Bool = False  # torch.compile the whole step (opt-in; CUDA graphs on CUDA)
    # layout of the model and LR batches; auto: channels_last on CUDA, NCHW-contiguous on the CPU
    memory_format: Literal[MEMORY_FORMATS] = "auto"

    def identity(self) -> dict:
        """The settings that determine the result (what a resumed run must share)."""
        ident = self.model_dump(exclude=set(NON_SEMANTIC))
        for key, default in STEP_DEFAULTS.items():
            if ident[key] == default:
                del ident[key]
        if self.sampler == "device":  # another random stream (batched and loop give the same patches)
            ident["sampler"] = "device"
        if self.init and Path(self.init).is_file():
            ident["init_sha256"] = file_sha256(self.init)
        return ident


def _partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """``model`` with every field optional (same types and constraints): what one params section holds."""
    fields = {}
    for key, f in model.model_fields.items():
        annotation = Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation
        fields[key] = (annotation | None, None)
    return create_model(name, __config__=ConfigDict(extra="forbid", protected_namespaces=()), **fields)


TrainSection = _partial(TrainConfig, "TrainSection")


class ExternalEntry(BaseModel):
    """One ``evaluate.external`` entry: a checkpoint you point at, evaluated on every test set."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: Name
    weights: Name
    label: Name


class EvaluateParams(BaseModel):
    """The ``evaluate`` section the evaluation stages read (``eval.options.EvalOptions`` types)."""

    model_config = ConfigDict(extra="allow")

    external: list[ExternalEntry] | None = None
    runtime: Literal["gpu", "cpu", "off"] | None = None
    warmup: Warmup | None = None
    passes: Passes | None = None


class PruneParams(BaseModel):
    """The ``prune`` section: channels per group after stage-2 pruning."""

    model_config = ConfigDict(extra="forbid")

    target: PositiveInt


RENAMED_PARAMS = {"baselines": "baseline_models", "datasets": "prepared_sets"}  # old top-level key -> new


class PipelineParams(BaseModel):
    """A params file as the stages read it: each known key typed (all optional; other keys allowed)."""

    model_config = ConfigDict(extra="allow")

    scale: Scale | None = None
    degradation: Literal[DEGRADATIONS] | None = None
    quality: JpegQuality | None = None
    prune: PruneParams | None = None
    train: dict[str, TrainSection] | None = None  # type: ignore[valid-type]
    evaluate: EvaluateParams | None = None
    mirror: StrictStr | None = None
    prepared_sets: Datasets | None = None
    test_sets: Datasets | None = None
    baseline_models: list[Name] | None = None
    trained: list[Name] | None = None
    profile: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def renamed_keys(cls, data: Any) -> Any:
        """Refuse a key this version renamed, naming the new one (no silent fallback to the old name)."""
        if isinstance(data, dict):
            for old, new in RENAMED_PARAMS.items():
                if old in data:
                    raise ValueError(f"params key {old!r} was renamed to {new!r} (a top-level key may not share "
                                     "a name with a dependency folder: DVC's exp show cannot tabulate both)")
        return data


def read_params(path: str | Path) -> dict:
    """The parsed, validated YAML mapping of a params file (``params.yaml``); ConfigError naming the file."""
    try:
        with open(path, encoding="utf-8") as fh:
            node = load_yaml(fh) or {}
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; --config needs a params file (params.yaml)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file; --config needs a YAML params file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where} ({what})") from None
    if not isinstance(node, dict):
        raise ConfigError(f"{path}: top level is not a mapping")
    check_params(node, path)
    return node


def check_params(params: dict, source) -> None:
    """Validate a params mapping as a whole (``PipelineParams``); ConfigError naming the dotted key."""
    train = params.get("train")
    if isinstance(train, dict):
        for name, section in train.items():
            if isinstance(section, dict):
                _check_keys(section, f"train.{name}", source)
    try:
        PipelineParams.model_validate(params)
    except ValidationError as exc:
        raise ConfigError(error_line(exc, str(source))) from None


def _check_keys(node: dict, section: str, source) -> None:
    """ConfigError for keys of a train section that are not TrainConfig fields (with a suggestion)."""
    unknown = sorted(str(k) for k in set(node) - set(TrainConfig.model_fields))
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(TrainConfig.model_fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{source}: section {section!r} has unknown keys {unknown}{hint} "
                          f"known: {sorted(TrainConfig.model_fields)}")


def read_section(params: dict, section: str, path: str | Path) -> dict:
    """The mapping at dotted ``section`` (e.g. ``train.base``), checked against TrainConfig's fields."""
    node = params
    for key in section.split("."):
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(f"{path}: no section {section!r} (missing {key!r})")
        node = node[key]
    if not isinstance(node, dict):
        raise ConfigError(f"{path}: section {section!r} is not a mapping")
    _check_keys(node, section, path)
    try:
        TrainSection.model_validate(node)
    except ValidationError as exc:
        raise ConfigError(error_line(exc, str(path), lambda key: f"{section}.{key}")) from None
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
    check_params(params, source)
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
        raise ConfigError(error_line(exc, source)) from None


def load_train_config(path: str | Path, sections: list[str], overrides: dict | None = None) -> TrainConfig:
    """TrainConfig from the ``sections`` of params file ``path`` (merged in order), ``overrides`` last."""
    values = {**read_sections(path, sections), **(overrides or {})}
    return make_train_config(values, f"{path} [{' + '.join(sections)}]")


def check_config(cfg: TrainConfig) -> None:
    """One-line TrainError for settings that cannot work together (the types are TrainConfig's)."""
    if cfg.drop_bias and not cfg.init:
        raise TrainError("drop_bias needs init (the checkpoint whose biases are removed)")
    if not model_info(cfg.model).trainable:
        raise TrainError(f"model {cfg.model!r} is not trainable (it has no learned weights)")
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise TrainError(f"{out}: is a file; out (--out) must be the run folder")
