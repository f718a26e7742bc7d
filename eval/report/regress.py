"""``python -m eval.regress``: the CI gate comparing current result JSONs with a committed reference.

References, one per pipeline profile, committed where no stage writes: ``references/<profile>.json``
(``embedded``: the default ``dvc repro``; ``mirror``: what CI runs). Without ``--profile`` or
``--reference`` the profile is the results' own: the profile whose reference covers test sets of
the results (``params.yaml``'s profile when several do).

A regression is, per (dataset, scale, degradation, label) in the reference (an entry's ``model`` is the
registry name, its ``label`` the shown name, written only when it differs from the model):
  - the model is missing from the current results;
  - its PSNR RGB or PSNR Y dropped by more than ``--psnr-tol`` dB (default 0.05);
  - its runtime ratio to bicubic (both measured in the same run on the same device) grew by more
    than ``--runtime-tol`` (default by protocol, ``RUNTIME_TOL``: 20 % for the GPU protocol,
    100 % for CPU FP32 figures, which swing by tens of percent on a shared machine).
The runtime check is *refused* (not passed, not failed) when the current runtime was measured on
another protocol/device than the reference's, or is missing; PSNR is still checked. Refused checks
are printed; ``--require-runtime`` turns them into failures. Results of another profile than the
reference's (no test set in common) are not a regression: exit 2 with the profile that fits.
Tolerance classes, by where the weights came from (``eval.origin``):
  - trained here (a run of this pipeline, under ``data/train/``): a drop of at most
    ``TRAINED_PSNR_TOL`` (written into their reference entries as ``psnr_tol``): minutes of CPU
    training amplify the last-bit differences of another machine's kernels, so a bit-exact PSNR
    gate on them would fail on a healthy change;
  - fixed weights (``eval.origin.FIXED_KINDS``: committed weights of ``models/trained/``, released
    checkpoints; ``fixed_weights: true`` in their entries): the same weights must give the same
    numbers, so a change of more than ``--psnr-tol`` either way is a regression;
  - everything else (bicubic, user checkpoints): a drop of at most ``--psnr-tol``.
Nothing is taken on trust: the current results' set means are recomputed from their per-image
values (``eval.report.resultfiles``), and the reference is validated as a whole (``ReferenceEntry``: at
least one entry, finite PSNRs, positive runtimes, no entry twice); the tolerances must be finite
and >= 0.
Exit status (``core.cli``): 0 no regression; 1 regression(s), or current results missing or
unusable (one line on stderr); 2 bad input: a missing or invalid reference, a bad tolerance,
another profile's results.
``--update`` rewrites a reference from the current results on purpose (exit 0): the profile's test
sets only (``references/<profile>.json``), or everything with ``--reference FILE``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError
from rich.console import Console
from rich.table import Table

from core.cli import EXIT_FAILURE, cli_main, description
from core.errors import RtsrError
from core.io import check_output_file, write_atomic
from core.overlap import refuse_overlap
from core.params import PARAMS_FILE, composed_params
from core.paths import REPO_ROOT
from core.protocol import CPU_PROTOCOL, GPU_PROTOCOL
from core.schema import Bool, Float, Name, NonNegativeFloat, PositiveFloat, Scale, error_line
from core.yamlload import load_yaml
from eval.origin import FIXED_KINDS, origin_of
from eval.report.columns import GATE_ENTRY_KEYS, GATED_KEYS
from eval.report.resultfiles import (
    Result,
    ResultError,
    default_results_dir,
    group_results,
    is_bicubic_row,
    load_results,
    shown_path,
)

SCHEMA = "rtsr-bench-reference/1"
EPS = 1e-9  # float slack so that a change of exactly the tolerance passes
EXIT_OK, EXIT_REGRESSION = 0, EXIT_FAILURE  # unusable results: EXIT_FAILURE too; bad input: EXIT_BAD_INPUT
REFERENCES_DIR = REPO_ROOT / "references"  # references/<profile>.json, committed, never a pipeline output
PSNR_TOL = 0.05  # dB, RGB and Y
# Allowed growth of runtime / bicubic by runtime protocol: the GPU protocol's 244 timed passes are
# stable to a few percent; 3 CPU FP32 passes on a shared 2-core machine swing by tens of percent.
RUNTIME_TOL = {GPU_PROTOCOL: 0.20, CPU_PROTOCOL: 1.00}
# PSNR tolerance of models the pipeline trains itself (dB): another machine's CPU kernels round
# differently in the last bit and minutes of training amplify that; a drop beyond this is broken
# training, not noise. Fixed weights (bicubic, released checkpoints) are gated at PSNR_TOL.
TRAINED_PSNR_TOL = 0.25


class ReferenceFileError(RtsrError):
    """A reference file or tolerance the gate cannot use (bad input, exit status 2)."""


class ReferenceEntry(BaseModel):
    """One reference entry (``GATE_ENTRY_KEYS``), strictly typed: finite PSNRs, runtimes > 0 or null."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    dataset: Name
    scale: Scale
    degradation: Name
    model: Name
    label: Name | None = None  # the shown name when it is not the registry name (absent: older bytes kept)
    psnr_rgb: Float
    psnr_y: Float
    runtime_ms: PositiveFloat | None
    runtime_ratio_to_bicubic: PositiveFloat | None
    runtime_protocol: StrictStr | None
    runtime_device: StrictStr | None
    psnr_tol: NonNegativeFloat | None = None  # this entry's own PSNR tolerance (trained models)
    fixed_weights: Bool | None = None  # committed or released weights: any change beyond --psnr-tol fails


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


