"""``python -m eval.report.ablations``: the Bicubic++ ablation table from the DVC experiments of ``ablation/dvc.yaml``.

Reads ``dvc exp show --json`` (or ``--exp-show FILE``, its saved output): every experiment (and
committed baseline) whose ``ablation/metrics/variant.json`` (``eval.report.ablation_metrics``) parsed is one variant,
described by its ``ablation`` params (channels, convs_per_block m, blocks R, downsample, act, bias).
Writes ``leaderboard/ablations.md`` (``--out``) and ``ablations.png`` (PSNR RGB vs GFLOPs per test
set) and prints the table: per variant params, GFLOPs per 1280x720 LR frame, PSNR RGB per test set,
the CPU runtime of the experiment's evaluation (FP32, not the challenge's protocol) and, where a GPU
suite report (``leaderboard/gpu/<card>/report.json``) timed the same architecture (its channels
sweep times the paper's final form: m=2, R=1, strided, LeakyReLU, no bias, at each channel count),
that card's FP16 protocol mean.

Variants are only compared under one setting: experiments with different profiles, training
settings, test sets or runtime protocols go to separate tables. Two experiments of the same variant
and setting: the newer one is kept. Exit status (``core.cli``): 0 written, 2 when no experiment has
ablation metrics or the JSON cannot be read (one line on stderr, nothing written).
"""
from __future__ import annotations

import argparse
import glob
import inspect
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from core.cli import cli_main
from core.errors import RtsrError
from core.io import write_atomic
from core.params import PARAMS_FILE
from core.paths import REPO_ROOT
from models.bicubic_pp import BicubicPP

METRICS_FILE = "ablation/metrics/variant.json"  # in ablation/dvc.yaml's metrics folder
AXES = ("channels", "convs_per_block", "blocks", "downsample", "act", "bias")
SHORT = {"channels": "ch", "convs_per_block": "m", "blocks": "R", "downsample": "down", "act": "act",
         "bias": "bias"}
NUMERIC = {"channels", "convs_per_block", "blocks", "params", "gflops_720p", "cpu_ms"}
TERMINAL_HIDDEN = set(AXES)  # the terminal table names a variant by its label only (the .md has every axis)
# The paper's final Bicubic++ (what the GPU suite's channels sweep times at each channel count).
FINAL = {k: v.default for k, v in inspect.signature(BicubicPP.__init__).parameters.items() if k in AXES}


class AblationError(RtsrError):
    """No usable ablation experiments, or an unreadable ``dvc exp show`` output; the message says why."""


def read_exp_show(path: str | None, all_commits: bool = False) -> list:
    """The parsed ``dvc exp show --json`` output: from ``path``, or by running DVC in the workspace."""
    if path:
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AblationError(f"{path}: cannot read `dvc exp show --json` output ({exc})") from None
    dvc = shutil.which("dvc")
    cmd = [dvc] if dvc else [sys.executable, "-m", "dvc"]
    cmd += ["exp", "show", "--json", *(["--all-commits"] if all_commits else [])]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise AblationError(f"`{' '.join(cmd[-3:])}` failed: {last}")
    return json.loads(proc.stdout)


def _revisions(show: list):
    """(name, rev data, is an experiment) for every committed baseline and experiment in ``dvc exp show --json``."""
    for entry in show:
        if entry.get("rev") == "workspace":
            continue  # uncommitted: an experiment applied there is listed as itself
        yield entry.get("name") or entry["rev"][:7], entry.get("data") or {}, False
        for exp in entry.get("experiments") or []:
            for rev in exp.get("revs") or []:
                yield rev.get("name") or exp.get("name") or rev["rev"][:7], rev.get("data") or {}, True


def _file_data(data: dict, kind: str, name: str) -> dict | None:
    """The parsed content of params/metrics file ``name`` in one revision's data, None if absent or broken."""
    entry = (data.get(kind) or {}).get(name) or {}
    return entry.get("data") if isinstance(entry.get("data"), dict) else None


def setting_of(params: dict, metrics: dict) -> str:
    """What must be equal for two variants to share a table (JSON text: profile, training, evaluation)."""
    train = params.get("train") or {}
    return json.dumps({"profile": params.get("profile"), "scale": metrics.get("scale"),
                       "degradation": metrics.get("degradation"),
                       "train": {**(train.get("base") or {}), **(train.get("ablation") or {})},
                       "test_sets": sorted(metrics.get("psnr_rgb") or {}),
                       "runtime": [metrics.get("runtime_protocol"), metrics.get("runtime_device")]},
                      sort_keys=True)


