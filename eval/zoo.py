"""``python -m eval.zoo``: evaluate external checkpoints of the zoo at their own scale, next to bicubic.

Usage::

    python -m eval.zoo --entries rfdn_aim2020 imdn_aim2019 [--sets set5 set14 urban100]
        [--degradations classic ntire23] [--official-dir DIR] [--out DIR]
        [--runtime off|cpu|gpu] [--passes N] [--warmup N]
    python -m eval.zoo --all ...          # every entry of models.external.ZOO

Each entry (``models.external.ZOO``: file name, sha256, registered model, scale, training data) is
looked for in ``--official-dir`` (default ``$RTSR_OFFICIAL_DIR`` or ``../shared/official``). An absent
file is **skipped with a note**; a file whose sha256 differs from the entry's is refused (exit 2:
it is not the released file). Every present entry is evaluated with ``eval.evaluate`` on every set
x degradation at the entry's scale, with the references of that group (``bicubic``, the score's
reference, and for ``classic`` also ``bicubic_matlab``, the published tables' bicubic), into one
results folder per comparable group: ``<out>/<degradation>_x<scale>/<label>_<set>.json``, which
``python -m eval.leaderboard --results <that folder> --out ...`` ranks (the external checkpoints
labelled in its notes with what they were trained on). ``<out>/NOTES.md`` lists what was evaluated
and what was skipped. The default ``--out`` is ``<data root>/results_zoo``; the pipeline's
``evaluate_zoo`` stage runs this command with the ``zoo`` section of params.yaml.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from core.cli import cli_main
from core.hashing import file_sha256
from core.io import write_atomic
from core.paths import data_root, official_dir
from core.protocol import BICUBIC, DEGRADATIONS
from datasets.registry import get_dataset
from eval.errors import EvalError
from eval.evaluate import evaluate, write_result
from eval.options import RUNTIMES, EvalOptions
from models.external import ZOO, ExternalCheckpoint, zoo_entry, zoo_names

REFERENCES = {"classic": (BICUBIC, "bicubic_matlab"), "ntire23": (BICUBIC,)}


def default_out_dir() -> Path:
    """``<data root>/results_zoo``."""
    return data_root() / "results_zoo"


def group_dir(out: Path, degradation: str, scale: int) -> Path:
    """The results folder of one comparable group."""
    return Path(out) / f"{degradation}_x{scale}"


def locate(entries: list[ExternalCheckpoint], folder: Path) -> tuple[list[tuple[ExternalCheckpoint, Path]], list[str]]:
    """(present entries with their paths, notes on the skipped ones); a file with another sha256 is refused."""
    present, notes = [], []
    for entry in entries:
        path = entry.path(folder)
        if not path.is_file():
            notes.append(f"{entry.name}: skipped, {path} not found (set RTSR_OFFICIAL_DIR or --official-dir)")
            continue
        digest = file_sha256(path)
        if digest != entry.sha256:
            raise EvalError(f"{path}: sha256 {digest[:12]}... is not the released {entry.name} file "
                            f"({entry.sha256[:12]}...); replace it or point --official-dir elsewhere")
        present.append((entry, path))
    return present, notes


def runs(present: list[tuple[ExternalCheckpoint, Path]], sets: list[str], degradations: list[str]
         ) -> list[tuple[str, str | None, str, str, int, str]]:
    """(label, weights, model, set, scale, degradation) of every evaluation, references first, no duplicates."""
    out, seen = [], set()
    for degradation in degradations:
        for scale in sorted({entry.scale for entry, _ in present}):
            for dataset in sets:
                todo = [(ref, None, ref) for ref in REFERENCES[degradation]]
                todo += [(e.name, str(p), e.model) for e, p in present if e.scale == scale]
                for label, weights, model in todo:
                    key = (label, dataset, scale, degradation)
                    if key not in seen:
                        seen.add(key)
                        out.append((label, weights, model, dataset, scale, degradation))
    return out


def run_all(entries: list[ExternalCheckpoint], sets: list[str], degradations: list[str], folder: Path,
            out: Path, runtime: str = "off", passes: int | None = None, warmup: int | None = None,
            console: Console | None = None) -> tuple[list[dict], list[str]]:
    """Evaluate every present entry and its references; write the result JSONs and NOTES.md; (results, notes)."""
    console = console or Console(stderr=True)
    for degradation in degradations:
        if degradation not in REFERENCES:
            raise EvalError(f"unknown degradation {degradation!r}; use {', '.join(DEGRADATIONS)}")
    for dataset in sets:
        get_dataset(dataset)
    present, notes = locate(entries, folder)
    results = []
    for label, weights, model, dataset, scale, degradation in runs(present, sets, degradations):
        opts = EvalOptions(model=model, weights=weights, label=label, dataset=dataset, scale=scale,
                           degradation=degradation, runtime=runtime, passes=passes, warmup=warmup)
        result = evaluate(opts, console)
        write_result(result, group_dir(out, degradation, scale) / f"{label}_{dataset}.json")
        results.append(result)
    notes += [f"{e.name}: evaluated {p} ({e.model} x{e.scale}; trained on {e.trained_on})" for e, p in present]
    Path(out).mkdir(parents=True, exist_ok=True)
    write_atomic(Path(out) / "NOTES.md", "# eval.zoo\n\n" + "".join(f"- {n}\n" for n in notes or ["nothing asked"]))
    return results, notes


def summary(results: list[dict]) -> Table:
    """PSNR/SSIM Y and RGB per result, with the gain over bicubic of the same group."""
    table = Table(title="zoo: external checkpoints at their own scale", title_justify="left")
    for col in ("model", "set", "scale", "degradation", "PSNR Y", "SSIM Y", "PSNR RGB", "vs bicubic RGB"):
        table.add_column(col, justify="left" if col in ("model", "set", "degradation") else "right")
    bicubic = {(r["dataset"], r["scale"], r["degradation"]): r["psnr_rgb"] for r in results
               if r["model"] == BICUBIC}
    for r in results:
        ref = bicubic.get((r["dataset"], r["scale"], r["degradation"]))
        gain = "-" if ref is None or r["model"] == BICUBIC else f"{r['psnr_rgb'] - ref:+.3f}"
        table.add_row(r["label"], r["dataset"], str(r["scale"]), r["degradation"], f"{r['psnr_y']:.3f}",
                      f"{r['ssim_y']:.4f}", f"{r['psnr_rgb']:.3f}", gain)
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (``--entries``/``--sets``/``--degradations`` as DVC's dict unpacking writes them)."""
    p = argparse.ArgumentParser(prog="python -m eval.zoo", description=__doc__.splitlines()[0])
    p.add_argument("--entries", nargs="*", default=[], metavar="NAME",
                   help=f"zoo entries to evaluate (known: {', '.join(zoo_names())}); none by default")
    p.add_argument("--all", action="store_true", help="every zoo entry")
    p.add_argument("--sets", nargs="+", default=["set5"], metavar="SET", help="test sets (default: set5)")
    p.add_argument("--degradations", nargs="+", default=list(DEGRADATIONS), metavar="D",
                   help="classic and/or ntire23 (default: both)")
    p.add_argument("--official-dir", type=Path, default=None,
                   help="folder of the checkpoint files (default: $RTSR_OFFICIAL_DIR or ../shared/official)")
    p.add_argument("--out", type=Path, default=None, help="results root (default: <data root>/results_zoo)")
    p.add_argument("--runtime", choices=RUNTIMES, default="off", help="as eval.evaluate (default: off)")
    p.add_argument("--passes", type=int, default=None, help="timed passes (as eval.evaluate)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up passes (as eval.evaluate)")
    return p.parse_args(argv)


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Entry point (``core.cli``: bad input is one line on stderr, exit status 2)."""
    args = parse_args(argv)
    entries = list(ZOO) if args.all else [zoo_entry(name) for name in args.entries]
    console = Console(stderr=True)
    folder = args.official_dir or official_dir()
    if args.entries and not Path(folder).is_dir():  # named entries: a missing folder is a mistake
        raise EvalError(f"{folder}: the checkpoint folder does not exist (RTSR_OFFICIAL_DIR or "
                        "--official-dir); give the folder that holds the released files")
    results, notes = run_all(entries, args.sets, args.degradations, folder,
                             args.out or default_out_dir(), args.runtime, args.passes, args.warmup, console)
    if results:
        Console().print(summary(results))
    for note in notes:
        console.print(f"note: {note}", soft_wrap=True)
    if not entries:
        console.print(f"note: no zoo entries asked (--entries NAME ... or --all; known: {', '.join(zoo_names())})")


if __name__ == "__main__":
    sys.exit(main())
