"""``python -m eval.gpu_suite``: run every suite step, each in its own time-boxed process, and write the report.

    python -m eval.gpu_suite [--out leaderboard/gpu] [--budget-s 480] [--device cuda|cpu] [--quick]

The first step, reproduce, trains Bicubic++ and the baselines at the paper budget (scaled down, and
reported as "scaled", when it does not fit its share of the budget) and publishes them to
OUT/<card>/trained/. Exit status (``core.cli``): 0 every step finished (status ok, or quick for the
toy-size reproduce step), 1 a step failed, ran out of time or did less than asked (its partial
result is still in the report), 2 bad input (one line on stderr, nothing run).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from core.cli import EXIT_FAILURE, EXIT_OK, cli_main, description
from core.io import check_output_dir, write_atomic
from core.paths import RELEASED_CHECKPOINT, REPO_ROOT, data_root, official_dir
from core.schema import SCALE_RULE, valid_scale
from eval.errors import EvalError
from eval.gpu_suite.context import QUICK_LR_HW, SuiteContext, card_slug, suite_mirror
from eval.gpu_suite.record import load_step_record
from eval.gpu_suite.report import markdown
from eval.gpu_suite.runtime_variants import VARIANTS
from eval.gpu_suite.steps import STEPS, WEIGHTS
from eval.gpu_suite.sweep import DEFAULT_CHANNELS, parse_channels
from eval.provenance import cpu_name, git_commit

MIN_STEP_S = 20.0  # no step starts with less than this left
GRACE_S = 8.0  # a step aims to finish this long before it is killed
FINISHED = ("ok", "quick")  # statuses of a step that did all it was asked (quick: toy sizes, as asked)


@lru_cache(maxsize=1)
def default_baselines() -> tuple[str, ...]:
    """The baselines of conf/budget/paper.yaml (``baseline_models``), trained by the reproduce and training steps."""
    from core.params import composed_params

    return tuple(composed_params(["budget=paper"])["baseline_models"])


SUITE_DATA = {False: "mirror", True: "embedded"}  # conf/data/<name>.yaml of a full and of a --quick run


@lru_cache(maxsize=2)
def default_sets(quick: bool) -> dict[str, tuple[str, ...]]:
    """The test, training and validation sets of conf/data/ (mirror; ``quick``: embedded), as the pipeline's."""
    from core.params import composed_params

    params = composed_params([f"data={SUITE_DATA[quick]}"])
    base = params["train"]["base"]
    return {"test": tuple(params["test_sets"]), "train": tuple(base["train_sets"]), "val": tuple(base["val_sets"])}


def quick_baselines(asked: list[str]) -> list[str]:
    """The baselines of a --quick run: the first default one when none were named, else those named."""
    return list(default_baselines()[:1]) if list(asked) == list(default_baselines()) else list(asked)


class SuiteInputError(EvalError):
    """A suite option that cannot work; the one-line message says which and what to do."""


def default_official() -> str | None:
    """The released Bicubic++ x3 checkpoint: $RTSR_OFFICIAL_DIR/ or ../shared/official/, when present."""
    path = official_dir() / RELEASED_CHECKPOINT
    return str(path) if path.is_file() else None


