"""``python -m eval.regress``: the CI gate comparing current result JSONs with a committed reference.

A regression is, per (dataset, scale, degradation, model label) in the reference:
  - the model is missing from the current results;
  - its PSNR RGB or PSNR Y dropped by more than ``--psnr-tol`` dB (default 0.05);
  - its runtime ratio to bicubic (both measured in the same run on the same device) grew by more
    than ``--runtime-tol`` (default 0.20, i.e. 20 %).
The runtime check is *refused* (not passed, not failed) when the current runtime was measured on
another protocol/device than the reference's, or is missing; PSNR is still checked. Refused checks
are printed; ``--require-runtime`` turns them into failures.
Nothing is taken on trust: the current results' set means are recomputed from their per-image
values (``eval.resultfiles``), and the reference is validated as a whole (``ReferenceEntry``: at
least one entry, finite PSNRs, positive runtimes, no entry twice); the tolerances must be finite
and >= 0.
Exit status (``core.cli``): 0 no regression; 1 regression(s), or current results missing or
unusable (one line on stderr); 2 bad input: a missing or invalid reference, a bad tolerance.
``--update`` rewrites the reference from the current results on purpose (exit 0).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError
from rich.console import Console
from rich.table import Table

from core.cli import EXIT_FAILURE, cli_main
from core.errors import RtsrError
from core.io import check_output_file, write_atomic
from core.paths import REPO_ROOT
from core.schema import Float, Name, PositiveFloat, Scale, error_line
from eval.resultfiles import Result, default_results_dir, group_results, load_results

SCHEMA = "rtsr-bench-reference/1"
ENTRY_KEYS = ("dataset", "scale", "degradation", "model", "psnr_rgb", "psnr_y", "runtime_ms",
              "runtime_ratio_to_bicubic", "runtime_protocol", "runtime_device")
EPS = 1e-9  # float slack so that a change of exactly the tolerance passes
EXIT_OK, EXIT_REGRESSION, EXIT_UNUSABLE = 0, EXIT_FAILURE, EXIT_FAILURE  # bad input: 2 (core.cli)


class ReferenceFileError(RtsrError):
    """A reference file or tolerance the gate cannot use (bad input, exit status 2)."""


class ReferenceEntry(BaseModel):
    """One reference entry (``ENTRY_KEYS``), strictly typed: finite PSNRs, runtimes > 0 or null."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    dataset: Name
    scale: Scale
    degradation: Name
    model: Name
    psnr_rgb: Float
    psnr_y: Float
    runtime_ms: PositiveFloat | None
    runtime_ratio_to_bicubic: PositiveFloat | None
    runtime_protocol: StrictStr | None
    runtime_device: StrictStr | None


@dataclass(frozen=True)
class Finding:
    """One failed (or refused) check: where, what, the two values and the limit."""

    where: str
    model: str
    check: str
    reference: str
    current: str
    change: str
    limit: str


def default_reference() -> Path:
    """The committed reference: ``<repo>/leaderboard/reference.json``."""
    return REPO_ROOT / "leaderboard" / "reference.json"


def entries_from_results(results: list[Result]) -> list[dict]:
    """One reference entry (``ENTRY_KEYS``) per result, with its runtime ratio to bicubic."""
    entries = []
    for members in group_results(results, single_degradation=False).values():
        bicubic = next((r for r in members if r.is_bicubic), None)
        bic_ms = bicubic.runtime["mean_ms"] if bicubic is not None and bicubic.runtime else None
        for r in members:
            rt = r.runtime
            ms = float(rt["mean_ms"]) if rt else None
            platform = r.platform
            entries.append({
                "dataset": r.key[0], "scale": r.key[1], "degradation": r.key[2], "model": r.label,
                "psnr_rgb": round(float(r.data["psnr_rgb"]), 4),
                "psnr_y": round(float(r.data["psnr_y"]), 4),
                "runtime_ms": None if ms is None else round(ms, 4),
                "runtime_ratio_to_bicubic": None if ms is None or bic_ms is None
                else round(ms / float(bic_ms), 4),
                "runtime_protocol": platform[0] if platform else None,
                "runtime_device": platform[1] if platform else None,
            })
    return sorted(entries, key=_entry_key)


