"""The leaderboard as a static web page: ``<out>/site/index.html`` with its assets beside it.

Self-contained: the folder opens from ``file://`` and from any static host, and nothing is fetched
from the network at view time (no CDN). It holds ``index.html`` (tables, data and figures inline),
``site.css`` and ``site.js`` (sorting, chart hover, comparison slider; from ``eval/report/site_assets/``),
``plotly.min.js`` (copied from the installed plotly package) and ``crops/`` (small PNG crops).

One section per (test set, scale, degradation): the runtime banner (GPU FP16 with the card, or CPU
FP32 and not challenge-comparable), the image count, a sortable table, an interactive PSNR-vs-runtime
chart (log runtime axis, Pareto front, bicubic line, iso-score curves of ``eval.score.score``), crop
comparisons with a before/after slider, and each result's provenance on demand.

Crops: ``CROPS_PER_SET`` squares of ``CROP_SIDE`` HR pixels, at most one per image, by the one rule of
``eval.report.crops`` (also ``crops.png``'s): where the best real model gains most over bicubic, away from
the borders (an outlier such as random weights never drives it); where bicubic errs most when no
model has saved SR images.

The folder is rebuilt in a temporary sibling and swapped in, so a failed run never leaves a
half-written site. Reads only result JSONs, SR PNGs and the ground truth of ``datasets.degrade``.
"""
from __future__ import annotations

import html
import json
import math
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image

from core.io import staging_dir
from core.protocol import GPU_PROTOCOL
from datasets.imageio import ImageError, load_rgb
from datasets.paths import gt_dir, sr_dir
from eval.metrics import psnr_rgb
from eval.origin import origin_of, origin_text, table_note
from eval.report.chart_axes import log_ticks, psnr_limits, tick_text
from eval.report.columns import COLUMNS, PAGE_KEYS, Column, columns, page_definitions, plain
from eval.report.crops import CROP_SIDE
from eval.report.plots import choose_spots_of, pareto_front
from eval.report.resultfiles import Result, bicubic_command, bicubic_label, bicubic_row, is_bicubic_row, tables_by_set

ASSETS = Path(__file__).with_name("site_assets")
STATIC_FILES = ("site.css", "site.js")
PLOTLY_JS = "plotly.min.js"
CROPS_PER_SET = 3
ZOOM = 6  # CSS pixels per HR pixel in the comparison view (nearest neighbour)
SCORE_LEVELS = tuple(k * 10.0 ** e for e in range(-2, 4) for k in (1, 2, 5))  # iso-score candidates
MAX_ISO_CURVES = 5

OPTIONAL_KEYS = ("ssim_rgb",)  # page columns shown only when some row has a value


def anchor(key: tuple[str, int, str]) -> str:
    """HTML id of a section: ``set5-x3-ntire23`` (lowercase letters, digits and dashes)."""
    dataset, scale, degradation = key
    return re.sub(r"[^a-z0-9]+", "-", f"{dataset}-x{scale}-{degradation}".lower()).strip("-")


def banner(rows: list[dict]) -> tuple[str, str]:
    """(kind, text) of a section's device/protocol banner; kind is "gpu", "cpu" or "none"."""
    timed = [r for r in rows if r["runtime_ms"] is not None]
    if not timed:
        return "none", "Runtime not measured (--runtime off): no scores"
    r = timed[0]
    if r["runtime_protocol"] == GPU_PROTOCOL:
        return "gpu", f"GPU FP16, NTIRE 2023 runtime protocol, on {r['runtime_device']}"
    return "cpu", f"CPU FP32, not challenge-comparable (runtime on {r['runtime_device']})"


def table_rows(members: list[dict], results: dict[str, Result]) -> list[dict]:
    """Leaderboard rows of one section with the page's extra fields (gain, median runtime, ssim_rgb)."""
    bicubic = bicubic_row(members)
    out = []
    for row in members:
        data = results[row["label"]].data
        rt = data.get("runtime") or {}
        ssim_rgb = data.get("ssim_rgb")
        out.append({
            **row,
            "gain_db": None if bicubic is None else round(row["psnr_rgb"] - bicubic["psnr_rgb"], 4),
            "runtime_median_ms": _number(rt.get("median_ms")),
            "ssim_rgb": _number(ssim_rgb),
        })
    return out