def build_parser() -> argparse.ArgumentParser:
    """CLI options (every default is stated in its help)."""
    p = argparse.ArgumentParser(prog="python -m eval.gpu_suite", description=description(__doc__))
    p.add_argument("--out", type=Path, default=Path("leaderboard") / "gpu",
                   help="reports go to OUT/<card>/ (default: leaderboard/gpu)")
    p.add_argument("--budget-s", type=float, default=480.0,
                   help="wall-clock budget of the whole suite in s, shared by the steps by weight (reproduce "
                        f"{WEIGHTS['reproduce']:.2f} of it, the whole of it alone) (default: 480)")
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="where to run every step (default: cuda)")
    p.add_argument("--quick", action="store_true",
                   help="toy sizes: 32x48 input, 2 passes, 2 repeats, embedded demo data, 1-epoch stages, "
                        "the reproduce step at 1 epoch of 16 pairs (default: off, the full sizes)")
    p.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS, metavar="STEP",
                   help=f"steps to run, in this order: {' '.join(STEPS)} (default all)")
    p.add_argument("--keep", action="store_true",
                   help="keep the other steps of an earlier report of this card in OUT, re-run only --steps "
                        "(default: off, a new report)")
    p.add_argument("--scale", type=int, default=3, help="upscaling factor (default 3)")
    p.add_argument("--test-sets", nargs="+", default=None,
                   help="test sets of the reproduce and leaderboard steps (default conf/data/mirror.yaml's "
                        "test_sets: set5 set14 urban100; --quick: conf/data/embedded.yaml's, demo)")
    p.add_argument("--train-sets", nargs="+", default=None,
                   help="training sets of the training and reproduce steps (default conf/data/mirror.yaml's: "
                        "t91 bsd200; --quick: demo_train); the reproduce step uses those whose every image fits "
                        "LR 108, else 96")
    p.add_argument("--val-sets", nargs="+", default=None,
                   help="validation sets of every training run (default conf/data/mirror.yaml's: demo; "
                        "--quick: demo_valid)")
    p.add_argument("--throughput-sets", nargs="+", default=["demo_train"],
                   help="images for the 108-px throughput probe (default demo_train: every image fits)")
    p.add_argument("--fidelity-set", default=None,
                   help="mosaic source for variant fidelity (default set5; --quick: demo)")
    p.add_argument("--mirror", default=None,
                   help="dataset mirror folder (default: $RTSR_DATA_MIRROR; on the project's CI machines, the "
                        "sr-data folder of the shared/ folder beside the checkout)")
    p.add_argument("--official", default=None,
                   help=f"released {RELEASED_CHECKPOINT} (default: $RTSR_OFFICIAL_DIR/{RELEASED_CHECKPOINT} "
                        "when present; on the project's CI machines, the official/ folder of the shared/ folder "
                        "beside the checkout)")
    p.add_argument("--weights-dir", default=None,
                   help="CPU-pipeline checkpoints <dir>/<model>/best.pt for the leaderboard (default <data>/train)")
    p.add_argument("--repeats", type=int, default=None, help="repeats of every timing (default 5; --quick: 2)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS, metavar="VARIANT",
                   help=f"runtime variants (default all: {' '.join(VARIANTS)})")
    p.add_argument("--variant-models", nargs="+", default=["bicubic_pp", "bicubic"],
                   help="models timed in every variant (default bicubic_pp bicubic)")
    p.add_argument("--sweep-channels", default=None,
                   help="Bicubic++ channels to sweep (default 16:64:4,30,32,34; --quick: 16,32,34)")
    p.add_argument("--train-patch", type=int, default=24,
                   help="LR patch of the training step's runs (default 24: T91's smallest image is 26 px; "
                        "--quick: 8, also the reproduce step's, which otherwise uses the paper's 108 or the "
                        "released 96)")
    p.add_argument("--train-batch", type=int, default=64,
                   help="batch of the training step's runs (default 64; --quick: 4, also the reproduce "
                        "step's, which otherwise uses conf/budget/paper.yaml's 16)")
    baselines = default_baselines()
    p.add_argument("--train-baselines", nargs="*", default=list(baselines),
                   help="baselines trained after Bicubic++ with the same trainer by the reproduce and training "
                        f"steps (default conf/budget/paper.yaml's: {' '.join(baselines)}; --quick: "
                        f"{baselines[0]}; none: give the flag alone)")
    return p


def device_name(device: str) -> str:
    """The card's name (CUDA device 0) or ``cpu <model name>``."""
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SuiteInputError("--device cuda needs a CUDA device and none is available; "
                                  "use --device cpu --quick to check the suite without a GPU")
        return torch.cuda.get_device_name(0)
    return f"cpu {cpu_name()}"


