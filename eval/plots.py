"""The leaderboard's two figures: PSNR vs runtime (Pareto front) and side-by-side crops.

SR image convention (written by ``python -m eval.evaluate --save-sr DIR``, DIR = ``sr_dir(...)``):
    <sr root>/<degradation>_x<S>/<dataset>/<label>/<stem>.png   uint8 RGB, same size as the GT
The crop is chosen deterministically: the ``crop_size`` square (HR pixels) with the largest summed
squared error of the bicubic output against the ground truth, over every image of the test set
(first one on ties: images in name order, then row-major position).
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from core.io import write_atomic
from core.protocol import GPU_PROTOCOL
from datasets.imageio import ImageError, load_rgb
from datasets.paths import gt_dir
from eval.metrics import psnr_rgb
from eval.resultfiles import Result

MAX_COLUMNS = 6


def sr_dir(sr_root: Path, label: str, dataset: str, scale: int, degradation: str) -> Path:
    """Folder of one model's saved SR PNGs: ``<sr root>/<deg>_x<S>/<dataset>/<label>``."""
    return Path(sr_root) / f"{degradation}_x{scale}" / gt_dir(dataset, scale, degradation).name / label


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of (runtime_ms, psnr) points no other point beats (faster-or-equal and better)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def _save(fig, path: Path) -> None:
    """Write a figure as PNG atomically (no timestamp/software metadata) and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    write_atomic(path, buf.getvalue())


def write_psnr_vs_runtime(rows: list[dict], path: Path) -> None:
    """PSNR RGB vs mean runtime (log x), one panel per (dataset, scale), Pareto front and bicubic line."""
    sets: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        sets.setdefault((r["dataset"], r["scale"]), []).append(r)
    n = max(len(sets), 1)
    cols = min(n, 3)
    fig, axes = plt.subplots(math.ceil(n / cols), cols, figsize=(5.2 * cols, 4.2 * math.ceil(n / cols)),
                             squeeze=False)
    for ax in axes.flat[len(sets):]:
        ax.set_visible(False)
    for ax, ((dataset, scale), members) in zip(axes.flat, sets.items()):
        _runtime_panel(ax, dataset, scale, members)
    _save(fig, path)


def _runtime_panel(ax, dataset: str, scale: int, members: list[dict]) -> None:
    """One test set's scatter: labelled points, Pareto step line, bicubic reference line."""
    ax.set_title(f"{dataset} x{scale}")
    timed = [r for r in members if r["runtime_ms"] is not None]
    if not timed:
        ax.text(0.5, 0.5, "no runtimes measured\n(--runtime off)", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    pts = [(r["runtime_ms"], r["psnr_rgb"]) for r in timed]
    front = pareto_front(pts)
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="tab:blue", zorder=3)
    fx = [pts[i][0] for i in front]
    fy = [pts[i][1] for i in front]
    ax.step(fx, fy, where="post", color="tab:red", lw=1.2, label="Pareto front", zorder=2)
    ax.scatter(fx, fy, facecolors="none", edgecolors="tab:red", s=110, zorder=4)
    for r, (x, y) in zip(timed, pts):
        ax.annotate(r["model"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    bic = next((r for r in members if r["model"] == "bicubic"), None)
    if bic is not None:
        ax.axhline(bic["psnr_rgb"], color="gray", ls="--", lw=1, label=f"bicubic {bic['psnr_rgb']:.2f} dB")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(_minor_log_label))
    ax.margins(x=0.15, y=0.12)  # room for the labels of the slowest and weakest models
    kind = "GPU FP16" if timed[0]["runtime_protocol"] == GPU_PROTOCOL else "CPU FP32"
    ax.set_xlabel(f"runtime, mean ms ({kind}, {timed[0]['runtime_device']}), log scale")
    ax.set_ylabel("PSNR RGB (dB)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def _minor_log_label(value: float, _pos) -> str:
    """Label the 2x and 5x minor ticks of a log axis (the others stay blank so labels never overlap)."""
    mantissa = round(value / 10 ** math.floor(math.log10(value)))
    return f"{value:g}" if mantissa in (2, 5) else ""


def worst_bicubic_crop(gt_folder: Path, bic_folder: Path, size: int) -> tuple[str, int, int, int]:
    """(stem, top, left, side) of the square with the largest bicubic squared error, over all images."""
    best = (-1.0, "", 0, 0, 0)
    stems = sorted(p.stem for p in Path(gt_folder).glob("*.png") if not p.name.startswith("."))
    if not stems:
        raise ImageError(f"{gt_folder}: no ground-truth PNGs; run `python -m datasets.degrade` first")
    for stem in stems:
        gt = load_rgb(gt_folder / f"{stem}.png")
        bic = load_rgb(bic_folder / f"{stem}.png")
        if gt.shape != bic.shape:
            raise ImageError(f"{bic_folder / stem}.png: size {bic.shape[:2]} differs from the GT's "
                             f"{gt.shape[:2]}; re-run eval.evaluate with --save-sr")
        side = min(size, gt.shape[0], gt.shape[1])
        err = ((gt.astype(np.int64) - bic.astype(np.int64)) ** 2).sum(axis=2)
        top, left, value = _max_window(err, side)
        if value > best[0]:
            best = (value, stem, top, left, side)
    return best[1], best[2], best[3], best[4]


def _max_window(err: np.ndarray, side: int) -> tuple[int, int, float]:
    """Top-left (row, col) and sum of the ``side`` x ``side`` window with the largest sum (first on ties)."""
    ii = np.zeros((err.shape[0] + 1, err.shape[1] + 1), dtype=np.int64)
    ii[1:, 1:] = err.cumsum(0).cumsum(1)
    sums = ii[side:, side:] - ii[:-side, side:] - ii[side:, :-side] + ii[:-side, :-side]
    flat = int(np.argmax(sums))
    top, left = divmod(flat, sums.shape[1])
    return top, left, float(sums[top, left])


def write_crops(rows: list[dict], results: list[Result], sr_root: Path, path: Path,
                crop_size: int = 96, dataset: str | None = None) -> str | None:
    """Write crops.png (HR, bicubic, every model in rank order); returns a note for the user or None.

    Without ground truth or bicubic SR images, a picture saying what is missing is written instead.
    """
    by_label = {(r.key, r.label): r for r in results}
    keys = sorted({r.key for r in results if dataset is None or r.key[0] == dataset})
    key = next((k for k in keys if sr_dir(sr_root, "bicubic", *k).is_dir()), None)
    if key is None:
        return _placeholder(path, f"no bicubic SR images under {sr_root} for "
                            f"{dataset or 'any test set'}: run `python -m eval.evaluate --model bicubic "
                            f"... --save-sr {sr_root}/<degradation>_x<S>/<dataset>/bicubic`")
    ds, scale, deg = key
    try:
        stem, top, left, side = worst_bicubic_crop(gt_dir(ds, scale, deg),
                                                   sr_dir(sr_root, "bicubic", *key), crop_size)
        gt = load_rgb(gt_dir(ds, scale, deg) / f"{stem}.png")
    except ImageError as exc:
        return _placeholder(path, f"crops.png not drawn: {exc}")
    panels, missing = [("HR", None)], []
    ordered = ["bicubic"] + [r["model"] for r in rows if (r["dataset"], r["scale"]) == (ds, scale)
                             and r["model"] != "bicubic" and (key, r["model"]) in by_label]
    for label in ordered:
        f = sr_dir(sr_root, label, *key) / f"{stem}.png"
        if f.is_file():
            panels.append((label, f))
        else:
            missing.append(label)
    window = (slice(top, top + side), slice(left, left + side))
    _draw_crops(panels, gt, window, f"{ds} x{scale} ({deg}) {stem}: {side}x{side} HR crop at "
                f"(row {top}, col {left}), where bicubic errs most", path)
    if missing:
        return f"crops.png lacks {', '.join(missing)}: no SR image {stem}.png under {sr_root}"
    return None


def _draw_crops(panels: list, gt: np.ndarray, window: tuple, title: str, path: Path) -> None:
    """Lay the crops out side by side (at most ``MAX_COLUMNS`` per row), nearest-neighbour zoom."""
    n = len(panels)
    cols = min(n, MAX_COLUMNS)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(2.6 * cols, 2.9 * nrows + 0.4), squeeze=False)
    ref = gt[window]
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (label, f) in zip(axes.flat, panels):
        crop = ref if f is None else load_rgb(f)[window]
        ax.imshow(crop, interpolation="nearest")
        ax.set_title(label if f is None else f"{label}\n{psnr_rgb(crop, ref):.2f} dB", fontsize=9)
    fig.suptitle(title, fontsize=9)
    _save(fig, path)


def _placeholder(path: Path, message: str) -> str:
    """Write a picture that states why there is no crop comparison; return the message."""
    fig, ax = plt.subplots(figsize=(8, 1.6))
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No crop comparison:\n" + _wrap(message), ha="center", va="center", fontsize=8)
    _save(fig, path)
    return message


def _wrap(text: str, width: int = 110) -> str:
    """Break a long message into lines for the placeholder picture."""
    words, lines, cur = text.split(), [], ""
    for w in words:
        if len(cur) + len(w) + 1 > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return "\n".join(lines + [cur])
