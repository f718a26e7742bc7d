"""The suite's steps: each ``step_<name>(ctx, rec)`` measures one thing and saves it into ``rec`` as it goes.

Every step runs in its own process (``eval.gpu_suite.step``) with ``ctx.step_deadline`` as its time box:
loops check ``time_left(ctx)`` and stop early, keeping what they have, rather than being killed.
Training settings come from conf/ (``training.config.conf_sections``): the three stages and the
baselines use the ``cpu`` budget's optimiser (the mirror profile's), the throughput probe and the
paper-profile estimate the ``paper`` budget; the suite sets only its own run values (sets, patch,
batch, epochs, device, output folders).
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from core.errors import RtsrError, one_line, typed_one_line
from core.protocol import BICUBIC, DEGRADATIONS, GPU_PASSES, GPU_WARMUP
from datasets.paths import sr_dir
from eval.gpu_suite.context import SuiteContext
from eval.gpu_suite.record import Record
from eval.gpu_suite.stages import STAGES

SUITE_DEGRADATION = DEGRADATIONS[0]  # the challenge's (ntire23), EvalOptions' default: every suite evaluation
STEPS = ("reproduce", "environment", "data", "gpu_tests", "protocol", "variants", "sweep", "training",
         "leaderboard")
# Share of the budget each step may use (renormalised over the steps still to run): reproduce first
# and the largest (0.45 of the default 480 s: 216 s; alone, with --steps reproduce, the whole budget).
WEIGHTS = {"reproduce": 0.45, "environment": 0.01, "data": 0.045, "gpu_tests": 0.065, "protocol": 0.07,
           "variants": 0.11, "sweep": 0.04, "training": 0.125, "leaderboard": 0.085}
EAGER_MODELS = (BICUBIC, "bicubic_pp")
TRAIN_BUDGET = "cpu"  # conf/budget/ of the suite's training runs (the mirror profile's optimiser)
PAPER_BUDGET = "paper"  # conf/budget/ of the throughput probe and the paper-profile estimate
SUITE_SUFFIX = "_gpu"  # label suffix of the models this suite trains
RELEASED_LABEL = "bicubic_pp_released"


def time_left(ctx: SuiteContext) -> float:
    """Seconds until the running step's deadline."""
    return ctx.step_deadline - time.time()


def available(name: str, ctx: SuiteContext) -> bool:
    """True when the data step left LR/GT folders for set ``name`` at the suite's scale."""
    from datasets.paths import gt_dir, lr_dir

    return (lr_dir(name, ctx.scale) / "manifest.json").is_file() and \
        (gt_dir(name, ctx.scale) / "manifest.json").is_file()


# -- 1. environment ------------------------------------------------------------------------------
def step_environment(ctx: SuiteContext, rec: Record) -> None:
    """GPU name, memory, driver, clocks, torch/CUDA/cuDNN, CPU, package versions."""
    from eval.gpu_suite.environment import environment

    rec.put("environment", environment(ctx.device))


# -- 2. data -------------------------------------------------------------------------------------
def prepare_set(name: str, ctx: SuiteContext) -> dict:
    """Fetch (``datasets.fetch``: the mirror, $RTSR_DATA_MIRROR, or embedded) and degrade one set; its row."""
    from datasets.degrade import degrade_dataset
    from datasets.fetch import fetch

    t0 = time.perf_counter()
    try:
        fetch([name], mirror=Path(ctx.mirror) if ctx.mirror else None, progress=False)
        lr, _ = degrade_dataset(name, ctx.scale, progress=False)
        return {"name": name, "ok": True, "images": len(list(Path(lr).glob("*.png"))),
                "seconds": round(time.perf_counter() - t0, 2)}
    except Exception as exc:  # noqa: BLE001  (a set the mirror lacks: later steps skip it)
        return {"name": name, "ok": False, "error": typed_one_line(exc)}


def step_data(ctx: SuiteContext, rec: Record) -> None:
    """Fetch (mirror or embedded) and degrade every set the later steps use; a missing set is noted."""
    names = dict.fromkeys([*ctx.test_sets, *ctx.train_sets, *ctx.val_sets, *ctx.throughput_sets,
                           ctx.fidelity_set])
    for name in names:
        rec.append("sets", prepare_set(name, ctx))


