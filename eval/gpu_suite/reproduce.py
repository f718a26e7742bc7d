"""Step ``reproduce``: Bicubic++'s three stages and every baseline at the paper budget, published and evaluated.

Order (a short time box keeps what came first): prepare the sets through ``datasets.fetch`` (the
mirror, ``$RTSR_DATA_MIRROR``); choose the LR patch (``eval.gpu_suite.patch``: the paper's 108
where a training set fits it wholly, else the released code's 96); train Bicubic++'s three stages
with conf/'s ``budget=paper`` (Adam betas, lr, schedule, batch, 800 pairs per epoch, 1000 epochs
per stage, ``prune.target``); train every baseline of the suite's list at one equal number of
pairs; publish each network with ``training.publish.publish`` into ``<out>/trained/`` (provenance
record beside the .pt); evaluate every run, bicubic and the released checkpoint on the test sets
with ``eval.evaluate`` (the GPU protocol runtime on the first set when on CUDA, none on the CPU).

Time: the step's time box less ``EVAL_SHARE`` for evaluation is the training time; the three
stages get ``BICUBIC_PP_SHARE`` of it when baselines follow. Each stage's epochs are planned just
before it starts from the measured seconds per epoch (the probe for stage 1, the stages done for
the others); when the paper's epochs do not fit they are scaled down and the record says so under
``reduced`` (the suite then reports the status ``scaled``, never ``ok``; ``quick`` for toy sizes).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from core.errors import typed_one_line
from eval.gpu_suite.context import SuiteContext
from eval.gpu_suite.patch import PAPER_LR_PATCH, RELEASED_LR_PATCH, choose_patch, lr_sides
from eval.gpu_suite.record import Record
from eval.gpu_suite.stages import KEYS, RUN_DIRS, STAGES, final_run, run_stages
from eval.gpu_suite.steps import (
    PAPER_BUDGET,
    available,
    bicubic_entry,
    conf_values,
    evaluate_entry,
    prepare_set,
    prune_target,
    released_entries,
    time_left,
    train_config,
)

EVAL_SHARE = 0.15  # of the step's time kept for evaluating every run
BICUBIC_PP_SHARE = 0.6  # of the training time for the three stages when baselines follow
DUTY = 0.8  # planned share of an epoch in training steps before one is measured (validation, checkpoints)
MARGIN_S = 5.0  # seconds kept before the step's deadline
MIN_RUN_S = 10.0  # no baseline starts (probe included) with less training time than this left
QUICK_PAIRS = 16  # pairs per epoch with --quick (1 epoch per stage and per baseline)


# -- data and patch ------------------------------------------------------------------------------
def prepare_data(ctx: SuiteContext, rec: Record) -> None:
    """Fetch and degrade the training, validation and test sets (``datasets.fetch``); one row each."""
    for name in dict.fromkeys([*ctx.train_sets, *ctx.val_sets, *ctx.test_sets]):
        rec.append("sets", prepare_set(name, ctx))


def travel(ctx: SuiteContext, rec: Record) -> None:
    """The travel plan of the mirror this run reads (``eval.gpu_suite.travel``), in words, when there is one."""
    from eval.gpu_suite.travel import plan_lines, travel_plan

    if not ctx.mirror or not (Path(ctx.mirror) / "MANIFEST.tsv").is_file():
        return
    try:
        rec.put("travel", plan_lines(travel_plan(Path(ctx.mirror), ctx.scale)))
    except Exception as exc:  # noqa: BLE001  (e.g. no git on the device copy: recorded, the step goes on)
        rec.put("travel", [f"travel plan not computed: {typed_one_line(exc)}"])


def training_patch(ctx: SuiteContext, rec: Record) -> dict:
    """{"lr_patch", "sets", "dropped"}: the LR patch (px) and the training sets that fit it wholly."""
    from datasets.paths import lr_dir

    missing = [s for s in ctx.train_sets if not available(s, ctx)]
    sides = {s: lr_sides(lr_dir(s, ctx.scale)) for s in ctx.train_sets if s not in missing}
    patches = [ctx.train_patch] if ctx.quick else [PAPER_LR_PATCH, RELEASED_LR_PATCH]
    patch = choose_patch(sides, patches)
    patch["dropped"].update({s: "not prepared (see sets)" for s in missing})
    rec.put("data", {"lr_patch": patch["lr_patch"], "hr_patch": patch["lr_patch"] * ctx.scale,
                     "train_sets": patch["sets"], "dropped": patch["dropped"],
                     "images": {s: sorted(sides[s]) for s in patch["sets"]},
                     "val_sets": list(ctx.val_sets), "test_sets": [s for s in ctx.test_sets if available(s, ctx)],
                     "test_sets_missing": [s for s in ctx.test_sets if not available(s, ctx)]})
    return patch


# -- configs and plans ---------------------------------------------------------------------------
def paper(section: str) -> dict:
    """conf/'s ``budget=paper`` values of ``train.base`` + ``train.<section>``."""
    return conf_values(PAPER_BUDGET, section)