def make_context(args: argparse.Namespace) -> SuiteContext:
    """The suite context from the CLI options (quick defaults applied; inputs checked)."""
    if not math.isfinite(args.budget_s) or args.budget_s <= 0:
        raise SuiteInputError(f"--budget-s {args.budget_s}: need a positive, finite number of seconds")
    if args.repeats is not None and args.repeats < 1:
        raise SuiteInputError(f"--repeats {args.repeats}: need at least 1")
    if not valid_scale(args.scale):
        raise SuiteInputError(f"--scale {args.scale}: need {SCALE_RULE}")
    if args.train_patch < 1 or args.train_batch < 1:
        raise SuiteInputError(f"--train-patch {args.train_patch} / --train-batch {args.train_batch}: "
                              "need integers >= 1")
    check_output_dir(args.out, "--out")
    quick = args.quick
    card = device_name(args.device)
    out = args.out / card_slug(card)
    channels = parse_channels(args.sweep_channels) if args.sweep_channels else (
        [16, 32, 34] if quick else list(DEFAULT_CHANNELS))
    weights_dir = args.weights_dir or str(data_root() / "train")
    return SuiteContext(
        device=args.device, quick=quick, scale=args.scale, out=str(out),
        work=str(data_root() / "gpu_suite" / card_slug(card)), card=card,
        test_sets=args.test_sets or list(default_sets(quick)["test"]),
        train_sets=args.train_sets or list(default_sets(quick)["train"]),
        val_sets=args.val_sets or list(default_sets(quick)["val"]),
        throughput_sets=list(args.throughput_sets),
        fidelity_set=args.fidelity_set or ("demo" if quick else "set5"),
        mirror=args.mirror or suite_mirror(), official=args.official or default_official(),
        weights_dir=weights_dir if Path(weights_dir).is_dir() else None,
        warmup=1 if quick else None, passes=2 if quick else None,
        repeats=args.repeats or (2 if quick else 5), lr_hw=list(QUICK_LR_HW) if quick else None,
        variants=list(args.variants), variant_models=list(args.variant_models), sweep_channels=channels,
        train_patch=8 if quick else args.train_patch, train_batch=4 if quick else args.train_batch,
        train_baselines=quick_baselines(args.train_baselines) if quick else list(args.train_baselines))


