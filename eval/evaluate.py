"""``python -m eval.evaluate``: run one model on one dataset and write a result JSON.

Usage::

    python -m eval.evaluate --model NAME|module:factory|ntire23:DIR [--weights P] [--label L] --dataset NAME|folder:DIR
        --scale S [--degradation ntire23|classic] [--runtime gpu|cpu|off] [--json OUT]
        [--save-sr DIR] [--y bt601|ntire23-compat|classic] [--passes N] [--warmup N]
        [--runtime-orientation portrait|landscape]

LR/GT come from ``datasets.degrade.degrade_dataset`` (made if missing). Every image goes through
``models.padding.upscale_uint8`` (``run_image``: the model's channel order and value range applied
there, every output check, the one float -> uint8 conversion); a failed check names the image.
Named conventions:
- Output to uint8 (``OUTPUT_ROUNDING``): clamp to [0, 1], x255, ``torch.round`` (half to even), uint8.
- Metrics: ``eval.metrics`` (RGB PSNR is the ranking metric; RGB SSIM as the challenge reports it;
  Y uses BT.601, rounded, ``scale`` shaved). One gray rule everywhere: a single-channel source file
  (the GT manifest's ``source_mode``) uses its gray value as Y; every 3-channel file uses the formula.
- ``--y`` picks the Y preset (default ``bt601``, as above); ``--ntire23-compat`` and ``--classic-y``
  are its aliases for one release.
- ``--y ntire23-compat``: the challenge's ``calc_metrics.py`` exactly (``Y_NTIRE23_COMPAT``: swapped
  R/B weights, float32 unrounded Y, no border crop, gray files as three equal channels).
- ``--y classic``: the published-table protocol (needs ``--degradation classic``): the GT's uint8
  BT.601 Y (the gray value for a single-channel source file, per the GT manifest's ``source_mode``)
  is shrunk with MATLAB ``imresize`` to the LR, fed as three equal channels, and the SR Y is the
  rounded channel mean (exact for per-channel upscalers such as ``bicubic_matlab``); RGB PSNR and
  SSIM are null. It reproduces the classic tables; the default classic path (resize RGB, Y from the RGB
  output) differs by up to ~0.015 dB (see tests/eval/test_golden.py).
- ``--runtime gpu`` also re-runs the images in FP16 on the GPU and records ``fp16_check``
  (flagged when any output is NaN/Inf or RGB PSNR drops more than 0.05 dB vs FP32).
- The result records the model's ``contract`` (channel order and value range it ran under, the
  checkpoint layout it was read in) and, when the weights file is a known release
  (``models.external``, by sha256), its ``external`` block (what it was trained on, its source), and
  its ``weights_origin`` (``eval.weights_origin``: committed, released, trained here at which
  budget, no weights, random, or a user checkpoint; the leaderboard's provenance column).
The output contract, checked in one place (``models.padding.upscale``, all checks on here): one float
tensor, 3 channels, scale x the input, within ``models.contract.OUTPUT_RANGE_RULE``, finite, on the
[0, 1] scale (its mean within ``models.padding.OUTPUT_MEAN_RANGE``: a 0..255 output is refused, mild
overshoot is clamped as always); the FP16 check counts a NaN/Inf image instead of stopping.
Bad input is refused before any image is evaluated: options, the ``--json`` and ``--save-sr``
paths, the model and its weights, images too small for the metrics. Errors are one line on stderr,
exit status 2, and nothing is written: SR PNGs go to a staging folder that replaces ``--save-sr``
only when the whole evaluation succeeded; the JSON is written after it (atomically). A plug-in's
failure anywhere (factory, forward, runtime, FLOP count) is one line naming the plug-in.
"""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.cli import cli_main, description
from core.io import check_output_dir, check_output_file, staging_dir, write_atomic
from core.overlap import refuse_overlap
from core.paths import DEFAULT_MIRROR, REPO_ROOT, official_dir
from core.progress import PlainLines, on_terminal, say
from core.protocol import DEGRADATIONS, FP16_TOLERANCE_DB, OUTPUT_HW
from core.quantize import OUTPUT_ROUNDING
from core.schema import error_line
from datasets.imageio import is_single_channel_mode, load_rgb, save_png
from datasets.manifest import read_manifest
from datasets.matlab_resize import imresize
from datasets.paths import gt_dir, hr_dir, lr_dir
from datasets.registry import get_dataset
from eval.color import BT601, Y_ROUNDING, rgb_to_y, round_half_away
from eval.errors import EvalError
from eval.metrics import (
    PSNR_CAP_DB,
    Y_DEFAULT,
    YPreset,
    min_image_side,
    psnr,
    psnr_rgb,
    shave,
    ssim_planes,
    ssim_rgb,
    y_metrics,
)
from eval.options import RUNTIMES, Y_CHOICES, EvalOptions
from eval.provenance import provenance
from eval.runtime import input_shape, measure_runtime, require_cuda
from eval.weights_origin import weights_origin
from models.external import identify
from models.ntire23 import NTIRE23_PREFIX
from models.padding import upscale_uint8
from models.registry import ModelError, create_model, model_info, plugin_errors