def paper_config(ctx: SuiteContext, section: str, patch: dict, **run):
    """A TrainConfig at the paper budget on the chosen sets and patch (toy pairs and batch with --quick)."""
    values = {"train_sets": list(patch["sets"]), "lr_patch": patch["lr_patch"],
              "batch": ctx.train_batch if ctx.quick else paper(section)["batch"]}
    if ctx.quick:
        values["pairs_per_epoch"] = QUICK_PAIRS
    return train_config(ctx, section, PAPER_BUDGET, **{**values, **run})


def epochs_that_fit(seconds: float, seconds_per_epoch: float, paper_epochs: int) -> int:
    """Whole epochs (1 .. ``paper_epochs``) that fit in ``seconds`` at ``seconds_per_epoch``."""
    if seconds_per_epoch <= 0:
        return paper_epochs
    return max(1, min(paper_epochs, int(seconds / seconds_per_epoch)))


def val_every(epochs: int, values: dict) -> int:
    """The paper's validation interval scaled with the epochs (20 of 1000: 50 points per curve)."""
    return max(1, round(values["val_every"] * epochs / values["epochs"]))


def seconds_per_epoch(patches_per_s: float, values: dict) -> float:
    """Planned seconds of one epoch (``pairs_per_epoch`` at ``patches_per_s``, ``DUTY`` of the time in steps)."""
    return values["pairs_per_epoch"] / max(patches_per_s, 1e-9) / DUTY


def stage_planner(ctx: SuiteContext, rec: Record, deadline: float, probe_spe: float, startup_s: float):
    """The three stages' plan: each stage gets an equal part of the time to ``deadline`` (unix s) left.

    Stage 2's pruning search is not planned: the time it takes comes out of stage 3's share (planned
    after it, on the time then left) and, past the deadline, the baselines'."""
    def plan(key: str, done: dict) -> tuple[int, int]:
        values = paper(STAGES[KEYS.index(key)])
        if ctx.quick:
            epochs, spe, seconds = 1, None, None
        else:
            ran = [s for s in done.values() if s.get("epochs")]
            spe = (sum(s["train_seconds"] for s in ran) / sum(s["epochs"] for s in ran)) if ran else probe_spe
            seconds = (deadline - time.time()) / (len(KEYS) - len(done)) - startup_s
            epochs = epochs_that_fit(seconds, spe, values["epochs"])
        every = val_every(epochs, values)
        rec.append("stage_plans", {"stage": key, "epochs": epochs, "paper_epochs": values["epochs"],
                                   "val_every": every, "seconds_per_epoch": spe, "seconds_available": seconds})
        return epochs, every
    return plan


# -- training ------------------------------------------------------------------------------------
def probe_steps(ctx: SuiteContext) -> tuple[int, int]:
    """(timed steps, warm-up steps) of a throughput probe: 50/10 on CUDA, 5/1 on the CPU, 2/1 with --quick."""
    if ctx.quick:
        return 2, 1
    return (50, 10) if ctx.device == "cuda" else (5, 1)


