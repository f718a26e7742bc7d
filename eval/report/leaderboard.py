"""``python -m eval.leaderboard``: rank result JSONs per (dataset, scale) by the NTIRE 2023 score.

Reads ``<data root>/results/*.json`` (``--results``), prints one rich table per test set (not with
``--quiet``, as the pipeline's stage runs it) and writes ``leaderboard/leaderboard.{md,csv,json}``,
``metrics/<set>_x<S>/<model>.json`` (one file per row, for ``dvc metrics show``),
``psnr_vs_runtime.png``, ``crops.png`` and the web page ``site/index.html`` (``eval.report.site``; ``--out``).
The same results give the same bytes in every file, so re-running it leaves DVC's outputs unchanged.
Each JSON row has exactly the keys in ``ROW_KEYS``. ``score`` follows ``eval.score.score`` with
P_bic = the RGB PSNR of the ``bicubic`` result of the same dataset/scale/degradation; it is null
when that row or the runtime is missing. A result of an external checkpoint (its ``external`` block,
``models.external``) gets a note naming it and what it was trained on. ``provenance`` says where
each row's weights came from (``eval.origin``: trained here at which budget, committed, released
by the authors, no weights, random, user checkpoint) and ``cpu_budget`` whether they were trained
at a CPU budget; a table with such a row has ``eval.origin.CPU_BUDGET_NOTE`` under it.
Every output is made in a staging folder inside ``--out``
and moved into place only when all of them were made (``core.io.staged_files``): a failure leaves
the previous leaderboard files as they were. Exit status (``core.cli``): 0 written, 1 unusable or
missing results (``eval.report.resultfiles.ResultError``: a summary that disagrees with its per-image
values, incomparable results, ...), 2 bad options; one line on stderr, nothing written.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError
from rich.console import Console
from rich.table import Table

from core.cli import cli_main, description
from core.errors import RtsrError
from core.io import check_output_dir, staged_files, staging_dir, write_atomic
from core.names import file_name
from core.overlap import refuse_overlap
from core.paths import REPO_ROOT
from core.protocol import DEGRADATIONS, GPU_PROTOCOL, LR_720P
from core.schema import SCALE_RULE, Bool, Scale
from eval.origin import origin_of, origin_text, table_note
from eval.report.columns import DVC_METRIC_KEYS, ROW_KEYS, TABLE_KEYS, columns, terminal_header
from eval.report.resultfiles import (
    Result,
    ResultError,
    bicubic_command,
    default_results_dir,
    default_sr_root,
    group_results,
    load_results,
    select,
    tables_by_set,
)
from eval.score import score as ntire23_score

CPU_WARNING = ("Runtimes are CPU figures (FP32, not the challenge's GPU FP16 protocol): "
               "scores are NOT comparable with the NTIRE 2023 challenge's.")


def default_out_dir() -> Path:
    """Where the leaderboard files go by default: ``<repo>/leaderboard``."""
    return REPO_ROOT / "leaderboard"


def gflops_720p(result: Result) -> float | None:
    """GFLOPs (1e9 FLOPs, FLOPs = 2 x MACs) for one 1280x720 LR frame; None without a count.

    ``eval.evaluate`` counts FLOPs at the protocol input (portrait 3840/S x 2160/S: 720p at x3,
    1080p at x2); other sizes are rescaled by pixel count, which is exact for fully convolutional
    models.
    """
    flops = result.data.get("flops")
    if not flops or flops.get("flops") is None:
        return None
    try:
        h, w = (int(v) for v in list(flops.get("input") or LR_720P)[-2:])
    except (TypeError, ValueError):
        raise ResultError(f"{result.path}: flops.input is {flops.get('input')!r}, expected "
                          "[1, 3, H, W]; re-run eval.evaluate") from None
    pixels = LR_720P[0] * LR_720P[1]
    return round(float(flops["flops"]) * pixels / (h * w) / 1e9, 3)


def group_rows(key: tuple[str, int, str], results: list[Result]) -> tuple[list[dict], list[str]]:
    """Leaderboard rows of one group, sorted and ranked, plus notes explaining any null score."""
    dataset, scale, degradation = key
    where = f"{dataset} x{scale} ({degradation})"
    bicubic = next((r for r in results if r.is_bicubic), None)
    notes = []
    if bicubic is None:
        platform = next((r.platform for r in results if r.platform), None)
        command = bicubic_command(dataset, scale, degradation, platform and platform[0],
                                  results[0].path.parent, default_sr_root())
        notes.append(f"{where}: no bicubic result, so no scores; run `{command}`")
    rows = [_row(r, bicubic) for r in results]
    notes += [external_note(where, r) for r in results if r.data.get("external")]
    unscored = [r["label"] for r in rows if r["score"] is None and r["runtime_ms"] is None]
    if bicubic is not None and unscored:
        notes.append(f"{where}: no runtime (evaluated with --runtime off), so no score: "
                     + ", ".join(unscored))
    rows.sort(key=_sort_key)
    rank = 0
    for row in rows:
        if row["score"] is not None:
            rank += 1
            row["rank"] = rank
    if rows and all(r["score"] is None for r in rows):
        notes.append(f"{where}: no scores; rows sorted by PSNR RGB and not ranked")
    return rows, notes


def external_note(where: str, result: Result) -> str:
    """The label of an external checkpoint's row: what it is and what it was trained on."""
    ext = result.data["external"]
    return (f"{where}: {result.label} is an external checkpoint ({ext.get('name')}: {ext.get('source')}), "
            f"trained on {ext.get('trained_on')}")