def _entry_key(e: dict) -> tuple:
    """Identity of an entry: (dataset, scale, degradation, model label)."""
    return (e["dataset"], e["scale"], e["degradation"], e["model"])


def load_reference(path: Path) -> list[dict]:
    """Read and validate a reference file; ``ReferenceFileError`` (one line, naming it) if unusable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReferenceFileError(f"{path}: no reference; create it on purpose with "
                                 "`python -m eval.regress --update`") from None
    except IsADirectoryError:
        raise ReferenceFileError(f"{path}: is a folder; --reference needs the reference JSON file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReferenceFileError(f"{path}: corrupt reference ({str(exc).splitlines()[0]}); restore it "
                                 "from git or rewrite it with --update") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(entries, list):
        raise ReferenceFileError(f"{path}: not a {SCHEMA} reference; rewrite it with --update")
    if not entries:
        raise ReferenceFileError(f"{path}: the reference has no entries, so it checks nothing; restore "
                                 "it from git or rewrite it with --update from a complete run")
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or any(k not in e for k in ENTRY_KEYS):
            raise ReferenceFileError(f"{path}: entry {i} lacks one of {', '.join(ENTRY_KEYS)}; "
                                     "rewrite it with --update")
        try:
            ReferenceEntry.model_validate(e)
        except ValidationError as exc:
            raise ReferenceFileError(error_line(exc, f"{path}", lambda key, i=i: f"entries[{i}].{key}")
                                     + "; restore it from git or rewrite it with --update") from None
    keys = [_entry_key(e) for e in entries]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:
        raise ReferenceFileError(f"{path}: two entries for {' '.join(map(str, twice))}; keep one "
                                 "(or rewrite it with --update)")
    return entries


def check_tolerance(flag: str, value: float) -> float:
    """A tolerance must be a finite number >= 0 (NaN would pass every check)."""
    if not math.isfinite(value) or value < 0:
        raise ReferenceFileError(f"{flag}={value!r}: must be a finite number >= 0 (e.g. {flag} 0.05)")
    return value


def reference_text(entries: list[dict]) -> str:
    """The reference file's content (stable: sorted entries, no timestamps)."""
    doc = {"schema": SCHEMA,
           "about": "written on purpose by `python -m eval.regress --update`; compared by "
                    "`python -m eval.regress` (see README.md)",
           "entries": entries}
    return json.dumps(doc, indent=2) + "\n"


def compare(reference: list[dict], current: list[dict], psnr_tol: float = 0.05,
            runtime_tol: float = 0.20) -> tuple[list[Finding], list[Finding], list[str]]:
    """(regressions, refused runtime checks, notes) of ``current`` against ``reference``."""
    cur = {_entry_key(e): e for e in current}
    regressions, refused = [], []
    for ref in sorted(reference, key=_entry_key):
        where = f"{ref['dataset']} x{ref['scale']} {ref['degradation']}"
        now = cur.get(_entry_key(ref))
        if now is None:
            regressions.append(Finding(where, ref["model"], "missing", "present", "missing",
                                       "-", "must be present"))
            continue
        for metric in ("psnr_rgb", "psnr_y"):
            drop = ref[metric] - now[metric]
            if drop > psnr_tol + EPS:
                regressions.append(Finding(where, ref["model"], metric, f"{ref[metric]:.4f}",
                                           f"{now[metric]:.4f}", f"-{drop:.4f} dB",
                                           f"drop <= {psnr_tol} dB"))
        finding, refusal = _runtime_check(where, ref, now, runtime_tol)
        regressions += [finding] if finding else []
        refused += [refusal] if refusal else []
    ref_keys = {_entry_key(e) for e in reference}
    new = [f"{k[0]} x{k[1]} {k[2]} {k[3]}" for k in sorted(cur) if k not in ref_keys]
    notes = [f"not in the reference (add with --update): {', '.join(new)}"] if new else []
    return regressions, refused, notes