def _number(value) -> float | None:
    """``value`` as a float when it is a finite number, else None (optional result fields)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def visible_columns(rows: list[dict]) -> list[Column]:
    """The page's columns (``PAGE_KEYS``), less the optional ones no row has a value for."""
    return [c for c in columns(PAGE_KEYS) if c.key not in OPTIONAL_KEYS or any(r.get(c.key) is not None for r in rows)]


def column_view(c: Column) -> dict:
    """Template header: key, text, first sort direction, CSS class and definition (tooltip)."""
    return {"key": c.key, "header": c.header, "first_dir": c.first_sort, "title": plain(c.definition),
            "cls": "text" if c.is_text else "num"}


def cells(row: dict, shown: list[Column]) -> list[dict]:
    """Template cells: text, sort value ("" for null), CSS class and whether it links to the provenance."""
    out = []
    for c in shown:
        v = row.get(c.key)
        cls = "num" if not c.is_text else "text" if c.key == "label" else "text wrap"
        out.append({"text": c.format(v), "sort": "" if v is None else str(v), "cls": cls, "link": c.key == "label"})
    return out


def hover_text(row: dict) -> str:
    """The chart tooltip: every number of the row (plotly's HTML subset; the label is escaped)."""
    def f(key: str) -> str:
        return COLUMNS[key].format(row.get(key))

    return "<br>".join([
        f"<b>{html.escape(row['label'])}</b>  rank {f('rank')}, score {f('score')}",
        f"PSNR RGB {f('psnr_rgb')} dB ({f('gain_db')} vs bicubic)",
        f"PSNR Y {f('psnr_y')} dB, SSIM Y {f('ssim_y')}"
        + ("" if row.get("ssim_rgb") is None else f", SSIM RGB {f('ssim_rgb')}"),
        f"runtime {f('runtime_ms')} ms mean, {f('runtime_median_ms')} ms median",
        f"{f('params')} params, {f('gflops_720p')} GFLOPs (720p)",
        f"weights: {html.escape(row['provenance'])}",
    ])


def iso_score_levels(scores: list[float]) -> list[float]:
    """1-2-5 score levels spanning the positive scores of a table (at most ``MAX_ISO_CURVES``)."""
    positive = [s for s in scores if s and s > 0]
    if not positive:
        return []
    lo, hi = min(positive) / 2, max(positive) * 2
    levels = [v for v in SCORE_LEVELS if lo <= v <= hi]
    step = math.ceil(len(levels) / MAX_ISO_CURVES) if levels else 1
    return levels[::step]


def iso_score_curve(level: float, psnr_bicubic: float, t_lo: float, t_hi: float,
                    n: int = 48) -> tuple[list[float], list[float]]:
    """Points (runtime ms, PSNR RGB dB) of score == ``level``, log-spaced over [t_lo, t_hi].

    Inverts ``eval.score.score``: P = P_bic + log2(level * 0.1 * sqrt(t) / 2). The curve starts
    where it meets the bicubic line (t = (20 / level)**2); below that line the score is 0.
    """
    start = max(t_lo, (20.0 / level) ** 2)
    if start >= t_hi:
        return [], []
    ts = np.geomspace(start, t_hi, n)
    ps = psnr_bicubic + np.log2(level * 0.1 * np.sqrt(ts) / 2.0)
    return [round(float(t), 6) for t in ts], [round(float(p), 6) for p in ps]