def collect(show: list) -> tuple[list[dict], list[str]]:
    """(variant rows, notes) from ``dvc exp show --json``; a row: experiment, variant, setting, metrics."""
    rows, skipped, notes = {}, [], []
    for name, data, is_experiment in _revisions(show):
        params, metrics = _file_data(data, "params", PARAMS_FILE), _file_data(data, "metrics", METRICS_FILE)
        if metrics is None or params is None or not isinstance(params.get("ablation"), dict):
            if is_experiment:
                skipped.append(name)
            continue
        variant = {k: params["ablation"].get(k) for k in AXES}
        psnr = metrics.get("psnr_rgb") or {}
        test_sets = [s for s in params.get("test_sets") or [] if s in psnr] + sorted(
            s for s in psnr if s not in (params.get("test_sets") or []))  # the profile's order
        row = {"experiment": name, "timestamp": data.get("timestamp") or "", "variant": variant,
               "setting": setting_of(params, metrics), "metrics": metrics, "test_sets": test_sets}
        key = (row["setting"], json.dumps(variant, sort_keys=True))
        if key in rows:
            old, new = sorted([rows[key], row], key=lambda r: r["timestamp"])
            notes.append(f"{old['experiment']} and {new['experiment']}: the same variant and setting; "
                         f"kept the newer {new['experiment']}")
            row = new
        rows[key] = row
    if not rows:
        raise AblationError(f"no experiment with {METRICS_FILE} in `dvc exp show` ({len(skipped)} without); queue "
                            "the grid with `dvc exp run --queue ablation/dvc.yaml -S ...` and `dvc queue start` "
                            "(README, \"Ablation grid\")")
    if skipped:
        notes.append(f"{len(skipped)} experiments without {METRICS_FILE} (of the main pipeline, queued or "
                     f"failed) are not in the table: {', '.join(skipped)}")
    return sorted(rows.values(), key=lambda r: (r["setting"], sort_key(r["variant"]))), notes


def sort_key(variant: dict) -> tuple:
    """Variants in axis order (channels, m, R numerically; then downsample, act, bias)."""
    return tuple((0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v)) for v in
                 (variant[k] for k in AXES))


def variant_label(variant: dict) -> str:
    """The axes that differ from the paper's final Bicubic++ (``ch16 R2``), or ``final``."""
    diff = [f"{SHORT[k]}{v}" if isinstance(v, int) and not isinstance(v, bool) else f"{SHORT[k]}={v}"
            for k, v in variant.items() if v != FINAL[k]]
    return " ".join(diff) or "final"


def gpu_sweeps(pattern: str) -> dict[str, dict]:
    """{card: {"scale": S, "ms": {channels: FP16 protocol mean ms}}} from GPU suite reports' channels sweeps."""
    sweeps = {}
    for path in sorted(glob.glob(pattern)):
        try:
            report = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AblationError(f"{path}: cannot read the GPU suite report ({exc})") from None
        sweep = (report.get("steps") or {}).get("sweep") or {}
        if sweep.get("status") == "ok" and sweep.get("rows"):
            sweeps[str(report.get("card", Path(path).parent.name))] = {
                "scale": (report.get("settings") or {}).get("scale"),
                "ms": {int(r["channels"]): float(r["mean_ms"]) for r in sweep["rows"]}}
    return sweeps


def gpu_ms(variant: dict, scale: int, sweep: dict) -> float | None:
    """The sweep's runtime of this architecture: only the final form (any channel count) at the same scale."""
    if sweep["scale"] != scale or any(variant[k] != FINAL[k] for k in AXES if k != "channels"):
        return None
    return sweep["ms"].get(variant["channels"])


def table_rows(rows: list[dict], sweeps: dict[str, dict]) -> list[dict]:
    """Flat display rows: experiment, the axes, params, GFLOPs, PSNR per set, CPU ms, GPU ms per card."""
    out = []
    for r in rows:
        m = r["metrics"]
        flat = {"experiment": r["experiment"], "variant": variant_label(r["variant"]), **r["variant"],
                "params": m.get("params"), "gflops_720p": m.get("gflops_720p")}
        flat.update({f"psnr_rgb {s}": m["psnr_rgb"][s] for s in r["test_sets"]})
        flat["cpu_ms"] = m.get("runtime_ms") if m.get("runtime_protocol") == "cpu-fp32" else None
        flat.update({f"gpu_ms {card}": gpu_ms(r["variant"], m.get("scale"), sw) for card, sw in sweeps.items()})
        out.append(flat)
    return out


def _fmt(value) -> str:
    """A table cell: '-' for missing, 4 decimals for PSNR-like floats, plain otherwise."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if value < 100 else f"{value:.1f}"
    return str(value)


def caption(setting: str) -> str:
    """One line describing a table's setting (profile, training, test sets, runtime)."""
    s = json.loads(setting)
    t = s["train"]
    runtime = s["runtime"][0] or "not measured"
    return (f"profile {s['profile']}, x{s['scale']} {s['degradation']}; training {t.get('epochs')} epochs x "
            f"{t.get('pairs_per_epoch')} pairs (LR patch {t.get('lr_patch')}, batch {t.get('batch')}, lr "
            f"{t.get('lr')}) on {', '.join(t.get('train_sets') or [])}; CPU runtime: {runtime}"
            + (f" on {s['runtime'][1]}" if s["runtime"][1] else ""))