@dataclass
class PairFiles:
    """One LR/GT pair of files on disk, by file stem (``datasets.patches.Pair`` holds decoded arrays)."""

    name: str
    lr: Path
    gt: Path


def list_pairs(lr_folder: Path, gt_folder: Path) -> list[PairFiles]:
    """LR/GT PNG pairs with identical stems; errors on an empty folder or a missing partner."""
    lr_files = sorted(p for p in Path(lr_folder).glob("*.png") if not p.name.startswith("."))
    if not lr_files:
        raise EvalError(f"{lr_folder}: no images; run `python -m datasets.degrade` for this set")
    pairs = []
    for path in lr_files:
        gt = Path(gt_folder) / path.name
        if not gt.is_file():
            raise EvalError(f"{gt}: ground truth missing for LR {path.name}; re-run datasets.degrade --force")
        pairs.append(PairFiles(path.stem, path, gt))
    return pairs


def check_sizes(name: str, lr: np.ndarray, gt: np.ndarray, scale: int) -> None:
    """GT must be exactly ``scale`` x the LR size."""
    want = (lr.shape[0] * scale, lr.shape[1] * scale)
    if gt.shape[:2] != want:
        raise EvalError(f"{name}: GT is {gt.shape[1]}x{gt.shape[0]} but LR {lr.shape[1]}x{lr.shape[0]} "
                        f"x{scale} needs {want[1]}x{want[0]}; re-run datasets.degrade --force")


def to_tensor(rgb: np.ndarray, device: str, half: bool = False) -> torch.Tensor:
    """uint8 RGB HWC -> float NCHW RGB in [0, 1] (the canonical form; ``upscale`` applies the model's contract)."""
    x = torch.from_numpy(np.array(rgb, dtype=np.uint8, copy=True)).permute(2, 0, 1)[None].float().div_(255.0)
    x = x.to(device)
    return x.half() if half else x


def run_image(model, name: str, lr: np.ndarray, scale: int, device: str = "cpu",
              half: bool = False, allow_nonfinite: bool = False) -> np.ndarray | None:
    """uint8 HxWx3 RGB LR -> uint8 HxWx3 RGB SR via ``upscale_uint8``, every check on; None: NaN/Inf, allowed."""
    with torch.inference_mode():
        try:
            with plugin_errors(model.rtsr_info, "forward"):
                return upscale_uint8(model, to_tensor(lr, device, half), scale,
                                     nonfinite="none" if allow_nonfinite else "raise")
        except ModelError as exc:
            raise EvalError(f"{name}: {exc}") from None


def image_metrics(sr: np.ndarray, gt: np.ndarray, scale: int, preset: YPreset = Y_DEFAULT,
                  gray_source: bool = False) -> dict:
    """The four per-image metrics of a uint8 RGB SR/GT pair (RGB ones, then Y under ``preset``)."""
    return {"psnr_rgb": psnr_rgb(sr, gt), "ssim_rgb": ssim_rgb(sr, gt),
            **y_metrics(sr, gt, scale, preset, gray_source)}