def _runtime_check(where: str, ref: dict, now: dict, tol: float
                   ) -> tuple[Finding | None, Finding | None]:
    """(regression, refusal) of the runtime-ratio check of one entry; both None when it passes."""
    ratio_ref = ref["runtime_ratio_to_bicubic"]
    if ratio_ref is None or ref["model"] == "bicubic":
        return None, None
    ratio_now = now["runtime_ratio_to_bicubic"]
    ref_on = f"{ref['runtime_protocol']} on {ref['runtime_device']}"
    if ratio_now is None:
        return None, Finding(where, ref["model"], "runtime refused", ref_on, "no runtime (or no "
                             "bicubic runtime) in the current results", "-", "same device")
    now_on = f"{now['runtime_protocol']} on {now['runtime_device']}"
    if now_on != ref_on:
        return None, Finding(where, ref["model"], "runtime refused", ref_on, now_on, "-",
                             "same device")
    change = ratio_now / ratio_ref - 1
    if change > tol + EPS:
        return Finding(where, ref["model"], "runtime / bicubic", f"{ratio_ref:.3f}x",
                       f"{ratio_now:.3f}x", f"+{change:.1%}", f"<= +{tol:.0%}"), None
    return None, None


def findings_table(title: str, findings: list[Finding]) -> Table:
    """A rich table of findings."""
    t = Table(title=title, title_justify="left")
    for col in ("test set", "model", "check", "reference", "current", "change", "limit"):
        t.add_column(col)
    for f in findings:
        t.add_row(f.where, f.model, f.check, f.reference, f.current, f.change, f.limit)
    return t


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m eval.regress", description=__doc__.splitlines()[0])
    p.add_argument("--results", type=Path, default=None,
                   help="folder of result JSONs (default: <data root>/results)")
    p.add_argument("--reference", type=Path, default=None,
                   help="reference file (default: <repo>/leaderboard/reference.json)")
    p.add_argument("--update", action="store_true",
                   help="rewrite the reference from the current results instead of comparing")
    p.add_argument("--psnr-tol", type=float, default=0.05,
                   help="largest allowed PSNR drop in dB, RGB and Y (default 0.05)")
    p.add_argument("--runtime-tol", type=float, default=0.20,
                   help="largest allowed relative growth of runtime/bicubic (default 0.20)")
    p.add_argument("--require-runtime", action="store_true",
                   help="fail (exit 1) when a runtime check is refused (other device, no runtime)")
    return p.parse_args(argv)


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (see the module docstring)."""
    args = parse_args(argv)
    check_tolerance("--psnr-tol", args.psnr_tol)
    check_tolerance("--runtime-tol", args.runtime_tol)
    console = Console()
    if not console.is_terminal:  # CI logs: do not squeeze the tables into 80 columns
        console = Console(width=max(console.width, 160))
    reference_path = args.reference or default_reference()
    if args.update:
        check_output_file(reference_path, "--reference")
    reference = None if args.update else load_reference(reference_path)  # before the results
    current = entries_from_results(load_results(args.results or default_results_dir()))
    if args.update:
        write_atomic(reference_path, reference_text(current))
        console.print(f"wrote {reference_path} with {len(current)} entries")
        return EXIT_OK
    regressions, refused, notes = compare(reference, current, args.psnr_tol, args.runtime_tol)
    if refused:
        console.print(findings_table("Runtime checks refused (measured on another device or "
                                     "missing; PSNR still checked)", refused))
    for n in notes:
        console.print(f"[yellow]note:[/yellow] {n}", soft_wrap=True)
    failed = regressions + (refused if args.require_runtime else [])
    if failed:
        console.print(findings_table(f"REGRESSIONS against {reference_path}", failed))
        console.print(f"[red]regress: {len(failed)} regression(s)[/red]; if intended, rewrite the "
                      "reference with `python -m eval.regress --update` and commit it")
        return EXIT_REGRESSION
    console.print(f"[green]regress: OK[/green]: {len(reference)} reference entries, PSNR drop <= "
                  f"{args.psnr_tol} dB, runtime/bicubic growth <= {args.runtime_tol:.0%}"
                  + (f" ({len(refused)} runtime checks refused)" if refused else ""))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