def _row(result: Result, bicubic: Result | None) -> dict:
    """One leaderboard row (keys ``ROW_KEYS``: ``label`` shown, ``model`` the registry name; ``rank`` later)."""
    d, rt = result.data, result.runtime
    origin = origin_of(d)
    runtime_ms = float(rt["mean_ms"]) if rt else None
    score = None
    if bicubic is not None and runtime_ms is not None:
        score = round(float(ntire23_score(d["psnr_rgb"], bicubic.data["psnr_rgb"], runtime_ms)), 4)
    return {
        "dataset": d["dataset"], "scale": d["scale"], "rank": None, "label": result.label, "model": d["model"],
        "provenance": origin_text(origin), "cpu_budget": origin.cpu_budget,
        "params": d.get("params"), "gflops_720p": gflops_720p(result),
        # raw values, formatted once where printed (rounding here, then again in a table, made
        # 0.870449 print as 0.8705 here and 0.8704 in eval.evaluate)
        "psnr_rgb": float(d["psnr_rgb"]), "ssim_rgb": float(d["ssim_rgb"]),
        "psnr_y": float(d["psnr_y"]), "ssim_y": float(d["ssim_y"]),
        "runtime_ms": None if runtime_ms is None else round(runtime_ms, 4),
        "runtime_device": None if rt is None else str(rt["device"].get("name", "?")),
        "runtime_protocol": None if rt is None else str(rt["protocol"]),
        "score": score,
    }


def _sort_key(row: dict) -> tuple:
    """Score descending (unscored last), then PSNR RGB descending, then label."""
    s = row["score"]
    return (s is None, -(s or 0.0), -row["psnr_rgb"], row["label"])


def runtime_notes(rows: list[dict]) -> list[str]:
    """The warning that scores are not challenge-comparable when no runtime is a GPU-FP16 one."""
    protocols = {r["runtime_protocol"] for r in rows if r["runtime_protocol"]}
    if not protocols:
        return ["No runtimes were measured (--runtime off): no scores."]
    if GPU_PROTOCOL not in protocols:
        return [CPU_WARNING]
    if len(protocols) > 1:
        return ["Some test sets have CPU runtimes: only the GPU-FP16 tables are challenge-comparable."]
    return []