def header(col: str) -> str:
    """A column's heading: the axes by their short names (ch, m, R, ...), the rest as is."""
    return SHORT.get(col, col)


def markdown(groups: dict[str, list[dict]], notes: list[str], sweeps: dict[str, dict]) -> str:
    """leaderboard/ablations.md: one table per setting, then the definitions and notes."""
    intro = ("One DVC experiment per variant (`ablation/dvc.yaml`), collected by `python -m eval.report.ablations`. "
             "`variant` names the axes that differ from the paper's final network (ch32, m2, R1, strided "
             "conv, LeakyReLU, no bias). PSNR: RGB, dB (the challenge metric). GFLOPs: per 1280x720 LR "
             "frame. CPU ms: FP32 mean on the experiment's machine, **not** the challenge's GPU protocol.")
    lines = ["# Bicubic++ ablations", "", intro, ""]
    for setting, rows in groups.items():
        cols = list(rows[0])
        lines += [f"**{caption(setting)}**", "", "| " + " | ".join(map(header, cols)) + " |",
                  "|" + "|".join("---:" if c in NUMERIC or c.startswith(("psnr", "gpu")) else "---"
                                 for c in cols) + "|"]
        lines += ["| " + " | ".join(_fmt(r[c]) for c in cols) + " |" for r in rows]
        lines.append("")
    if sweeps:
        lines.append("GPU ms: the FP16 protocol mean (official 1280x720 tensor) of the GPU suite's channels "
                     f"sweep on {', '.join(sweeps)} (`leaderboard/gpu/*/report.json`), for the variants "
                     "with its architecture (final form at that channel count); `-` for the others.")
        lines.append("")
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines).rstrip() + "\n"


def write_plot(groups: dict[str, list[dict]], path: Path) -> None:
    """ablations.png: PSNR RGB vs GFLOPs (720p), one panel per (setting, test set), points labelled by variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(setting, col) for setting, rows in groups.items() for col in rows[0] if col.startswith("psnr_rgb ")]
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.2 * nrows), squeeze=False)
    for ax, (setting, col) in zip(axes.flat, panels):
        rows = [r for r in groups[setting] if r["gflops_720p"] is not None and r[col] is not None]
        ax.scatter([r["gflops_720p"] for r in rows], [r[col] for r in rows],
                   c=["tab:red" if r["variant"] == "final" else "tab:blue" for r in rows], zorder=3)
        for r in rows:
            ax.annotate(r["variant"], (r["gflops_720p"], r[col]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        profile = json.loads(setting)["profile"]
        ax.set(title=f"{col.split(' ', 1)[1]} ({profile})", xlabel="GFLOPs per 720p frame",
               ylabel="PSNR RGB (dB)")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle("Bicubic++ ablations (red: the paper's final network)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    write_atomic(path, buf.getvalue())


def rich_table(setting: str, rows: list[dict]) -> Table:
    """The terminal table of one setting."""
    table = Table(title=caption(setting))
    cols = [c for c in rows[0] if c not in TERMINAL_HIDDEN]
    for col in cols:
        table.add_column(col, justify="left" if col in ("experiment", "variant") else "right")
    for r in rows:
        table.add_row(*(_fmt(r[c]) for c in cols))
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    p = argparse.ArgumentParser(prog="python -m eval.report.ablations", description=__doc__.splitlines()[0])
    p.add_argument("--exp-show", metavar="FILE", help="saved `dvc exp show --json` output (default: run it)")
    p.add_argument("--all-commits", action="store_true", help="experiments of every commit (dvc exp show -A)")
    p.add_argument("--out", default=str(REPO_ROOT / "leaderboard"), help="folder for ablations.md and .png")
    p.add_argument("--gpu-reports", default=str(REPO_ROOT / "leaderboard" / "gpu" / "*" / "report.json"),
                   help="glob of GPU suite reports whose channels sweep gives GPU runtimes")
    return p.parse_args(argv)


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Entry point (``core.cli``: a bad input is one line on stderr, exit status 2)."""
    args = parse_args(argv)
    rows, notes = collect(read_exp_show(args.exp_show, args.all_commits))
    sweeps = gpu_sweeps(args.gpu_reports)
    groups: dict[str, list[dict]] = {}
    for row, flat in zip(rows, table_rows(rows, sweeps)):
        groups.setdefault(row["setting"], []).append(flat)
    out = Path(args.out)
    write_atomic(out / "ablations.md", markdown(groups, notes, sweeps))
    write_plot(groups, out / "ablations.png")
    console = Console()
    for setting, members in groups.items():
        console.print(rich_table(setting, members))
    for note in notes:
        console.print(f"note: {note}")
    console.print(f"wrote {out / 'ablations.md'} and {out / 'ablations.png'} ({len(rows)} variants)")


if __name__ == "__main__":
    sys.exit(main())