def chart(rows: list[dict]) -> go.Figure | None:
    """The PSNR-vs-runtime figure of one section, or None when no runtime was measured."""
    timed = [r for r in rows if r["runtime_ms"] is not None]
    if not timed:
        return None
    bicubic = bicubic_row(rows)
    lo, hi, cut = psnr_limits([r["psnr_rgb"] for r in timed], None if bicubic is None else bicubic["psnr_rgb"])
    y_range = [lo, hi]  # psnr_vs_runtime.png's rule: an outlier sits on the bottom edge instead
    outliers = [r for r in timed if cut is not None and r["psnr_rgb"] < cut]
    t_min, t_max = min(r["runtime_ms"] for r in timed), max(r["runtime_ms"] for r in timed)
    t_lo, t_hi = t_min / 1.8, t_max * 1.8  # room for the labels
    kind = "GPU FP16" if timed[0]["runtime_protocol"] == GPU_PROTOCOL else "CPU FP32"
    timed = [r for r in timed if r not in outliers]
    xs = [r["runtime_ms"] for r in timed]
    ys = [r["psnr_rgb"] for r in timed]
    fig = go.Figure()
    if bicubic is not None:
        for i, level in enumerate(iso_score_levels([r["score"] for r in timed])):
            cx, cy = iso_score_curve(level, bicubic["psnr_rgb"], t_lo, t_hi)
            if not cx:
                continue
            text = [""] * len(cx)  # the label sits on the last point well inside the plot
            inside = [j for j, y in enumerate(cy) if y <= y_range[1] - 0.08 * (y_range[1] - y_range[0])]
            if inside:
                text[inside[-1]] = f"score {level:g}"
            fig.add_trace(go.Scatter(
                x=cx, y=cy, mode="lines+text", text=text, textposition="top left",
                textfont={"size": 10, "color": "#8a8a8a"}, line={"color": "#bdbdbd", "dash": "dot",
                                                                  "width": 1},
                name="iso-score curves", legendgroup="iso", showlegend=i == 0, hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=[t_lo, t_hi], y=[bicubic["psnr_rgb"]] * 2, mode="lines", hoverinfo="skip",
            line={"color": "#7f7f7f", "dash": "dash", "width": 1.2},
            name=f"bicubic {bicubic['psnr_rgb']:.3f} dB"))
    front = pareto_front(list(zip(xs, ys)))
    fig.add_trace(go.Scatter(
        x=[xs[i] for i in front], y=[ys[i] for i in front], mode="lines", line_shape="hv",
        line={"color": "#d62728", "width": 1.5}, name="Pareto front", hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=[r["label"] for r in timed],
        textposition="top center", textfont={"size": 11}, customdata=[r["label"] for r in timed],
        hovertext=[hover_text(r) for r in timed], hovertemplate="%{hovertext}<extra></extra>",
        marker={"size": 11, "color": ["#d62728" if i in front else "#1f77b4" for i in range(len(xs))],
                "line": {"color": "white", "width": 1}},
        name="models (red: on the front)"))
    if outliers:
        fig.add_trace(outlier_trace(outliers, lo + 0.02 * (hi - lo)))
    fig.update_layout(
        template="none", height=440, margin={"l": 60, "r": 20, "t": 20, "b": 60},
        hovermode="closest", legend={"orientation": "h", "y": -0.2, "x": 0},
        xaxis={"type": "log", "range": [math.log10(t_lo), math.log10(t_hi)], "showgrid": True,
               "gridcolor": "#ececec", "title": {"text": f"runtime, mean ms ({kind}), log scale"},
               "tickvals": (ticks := log_ticks(t_min, t_max)), "ticktext": list(map(tick_text, ticks))},
        yaxis={"range": y_range, "showgrid": True, "gridcolor": "#ececec",
               "title": {"text": COLUMNS["psnr_rgb"].axis_title()}},
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    return fig


def outlier_trace(outliers: list[dict], edge_db: float) -> go.Scatter:
    """Models below the axis' outlier cut (``eval.report.chart_axes``): gray triangles on the bottom edge, labelled."""
    return go.Scatter(
        x=[r["runtime_ms"] for r in outliers], y=[edge_db] * len(outliers), mode="markers+text",
        text=[f"{r['label']} {r['psnr_rgb']:.2f} dB (off scale)" for r in outliers], textposition="top center",
        textfont={"size": 10, "color": "#7f7f7f"}, customdata=[r["label"] for r in outliers],
        hovertext=[hover_text(r) for r in outliers], hovertemplate="%{hovertext}<extra></extra>",
        marker={"size": 11, "symbol": "triangle-down", "color": "#7f7f7f"}, cliponaxis=False,
        name="off scale (more than 3 dB below bicubic)")


def script_json(obj) -> str:
    """JSON safe to place inside a ``<script type="application/json">`` element."""
    text = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))
    return text.replace("<", "\\u003c")  # a JSON string escape: "</script>" and "<!--" cannot occur