def build(results: list[Result]) -> tuple[list[dict], list[str]]:
    """All rows (grouped in (dataset, scale) order) and all notes for validated results."""
    rows, notes = [], []
    for key, members in group_results(results).items():
        g_rows, g_notes = group_rows(key, members)
        rows += g_rows
        notes += g_notes
    return rows, runtime_notes(rows) + notes


def runtime_caption(members: list[dict]) -> str:
    """Under each table: which runtime statistic, protocol and device (one per table, enforced)."""
    timed = [r for r in members if r["runtime_ms"] is not None]
    if not timed:
        return "runtime: not measured (--runtime off)"
    r = timed[0]
    if r["runtime_protocol"] == GPU_PROTOCOL:
        return f"runtime: mean ms, NTIRE23 GPU-FP16 protocol, 720p->4K, on {r['runtime_device']}"
    return (f"runtime: mean ms, CPU-FP32 (not challenge-comparable), 720p->4K, "
            f"on {r['runtime_device']}")


def table_cells(row: dict) -> list[str]:
    """The cells of one row of the printed and markdown tables (``TABLE_KEYS``), formatted by their column."""
    return [c.format(row[c.key]) for c in columns(TABLE_KEYS)]


def rich_tables(rows: list[dict], degradation: str) -> list[tuple[Table, str]]:
    """One rich table per (dataset, scale), with its runtime caption line."""
    tables = []
    for (dataset, scale), members in tables_by_set(rows).items():
        t = Table(title=f"{dataset} x{scale} ({degradation})", title_justify="left")
        for c in columns(TABLE_KEYS):
            if c.key == "label":
                t.add_column(c.header, no_wrap=True, min_width=max(len(r["label"]) for r in members))
            elif c.is_text:
                t.add_column(c.header)
            else:
                header = terminal_header(c)
                t.add_column(header, justify="right", min_width=max(map(len, header.split("\n"))))
        for r in members:
            t.add_row(*table_cells(r))
        note = table_note(members)
        tables.append((t, runtime_caption(members) + (f"\n{note}" if note else "")))
    return tables


def md_text(value) -> str:
    """Text safe in a markdown table cell or heading: ``|`` escaped, line breaks as spaces."""
    return " ".join(str(value).replace("\\", "\\\\").replace("|", "\\|").splitlines())


def markdown(rows: list[dict], notes: list[str], degradation: str) -> str:
    """The leaderboard as markdown: one pipe table per (dataset, scale), then the notes."""
    lines = ["# rtsr-bench leaderboard", "",
             ("Score = 2 * 2**(PSNR_RGB - PSNR_RGB_bicubic) / (0.1 * sqrt(mean runtime ms)); "
              "0 at or below bicubic. See README.md for what every number means."), ""]
    for (dataset, scale), members in tables_by_set(rows).items():
        lines += [f"## {md_text(dataset)} x{scale} ({degradation})", "", md_text(runtime_caption(members)), "",
                  "| " + " | ".join(c.header for c in columns(TABLE_KEYS)) + " |",
                  "|" + "|".join("---" if c.is_text else "---:" for c in columns(TABLE_KEYS)) + "|"]
        lines += ["| " + " | ".join(map(md_text, table_cells(r))) + " |" for r in members]
        lines.append("")
        note = table_note(members)
        lines += [md_text(note), ""] if note else []
    if notes:
        lines += ["## Notes", ""] + [f"- {md_text(n)}" for n in notes] + [""]
    return "\n".join(lines)


def csv_text(rows: list[dict]) -> str:
    """The rows as CSV with the ``ROW_KEYS`` columns, in order."""
    buf = io.StringIO()
    pd.DataFrame(rows, columns=list(ROW_KEYS)).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def dvc_metrics(rows: list[dict]) -> dict[str, dict]:
    """``{"<dataset>_x<S>/<model>.json": {metric: value}}``: one flat file per row, so that
    ``dvc metrics show`` prints a row per model and test set and a column per metric."""
    return {f"{file_name(r['dataset'])}_x{r['scale']}/{file_name(r['label'])}.json":
            {k: r[k] for k in DVC_METRIC_KEYS} for r in rows}