def probe(cfg, ctx: SuiteContext, images=None) -> tuple[dict, float]:
    """(training throughput of ``cfg``, seconds of its start-up: model, data, warm-up)."""
    from training.throughput import measure_throughput

    steps, warmup = probe_steps(ctx)
    t0 = time.perf_counter()
    row = measure_throughput(cfg, steps=steps, warmup=warmup, images=images)
    return row, max(0.0, time.perf_counter() - t0 - row["seconds"])


def train_bicubic_pp(ctx: SuiteContext, rec: Record, patch: dict, root: Path, deadline: float) -> Path:
    """The three stages by ``deadline`` (unix s); each stage's validation curve in ``curves``; the final run."""
    first, startup = probe(paper_config(ctx, STAGES[0], patch, out=str(root / "probe")), ctx)
    rec.put("bicubic_pp_probe", {**first, "startup_s": startup})
    plan = stage_planner(ctx, rec, deadline, seconds_per_epoch(first["patches_per_s"], paper(STAGES[0])), startup)
    run_stages(lambda section, **run: paper_config(ctx, section, patch, **run), root, plan,
               prune_target(PAPER_BUDGET), rec)
    rec.put("curves", {key: run_curve(root / RUN_DIRS[key]) for key in KEYS})
    return final_run(root)


def run_curve(run: Path) -> list[tuple[int, float]]:
    """(epoch, validation RGB PSNR dB) of a finished run folder (its last.pt history)."""
    from models.registry import load_checkpoint
    from training.publish import validation_curve

    return validation_curve(load_checkpoint(run / "last.pt")["history"])