def crop_views(key: tuple[str, int, str], members: list[dict], sr_root: Path, site: Path,
               side: int = CROP_SIDE, count: int = CROPS_PER_SET,
               bicubic_hint: str = "python -m eval.evaluate --model bicubic ... --save-sr DIR"
               ) -> tuple[list[dict], str | None]:
    """Write the crop PNGs of one section; return the template's crop views and a note or None.

    ``members``: the section's leaderboard rows in rank order (bicubic included).
    """
    labels = [r["label"] for r in members if not is_bicubic_row(r)]
    bic_label = bicubic_label(members)
    bic_folder = sr_dir(sr_root, bic_label, *key)
    gt_folder = gt_dir(*key)
    if not bic_folder.is_dir():
        return [], f"No crops: no bicubic SR images in {bic_folder}; run `{bicubic_hint}`."
    if not gt_folder.is_dir():
        return [], f"No crops: no ground truth in {gt_folder}; run `python -m datasets.degrade`."
    others = [lb for lb in labels if sr_dir(sr_root, lb, *key).is_dir()]
    try:
        spots, _ = choose_spots_of(key, members, sr_root, side, count)
    except ImageError as exc:
        return [], f"No crops: {exc}"
    views = []
    folder = site / "crops" / anchor(key)
    folder.mkdir(parents=True, exist_ok=True)
    for i, spot in enumerate(spots):
        window = (slice(spot.top, spot.top + spot.side), slice(spot.left, spot.left + spot.side))
        ref = load_rgb(gt_folder / f"{spot.stem}.png")[window]
        panels = [("HR", ref, None)]
        for label in [bic_label, *others]:
            f = sr_dir(sr_root, label, *key) / f"{spot.stem}.png"
            if f.is_file():
                crop = load_rgb(f)[window]
                panels.append((label, crop, psnr_rgb(crop, ref)))
        options = []
        for j, (label, crop, psnr) in enumerate(panels):
            rel = f"crops/{anchor(key)}/{i}-{j}.png"
            Image.fromarray(np.ascontiguousarray(crop)).save(site / rel, optimize=True)
            text = label if psnr is None else f"{label} ({psnr:.2f} dB)"
            options.append({"label": label, "text": text, "src": rel})
        left = 1 if len(options) > 1 else 0
        views.append({"spot": spot, "options": options, "left": left,
                      "right": 2 if len(options) > 2 else 0, "size": spot.side * ZOOM})
    missing = [lb for lb in labels if lb not in others]
    note = None if not missing else ("No saved SR images for " + ", ".join(missing)
                                     + " (run eval.evaluate with --save-sr): not in the crops.")
    return views, note


def evaluate_command(data: dict) -> str:
    """The ``python -m eval.evaluate`` command that makes this result (rebuilt from its fields)."""
    rt = data.get("runtime")
    args = ["python", "-m", "eval.evaluate", "--model", str(data["model"])]
    if data.get("weights"):
        args += ["--weights", str(data["weights"])]
    args += ["--label", str(data.get("label") or data["model"]), "--dataset", str(data["dataset"]),
             "--scale", str(data["scale"]), "--degradation", str(data["degradation"])]
    if rt is None:
        args += ["--runtime", "off"]
    else:
        args += ["--runtime", "gpu" if rt.get("protocol") == GPU_PROTOCOL else "cpu"]
        args += [a for k in ("warmup", "passes") if rt.get(k) is not None
                 for a in (f"--{k}", str(rt[k]))]
    conv = data.get("conventions") or {}
    if conv.get("classic_y"):
        args += ["--y", "classic"]
    if str(conv.get("y", "")).lower().startswith("ntire23"):
        args += ["--y", "ntire23-compat"]
    return " ".join(shlex.quote(a) for a in args)