# -- 3. the suite's GPU-marked tests -------------------------------------------------------------
def gpu_test_files() -> list[str]:
    """Test modules that mark something ``gpu`` (collecting only these needs no test-only packages)."""
    from core.paths import REPO_ROOT

    files = sorted((REPO_ROOT / "tests").rglob("test_*.py"))
    return [str(f.relative_to(REPO_ROOT)) for f in files if "mark.gpu" in f.read_text(encoding="utf-8")]


def step_gpu_tests(ctx: SuiteContext, rec: Record) -> None:
    """``pytest -m gpu`` on the modules holding gpu tests, in a child process; summary and output tail."""
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider", *gpu_test_files()]
    rec.put("command", " ".join(cmd[1:]))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=max(5.0, time_left(ctx) - 3))
        out, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, code = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), None
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    summary = next((ln.strip("= ") for ln in reversed(lines)
                    if any(w in ln for w in ("passed", "failed", "skipped", "error", "deselected"))), None)
    rec.put("exit_code", code)
    rec.put("summary", summary if code is not None else "timed out")
    rec.put("seconds", round(time.perf_counter() - t0, 1))
    rec.put("tail", lines[-25:])
    if code not in (0, 5):  # 5: nothing selected (no gpu tests); 0: all passed
        raise RuntimeError(f"gpu tests: {summary or 'no summary'} (pytest exit {code})")


# -- 4. protocol runtime of every model + the suite's own eager loop -----------------------------
def step_protocol(ctx: SuiteContext, rec: Record) -> None:
    """Protocol runtime (repeats) of every registered model; eager loop and landscape for two of them."""
    import torch

    import models  # noqa: F401  (registers every model)
    from eval.gpu_suite.runtime_variants import repeat_stats, time_variant
    from eval.runtime import input_shape, measure_runtime
    from models.cost import count_flops, count_params
    from models.registry import create_model, list_models

    shape = input_shape(ctx.scale) if ctx.lr_hw is None else [1, 3, *ctx.lr_hw]
    rec.put("input_shape", shape)
    rec.put("settings", {"warmup": ctx.warmup, "passes": ctx.passes, "repeats": ctx.repeats})
    for name in list_models():
        if time_left(ctx) < 5:
            rec.append("skipped", {"model": name, "reason": "step budget used up"})
            continue
        row = {"model": name}
        try:
            model = create_model(name, scale=ctx.scale)
            row.update(params=count_params(model),
                       gflops=count_flops(model, ctx.scale, tuple(shape[2:]))["flops"] / 1e9)
            blocks = [measure_runtime(model, ctx.scale, ctx.device, ctx.warmup, ctx.passes, lr_hw=ctx.lr_hw_tuple)
                      for _ in range(ctx.repeats)]
            row["protocol"] = {**repeat_stats([b["mean_ms"] for b in blocks]), "call": blocks[0]["call"],
                               "peak_mem_mb": blocks[0]["peak_mem_mb"]}
            if name in EAGER_MODELS:
                example = torch.randn(*shape)
                warmup = GPU_WARMUP if ctx.warmup is None else ctx.warmup
                passes = GPU_PASSES if ctx.passes is None else ctx.passes
                eager, _ = time_variant("eager", model, ctx.device, example, warmup, passes, ctx.repeats)
                row["eager"] = eager
                row["protocol_over_eager"] = row["protocol"]["median_ms"] / eager["median_ms"]
                if ctx.lr_hw is None:
                    land = [measure_runtime(model, ctx.scale, ctx.device, ctx.warmup, ctx.passes,
                                            orientation="landscape")["mean_ms"] for _ in range(ctx.repeats)]
                    row["protocol_landscape"] = repeat_stats(land)
        except Exception as exc:  # noqa: BLE001  (recorded in the report, never hidden)
            row["error"] = typed_one_line(exc)
        rec.append("models", row)