def equal_epochs(seconds: float, rates: dict, startup_s: float, values: dict) -> int:
    """Epochs per baseline, the same for each, so that all of them fit in ``seconds`` (rates: pairs/s)."""
    if not rates:
        return 0
    per_pair = sum(1 / max(r, 1e-9) for r in rates.values()) / DUTY  # seconds for one pair of each
    pairs = (seconds - startup_s * len(rates)) / per_pair
    return max(1, min(values["epochs"], int(pairs // values["pairs_per_epoch"])))


def train_baselines(ctx: SuiteContext, rec: Record, patch: dict, root: Path, deadline: float) -> dict:
    """Every baseline at one equal number of pairs by ``deadline`` (unix s); {model: run folder}."""
    from training.data import load_split
    from training.loop import resolve_device, train

    names = list(ctx.train_baselines)
    if not ctx.quick and deadline - time.time() < MIN_RUN_S:
        for name in names:
            rec.append("baselines", {"model": name, "skipped": "step budget used up before the baselines"})
        return {}
    if not names:
        return {}
    values = paper("baseline")
    cfgs = {n: paper_config(ctx, "baseline", patch, model=n, out=str(root / n)) for n in names}
    first = next(iter(cfgs.values()))
    lrs, hrs, _ = load_split(first.train_sets, first, resolve_device(first.device))
    rates, startup = {}, 0.0
    for name, cfg in cfgs.items():
        try:
            row, startup = probe(cfg, ctx, images=(lrs, hrs))
            rates[name] = row["patches_per_s"]
        except Exception as exc:  # noqa: BLE001  (recorded; the other baselines still train)
            rec.append("baselines", {"model": name, "error": typed_one_line(exc)})
    del lrs, hrs
    epochs = 1 if ctx.quick else equal_epochs(deadline - time.time(), rates, startup, values)
    pairs = epochs * (QUICK_PAIRS if ctx.quick else values["pairs_per_epoch"])
    rec.put("baseline_budget", {"epochs": epochs, "paper_epochs": values["epochs"], "pairs": pairs,
                                "patches_per_s": rates, "val_every": val_every(epochs, values)})
    runs = {}
    for name, rate in rates.items():
        need = epochs * seconds_per_epoch(rate, cfgs[name].model_dump()) + startup
        if not ctx.quick and time.time() + need > deadline:
            rec.append("baselines", {"model": name, "skipped": "step budget used up"})
            continue
        try:
            summary = train(cfgs[name].model_copy(update={"epochs": epochs, "val_every": val_every(epochs, values)}))
            rec.append("baselines", {"model": name, "epochs": epochs, "pairs": pairs, "summary": summary,
                                     "curve": run_curve(root / name)})
            runs[name] = root / name
        except Exception as exc:  # noqa: BLE001  (recorded; the next baseline still trains)
            rec.append("baselines", {"model": name, "error": typed_one_line(exc)})
    return runs


# -- publish and evaluate ------------------------------------------------------------------------
def budget_tag(ctx: SuiteContext, epochs: list[int], paper_epochs: int) -> tuple[str, str]:
    """(name suffix, record budget) of a run: paper, paper scaled to N of 1000 epochs, or quick."""
    if ctx.quick:
        return "quick", f"quick (toy: {max(epochs)} epoch(s) of {QUICK_PAIRS} pairs, --quick)"
    if min(epochs) >= paper_epochs:
        return "paper", PAPER_BUDGET
    return "paper_scaled", f"paper scaled to {'/'.join(map(str, epochs))} of {paper_epochs} epochs"


def publish_run(ctx: SuiteContext, rec: Record, run: Path, model: str, epochs: list[int]) -> dict:
    """``training.publish.publish`` of one run into ``<out>/trained/``; its row in ``published``."""
    from training.publish import publish

    suffix, budget = budget_tag(ctx, epochs, paper(STAGES[0] if model == "bicubic_pp" else "baseline")["epochs"])
    name = f"{model}_x{ctx.scale}_{suffix}"
    record = publish(run, name, ctx.card, budget, root=Path(ctx.out) / "trained")
    row = {"name": name, "model": model, "path": str(Path(ctx.out) / "trained" / f"{name}.pt"),
           "sha256": record.sha256, "epochs": record.epochs, "budget": budget}
    rec.append("published", row)
    return row


def eval_entries(ctx: SuiteContext, published: list[dict]) -> list[dict]:
    """(label, model, weights, origin) of the released checkpoint (when present), our Bicubic++, bicubic,
    then the baselines: the order they are evaluated in, so a short time box keeps the main comparison."""
    ours = [{"label": p["name"], "model": p["model"], "weights": p["path"],
             "origin": f"trained by the reproduce step on {ctx.card}"} for p in published]
    mine = [e for e in ours if e["model"] == "bicubic_pp"]
    return [*released_entries(ctx), *mine, bicubic_entry(), *[e for e in ours if e["model"] != "bicubic_pp"]]


def evaluate_all(ctx: SuiteContext, rec: Record, entries: list[dict]) -> None:
    """Every entry on every prepared test set: RGB/Y PSNR (dB); on CUDA the protocol runtime (ms) of the first set."""
    results = Path(ctx.out) / "reproduce"
    shutil.rmtree(results, ignore_errors=True)
    sets = [s for s in ctx.test_sets if available(s, ctx)]
    longest = 0.0  # seconds of the longest evaluation so far: none starts that would not finish
    for i, dataset in enumerate(sets):
        timing = {"runtime": "gpu"} if ctx.device == "cuda" and i == 0 else {"runtime": "off"}
        for entry in entries:
            if time_left(ctx) < MARGIN_S + longest:
                rec.append("evaluations", {"label": entry["label"], "dataset": dataset, "skipped": "budget"})
                continue
            row = {"label": entry["label"], "model": entry["model"], "dataset": dataset, "origin": entry["origin"]}
            t0 = time.perf_counter()
            try:
                result = evaluate_entry(ctx, entry, dataset, results, None, timing)
                runtime = result.get("runtime") or {}
                row.update(psnr_rgb=result["psnr_rgb"], psnr_y=result["psnr_y"], images=len(result["per_image"]),
                           runtime_ms=runtime.get("mean_ms"), runtime_on=ctx.card if runtime else None)
            except Exception as exc:  # noqa: BLE001  (recorded; the other evaluations still run)
                row["error"] = typed_one_line(exc)
            longest = max(longest, time.perf_counter() - t0)
            rec.append("evaluations", row)


def reduction(ctx: SuiteContext, rec: Record) -> dict | None:
    """{"kind": "quick"|"scaled", "reason"} when the step did less than the paper budget; None when it did all."""
    stages = [p["epochs"] for p in rec.data.get("stage_plans", [])]
    base = rec.data.get("baseline_budget") or {}
    if ctx.quick:
        return {"kind": "quick", "reason": f"toy sizes (--quick): {', '.join(ctx.train_sets)} data, 1 epoch of "
                                           f"{QUICK_PAIRS} pairs per stage and per baseline, batch {ctx.train_batch}, "
                                           "not the paper budget"}
    short = [e for e in stages if e < paper(STAGES[0])["epochs"]]
    if short or (base and base["epochs"] < base["paper_epochs"]):
        baselines = (f"baselines {base['epochs']} of {base['paper_epochs']} ({base['pairs']:,} pairs each)" if base
                     else "baselines not trained")
        done = "/".join(map(str, stages))
        return {"kind": "scaled", "reason": f"epochs scaled down to fit the step's time: Bicubic++ stages "
                                            f"{done} of {paper(STAGES[0])['epochs']}, {baselines}"}
    return None


def step_reproduce(ctx: SuiteContext, rec: Record) -> None:
    """The whole step (see the module doc): train, publish, evaluate; the record is saved after every part."""
    import models  # noqa: F401  (registers every model)

    root = Path(ctx.work) / "reproduce"
    shutil.rmtree(root, ignore_errors=True)  # a fresh run: never resume another time box's epochs
    prepare_data(ctx, rec)
    travel(ctx, rec)
    patch = training_patch(ctx, rec)
    seconds = max(0.0, time_left(ctx) - MARGIN_S)
    train_s = seconds * (1 - EVAL_SHARE)
    now = time.time()
    bpp_deadline = now + train_s * (BICUBIC_PP_SHARE if ctx.train_baselines else 1.0)
    rec.put("plan", {"seconds_available": round(seconds, 1), "training_s": round(train_s, 1),
                     "bicubic_pp_s": round(bpp_deadline - now, 1), "evaluation_s": round(seconds - train_s, 1),
                     "budget": PAPER_BUDGET, "optimiser": optimiser_note(), "prune_target": prune_target(PAPER_BUDGET),
                     "baselines": list(ctx.train_baselines), "device": ctx.device, "card": ctx.card})
    published = [publish_run(ctx, rec, train_bicubic_pp(ctx, rec, patch, root, bpp_deadline), "bicubic_pp",
                             [p["epochs"] for p in rec.data["stage_plans"]])]
    runs = train_baselines(ctx, rec, patch, root, now + train_s)
    epochs = (rec.data.get("baseline_budget") or {}).get("epochs")
    published += [publish_run(ctx, rec, run, name, [epochs]) for name, run in runs.items()]
    evaluate_all(ctx, rec, eval_entries(ctx, published))
    rec.put("reduced", reduction(ctx, rec))


def optimiser_note() -> str:
    """conf/'s paper optimiser in words: Adam betas, lr, schedule, batch, pairs and epochs per stage."""
    from training.schedule import PAPER_FINAL_LR, PUBLIC_FINAL_LR

    words = {"paper": f"constant for half the epochs, then linear to {PAPER_FINAL_LR:g}",
             "public": f"linear to {PUBLIC_FINAL_LR:g}", "constant": "constant"}
    v = paper(STAGES[0])
    return (f"Adam betas ({v['beta1']}, {v['beta2']}), lr {v['lr']:g}, schedule {v['schedule']!r} "
            f"({words[v['schedule']]}), batch {v['batch']}, {v['pairs_per_epoch']} pairs per epoch, "
            f"{v['epochs']} epochs per stage, loss {v['loss']} (conf/budget/paper.yaml)")