def _text(value) -> str:
    """A provenance value as one line of text."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "x".join(map(str, value)) if all(isinstance(v, int) for v in value) else \
            ", ".join(_text(v) for v in value)
    return str(value)


def provenance_fields(result: Result) -> list[tuple[str, str]]:
    """(name, text) pairs: command, file, weights, every provenance field, runtime, conventions."""
    d = result.data
    items = [("command (rebuilt from the result)", evaluate_command(d)),
             ("result file", result.path.name), ("weights", _text(d.get("weights"))),
             ("weights origin", origin_text(origin_of(d)))]
    items += [(str(k).replace("_", " "), _text(v)) for k, v in (d.get("provenance") or {}).items()]
    rt = d.get("runtime")
    if rt:
        items += [("runtime", _text({k: v for k, v in rt.items() if k != "device"})),
                  ("runtime device", _text(rt.get("device")))]
    for k in ("conventions", "fp16_check"):
        if d.get(k) is not None:
            items.append((k.replace("_", " "), _text(d[k])))
    return items


def raw_json(result: Result) -> str:
    """The result JSON without the per-image list, pretty-printed."""
    return json.dumps({k: v for k, v in result.data.items() if k != "per_image"}, indent=2)


def sections(rows: list[dict], results: list[Result], sr_root: Path, site: Path) -> list[dict]:
    """The template's view of every (dataset, scale, degradation) section, writing crop PNGs."""
    by_key: dict[tuple[str, int], dict[str, Result]] = {}
    for r in results:
        by_key.setdefault(r.key[:2], {})[r.label] = r
    out = []
    for (dataset, scale), members in tables_by_set(rows).items():
        group = by_key[(dataset, scale)]
        key = next(iter(group.values())).key
        page_rows = table_rows(members, group)
        columns = visible_columns(page_rows)
        kind, text = banner(page_rows)
        fig = chart(page_rows)
        first = next(iter(group.values()))
        hint = bicubic_command(*key, first.platform and first.platform[0], first.path.parent, sr_root)
        crops, crop_note = crop_views(key, members, sr_root, site, bicubic_hint=hint)
        untimed = [r["label"] for r in page_rows if r["runtime_ms"] is None]
        out.append({
            "id": anchor(key), "title": f"{dataset} x{scale} ({key[2]})", "banner_kind": kind,
            "banner": text, "images": len(next(iter(group.values())).data.get("per_image") or []),
            "columns": [column_view(c) for c in columns],
            "rows": [{"model": r["label"], "cells": cells(r, columns), "prov_id": f"prov-{anchor(key)}-{i}"}
                     for i, r in enumerate(page_rows)],
            "figure": None if fig is None else script_json(fig.to_json(validate=False)),
            "chart_note": ("not plotted (no runtime): " + ", ".join(untimed)) if untimed else None,
            "cpu_note": table_note(members),
            "crops": crops, "crop_note": crop_note,
            "provenance": [{"model": r["label"], "id": f"prov-{anchor(key)}-{i}",
                            "fields": provenance_fields(group[r["label"]]), "raw": raw_json(group[r["label"]])}
                           for i, r in enumerate(members)],
        })
    return out


def render(view: list[dict], notes: list[str]) -> str:
    """index.html from the Jinja2 template in ``eval/report/site_assets`` (autoescaped)."""
    env = Environment(loader=FileSystemLoader(ASSETS), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("index.html.j2").render(
        sections=view, notes=notes, definitions=page_definitions(), zoom=ZOOM, crop_side=CROP_SIDE)


def plotly_js() -> str:
    """The plotly.js bundle shipped with the installed plotly Python package."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def write_site(rows: list[dict], results: list[Result], sr_root: Path, out_dir: Path,
               notes: list[str] = ()) -> Path:
    """Build the site in a temporary sibling of ``out_dir``, then swap it in (``core.io.staging_dir``)."""
    out_dir = Path(out_dir)
    with staging_dir(out_dir) as tmp:
        view = sections(rows, results, Path(sr_root), tmp)
        (tmp / "index.html").write_text(render(view, list(notes)), encoding="utf-8")
        for name in STATIC_FILES:
            shutil.copyfile(ASSETS / name, tmp / name)
        (tmp / PLOTLY_JS).write_text(plotly_js(), encoding="utf-8")
    return out_dir / "index.html"
