"""Reading result JSONs (written by ``python -m eval.evaluate``) and grouping the comparable ones.

A *group* is every result of one (dataset, scale, degradation): only rows of one group are ranked
against each other. Inside a group the rows must also be measured on the same LR images (same image
names, same LR manifest hash), with the same Y metric preset (``conventions.y_preset``: the default
and ``--ntire23-compat`` Y figures differ), their runtimes on one platform (protocol + device name)
and one input tensor (the official portrait one or the landscape option); anything else is refused
with a one-line ``ResultError`` naming the files, never silently mixed.
A result without ``ssim_rgb`` was written before the challenge-fidelity rules (centre crop, one gray
rule, RGB SSIM) and is refused with the command that re-makes it: its numbers are not comparable.
No number is taken on trust: every set mean (``psnr_rgb``, ``ssim_rgb``, ``psnr_y``, ``ssim_y``) is
recomputed from the result's ``per_image`` values (one finite number per image, unique image
names) and a result whose summary differs by more than ``SUMMARY_TOLERANCE`` is refused.
A ``ResultError`` is a ``core.errors.FailureError``: missing or unusable results make the
leaderboard and the gate exit with status 1 (one line on stderr, nothing written).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from core.errors import FailureError
from core.paths import data_root
from core.protocol import BICUBIC, GPU_PROTOCOL
from core.schema import SCALE_RULE, error_line, valid_scale
from datasets.paths import sr_dir
from eval.report.columns import METRIC_KEYS
from eval.resultschema import ResultFile

REQUIRED_KEYS = ("model", "dataset", "scale", "degradation", "psnr_rgb", "ssim_rgb", "psnr_y", "ssim_y")
REQUIRED_RUNTIME_KEYS = ("protocol", "device_type", "mean_ms", "device")
# Largest |summary - mean(per_image)| accepted, in the metric's own units (dB for PSNR, SSIM units):
# eval.evaluate writes float64 means of the float64 per-image values, equal to ~1e-13.
SUMMARY_TOLERANCE = 1e-6


class ResultError(FailureError):
    """Result files that are missing or cannot be used (exit status 1); the message names the files and the fix."""


def is_bicubic_row(row: dict) -> bool:
    """True for a leaderboard row (or reference entry) of the reference upscaler: its registry ``model``
    is ``core.protocol.BICUBIC``, whatever its ``label``."""
    return row["model"] == BICUBIC


def bicubic_row(rows: list[dict]) -> dict | None:
    """The bicubic row of one section's rows (``is_bicubic_row``), or None."""
    return next((r for r in rows if is_bicubic_row(r)), None)


def bicubic_label(rows: list[dict]) -> str:
    """The label bicubic's SR images are saved under in one section (``BICUBIC`` when it has no row)."""
    row = bicubic_row(rows)
    return BICUBIC if row is None else row["label"]


@dataclass(frozen=True)
class Result:
    """One result JSON: its path and its parsed content."""

    path: Path
    data: dict

    @property
    def label(self) -> str:
        """Display name: ``label`` if present, else ``model``."""
        return str(self.data.get("label") or self.data["model"])

    @property
    def key(self) -> tuple[str, int, str]:
        """The comparability group: (dataset, scale, degradation)."""
        return (str(self.data["dataset"]), int(self.data["scale"]), str(self.data["degradation"]))

    @property
    def is_bicubic(self) -> bool:
        """True for the reference upscaler row (``model`` is ``core.protocol.BICUBIC``) that P_bic comes from."""
        return is_bicubic_row(self.data)

    @property
    def runtime(self) -> dict | None:
        """The runtime block, or None when the evaluation ran with ``--runtime off``."""
        return self.data.get("runtime")

    @property
    def platform(self) -> tuple[str, str] | None:
        """(runtime protocol, device name), or None without a runtime."""
        rt = self.runtime
        return None if rt is None else (str(rt["protocol"]), str(rt["device"].get("name", "?")))


def default_results_dir() -> Path:
    """Where ``eval.evaluate --json`` results go by default: ``<data root>/results``."""
    return data_root() / "results"


def default_sr_root() -> Path:
    """Root of saved SR images: ``<data root>/sr`` (``<deg>_x<S>/<dataset>/<label>/<stem>.png``)."""
    return data_root() / "sr"


def shown_path(path: Path) -> str:
    """``path`` as a user would type it: relative to the current folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def bicubic_command(dataset: str, scale: int, degradation: str, runtime_protocol: str | None,
                    results_dir: Path, sr_root: Path) -> str:
    """The copy-pasteable ``eval.evaluate`` command of the bicubic result (and SR images) of one group,
    timed like the group's other results (``runtime_protocol``: GPU, CPU, or None for --runtime off)."""
    runtime = "off" if runtime_protocol is None else "gpu" if runtime_protocol == GPU_PROTOCOL else "cpu"
    return (f"python -m eval.evaluate --model bicubic --dataset {dataset} --scale {scale} "
            f"--degradation {degradation} --runtime {runtime} "
            f"--json {shown_path(Path(results_dir) / f'bicubic_{dataset}_x{scale}.json')} "
            f"--save-sr {shown_path(sr_dir(sr_root, BICUBIC, dataset, scale, degradation))}")


