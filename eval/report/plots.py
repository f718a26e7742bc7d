"""The leaderboard's two figures: PSNR vs runtime (Pareto front) and side-by-side crops.

SR image convention (written by ``python -m eval.evaluate --save-sr DIR``, DIR = ``sr_dir(...)``):
    <sr root>/<degradation>_x<S>/<dataset>/<label>/<stem>.png   uint8 RGB, same size as the GT
``crops.png``: a panel per test set (or only ``dataset``): the HR crop, bicubic and every model in
rank order, each titled with the PSNR RGB of the crop, and below them a row of error maps
(|output - HR|, mean over R, G, B). The crop is the web page's first (``eval.report.crops``, the one rule):
where the best real model gains most over bicubic, away from the borders; without a model's SR
images, where bicubic errs most.
``psnr_vs_runtime.png``: a panel per test set; a model more than ``eval.report.chart_axes.OUTLIER_DB`` below
bicubic (e.g. random weights) is drawn at the bottom edge with its value, so it does not stretch
the axis (the web page's chart clips the same way).
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
from core.protocol import BICUBIC, GPU_PROTOCOL
from datasets.imageio import ImageError, load_rgb
from datasets.paths import gt_dir, sr_dir
from eval.metrics import psnr_rgb
from eval.report.chart_axes import log_ticks, psnr_limits, tick_text
from eval.report.columns import COLUMNS
from eval.report.crops import Spot, choose_spots, reference_model
from eval.report.resultfiles import Result, bicubic_command, bicubic_label, bicubic_row, is_bicubic_row, shown_path

MAX_COLUMNS = 8  # HR, bicubic and up to six models per row of crops.png
ERROR_MAP_MAX = 48  # error maps: |output - HR| (mean over RGB, uint8 levels) from 0 (black) to this (white)


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
    """One test set's scatter: labelled points, Pareto step line, bicubic line, outliers at the edge."""
    ax.set_title(f"{dataset} x{scale}")
    timed = [r for r in members if r["runtime_ms"] is not None]
    if not timed:
        ax.text(0.5, 0.5, "no runtimes measured\n(--runtime off)", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    bic = bicubic_row(members)
    lo, hi, cut = psnr_limits([r["psnr_rgb"] for r in timed], None if bic is None else bic["psnr_rgb"])
    inside = [r for r in timed if cut is None or r["psnr_rgb"] >= cut]
    outliers = [r for r in timed if r not in inside]
    pts = [(r["runtime_ms"], r["psnr_rgb"]) for r in inside]
    front = pareto_front(pts)
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="tab:blue", zorder=3)
    fx = [pts[i][0] for i in front]
    fy = [pts[i][1] for i in front]
    ax.step(fx, fy, where="post", color="tab:red", lw=1.2, label="Pareto front", zorder=2)
    ax.scatter(fx, fy, facecolors="none", edgecolors="tab:red", s=110, zorder=4)
    for r, (x, y) in zip(inside, pts):
        ax.annotate(r["label"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    edge = lo + 0.02 * (hi - lo)
    xs = [r["runtime_ms"] for r in timed]
    middle = math.sqrt(min(xs) * max(xs))
    for r in outliers:  # off the scale: a marker on the bottom edge, its real value in the label
        x = r["runtime_ms"]
        ax.scatter([x], [edge], marker="v", color="tab:gray", zorder=3, clip_on=False)
        ax.annotate(f"{r['label']} {r['psnr_rgb']:.2f} dB (off scale)", (x, edge), textcoords="offset points",
                    xytext=(-4, 4) if x > middle else (4, 4), ha="right" if x > middle else "left",
                    fontsize=8, color="tab:gray")
    if bic is not None:
        ax.axhline(bic["psnr_rgb"], color="gray", ls="--", lw=1, label=f"bicubic {bic['psnr_rgb']:.2f} dB")
    ax.set_ylim(lo, hi)
    ax.set_xscale("log")
    ax.set_xlim(min(xs) / 1.6, max(xs) * 1.6)  # room for the labels of the slowest models
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(log_ticks(min(xs), max(xs))))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: tick_text(v)))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.tick_params(axis="x", labelsize=8)
    kind = "GPU FP16" if timed[0]["runtime_protocol"] == GPU_PROTOCOL else "CPU FP32"
    ax.set_xlabel(f"runtime, mean ms, log scale\n({kind}, {timed[0]['runtime_device']})", fontsize=9)
    ax.set_ylabel(COLUMNS["psnr_rgb"].axis_title())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def crop_keys(results: list[Result], sr_root: Path, dataset: str | None) -> list[tuple[str, int, str]]:
    """The (dataset, scale, degradation) panels of crops.png: every one with bicubic SR images."""
    keys = sorted({r.key for r in results if dataset is None or r.key[0] == dataset})
    labels = {r.key: r.label for r in results if r.is_bicubic}
    return [k for k in keys if sr_dir(sr_root, labels.get(k, BICUBIC), *k).is_dir()]


def crop_reference(key: tuple[str, int, str], members: list[dict], sr_root: Path) -> str | None:
    """The reference model of a section's crops (``eval.report.crops.reference_model``) among rows with SR images."""
    bic = bicubic_row(members)
    psnrs = {r["label"]: r["psnr_rgb"] for r in members
             if not is_bicubic_row(r) and sr_dir(sr_root, r["label"], *key).is_dir()}
    return reference_model(psnrs, None if bic is None else bic["psnr_rgb"])