def source_modes(gt_folder: Path) -> dict[str, str]:
    """stem -> PIL mode of the original source file, from the GT manifest (the gray rule's input)."""
    manifest = read_manifest(gt_folder) or {}
    modes = {stem: entry.get("source_mode") for stem, entry in manifest.get("images", {}).items()}
    if not modes:
        raise EvalError(f"{gt_folder}: no valid manifest.json; re-run `python -m datasets.degrade --force`")
    missing = sorted(stem for stem, mode in modes.items() if mode is None)
    if missing:
        raise EvalError(f"{gt_folder}: no source_mode for {missing[0]} (HR fetched by an older version); "
                        "run `python -m datasets.fetch NAME --force`, then `datasets.degrade --force`")
    return modes


def classic_y_gt(gt: np.ndarray, mode: str) -> np.ndarray:
    """uint8 HxW Y of a GT for ``--y classic``: gray value of a single-channel source, else BT.601 rounded."""
    if is_single_channel_mode(mode):
        return gt[..., 0].copy()
    return rgb_to_y(gt, BT601).astype(np.uint8)


def classic_y_metrics(model, name: str, gt: np.ndarray, mode: str, scale: int,
                      device: str) -> tuple[dict, np.ndarray]:
    """Y-only classic protocol for one GT: (metrics with the RGB ones None, SR uint8 RGB)."""
    y_gt = classic_y_gt(gt, mode)
    lr = np.repeat(imresize(y_gt, 1 / scale)[..., None], 3, axis=2)
    sr = run_image(model, name, lr, scale, device)
    y_sr = round_half_away(sr.astype(np.float64).mean(axis=2))
    a, b = shave(y_sr, scale), shave(y_gt.astype(np.float64), scale)
    return {"psnr_rgb": None, "ssim_rgb": None, "psnr_y": psnr(a, b), "ssim_y": ssim_planes(a, b)}, sr


def check_image_sizes(pairs: list[PairFiles], gt_folder: Path, opts: EvalOptions) -> None:
    """Before any image runs: every GT is big enough for the metrics (SSIM window after the shave)."""
    border = opts.scale if (opts.classic_y or opts.y_preset.shave_scale) else 0
    need = min_image_side(border)
    images = (read_manifest(gt_folder) or {}).get("images", {})
    for pair in pairs:
        shape = images.get(pair.name, {}).get("shape")
        if shape and min(shape[:2]) < need:
            raise EvalError(f"{pair.gt}: {shape[1]}x{shape[0]} px is too small for the metrics at "
                            f"x{opts.scale} (each side needs >= {need} px: an 11x11 SSIM window after "
                            f"shaving {border} px); remove the image from the set")


def evaluate_images(model, pairs: list[PairFiles], modes: dict[str, str], opts: EvalOptions, device: str,
                    console: Console, sr_dir: Path | None = None) -> list[dict]:
    """Per-image metrics for every pair (saving SR PNGs into ``sr_dir`` when given), with a progress bar."""
    preset = opts.y_preset
    rows = []
    what = f"{opts.display_label} on {opts.dataset} x{opts.scale}"
    lines = PlainLines(what, len(pairs), "images")  # without a terminal (DVC logs): a line now and then
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not on_terminal()) as bar:
        task = bar.add_task(what, total=len(pairs))
        for pair in pairs:
            lr, gt = load_rgb(pair.lr), load_rgb(pair.gt)
            check_sizes(pair.name, lr, gt, opts.scale)
            mode = modes.get(pair.name)
            if mode is None:
                raise EvalError(f"{pair.gt}: not in the GT manifest; re-run datasets.degrade --force")
            if opts.classic_y:
                metrics, sr = classic_y_metrics(model, pair.name, gt, mode, opts.scale, device)
            else:
                sr = run_image(model, pair.name, lr, opts.scale, device)
                try:
                    metrics = image_metrics(sr, gt, opts.scale, preset, is_single_channel_mode(mode))
                except EvalError as exc:
                    raise EvalError(f"{pair.gt}: {exc}") from None
            if sr_dir is not None:
                save_png(Path(sr_dir) / f"{pair.name}.png", sr)
            rows.append({"name": pair.name, **metrics})
            bar.advance(task)
            if not on_terminal():
                lines.done(len(rows))
    return rows