def default_reference(profile: str) -> Path:
    """The committed reference of a profile: ``<repo>/references/<profile>.json``."""
    return REFERENCES_DIR / f"{profile}.json"


def workspace_profile(root: Path = REPO_ROOT) -> str | None:
    """The ``profile`` of the workspace's params.yaml (the pipeline's current one), None without one."""
    try:
        params = load_yaml((root / PARAMS_FILE).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    return params.get("profile") if isinstance(params, dict) else None


def profile_groups(profile: str) -> set[tuple[str, int, str]]:
    """The (dataset, scale, degradation) groups a profile's pipeline evaluates (its test sets, from conf/)."""
    params = composed_params([f"profile={profile}"])
    return {(ds, int(params["scale"]), str(params["degradation"])) for ds in params["test_sets"]}


def groups_of(entries: list[dict]) -> set[tuple[str, int, str]]:
    """The (dataset, scale, degradation) groups of reference or current entries."""
    return {(e["dataset"], e["scale"], e["degradation"]) for e in entries}


def _groups_text(groups: set[tuple[str, int, str]]) -> str:
    """``set5 x3, set14 x3 (ntire23)``-style text of some groups."""
    return ", ".join(f"{d} x{s} ({g})" for d, s, g in sorted(groups)) or "nothing"


def committed_references() -> dict[str, list[dict]]:
    """{profile: entries} of every readable ``references/<profile>.json``."""
    refs = {}
    for path in sorted(REFERENCES_DIR.glob("*.json")):
        try:
            refs[path.stem] = load_reference(path)
        except ReferenceFileError:
            continue
    return refs


def choose_profile(current: list[dict], preferred: str | None) -> tuple[str, str]:
    """(profile, why) of the reference for ``current``: one whose test sets the results hold
    (``preferred``, params.yaml's, when it is one of them; else the one with the most in common)."""
    have = groups_of(current)
    overlap = {p: len(groups_of(e) & have) for p, e in committed_references().items()}
    fits = [p for p, n in sorted(overlap.items(), key=lambda kv: -kv[1]) if n > 0]
    if not fits:
        raise ReferenceFileError(f"no reference in {shown_path(REFERENCES_DIR)} covers the results' test sets "
                          f"({_groups_text(have)}); name one with --profile or --reference")
    if preferred in fits:
        return preferred, "params.yaml's profile, whose test sets the results hold"
    return fits[0], "the profile whose test sets the results hold"


def entries_from_results(results: list[Result]) -> list[dict]:
    """One reference entry (``GATE_ENTRY_KEYS``) per result, with its runtime ratio to bicubic."""
    entries = []
    for members in group_results(results, single_degradation=False).values():
        bicubic = next((r for r in members if r.is_bicubic), None)
        bic_ms = bicubic.runtime["mean_ms"] if bicubic is not None and bicubic.runtime else None
        for r in members:
            rt = r.runtime
            ms = float(rt["mean_ms"]) if rt else None
            platform = r.platform
            entries.append({
                "dataset": r.key[0], "scale": r.key[1], "degradation": r.key[2], "model": r.data["model"],
                **({"label": r.label} if r.label != r.data["model"] else {}),
                **{k: round(float(r.data[k]), 4) for k in GATED_KEYS},
                "runtime_ms": None if ms is None else round(ms, 4),
                "runtime_ratio_to_bicubic": None if ms is None or bic_ms is None
                else round(ms / float(bic_ms), 4),
                "runtime_protocol": platform[0] if platform else None,
                "runtime_device": platform[1] if platform else None,
                **tolerance_fields(r),
            })
    return sorted(entries, key=_entry_key)


def tolerance_fields(result: Result) -> dict:
    """The entry's tolerance class (module docstring): ``psnr_tol`` and, for fixed weights only, ``fixed_weights``."""
    kind = origin_of(result.data).kind
    fields = {"psnr_tol": TRAINED_PSNR_TOL if kind == "trained_here" else None}
    return {**fields, "fixed_weights": True} if kind in FIXED_KINDS else fields  # absent: older bytes kept


def _entry_key(e: dict) -> tuple:
    """Identity of an entry: (dataset, scale, degradation, label)."""
    return (e["dataset"], e["scale"], e["degradation"], entry_label(e))


def entry_label(e: dict) -> str:
    """The shown name of a reference entry: its ``label``, else its registry ``model``."""
    return e.get("label") or e["model"]


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
        if not isinstance(e, dict) or any(k not in e for k in GATE_ENTRY_KEYS):
            raise ReferenceFileError(f"{path}: entry {i} lacks one of {', '.join(GATE_ENTRY_KEYS)}; "
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


def check_tolerance(flag: str, value: float | None) -> float | None:
    """A tolerance must be a finite number >= 0 (NaN would pass every check); None: the default."""
    if value is not None and (not math.isfinite(value) or value < 0):
        raise ReferenceFileError(f"{flag}={value!r}: must be a finite number >= 0 (e.g. {flag} 0.05)")
    return value


def reference_text(entries: list[dict], profile: str | None = None) -> str:
    """The reference file's content (stable: sorted entries, no timestamps)."""
    doc = {"schema": SCHEMA,
           "about": "written on purpose by `python -m eval.regress --update`; compared by "
                    "`python -m eval.regress` (see README.md)",
           "profile": profile,
           "entries": entries}
    return json.dumps(doc, indent=2) + "\n"


def compare(reference: list[dict], current: list[dict], psnr_tol: float = PSNR_TOL,
            runtime_tol: float | None = None) -> tuple[list[Finding], list[Finding], list[str]]:
    """(regressions, refused runtime checks, notes) of ``current`` against ``reference``.

    ``runtime_tol`` None: each entry's ``RUNTIME_TOL`` of its reference runtime protocol.
    """
    cur = {_entry_key(e): e for e in current}
    regressions, refused = [], []
    for ref in sorted(reference, key=_entry_key):
        where = f"{ref['dataset']} x{ref['scale']} {ref['degradation']}"
        now = cur.get(_entry_key(ref))
        if now is None:
            regressions.append(Finding(where, entry_label(ref), "missing", "present", "missing",
                                       "-", "must be present"))
            continue
        regressions += _psnr_checks(where, ref, now, psnr_tol)
        tol = runtime_tol if runtime_tol is not None else RUNTIME_TOL.get(ref["runtime_protocol"], 0.20)
        finding, refusal = _runtime_check(where, ref, now, tol)
        regressions += [finding] if finding else []
        refused += [refusal] if refusal else []
    ref_keys = {_entry_key(e) for e in reference}
    new = [f"{k[0]} x{k[1]} {k[2]} {k[3]}" for k in sorted(cur) if k not in ref_keys]
    notes = [f"not in the reference (add with --update): {', '.join(new)}"] if new else []
    return regressions, refused, notes


def _psnr_checks(where: str, ref: dict, now: dict, psnr_tol: float) -> list[Finding]:
    """PSNR RGB and Y findings of one entry (dB): a drop beyond its tolerance; for fixed weights, any change."""
    fixed = bool(ref.get("fixed_weights") or now.get("fixed_weights"))
    entry_tol = psnr_tol if fixed else max(psnr_tol, ref.get("psnr_tol") or 0.0)
    out = []
    for metric in GATED_KEYS:
        change = now[metric] - ref[metric]
        if (abs(change) if fixed else -change) > entry_tol + EPS:
            limit = f"|change| <= {entry_tol} dB (fixed weights)" if fixed else f"drop <= {entry_tol} dB"
            out.append(Finding(where, entry_label(ref), metric, f"{ref[metric]:.4f}", f"{now[metric]:.4f}",
                               f"{change:+.4f} dB", limit))
    return out


def _runtime_check(where: str, ref: dict, now: dict, tol: float
                   ) -> tuple[Finding | None, Finding | None]:
    """(regression, refusal) of the runtime-ratio check of one entry; both None when it passes."""
    ratio_ref = ref["runtime_ratio_to_bicubic"]
    if ratio_ref is None or is_bicubic_row(ref):
        return None, None
    ratio_now = now["runtime_ratio_to_bicubic"]
    ref_on = f"{ref['runtime_protocol']} on {ref['runtime_device']}"
    if ratio_now is None:
        return None, Finding(where, entry_label(ref), "runtime refused", ref_on, "no runtime (or no "
                             "bicubic runtime) in the current results", "-", "same device")
    now_on = f"{now['runtime_protocol']} on {now['runtime_device']}"
    if now_on != ref_on:
        return None, Finding(where, entry_label(ref), "runtime refused", ref_on, now_on, "-",
                             "same device")
    change = ratio_now / ratio_ref - 1
    if change > tol + EPS:
        return Finding(where, entry_label(ref), "runtime / bicubic", f"{ratio_ref:.3f}x",
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


class GateOptions(BaseModel):
    """What ``run_gate`` compares or updates; field names are the CLI's (``--psnr-tol`` -> ``psnr_tol``)."""

    model_config = ConfigDict(extra="forbid")

    results: Path | None = None  # folder of result JSONs; None: data/results (or $RTSR_DATA_ROOT/results)
    profile: StrictStr | None = None  # compare with references/<profile>.json; None: the results' own
    reference: Path | None = None  # compare with (or update) this file instead
    update: Bool = False  # rewrite the reference from the current results instead of comparing
    psnr_tol: float = PSNR_TOL  # dB, largest allowed PSNR drop (RGB and Y); checked by check_tolerance
    runtime_tol: float | None = None  # largest relative growth of runtime/bicubic; None: by protocol
    require_runtime: Bool = False  # a refused runtime check fails (exit 1)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options (the edge: ``main`` turns them into ``GateOptions``)."""
    p = argparse.ArgumentParser(
        prog="python -m eval.regress", description=description(__doc__),
        epilog="examples: python -m eval.regress  (after dvc repro); python -m eval.regress --profile "
               "mirror  (after the mirror profile's pipeline); python -m eval.regress --update "
               "--profile mirror  (on purpose, then commit references/mirror.json)")
    p.add_argument("--results", type=Path, default=None,
                   help="folder of result JSONs (default: data/results, or $RTSR_DATA_ROOT/results)")
    p.add_argument("--profile", default=None,
                   help="compare with references/<PROFILE>.json (default: the results' own profile, "
                        "see above; with --update: params.yaml's profile)")
    p.add_argument("--reference", type=Path, default=None,
                   help="compare with (or --update) this reference file instead (default: none)")
    p.add_argument("--update", action="store_true",
                   help="rewrite the reference from the current results instead of comparing "
                        "(default: compare)")
    p.add_argument("--psnr-tol", type=float, default=PSNR_TOL,
                   help=f"largest allowed PSNR drop in dB, RGB and Y (default: {PSNR_TOL})")
    p.add_argument("--runtime-tol", type=float, default=None,
                   help="largest allowed relative growth of runtime/bicubic (default: by protocol, "
                        + ", ".join(f"{v:g} for {k}" for k, v in RUNTIME_TOL.items()) + ")")
    p.add_argument("--require-runtime", action="store_true",
                   help="fail (exit 1) when a runtime check is refused (other device, no runtime; "
                        "default: refused checks are listed, not failed)")
    return p


def update(opts: GateOptions, current: list[dict], console: Console) -> int:
    """``--update``: write the profile's reference (its test sets only) or ``--reference`` (everything)."""
    profile = opts.profile or (None if opts.reference else workspace_profile())
    if opts.reference is None and profile is None:
        raise ReferenceFileError(f"no profile in {PARAMS_FILE}: say which reference to write with --profile NAME")
    entries = current
    if profile is not None:
        wanted = profile_groups(profile)
        entries = [e for e in current if (e["dataset"], e["scale"], e["degradation"]) in wanted]
        if not entries:
            raise ResultError(f"the results hold none of profile {profile}'s test sets "
                              f"({_groups_text(wanted)}); run its pipeline first")
    path = opts.reference or default_reference(profile)
    refuse_overlap({"--reference": path}, {"--results": opts.results or default_results_dir()})
    check_output_file(path, "--reference")
    write_atomic(path, reference_text(entries, profile))
    console.print(f"wrote {shown_path(path)} with {len(entries)} entries"
                  + (f" (profile {profile})" if profile else ""))
    return EXIT_OK


def other_profile(path: Path, reference: list[dict], current: list[dict], results_dir: Path) -> str:
    """The message when the results share no test set with the reference: another profile's results."""
    fits = [p for p, e in committed_references().items() if groups_of(e) & groups_of(current)]
    hint = (f"references/{fits[0]}.json covers them: `python -m eval.regress --profile {fits[0]}`"
            if fits else "no committed reference covers them")
    return (f"{shown_path(path)} holds {_groups_text(groups_of(reference))}, the results in "
            f"{shown_path(results_dir)} hold {_groups_text(groups_of(current))}: they are another "
            f"profile's results, not a regression ({hint})")


def gate_console() -> Console:
    """A rich console; off a terminal (CI logs) at least 160 columns, so tables are not squeezed."""
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, 160))


def run_gate(opts: GateOptions, console: Console | None = None) -> int:
    """Compare the results with the reference (or ``update`` it); the exit status (see the module docstring)."""
    check_tolerance("--psnr-tol", opts.psnr_tol)
    check_tolerance("--runtime-tol", opts.runtime_tol)
    console = console or gate_console()
    results_dir = opts.results or default_results_dir()
    current = entries_from_results(load_results(results_dir))
    if opts.update:
        return update(opts, current, console)
    if opts.reference is not None:
        reference_path = opts.reference
    elif opts.profile is not None:
        reference_path = default_reference(opts.profile)
    else:
        profile, why = choose_profile(current, workspace_profile())
        reference_path = default_reference(profile)
        console.print(f"regress: profile {profile} ({why}): {shown_path(reference_path)}", soft_wrap=True)
    reference = load_reference(reference_path)
    if not groups_of(reference) & groups_of(current):
        raise ReferenceFileError(other_profile(reference_path, reference, current, results_dir))
    regressions, refused, notes = compare(reference, current, opts.psnr_tol, opts.runtime_tol)
    if refused:
        console.print(findings_table("Runtime checks refused (measured on another device or "
                                     "missing; PSNR still checked)", refused))
    for n in notes:
        console.print(f"[yellow]note:[/yellow] {n}", soft_wrap=True)
    failed = regressions + (refused if opts.require_runtime else [])
    if failed:
        console.print(findings_table(f"REGRESSIONS against {shown_path(reference_path)}", failed))
        absent = groups_of(reference) - groups_of(current)
        if absent:
            console.print(f"no results at all for {_groups_text(absent)}: run the pipeline of the "
                          "reference's profile on them (README, `dvc exp run -S profile=...`)", soft_wrap=True)
        changed = [f for f in failed if f.check != "missing"]
        console.print(f"[red]regress: {len(failed)} regression(s)[/red]"
                      + ("; if a change is intended, rewrite the reference with `python -m eval.regress "
                         "--update` and commit it" if changed else ""), soft_wrap=True)
        return EXIT_REGRESSION
    tol = (f"{opts.runtime_tol:.0%}" if opts.runtime_tol is not None
           else "/".join(f"{v:.0%}" for v in RUNTIME_TOL.values()) + " (GPU/CPU)")
    console.print(f"[green]regress: OK[/green]: {len(reference)} reference entries, PSNR drop <= "
                  f"{opts.psnr_tol} dB, runtime/bicubic growth <= {tol}"
                  + (f" ({len(refused)} runtime checks refused)" if refused else ""))
    return EXIT_OK


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (see the module docstring)."""
    return run_gate(GateOptions(**vars(build_parser().parse_args(argv))))


if __name__ == "__main__":
    sys.exit(main())