def choose_spots_of(key: tuple[str, int, str], members: list[dict], sr_root: Path, side: int,
                    count: int) -> tuple[list[Spot], str | None]:
    """(spots, reference model or None) of one section by ``eval.report.crops``' rule; both figures use it."""
    best = crop_reference(key, members, sr_root)
    folder = None if best is None else sr_dir(sr_root, best, *key)
    return choose_spots(gt_dir(*key), sr_dir(sr_root, bicubic_label(members), *key), folder, side, count, key[1]), best


def choose_crop(key: tuple[str, int, str], members: list[dict], sr_root: Path, size: int
                ) -> tuple[Spot, str | None]:
    """(spot, reference model or None) of one crops.png panel: the first of ``choose_spots_of``."""
    spots, best = choose_spots_of(key, members, sr_root, size, 1)
    return spots[0], best


def write_crops(rows: list[dict], results: list[Result], sr_root: Path, path: Path,
                crop_size: int = 96, dataset: str | None = None) -> str | None:
    """Write crops.png (a panel per test set, see the module doc); returns a note for the user or None.

    Without ground truth or bicubic SR images, a picture saying what is missing is written instead.
    """
    by_label = {(r.key, r.label) for r in results}
    keys = crop_keys(results, sr_root, dataset)
    if not keys:
        first = next((r for r in results if dataset is None or r.key[0] == dataset), results[0])
        command = bicubic_command(*first.key, first.platform and first.platform[0], first.path.parent,
                                  sr_root)
        return _placeholder(path, f"no bicubic SR images under {shown_path(sr_root)} for "
                            f"{dataset or 'any test set'}: run `{command}`")
    panels, notes = [], []
    for key in keys:
        ds, scale, deg = key
        members = [r for r in rows if (r["dataset"], r["scale"]) == (ds, scale) and (key, r["label"]) in by_label]
        labels = [bicubic_label(members)] + [r["label"] for r in members if not is_bicubic_row(r)]
        try:
            spot, best = choose_crop(key, members, sr_root, crop_size)
            stem, top, left, side = spot.stem, spot.top, spot.left, spot.side
            gt = load_rgb(gt_dir(ds, scale, deg) / f"{stem}.png")
        except ImageError as exc:
            notes.append(f"crops.png has no {ds} x{scale} panel: {exc}")
            continue
        window = (slice(top, top + side), slice(left, left + side))
        shown, missing = [], []
        for label in labels:
            f = sr_dir(sr_root, label, *key) / f"{stem}.png"
            (shown if f.is_file() else missing).append((label, f))
        why = (f"where {best} gains most over bicubic" if best else "where bicubic errs most")
        title = (f"{ds} x{scale} ({deg}), image {stem}: {side}x{side} HR crop at (row {top}, col {left}), "
                 f"{why}; dB = PSNR RGB of the crop")
        panels.append((title, gt[window], [(label, load_rgb(f)[window]) for label, f in shown]))
        if missing:
            notes.append(f"crops.png lacks {', '.join(lb for lb, _ in missing)} on {ds}: no SR image "
                         f"{stem}.png under {sr_root}")
    if not panels:
        return _placeholder(path, "; ".join(notes))
    _draw_panels(panels, path)
    return "; ".join(notes) or None


def _draw_panels(panels: list, path: Path) -> None:
    """Per test set: a row of crops (HR, then each output with the PSNR RGB of the crop) and a row of
    error maps, nearest-neighbour zoom; at most ``MAX_COLUMNS`` columns (more models wrap)."""
    cols = min(MAX_COLUMNS, max(len(outputs) + 1 for _, _, outputs in panels))
    blocks = [(title, ref, outputs[i:i + cols - 1])
              for title, ref, outputs in panels for i in range(0, max(len(outputs), 1), cols - 1)]
    fig = plt.figure(figsize=(2.3 * cols, 4.4 * len(blocks)))
    figures = fig.subfigures(len(blocks), 1, squeeze=False)[:, 0]
    for sub, (title, ref, outputs) in zip(figures, blocks):
        axes = sub.subplots(2, cols, squeeze=False)
        for ax in axes.flat:
            ax.set_axis_off()
        axes[0, 0].imshow(ref, interpolation="nearest")
        axes[0, 0].set_title("HR (ground truth)", fontsize=8)
        axes[1, 0].text(0.5, 0.5, f"error maps:\n|output - HR|,\nmean of R, G, B\nblack 0,\n"
                        f"white >= {ERROR_MAP_MAX}", ha="center", va="center", fontsize=8,
                        transform=axes[1, 0].transAxes)
        for j, (label, crop) in enumerate(outputs, start=1):
            axes[0, j].imshow(crop, interpolation="nearest")
            axes[0, j].set_title(f"{label}\n{psnr_rgb(crop, ref):.2f} dB", fontsize=8)
            err = np.abs(crop.astype(np.int16) - ref.astype(np.int16)).mean(axis=2)
            axes[1, j].imshow(err, cmap="gray", vmin=0, vmax=ERROR_MAP_MAX, interpolation="nearest")
        sub.suptitle(title, fontsize=8)
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