def fp16_check(model, pairs: list[PairFiles], scale: int, psnr_fp32: float) -> dict:
    """RGB PSNR with FP16 inference on CUDA vs the FP32 figure; flags NaN/Inf or a drop > 0.05 dB."""
    import copy

    half = copy.deepcopy(model).cuda().half()
    half.rtsr_info, half.rtsr_scale = model.rtsr_info, model.rtsr_scale
    values, nonfinite = [], []
    for pair in pairs:
        sr = run_image(half, pair.name, load_rgb(pair.lr), scale, "cuda", half=True, allow_nonfinite=True)
        if sr is None:
            nonfinite.append(pair.name)
        else:
            values.append(psnr_rgb(sr, load_rgb(pair.gt)))
    mean16 = float(np.mean(values)) if values and not nonfinite else None
    drop = None if mean16 is None else psnr_fp32 - mean16
    ok = not nonfinite and drop is not None and drop <= FP16_TOLERANCE_DB
    return {"psnr_rgb_fp16": mean16, "drop_db": drop, "nonfinite_images": nonfinite,
            "tolerance_db": FP16_TOLERANCE_DB, "ok": ok}


def mean_of(rows: list[dict], key: str) -> float | None:
    """Mean of a per-image metric (None when the metric is not computed)."""
    values = [r[key] for r in rows]
    return None if any(v is None for v in values) else float(np.mean(values))


SSIM_TEXT = "skimage gaussian sigma=1.5 11x11, population cov (= the challenge's calculate_ssim)"


def conventions(opts: EvalOptions, modes: dict[str, str], gt_crop: str | None) -> dict:
    """The named numeric choices this result used, stated for exactly this run."""
    preset = opts.y_preset
    gray = sorted(s for s, m in modes.items() if is_single_channel_mode(m))
    if preset.gray_by_source:
        gray_rule = ("by source file: a single-channel file's Y is its gray value (SR side: "
                     "full-range luma, rounded); every 3-channel file uses the formula")
    else:
        gray_rule = "none: gray files read as three equal channels, the formula on every image"
        gray = []
    return {
        "psnr_rgb": None if opts.classic_y else "uint8 RGB, peak 255, no border crop, float64 MSE",
        "ssim_rgb": None if opts.classic_y else f"per RGB channel, no border crop, mean; {SSIM_TEXT}",
        "y_preset": "classic_y" if opts.classic_y else preset.name,
        "y": preset.y.name,
        "y_rounding": Y_ROUNDING if preset.round_y else "none",
        "y_arithmetic": ("float32 as calc_metrics.py (Y, MSE, log10)" if preset.float32
                         else "float64"),
        "y_gray": gray_rule, "y_gray_value_images": gray,
        "shave": opts.scale if preset.shave_scale else 0,
        "ssim": SSIM_TEXT, "classic_y": bool(opts.classic_y), "gt_crop": gt_crop,
        "output_rounding": OUTPUT_ROUNDING, "psnr_cap_db": PSNR_CAP_DB,
    }


SR_MARKER = ".rtsr-sr"  # written into every --save-sr folder: proof that this project made it


def check_sr_folder(path: Path) -> None:
    """``--save-sr``: a new or empty folder, or one an earlier ``--save-sr`` wrote (its ``SR_MARKER``)."""
    check_output_dir(path, "--save-sr")
    if path.is_dir() and not (path / SR_MARKER).is_file():
        entries = sorted(p.name for p in path.iterdir())
        if entries:
            raise EvalError(f"{path}: --save-sr replaces this folder as a whole, but eval.evaluate did "
                            f"not write it (no {SR_MARKER}; it holds {entries[0]!r}); give a new folder")