# -- 5. optimised variants and their FP16 fidelity -----------------------------------------------
def fidelity_mosaic(ctx: SuiteContext):
    """(LR mosaic, GT mosaic) of the fidelity set at the timed input size."""
    from datasets.paths import gt_dir, lr_dir
    from eval.gpu_suite.mosaic import build_mosaic, load_degraded_pairs
    from eval.runtime import input_shape

    if not available(ctx.fidelity_set, ctx):
        raise RuntimeError(f"fidelity set {ctx.fidelity_set!r} not prepared (see the data step)")
    hw = tuple(input_shape(ctx.scale)[2:]) if ctx.lr_hw is None else ctx.lr_hw_tuple
    pairs = load_degraded_pairs(lr_dir(ctx.fidelity_set, ctx.scale), gt_dir(ctx.fidelity_set, ctx.scale))
    return build_mosaic(pairs, hw, ctx.scale)


def variant_model(name: str, ctx: SuiteContext):
    """A model for the variants step: the released checkpoint for bicubic_pp when present (real weights)."""
    from models.registry import create_model

    if name == "bicubic_pp" and ctx.official and ctx.scale == 3:
        return create_model(name, scale=3, weights=ctx.official), RELEASED_LABEL
    return create_model(name, scale=ctx.scale), name


def step_variants(ctx: SuiteContext, rec: Record) -> None:
    """Each variant of each variant model: repeat statistics and fidelity on the mosaic."""
    import torch

    import models  # noqa: F401
    from eval.gpu_suite.runtime_variants import CUDA_ONLY, fidelity, reference_psnr, time_variant
    from eval.runtime import RuntimeUnavailable, input_shape

    lr, gt = fidelity_mosaic(ctx)
    rec.put("mosaic", {"set": ctx.fidelity_set, "lr_shape": list(lr.shape), "gt_shape": list(gt.shape)})
    shape = input_shape(ctx.scale) if ctx.lr_hw is None else [1, 3, *ctx.lr_hw]
    warmup = GPU_WARMUP if ctx.warmup is None else ctx.warmup
    passes = GPU_PASSES if ctx.passes is None else ctx.passes
    for name in ctx.variant_models:
        model, label = variant_model(name, ctx)
        ref = reference_psnr(model, ctx.device, lr, gt)
        for variant in ctx.variants:
            row = {"model": label, "variant": variant}
            if variant in CUDA_ONLY and ctx.device != "cuda":
                row["skipped"] = "needs CUDA"
            elif variant.startswith("compile") and ctx.quick and ctx.device == "cpu":
                row["skipped"] = "torch.compile takes minutes on 2 CPU cores; not run with --quick"
            elif time_left(ctx) < 20:
                row["skipped"] = "step budget used up"
            else:
                rec.put("running", f"{label} {variant}")  # names the culprit if the step is killed here
                try:
                    torch.manual_seed(0)
                    stats, run = time_variant(variant, model, ctx.device, torch.randn(*shape), warmup,
                                              passes, ctx.repeats)
                    row.update(stats)
                    row["fidelity"] = fidelity(run, model, ctx.device, lr, gt, ref)
                except RuntimeUnavailable as exc:  # e.g. torch_tensorrt not installed
                    row["skipped"] = str(exc)
                except Exception as exc:  # noqa: BLE001  (recorded in the report, never hidden)
                    row["error"] = typed_one_line(exc)
            rec.append("rows", row)
    rec.put("running", None)
    bad = [r for r in rec.data.get("rows", []) if "fidelity" in r and not r["fidelity"]["ok"]]
    rec.put("fidelity_flags", [f"{r['model']} {r['variant']}: drop {r['fidelity']['drop_db']}" for r in bad])


# -- 6. the channels sweep -----------------------------------------------------------------------
def step_sweep(ctx: SuiteContext, rec: Record) -> None:
    """Bicubic++ runtime against channels (``eval.gpu_suite.sweep``), plus sweep.png in the report folder."""
    from eval.gpu_suite.sweep import sweep, title_for, write_outputs

    rows = []
    for ch in ctx.sweep_channels:
        if time_left(ctx) < 5:
            rec.put("stopped", f"step budget used up before {ch} channels")
            break
        rows.extend(sweep([ch], ctx.scale, ctx.device, ctx.warmup, ctx.passes, ctx.repeats, ctx.lr_hw_tuple))
        rec.put("rows", rows)
    title = title_for(ctx.device, ctx.scale, ctx.lr_hw_tuple)
    rec.put("title", title)
    write_outputs(rows, Path(ctx.out), title, {"scale": ctx.scale})
    if rows:
        rec.put("fastest_channels", min(rows, key=lambda r: r["median_ms"])["channels"])