def write_tables(rows: list[dict], notes: list[str], degradation: str, out_dir: Path) -> None:
    """Write leaderboard.md, .csv, .json and the metrics/ folder (for DVC) atomically into ``out_dir``."""
    write_atomic(out_dir / "leaderboard.md", markdown(rows, notes, degradation))
    write_atomic(out_dir / "leaderboard.csv", csv_text(rows))
    write_atomic(out_dir / "leaderboard.json", json.dumps(rows, indent=2) + "\n")
    with staging_dir(out_dir / "metrics") as tmp:  # the whole folder at once: no stale model files
        for rel, values in dvc_metrics(rows).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")


class LeaderboardOptionError(RtsrError):
    """A leaderboard option that cannot be used (bad input, exit status 2)."""


OUTPUT_NAMES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "metrics", "psnr_vs_runtime.png",
                "crops.png", "site")  # what write_outputs places into --out
MIN_CROP_SIZE = 8  # px: the smallest crop side crops.png shows


class LeaderboardOptions(BaseModel):
    """What ``build_leaderboard`` reads and writes; field names are the CLI's (``--crop-size`` -> ``crop_size``)."""

    model_config = ConfigDict(extra="forbid")

    results: Path | None = None  # folder of result JSONs; None: data/results (or $RTSR_DATA_ROOT/results)
    out: Path | None = None  # output folder; None: leaderboard/
    sr: Path | None = None  # root of saved SR images (datasets.paths.sr_dir layout); None: data/sr
    scale: Scale | None = None  # only results at this scale
    degradation: Literal[DEGRADATIONS] | None = None  # only results of this degradation
    dataset: StrictStr | None = None  # only results on this test set
    crop_dataset: StrictStr | None = None  # the one test set of crops.png; None: a panel per test set
    crop_size: Annotated[int, Field(ge=MIN_CROP_SIZE, strict=True)] = 96  # crop side in HR px
    figures: Bool = True  # write psnr_vs_runtime.png and crops.png
    site: Bool = True  # write the web page <out>/site/index.html
    quiet: Bool = False  # print no tables, only what was written (the pipeline's stage)