def input_paths(opts: EvalOptions) -> dict[str, Path | None]:
    """What this evaluation reads and must never overwrite: dataset folders, weights, model files, mirror."""
    folder = opts.dataset.removeprefix("folder:") if opts.dataset.startswith("folder:") else None
    team = opts.model.removeprefix(NTIRE23_PREFIX) if opts.model.startswith(NTIRE23_PREFIX) else None
    module = opts.model.rpartition(":")[0]
    plugin = module if module.endswith(".py") else None  # path/to/file.py:factory
    return {"--dataset folder": Path(folder) if folder else None, "--weights": opts.weights,
            "team folder": Path(team) if team else None, "plug-in file": Path(plugin) if plugin else None,
            "HR folder": hr_dir(opts.dataset),
            "LR folder": lr_dir(opts.dataset, opts.scale, opts.degradation),
            "GT folder": gt_dir(opts.dataset, opts.scale, opts.degradation),
            "mirror": DEFAULT_MIRROR, "checkpoint folder": official_dir(),
            "references": REPO_ROOT / "references"}


def check_options(opts: EvalOptions) -> None:
    """Reject inconsistent options and unusable output paths before any work."""
    if opts.degradation not in DEGRADATIONS:
        raise EvalError(f"unknown degradation {opts.degradation!r}; use one of {', '.join(DEGRADATIONS)}")
    if opts.classic_y and opts.degradation != "classic":
        raise EvalError("--y classic (--classic-y) reproduces the classic tables and needs --degradation classic")
    if opts.save_sr is not None:
        refuse_overlap({"--save-sr": opts.save_sr}, input_paths(opts))
        check_sr_folder(Path(opts.save_sr))
    if opts.runtime == "gpu":
        require_cuda()
    get_dataset(opts.dataset)  # unknown dataset fails before the model is built


def timing_warning(opts: EvalOptions) -> str | None:
    """The warning for ``--passes``/``--warmup`` given with ``--runtime off`` (they would do nothing)."""
    given = [f"--{k}" for k in ("passes", "warmup") if getattr(opts, k) is not None]
    if opts.runtime != "off" or not given:
        return None
    return f"{'/'.join(given)} ignored: --runtime off measures no runtime (use --runtime cpu or gpu)"


def untrained_warning(opts: EvalOptions) -> str | None:
    """The warning for a trainable registered model evaluated without ``weights`` (random weights)."""
    if opts.weights is not None or ":" in opts.model or not model_info(opts.model).trainable:
        return None
    return (f"{opts.model} is trainable and no --weights was given: these are its random initial "
            f"weights, not a trained model. Add --weights data/train/{opts.model}/best.pt (after "
            f"`dvc repro`) or a checkpoint of yours.")


def model_contract(model) -> dict:
    """The tensor contract the model ran under (``models.contract``) and the checkpoint layout it was read in."""
    info = model.rtsr_info
    return {"channel_order": info.channel_order, "value_range": info.value_range,
            "layout": getattr(model, "rtsr_layout", None)}


def external_block(weights) -> dict | None:
    """The zoo entry (``models.external``) whose sha256 the weights file has, as a dict; None otherwise."""
    entry = identify(weights)
    return None if entry is None else entry.as_dict()


def evaluate(opts: EvalOptions, console: Console | None = None) -> dict:
    """Run the whole evaluation described by ``opts``; returns the result dict (writes only ``save_sr``).

    The SR PNGs are staged and replace ``save_sr`` only when everything (images, runtime, FP16
    check) succeeded; on any error the folder is left as it was.
    """
    console = console or Console(stderr=True)
    check_options(opts)
    for warning in (timing_warning(opts), untrained_warning(opts)):
        if warning:
            console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True, highlight=False)
    origin = weights_origin(opts.model, opts.weights)  # committed weights: sha256-checked before any work
    model = create_model(opts.model, scale=opts.scale, weights=opts.weights)
    from datasets.degrade import degrade_dataset

    lr_folder, gt_folder = degrade_dataset(opts.dataset, opts.scale, opts.degradation,
                                           drop_alpha=opts.drop_alpha, progress=False)
    pairs = list_pairs(lr_folder, gt_folder)
    modes = source_modes(gt_folder)
    check_image_sizes(pairs, gt_folder, opts)
    device = "cuda" if opts.runtime == "gpu" else "cpu"
    staging = staging_dir(opts.save_sr) if opts.save_sr is not None else nullcontext(None)
    with staging as sr_dir:
        if sr_dir is not None:
            (Path(sr_dir) / SR_MARKER).write_text("SR images written by python -m eval.evaluate\n",
                                                 encoding="utf-8")
        rows = evaluate_images(model.to(device), pairs, modes, opts, device, console, sr_dir)
        result = result_dict(model, opts, rows, modes, gt_folder, pairs, device)
        result["provenance"] = provenance(Path(lr_folder) / "manifest.json", device)
        result["weights_origin"] = origin
    return result