def load_result(path: str | Path) -> Result:
    """Parse and validate one result JSON; ``ResultError`` (one line, naming the file) if unusable."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0]
        raise ResultError(f"{path}: corrupt result file ({msg}); delete it and run "
                          "`python -m eval.evaluate ... --json` again") from None
    except OSError as exc:
        raise ResultError(f"{path}: cannot read result file ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise ResultError(f"{path}: not a result file (top level is not a JSON object)")
    _validate(path, data)
    return Result(path, data)


def _validate(path: Path, data: dict) -> None:
    """Check the keys and types the leaderboard and the regression gate rely on."""
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing == ["ssim_rgb"]:
        raise ResultError(f"{path}: no ssim_rgb: written by an older eval.evaluate (top-left crop, "
                          "equal-channel gray rule), not comparable; re-run `python -m eval.evaluate "
                          "... --json` for it")
    if missing:
        raise ResultError(f"{path}: not a result file (missing {', '.join(missing)}); "
                          "results come from `python -m eval.evaluate --json`")
    for k in METRIC_KEYS:
        if not _is_number(data[k]):
            raise ResultError(f"{path}: {k} is {data[k]!r}, expected a number")
    if not valid_scale(data["scale"]):
        raise ResultError(f"{path}: scale is {data['scale']!r}, expected {SCALE_RULE}")
    for k in ("model", "dataset", "degradation"):
        if not isinstance(data[k], str) or not data[k]:
            raise ResultError(f"{path}: {k} is {data[k]!r}, expected a name")
    if data.get("label") is not None and (not isinstance(data["label"], str) or not data["label"]):
        raise ResultError(f"{path}: label is {data['label']!r}, expected a name")
    _check_per_image(path, data)
    rt = data.get("runtime")
    if rt is not None:
        if not isinstance(rt, dict) or any(k not in rt for k in REQUIRED_RUNTIME_KEYS):
            raise ResultError(f"{path}: runtime block lacks {', '.join(REQUIRED_RUNTIME_KEYS)}")
        if not _is_number(rt["mean_ms"]) or rt["mean_ms"] <= 0:
            raise ResultError(f"{path}: runtime mean_ms is {rt['mean_ms']!r}, expected > 0")
        if not isinstance(rt["device"], dict) or not isinstance(rt["protocol"], str):
            raise ResultError(f"{path}: runtime device/protocol are {rt['device']!r}/{rt['protocol']!r}, "
                              "expected a device mapping and a protocol name; re-run eval.evaluate")
    flops = data.get("flops")
    if flops is not None and (not isinstance(flops, dict) or not (
            flops.get("flops") is None or (_is_number(flops["flops"]) and flops["flops"] >= 0))):
        raise ResultError(f"{path}: flops is {flops!r}, expected {{flops: a count >= 0, input: [1, 3, H, W]}}")
    params = data.get("params")
    if params is not None and (isinstance(params, bool) or not isinstance(params, int) or params < 0):
        raise ResultError(f"{path}: params is {params!r}, expected a count >= 0")
    try:  # every other block the readers use, typed (eval.resultschema)
        ResultFile.model_validate(data)
    except ValidationError as exc:
        raise ResultError(error_line(exc, str(path)) + "; re-run `python -m eval.evaluate ... --json` "
                          "for it") from None


def _check_per_image(path: Path, data: dict) -> None:
    """The per-image values exist, are finite numbers, and their means are the summary's (``SUMMARY_TOLERANCE``)."""
    rows = data.get("per_image")
    if not isinstance(rows, list) or not rows:
        raise ResultError(f"{path}: no per_image values, so its set means cannot be checked; re-run "
                          "`python -m eval.evaluate ... --json` for it")
    names = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("name"), str) or not row["name"]:
            raise ResultError(f"{path}: per_image[{i}] is not an image entry with a name; re-run eval.evaluate")
        names.append(row["name"])
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ResultError(f"{path}: per_image lists image {twice!r} twice; re-run eval.evaluate")
    for key in METRIC_KEYS:
        values = [row.get(key) for row in rows]
        bad = next((i for i, v in enumerate(values) if not _is_number(v)), None)
        if bad is not None:
            raise ResultError(f"{path}: per_image {names[bad]!r} {key} is {values[bad]!r}, expected a "
                              "finite number; re-run eval.evaluate")
        mean = math.fsum(values) / len(values)
        if abs(mean - data[key]) > SUMMARY_TOLERANCE:
            raise ResultError(f"{path}: {key} says {data[key]!r} but the mean of its {len(values)} "
                              f"per-image values is {mean:.6f} (tolerance {SUMMARY_TOLERANCE:g}); the "
                              "summary is not taken on trust: re-run eval.evaluate for this result")