def write_outputs(opts: LeaderboardOptions, rows: list[dict], notes: list[str], results: list[Result],
                  degradation: str, out_dir: Path, console: Console) -> None:
    """The tables, the two figures and the web page into ``out_dir`` (a staging folder)."""
    write_tables(rows, notes, degradation, out_dir)
    sr_root = opts.sr or default_sr_root()
    if opts.figures:
        from eval.report.plots import write_crops, write_psnr_vs_runtime

        write_psnr_vs_runtime(rows, out_dir / "psnr_vs_runtime.png")
        msg = write_crops(rows, results, sr_root, out_dir / "crops.png",
                          crop_size=opts.crop_size, dataset=opts.crop_dataset)
        if msg:
            console.print(f"[yellow]note:[/yellow] {msg}", soft_wrap=True)
    if opts.site:
        from eval.report.site import write_site

        write_site(rows, results, sr_root, out_dir / "site", notes)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (the edge: ``options_from_args`` turns them into ``LeaderboardOptions``)."""
    p = argparse.ArgumentParser(prog="python -m eval.leaderboard", description=description(__doc__))
    p.add_argument("--results", type=Path, default=None,
                   help="folder of result JSONs (default: data/results, or $RTSR_DATA_ROOT/results)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: leaderboard/)")
    p.add_argument("--sr", type=Path, default=None,
                   help="root of saved SR images for the crops, laid out <degradation>_x<S>/<dataset>/"
                        "<label>/<stem>.png (default: data/sr, or $RTSR_DATA_ROOT/sr)")
    p.add_argument("--scale", type=int, default=None, help="only results at this scale (default: all)")
    p.add_argument("--degradation", default=None, choices=DEGRADATIONS,
                   help="only results of this degradation (default: all)")
    p.add_argument("--dataset", default=None, help="only results on this test set (default: all)")
    p.add_argument("--crop-dataset", default=None,
                   help="the one test set shown in crops.png (default: a panel per test set)")
    p.add_argument("--crop-size", type=int, default=96, help="crop side in HR pixels (default: 96)")
    p.add_argument("--no-figures", dest="figures", action="store_false",
                   help="skip the two PNG figures (default: write them)")
    p.add_argument("--no-site", dest="site", action="store_false",
                   help="skip the web page <out>/site/index.html (default: write it)")
    p.add_argument("--quiet", action="store_true",
                   help="print no tables, only what was written (the pipeline's stage; default: print)")
    return p


def options_from_args(args: argparse.Namespace) -> LeaderboardOptions:
    """The ``LeaderboardOptions`` of parsed arguments; LeaderboardOptionError naming the flag otherwise."""
    try:
        return LeaderboardOptions(**vars(args))
    except ValidationError as exc:
        err = exc.errors()[0]
        flag = "--" + str(err["loc"][0]).replace("_", "-")
        bound = {"scale": f"must be {SCALE_RULE}", "crop_size": f"must be >= {MIN_CROP_SIZE} px"}
        raise LeaderboardOptionError(f"{flag}={err.get('input')!r}: "
                                     f"{bound.get(str(err['loc'][0]), err['msg'])}") from None


def leaderboard_console() -> Console:
    """A rich console; off a terminal (logs, CI) at least 120 columns, so tables are not squeezed."""
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, 120))


def build_leaderboard(opts: LeaderboardOptions, console: Console | None = None) -> Path:
    """Rank the results, print the tables (unless ``quiet``) and write every output; returns the out folder.

    ResultError (exit 1) for missing or unusable results; LeaderboardOptionError (exit 2) for bad options.
    """
    console = console or leaderboard_console()
    results_dir = opts.results or default_results_dir()
    out = Path(opts.out or default_out_dir())  # what is written there must not touch an input
    refuse_overlap({f"--out {out}: its {name}": out / name for name in OUTPUT_NAMES},
                   {"--results": results_dir, "--sr": opts.sr or default_sr_root()})
    out_dir = check_output_dir(out, "--out")
    results, dropped = select(load_results(results_dir), opts.scale, opts.degradation, opts.dataset)
    if not results:
        raise ResultError(f"none of the {len(dropped)} result files in {results_dir} match "
                          "--scale/--degradation/--dataset")
    rows, notes = build(results)
    if dropped:
        notes.append(f"ignored {len(dropped)} result file(s) outside the selection: "
                     + ", ".join(r.path.name for r in dropped))
    degradation = results[0].key[2]
    if not opts.quiet:
        for table, caption in rich_tables(rows, degradation):
            console.print(table)
            console.print(caption, soft_wrap=True)
        for n in notes:
            console.print(f"[yellow]note:[/yellow] {n}", soft_wrap=True)
    with staged_files(out_dir) as staging:  # all made, then all moved into out_dir
        write_outputs(opts, rows, notes, results, degradation, staging, console)
    console.print(f"wrote {out_dir}/leaderboard.md, .csv, .json, metrics/"
                  + (", psnr_vs_runtime.png, crops.png" if opts.figures else "")
                  + (", site/index.html" if opts.site else "")
                  + (f" ({len(rows)} rows; `python -m eval.leaderboard` prints them)" if opts.quiet else ""),
                  soft_wrap=True)
    return out_dir


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Entry point (``core.cli``): missing/unusable results exit 1, bad options 2, one line on stderr."""
    build_leaderboard(options_from_args(build_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