# -- 7. training on the device -------------------------------------------------------------------
def conf_values(budget: str, section: str) -> dict:
    """TrainConfig values of ``train.base`` + ``train.<section>`` of conf/ with ``budget=<budget>``."""
    from training.config import conf_sections

    return conf_sections([f"budget={budget}"], ["train.base", f"train.{section}"])


def train_config(ctx: SuiteContext, section: str, budget: str = TRAIN_BUDGET, **overrides):
    """A TrainConfig of conf/'s ``section`` at ``budget``, with the suite's sets, patch, batch and device."""
    from training.config import make_train_config

    run = {"out": str(Path(ctx.work) / "train" / "scratch"), "scale": ctx.scale,
           "train_sets": list(ctx.train_sets), "val_sets": list(ctx.val_sets), "lr_patch": ctx.train_patch,
           "batch": ctx.train_batch, "device": ctx.device, "progress": False}
    if ctx.quick:
        run["val_crop"] = 32
    return make_train_config({**conf_values(budget, section), **run, **overrides},
                             f"conf/ (budget={budget}) train.base + train.{section} and the GPU suite's settings")


def prune_target(budget: str = TRAIN_BUDGET) -> int:
    """Stage 2's channel target (``prune.target`` of conf/ with ``budget=<budget>``)."""
    from core.params import composed_params

    return int(composed_params([f"budget={budget}"])["prune"]["target"])


def paper_pairs() -> int:
    """LR/HR patch pairs of the paper profile's three stages (epochs x pairs per epoch, from conf/)."""
    return sum(v["epochs"] * v["pairs_per_epoch"] for v in (conf_values(PAPER_BUDGET, s) for s in STAGES))


def throughput(ctx: SuiteContext, rec: Record) -> None:
    """Stage-1 patches/s at the paper's LR patch and batch (108, 16), AMP on and off; paper-profile estimate."""
    from training.throughput import estimated_seconds, measure_throughput

    paper = conf_values(PAPER_BUDGET, STAGES[0])
    patch, batch, steps, warmup = (24, 4, 3, 2) if ctx.quick else (paper["lr_patch"], paper["batch"], 200, 20)
    cfg = train_config(ctx, STAGES[0], PAPER_BUDGET, train_sets=list(ctx.throughput_sets), lr_patch=patch,
                       batch=batch)
    rows = []
    for amp in (True, False) if ctx.device == "cuda" else (False,):  # AMP is CUDA-only
        rows.append(measure_throughput(cfg.model_copy(update={"amp": amp}), steps=steps, warmup=warmup))
        rec.put("throughput", rows)
    best = max(rows, key=lambda r: r["patches_per_s"])
    pairs = paper_pairs()
    rec.put("paper_profile_estimate", {
        "pairs": pairs, "patches_per_s": best["patches_per_s"], "amp": best["amp"],
        "hours_training_steps": estimated_seconds(pairs, best["patches_per_s"]) / 3600,
        "note": f"3 x {paper['epochs']} epochs x {paper['pairs_per_epoch']} pairs of {patch} px LR patches, "
                f"batch {batch}, AMP {'on' if best['amp'] else 'off'} (the faster); training steps only "
                "(validation, pruning search and checkpoints not counted)"})


def stage_epochs(seconds: float, patches_per_s: float, pairs_per_epoch: int) -> int:
    """Whole epochs that fit in ``seconds`` at ``patches_per_s`` (80 % duty for validation/checkpoints)."""
    return max(1, int(seconds * 0.8 * patches_per_s / pairs_per_epoch))