def _is_number(x) -> bool:
    """True for a finite int/float that is not a bool."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def load_results(results_dir: str | Path) -> list[Result]:
    """Every ``*.json`` in ``results_dir`` (sorted by name), validated; errors if there are none."""
    results_dir = Path(results_dir)
    files = sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []
    if not files:
        raise ResultError(f"no result files (*.json) in {results_dir}; make them with "
                          f"`python -m eval.evaluate --model NAME --dataset SET --scale S "
                          f"--json {results_dir}/NAME_SET_xS.json` or point --results at them")
    return [load_result(f) for f in files]


def select(results: list[Result], scale: int | None = None,
           degradation: str | None = None, dataset: str | None = None) -> tuple[list[Result], list[Result]]:
    """Split ``results`` into (kept, dropped) by the optional scale/degradation/dataset filters."""
    kept, dropped = [], []
    for r in results:
        ds, s, deg = r.key
        ok = ((scale is None or s == scale) and (degradation is None or deg == degradation)
              and (dataset is None or ds == dataset))
        (kept if ok else dropped).append(r)
    return kept, dropped


def group_results(results: list[Result], single_degradation: bool = True
                  ) -> dict[tuple[str, int, str], list[Result]]:
    """Group by (dataset, scale, degradation), sorted by key, after every comparability check."""
    if single_degradation:
        _check_single_degradation(results)
    groups: dict[tuple[str, int, str], list[Result]] = {}
    for r in results:
        groups.setdefault(r.key, []).append(r)
    for key, rows in groups.items():
        _check_group(key, rows)
    return dict(sorted(groups.items()))


def _check_single_degradation(results: list[Result]) -> None:
    """Refuse results from more than one degradation: leaderboard rows carry no degradation field."""
    by_deg: dict[str, Path] = {}
    for r in results:
        by_deg.setdefault(r.key[2], r.path)
    if len(by_deg) > 1:
        named = ", ".join(f"{p.name} ({d})" for d, p in sorted(by_deg.items()))
        raise ResultError(f"results from different degradations are not comparable: {named}; "
                          "pass --degradation NAME or keep them in separate --results folders")


def _check_group(key: tuple[str, int, str], rows: list[Result]) -> None:
    """One group: unique labels, one bicubic, same images and LR inputs, one runtime platform."""
    where = f"{key[0]} x{key[1]} {key[2]}"
    _first_conflict(rows, lambda r: r.label, f"two results for the same model label in {where}",
                    unique=True)
    bicubic = [r for r in rows if r.is_bicubic]
    if len(bicubic) > 1:
        names = ", ".join(r.path.name for r in bicubic)
        raise ResultError(f"more than one bicubic result in {where}: {names}; keep one")
    _first_conflict(rows, _image_names, f"results over different images in {where}",
                    fmt=lambda v: f"{len(v)} images")
    _first_conflict([r for r in rows if _lr_hash(r)], _lr_hash,
                    f"results from different LR inputs (lr_manifest_sha256) in {where}",
                    fmt=lambda v: v[:12])
    _first_conflict([r for r in rows if _y_preset(r)], _y_preset,
                    f"results with different Y metric presets (conventions.y_preset) in {where}")
    _first_conflict([r for r in rows if r.platform], lambda r: r.platform,
                    f"runtimes measured on different platforms in {where}",
                    fmt=lambda v: f"{v[0]} on {v[1]}")
    _first_conflict([r for r in rows if r.runtime], _runtime_input,
                    f"runtimes measured on different input tensors in {where}",
                    fmt=lambda v: "x".join(map(str, v)) or "unrecorded")


def _runtime_input(r: Result) -> tuple[int, ...]:
    """The NCHW input shape a result's runtime was measured on (empty when not recorded)."""
    return tuple(r.runtime.get("input_shape") or ())


def _first_conflict(rows: list[Result], value, what: str, unique: bool = False, fmt=str) -> None:
    """Raise naming the first two files whose ``value`` differs (or, if ``unique``, coincides)."""
    seen: dict = {}
    first = None
    for r in rows:
        v = value(r)
        if unique:
            if v in seen:
                raise ResultError(f"{what}: {seen[v].path} and {r.path} ({v!r}); keep one")
            seen[v] = r
        elif first is None:
            first = (v, r)
        elif v != first[0]:
            raise ResultError(f"{what}: {first[1].path} ({fmt(first[0])}) vs {r.path} "
                              f"({fmt(v)}); re-run them together or use separate --results folders")


def _image_names(r: Result) -> tuple[str, ...]:
    """Sorted per-image names of a result (empty if the file has no per_image list)."""
    return tuple(sorted(str(p.get("name")) for p in r.data.get("per_image") or []))


def _y_preset(r: Result) -> str | None:
    """The Y metric preset recorded in the result's conventions, or None."""
    return (r.data.get("conventions") or {}).get("y_preset")


def _lr_hash(r: Result) -> str | None:
    """The LR manifest hash recorded in the result's provenance, or None."""
    return (r.data.get("provenance") or {}).get("lr_manifest_sha256")


def tables_by_set(rows: list[dict]) -> dict[tuple[str, int], list[dict]]:
    """Leaderboard rows split per (dataset, scale), keeping their order (one table or page section each)."""
    out: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        out.setdefault((r["dataset"], r["scale"]), []).append(r)
    return out