def result_dict(model, opts: EvalOptions, rows: list[dict], modes: dict[str, str], gt_folder: Path,
                pairs: list[PairFiles], device: str) -> dict:
    """The result (means, per image, cost, conventions), with the runtime and FP16 check when asked."""
    from models.cost import count_flops, count_params

    info = model.rtsr_info
    with plugin_errors(info, "FLOP count"):
        flops = count_flops(model.cpu(), opts.scale, tuple(input_shape(opts.scale)[2:]))
    result = {
        "model": opts.model, "label": opts.display_label,
        "weights": str(opts.weights) if opts.weights is not None else None,
        "dataset": opts.dataset, "scale": opts.scale, "degradation": opts.degradation,
        "psnr_rgb": mean_of(rows, "psnr_rgb"), "ssim_rgb": mean_of(rows, "ssim_rgb"),
        "psnr_y": mean_of(rows, "psnr_y"), "ssim_y": mean_of(rows, "ssim_y"),
        "per_image": rows, "runtime": None, "fp16_check": None,
        "contract": model_contract(model), "external": external_block(opts.weights),
        "params": count_params(model), "flops": flops,
        "conventions": conventions(opts, modes, (read_manifest(gt_folder) or {}).get("crop")),
    }
    if opts.runtime != "off":
        say(f"{opts.display_label} on {opts.dataset} x{opts.scale}: timing ({opts.runtime}, "
            f"{'default' if opts.warmup is None else opts.warmup} warm-up and "
            f"{'default' if opts.passes is None else opts.passes} timed passes)")
        with plugin_errors(info, "runtime measurement"):
            result["runtime"] = measure_runtime(model, opts.scale, "cuda" if device == "cuda" else "cpu",
                                                warmup=opts.warmup, passes=opts.passes,
                                                orientation=opts.runtime_orientation)
    if opts.runtime == "gpu" and result["psnr_rgb"] is not None:
        result["fp16_check"] = fp16_check(model, pairs, opts.scale, result["psnr_rgb"])
    return result