def run_step(name: str, ctx: SuiteContext, timeout: float, scratch: Path) -> dict:
    """Run one step in a child process, killed after ``timeout`` s; its record plus status/seconds."""
    ctx.step_deadline = time.time() + max(1.0, timeout - GRACE_S)
    ctx_path, record = scratch / "context.json", scratch / f"{name}.json"
    record.unlink(missing_ok=True)
    ctx.save(ctx_path)
    cmd = [sys.executable, "-m", "eval.gpu_suite.step", name, "--ctx", str(ctx_path), "--record", str(record)]
    print(f"\n==> gpu suite: {name} (up to {timeout:.0f} s)", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        code = proc.wait(timeout=timeout)
        status = "ok" if code == 0 else "failed"
    except subprocess.TimeoutExpired:
        stop_group(proc)
        status = "timeout"
    status, result = step_status(status, load_step_record(record))
    return {"status": status, "seconds": round(time.perf_counter() - t0, 1), "timeout_s": round(timeout, 1),
            **result}


def step_status(status: str, record: dict) -> tuple[str, dict]:
    """(status, record) of a step whose process ended with ``status``: a finished step that skipped work
    for time is "partial", one that did its work at a smaller size is the record's ``reduced`` kind
    ("scaled" or "quick"); either way ``reason`` says what and why."""
    skipped = budget_skips(record)
    reduced = record.get("reduced")
    if status == "ok" and skipped:  # finished, but without some of its work: say which
        return "partial", {**record, "reason": f"step budget used up; skipped {', '.join(skipped)}"}
    if status == "ok" and reduced:  # finished, at less than the asked size
        return reduced["kind"], {**record, "reason": reduced["reason"]}
    return status, record


def budget_skips(record: dict) -> list[str]:
    """The names a step's record says it skipped because its time ran out."""
    names = []
    for key in ("skipped", "baselines", "rows", "evaluations"):
        for item in record.get(key) or []:
            why = str(item.get("skipped") or item.get("reason") or "") if isinstance(item, dict) else ""
            if "budget" in why:
                name = str(item.get("model") or item.get("label") or item.get("name") or "?")
                names.append(f"{name} {item['variant']}" if "variant" in item else name)
    return names


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the step's process group, SIGKILL it 5 s later if needed."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def write_report(report: dict, out: Path) -> None:
    """report.json and report.md in ``out`` (atomically)."""
    write_atomic(out / "report.json", json.dumps(report, indent=2, allow_nan=False) + "\n")
    write_atomic(out / "report.md", markdown(report))


def earlier_steps(out: Path, ctx: SuiteContext, steps: list[str]) -> tuple[dict, list]:
    """Steps of an earlier report in ``out`` (same card, same quick mode) that this run does not repeat."""
    old = load_step_record(out / "report.json")
    if not old or old.get("card") != ctx.card or old.get("quick") != ctx.quick:
        return {}, []
    runs = old.get("runs") or [{k: old.get(k) for k in ("created", "git_commit", "command", "budget_s")}]
    first = runs[0]["created"]
    kept = {n: {**s, "run": s.get("run", first)} for n, s in old.get("steps", {}).items() if n not in steps}
    return kept, runs


def run_suite(ctx: SuiteContext, steps: list[str], budget_s: float, keep: bool = False) -> dict:
    """Every step in order, each with its share of what is left of ``budget_s``; the report after each.

    With ``keep``, the steps of an earlier report in the same folder that are not run again stay in the
    report, each marked with the run (``created``) it comes from.
    """
    out, scratch = Path(ctx.out), Path(ctx.work) / "steps"
    out.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    start = time.time()
    deadline = start + budget_s
    kept, runs = earlier_steps(out, ctx, steps) if keep else ({}, [])
    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    this_run = {"created": created, "git_commit": git_commit(), "command": " ".join(sys.argv), "budget_s": budget_s}
    report = {"suite": "rtsr-bench GPU suite", "card": ctx.card, "device_type": ctx.device, "quick": ctx.quick,
              **this_run, "runs": [*runs, this_run],
              "settings": {k: v for k, v in asdict(ctx).items() if k != "step_deadline"},
              "steps": {n: kept[n] for n in STEPS if n in kept}}
    for i, name in enumerate(steps):
        remaining = deadline - time.time()
        share = WEIGHTS[name] / sum(WEIGHTS[n] for n in steps[i:])
        if remaining < MIN_STEP_S:
            report["steps"][name] = {"status": "skipped", "reason": f"suite budget used up ({remaining:.0f} s left)"}
        else:
            report["steps"][name] = {**run_step(name, ctx, max(MIN_STEP_S, remaining * share), scratch),
                                     "run": created}
        report["steps"] = {n: report["steps"][n] for n in STEPS if n in report["steps"]}
        report["elapsed_s"] = round(time.time() - start, 1)
        write_report(report, out)
    return report


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Parse, check, run every step, write the report; exit 0 / 1 / 2 as the module doc says."""
    args = build_parser().parse_args(argv)
    ctx = make_context(args)  # a bad option: SuiteInputError, one line and exit 2 (core.cli)
    report = run_suite(ctx, [s for s in STEPS if s in args.steps], args.budget_s, keep=args.keep)
    bad = {n: s["status"] for n, s in report["steps"].items() if s["status"] not in FINISHED and n in args.steps}
    print(f"\ngpu suite: {len(report['steps']) - len(bad)}/{len(report['steps'])} steps finished in "
          f"{report['elapsed_s']:.0f} s; report -> {ctx.out}/report.md", file=sys.stderr)
    for name, status in bad.items():
        print(f"  {name}: {status}", file=sys.stderr)
    return EXIT_OK if not bad else EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