def three_stages(ctx: SuiteContext, rec: Record, budget: float) -> None:
    """Stage 1 (34 ch + bias) -> stage 2 (prune to 32, finetune) -> stage 3 (no bias, finetune) in ``budget`` s."""
    from eval.gpu_suite.stages import final_run, run_stages
    from training.throughput import measure_throughput

    root = Path(ctx.work) / "train"
    pairs = 64 if ctx.quick else 12800
    probe = measure_throughput(train_config(ctx, STAGES[0]), steps=2 if ctx.quick else 50,
                               warmup=1 if ctx.quick else 10)
    split = {"stage1": 0.5, "stage2": 0.25, "stage3": 0.25}
    epochs = {k: 1 if ctx.quick else stage_epochs(budget * f, probe["patches_per_s"], pairs)
              for k, f in split.items()}
    rec.put("plan", {"patches_per_s": probe["patches_per_s"], "pairs_per_epoch": pairs, "epochs": epochs,
                     "lr_patch": ctx.train_patch, "batch": ctx.train_batch, "train_sets": ctx.train_sets,
                     "val_sets": ctx.val_sets, "seconds_available": budget})
    validations = {"stage1": 4, "stage2": 2, "stage3": 2}  # validations per stage
    run_stages(lambda section, **run: train_config(ctx, section, **run), root,
               lambda key, done: (epochs[key], max(1, epochs[key] // validations[key])), prune_target(), rec,
               pairs_per_epoch=pairs)
    rec.put("checkpoint", str(final_run(root) / "best.pt"))


def baselines(ctx: SuiteContext, rec: Record, budget: float) -> None:
    """Each baseline with the same trainer, an equal share of ``budget`` s (the mirror profile's optimiser)."""
    from training.loop import train
    from training.throughput import measure_throughput

    pairs = 64 if ctx.quick else 6400
    names = list(ctx.train_baselines)
    for i, name in enumerate(names):
        share = max(0.0, time_left(ctx) - 10) / (len(names) - i) if not ctx.quick else budget
        if share < 5:
            rec.append("baselines", {"model": name, "skipped": "step budget used up"})
            continue
        settings = {"model": name, "out": str(Path(ctx.work) / "train" / name), "pairs_per_epoch": pairs}
        try:
            probe = measure_throughput(train_config(ctx, "baseline", **settings), steps=2 if ctx.quick else 30,
                                       warmup=1 if ctx.quick else 5)
            epochs = 1 if ctx.quick else stage_epochs(share - 3, probe["patches_per_s"], pairs)
            summary = train(train_config(ctx, "baseline", **settings, epochs=epochs, val_every=epochs))
            rec.append("baselines", {"model": name, "epochs": epochs, "patches_per_s": probe["patches_per_s"],
                                     "summary": summary})
        except Exception as exc:  # noqa: BLE001  (recorded; the next baseline still trains)
            rec.append("baselines", {"model": name, "error": typed_one_line(exc)})


def step_training(ctx: SuiteContext, rec: Record) -> None:
    """Throughput (AMP on/off) and the paper-profile estimate, then the three stages and the baselines."""
    import models  # noqa: F401

    throughput(ctx, rec)
    missing = [s for s in [*ctx.train_sets, *ctx.val_sets] if not available(s, ctx)]
    if missing:
        rec.put("stages_skipped", f"sets not prepared: {', '.join(missing)} (see the data step)")
        return
    left = max(0.0, time_left(ctx) - 10)
    share = 1.0 if not ctx.train_baselines else 0.55
    three_stages(ctx, rec, left * share)
    if ctx.train_baselines:
        baselines(ctx, rec, left * (1 - share))


# -- 8. the GPU leaderboard ----------------------------------------------------------------------
def bicubic_entry() -> dict:
    """The reference upscaler's entry (label, model, weights, origin): every comparison has it."""
    return {"label": BICUBIC, "model": BICUBIC, "weights": None, "origin": "reference upscaler"}


def released_entries(ctx: SuiteContext) -> list[dict]:
    """The released Bicubic++ x3 checkpoint's entry when it is present and the scale is 3, else none."""
    if not (ctx.official and ctx.scale == 3):
        return []
    return [{"label": RELEASED_LABEL, "model": "bicubic_pp", "weights": ctx.official,
             "origin": "the authors' released x3 checkpoint"}]


def leaderboard_entries(ctx: SuiteContext) -> list[dict]:
    """(label, model, weights, origin) of every model with real weights, plus bicubic."""
    from models.registry import list_models

    entries = [bicubic_entry(), *released_entries(ctx)]
    for name in ["bicubic_pp", *ctx.train_baselines]:
        ckpt = Path(ctx.work) / "train" / name / "best.pt"
        if ckpt.is_file():
            entries.append({"label": f"{name}{SUITE_SUFFIX}", "model": name, "weights": str(ckpt),
                            "origin": f"trained by this suite's training step on {ctx.card}"})
    if ctx.weights_dir:
        for name in list_models():
            ckpt = Path(ctx.weights_dir) / name / "best.pt"
            if ckpt.is_file():
                entries.append({"label": name, "model": name, "weights": str(ckpt),
                                "origin": f"trained by the CPU pipeline ({ckpt})"})
    return entries


def leaderboard_timing(ctx: SuiteContext) -> dict:
    """EvalOptions timing of the leaderboard: GPU protocol on CUDA; on the CPU 1 pass, none with --quick."""
    if ctx.device == "cuda":
        return {"runtime": "gpu"}
    return {"runtime": "off"} if ctx.quick else {"runtime": "cpu", "passes": 1, "warmup": 0}


def evaluate_entry(ctx: SuiteContext, entry: dict, dataset: str, results: Path, sr_root: Path | None,
                   timing: dict | None = None) -> dict:
    """``eval.evaluate`` of one entry on one set (``timing``: EvalOptions runtime fields, default the
    leaderboard's); the result is written to ``results`` and returned, SR PNGs under ``sr_root`` unless None."""
    from eval.evaluate import evaluate, write_result
    from eval.options import EvalOptions

    save_sr = None if sr_root is None else sr_dir(sr_root, entry["label"], dataset, ctx.scale, SUITE_DEGRADATION)
    opts = EvalOptions(model=entry["model"], label=entry["label"], dataset=dataset, scale=ctx.scale,
                       degradation=SUITE_DEGRADATION, weights=entry["weights"], save_sr=save_sr,
                       **(timing or leaderboard_timing(ctx)))
    result = evaluate(opts)
    write_result(result, results / f"{entry['label']}_{dataset}_x{ctx.scale}.json")
    return result


def step_leaderboard(ctx: SuiteContext, rec: Record) -> None:
    """Evaluate every entry on every prepared test set on the device, then render the leaderboard."""
    import shutil

    import models  # noqa: F401
    from core.hashing import file_sha256
    from eval.report.leaderboard import LeaderboardOptions, build_leaderboard

    results, sr_root = Path(ctx.out) / "results", Path(ctx.work) / "sr"
    shutil.rmtree(results, ignore_errors=True)
    shutil.rmtree(sr_root, ignore_errors=True)
    sets = [s for s in ctx.test_sets if available(s, ctx)]
    rec.put("test_sets", sets)
    rec.put("test_sets_missing", [s for s in ctx.test_sets if s not in sets])
    entries = leaderboard_entries(ctx)
    rec.put("entries", [{**e, "sha256": file_sha256(Path(e["weights"])) if e["weights"] else None}
                        for e in entries])
    for dataset in sets:
        for entry in entries:
            if time_left(ctx) < 10:
                rec.append("evaluations", {"label": entry["label"], "dataset": dataset, "skipped": "budget"})
                continue
            row = {"label": entry["label"], "dataset": dataset, "exit": 0}
            try:
                evaluate_entry(ctx, entry, dataset, results, sr_root)
            except RtsrError as exc:  # as the CLI would: exit status 2 and its one-line error
                row.update({"exit": 2, "error": one_line(exc)})
            rec.append("evaluations", row)
    if not sets or not any(results.glob("*.json")):
        raise RuntimeError("no test set could be evaluated (see the data step)")
    # no site: the report stays small enough to commit
    build_leaderboard(LeaderboardOptions(results=results, out=Path(ctx.out), sr=sr_root, scale=ctx.scale,
                                         site=False))
    rec.put("leaderboard_written", True)


# The steps defined here; step ``reproduce`` is ``eval.gpu_suite.reproduce.step_reproduce`` (it builds on
# these helpers), added by ``eval.gpu_suite.step``.
LOCAL_STEP_FUNCTIONS = {name: globals()[f"step_{name}"] for name in STEPS if name != "reproduce"}