def summary_table(result: dict) -> Table:
    """A rich table with the means (and runtime when measured)."""
    table = Table(title=f"{result['label']} | {result['dataset']} x{result['scale']} ({result['degradation']})")
    for col in ("images", "PSNR RGB", "SSIM RGB", "PSNR Y", "SSIM Y", "runtime"):
        table.add_column(col, justify="right")
    fmt = lambda v, f: "-" if v is None else format(v, f)
    rt = result["runtime"]
    runtime = "-" if rt is None else f"{rt['mean_ms']:.2f} ms ({rt['protocol']})"
    table.add_row(str(len(result["per_image"])), fmt(result["psnr_rgb"], ".3f"),
                  fmt(result["ssim_rgb"], ".4f"), fmt(result["psnr_y"], ".3f"),
                  fmt(result["ssim_y"], ".4f"), runtime)
    return table


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser; an absent option is left out, so ``EvalOptions``' defaults apply."""
    p = argparse.ArgumentParser(prog="python -m eval.evaluate", description=description(__doc__),
                                argument_default=argparse.SUPPRESS)
    p.add_argument("--model", required=True,
                   help="registered name (bicubic, bicubic_pp, espcn, ...), a plug-in factory "
                        "package.module:factory or path/to/file.py:factory, or ntire23:DIR (a team folder "
                        "in the challenge's submission format) (required)")
    p.add_argument("--weights", type=Path,
                   help="checkpoint: a project best.pt, or any layout the model declares (released "
                        "Bicubic++, RFDN AIM 2020, IMDN AIM 2019, ...) (default: none; a trainable model "
                        "then has random weights, with a warning)")
    p.add_argument("--label", help="name in results and tables (default: the --model name)")
    p.add_argument("--dataset", required=True,
                   help="registered set (set5, set14, urban100, demo, ...) or folder:<path> of HR images (required)")
    p.add_argument("--scale", type=int, required=True, help="upscaling factor, e.g. 3 (required)")
    p.add_argument("--degradation", choices=DEGRADATIONS,
                   help="LR inputs: ntire23 (the challenge's) or classic (MATLAB bicubic, published tables)")
    p.add_argument("--runtime", choices=RUNTIMES,
                   help="gpu: the challenge's FP16 protocol (needs CUDA); cpu: FP32 figures, labelled "
                        "not comparable; off: no timing, no score")
    p.add_argument("--passes", type=int, help="timed passes (default: 244 gpu / 5 cpu)")
    p.add_argument("--warmup", type=int, help="warm-up passes (default: 50 gpu / 1 cpu)")
    p.add_argument("--runtime-orientation", choices=tuple(OUTPUT_HW),
                   help="runtime input tensor: portrait 3840/S x 2160/S (H x W, the official script's) "
                        "or landscape 2160/S x 3840/S")
    p.add_argument("--json", type=Path, default=None,
                   help="write the result JSON here, atomically (default: print the summary only)")
    p.add_argument("--save-sr", type=Path,
                   help="write the SR PNGs into this folder, as the leaderboard's crops need "
                        "(default: not saved)")
    p.add_argument("--y", choices=Y_CHOICES,
                   help="Y preset: bt601 (BT.601 Y rounded, scale px shaved), ntire23-compat (exactly the "
                        "challenge's calc_metrics.py: swapped R/B weights, float32 unrounded Y, no border "
                        "crop, gray files as GGG) or classic (Y-only protocol of the published tables; "
                        "needs --degradation classic)")
    p.add_argument("--ntire23-compat", dest="y", action="store_const", const="ntire23-compat",
                   help="alias of --y ntire23-compat, kept for one release (default: off)")
    p.add_argument("--classic-y", dest="y", action="store_const", const="classic",
                   help="alias of --y classic, kept for one release (default: off)")
    p.add_argument("--drop-alpha", action="store_true",
                   help="a folder: set's images with an alpha channel: discard it (default: refused)")
    for action in p._actions:  # state each option's default, taken from EvalOptions (not on the aliases)
        field = EvalOptions.model_fields.get(action.dest)
        alias = isinstance(action, argparse._StoreConstAction)
        if field is not None and not alias and not field.is_required() and field.default not in (None, False):
            action.help = f"{action.help or ''} (default: {field.default})".lstrip()
    return p


def options_from_args(args: argparse.Namespace) -> EvalOptions:
    """The ``EvalOptions`` of parsed command-line arguments (``--json`` is the CLI's own)."""
    try:
        return EvalOptions(**{k: v for k, v in vars(args).items() if k in EvalOptions.model_fields})
    except ValidationError as exc:
        raise EvalError(error_line(exc, "python -m eval.evaluate",
                                   lambda key: "--" + key.replace("_", "-"))) from None


def write_result(result: dict, path: Path) -> None:
    """Write a result dict as JSON atomically (NaN refused)."""
    write_atomic(path, json.dumps(result, indent=2, allow_nan=False) + "\n")


@cli_main
def main(argv: list[str] | None = None) -> None:
    """CLI entry point (``core.cli``: a bad input is one line on stderr, exit 2, no JSON written)."""
    args = build_parser().parse_args(argv)
    console = Console(stderr=True)
    opts = options_from_args(args)
    if args.json is not None:
        refuse_overlap({"--json": args.json}, {**input_paths(opts), "--save-sr": opts.save_sr})
        check_output_file(args.json, "--json")
    result = evaluate(opts, console)
    Console().print(summary_table(result))
    if args.json is not None:
        write_result(result, args.json)
        console.print(f"result -> {args.json}")


if __name__ == "__main__":
    sys.exit(main())
