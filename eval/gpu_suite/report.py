"""The suite's report as Markdown: one section per step, the card named in every table's heading."""
from __future__ import annotations

from core.protocol import BICUBIC, FP16_TOLERANCE_DB


def fmt(value, spec: str = ".3f") -> str:
    """``value`` formatted, or an empty cell for None."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table (right-aligned numeric columns are left to the renderer)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def status_line(step: dict) -> str:
    """``ok`` / ``partial: <skipped names>`` / ``failed: <error>`` / ``timeout`` / ``skipped: <reason>``."""
    note = step.get("error") or step.get("reason") or ""
    return f"{step['status']}: {note}" if note else step["status"]


def environment_section(step: dict, card: str) -> list[str]:
    """GPU, software and clocks."""
    env = step.get("environment") or {}
    gpu = env.get("gpu") or {}
    lines = [f"## Environment ({card})", ""]
    if gpu:
        smi = gpu.get("smi") or {}
        lines += [(f"- GPU: **{gpu.get('name')}**, {gpu.get('memory_gib')} GiB, compute capability "
                  f"{gpu.get('capability')}, {gpu.get('multiprocessors')} SMs, driver {gpu.get('driver')}"),
                  (f"- Clocks at start (nvidia-smi): SM {smi.get('clocks.sm', '?')} "
                  f"(max {smi.get('clocks.max.sm', '?')}), memory {smi.get('clocks.mem', '?')}; "
                  f"power {smi.get('power.draw', '?')} / {smi.get('power.limit', '?')}; "
                  f"{smi.get('temperature.gpu', '?')} C; {smi.get('pstate', '?')}")]
    lines += [(f"- torch {env.get('torch')}, CUDA {env.get('cuda')}, cuDNN {env.get('cudnn')}, "
              f"torch_tensorrt importable: {env.get('torch_tensorrt')}"),
              f"- CPU: {env.get('cpu')} ({env.get('cpu_count')} logical cores)", ""]
    return lines


def data_section(step: dict) -> list[str]:
    """Which sets were prepared."""
    rows = [[s["name"], "yes" if s["ok"] else "no", fmt(s.get("images"), "d"), s.get("error", "")]
            for s in step.get("sets", [])]
    return ["## Data", ""] + table(["set", "prepared", "images", "note"], rows)


def gpu_tests_section(step: dict) -> list[str]:
    """The pytest summary."""
    return ["## GPU tests", "", (f"`{step.get('command', 'pytest -m gpu')}`: **{step.get('summary')}** "
            f"(exit {step.get('exit_code')}, {fmt(step.get('seconds'), '.0f')} s)"), ""]


def protocol_section(step: dict, card: str) -> list[str]:
    """Protocol runtime of every model, eager loop and landscape where measured."""
    shape = step.get("input_shape") or []
    rows = []
    for m in step.get("models", []):
        p, e, land = m.get("protocol") or {}, m.get("eager") or {}, m.get("protocol_landscape") or {}
        rows.append([m["model"], fmt(m.get("params"), ",d"), fmt(m.get("gflops"), ".2f"), fmt(p.get("mean_ms"), ".4f"),
                     fmt(p.get("median_ms"), ".4f"), fmt(p.get("cv"), ".3f"), fmt(e.get("median_ms"), ".4f"),
                     fmt(m.get("protocol_over_eager"), ".3f"), fmt(land.get("median_ms"), ".4f"),
                     p.get("call", ""), fmt(p.get("peak_mem_mb"), ".0f"), m.get("error", "")])
    head = ["model", "params", "GFLOPs", "mean ms", "median ms", "CV", "eager median ms", "protocol/eager",
            "landscape median ms", "call", "peak MiB", "error"]
    s = step.get("settings") or {}
    return ([f"## Protocol runtime ({card}, input {'x'.join(map(str, shape))})", "",
             ("Each figure: mean/median/CV over repeats of the protocol's mean "
             f"({s.get('warmup') or 50} warm-up, {s.get('passes') or 244} passes, events per pass + synchronize); "
             "`eager` is the suite's own loop (one event pair around all passes); landscape is the "
             "2160/S x 3840/S option."), ""] + table(head, rows))


def variants_section(step: dict, card: str) -> list[str]:
    """Variant timings and their fidelity on the mosaic."""
    rows = []
    for r in step.get("rows", []):
        fid = r.get("fidelity") or {}
        flag = "" if not fid else ("ok" if fid.get("ok") else "**FLAG**")
        rows.append([r["model"], r["variant"], fmt(r.get("median_ms"), ".4f"), fmt(r.get("cv"), ".3f"),
                     fmt(fid.get("psnr_fp32"), ".3f"), fmt(fid.get("psnr_variant"), ".3f"),
                     fmt(fid.get("drop_db"), ".4f"), flag, r.get("error") or r.get("skipped") or ""])
    mosaic = step.get("mosaic") or {}
    return ([f"## Runtime variants ({card}; not challenge figures)", "",
             (f"Fidelity: FP16 output of the variant on a {mosaic.get('set')} mosaic "
             f"({'x'.join(map(str, mosaic.get('lr_shape', [])[:2]))} LR) vs the FP32 eager output, RGB PSNR "
             f"against the GT mosaic; flagged when NaN/Inf or a drop over {FP16_TOLERANCE_DB} dB."), ""]
            + table(["model", "variant", "median ms", "CV", "PSNR FP32", "PSNR variant", "drop dB", "fidelity",
                     "note"], rows))


def sweep_section(step: dict) -> list[str]:
    """Link to sweep.md / sweep.png."""
    rows = [[r["channels"], fmt(r["params"], ",d"), fmt(r["gflops"], ".2f"), fmt(r["median_ms"], ".4f"),
             fmt(r["cv"], ".3f")] for r in step.get("rows", [])]
    return ([f"## Channels sweep: {step.get('title', '')}", "", "![runtime vs channels](sweep.png)", "",
             f"Fastest: {step.get('fastest_channels')} channels.", ""]
            + table(["channels", "params", "GFLOPs", "median ms", "CV"], rows))


def training_section(step: dict, card: str) -> list[str]:
    """Throughput, the paper-profile estimate and the three stages."""
    lines = [f"## Training on the device ({card})", ""]
    rows = [[fmt(r["lr_patch"], "d"), fmt(r["batch"], "d"), "on" if r["amp"] else "off",
             fmt(r["patches_per_s"], ",.0f"), fmt(r["steps"], "d")] for r in step.get("throughput", [])]
    lines += table(["LR patch", "batch", "AMP", "patches/s", "timed steps"], rows)
    est = step.get("paper_profile_estimate")
    if est:
        lines += [(f"Paper profile estimate: {est['pairs']:,} patch pairs at {est['patches_per_s']:,.0f}/s = "
                  f"**{est['hours_training_steps']:.2f} h** ({est['note']})."), ""]
    plan = step.get("plan")
    if plan:
        lines += [(f"Three stages in the time left: LR patch {plan['lr_patch']}, batch {plan['batch']}, "
                  f"{plan['pairs_per_epoch']} pairs per epoch, epochs {plan['epochs']}, trained on "
                  f"{', '.join(plan['train_sets'])}, validated on {', '.join(plan['val_sets'])}."), ""]
        rows = []
        for stage in ("stage1", "stage2", "stage3"):
            s = step.get(stage)
            if s:
                rows.append([stage, fmt(s.get("params"), ",d"), fmt(s.get("epochs"), "d"),
                             fmt(s.get("best_val_psnr_rgb"), ".3f"), fmt(s.get("train_seconds"), ".1f"),
                             fmt(s.get("pairs_per_second"), ",.0f")])
        lines += table(["stage", "params", "epochs", "best val PSNR RGB", "seconds", "pairs/s"], rows)
    base = step.get("baselines") or []
    if base:
        lines += ["Baselines, same trainer, an equal share of the time left each:", ""]
        lines += table(["model", "epochs", "patches/s", "val PSNR RGB", "params", "note"],
                       [[b["model"], fmt(b.get("epochs"), "d"), fmt(b.get("patches_per_s"), ",.0f"),
                         fmt((b.get("summary") or {}).get("best_val_psnr_rgb"), ".3f"),
                         fmt((b.get("summary") or {}).get("params"), ",d"), b.get("error") or b.get("skipped") or ""]
                        for b in base])
    if step.get("stages_skipped"):
        lines += [f"Stages skipped: {step['stages_skipped']}", ""]
    return lines


def leaderboard_section(step: dict, card: str) -> list[str]:
    """Which models and sets went into the GPU leaderboard."""
    lines = [f"## GPU leaderboard ({card})", "", ("Ranked tables: [leaderboard.md](leaderboard.md); results in "
             "`results/`."), ""]
    missing = step.get("test_sets_missing") or []
    if missing:
        lines += [f"Test sets not available on this machine: {', '.join(missing)}.", ""]
    rows = [[e["label"], e["model"], e["origin"]] for e in step.get("entries", [])]
    return lines + table(["label", "model", "weights"], rows)


def reproduce_section(step: dict, card: str) -> list[str]:
    """Our Bicubic++ beside the released checkpoint, each stage's curve, every run vs bicubic, what was published."""
    lines = [f"## Reproduce: Bicubic++ and the baselines at the paper budget ({card})", ""]
    reduced = step.get("reduced")
    lines += [f"**Reduced ({reduced['kind']}):** {reduced['reason']}." if reduced else
              "**Full paper budget:** every stage and every baseline at the paper's epochs.", ""]
    lines += reproduce_setup(step)
    if step.get("travel"):
        lines += [("Travel plan (`python -m eval.gpu_suite.travel`: what a GPU machine receiving at most 64 MiB "
                  "gets of this mirror):"), "", *(f"- {line}" for line in step["travel"]), ""]
    lines += released_vs_ours(step)
    lines += stage_curves(step)
    lines += runs_vs_bicubic(step)
    published = step.get("published") or []
    if published:
        lines += [("Published with `training.publish` (copy to `models/trained/` to commit; the record "
                  "holds card, commit, config, training-set fingerprint, epochs, curve, sha256):"), ""]
        lines += table(["name", "model", "epochs", "budget", "sha256"],
                       [[f"`trained/{p['name']}.pt`", p["model"], fmt(p["epochs"], "d"), p["budget"],
                         p["sha256"][:12]] for p in published])
    return lines


def reproduce_setup(step: dict) -> list[str]:
    """Data, patch, optimiser, time plan and epochs of the reproduce step, in words."""
    data, plan, base = step.get("data") or {}, step.get("plan") or {}, step.get("baseline_budget") or {}
    lines = []
    if data:
        count = sum(len(v) for v in (data.get("images") or {}).values())
        dropped = "; ".join(f"{k}: {v}" for k, v in (data.get("dropped") or {}).items()) or "none"
        lines += [f"- Data: trained on {', '.join(data['train_sets'])} ({count} images, every one listed in "
                  f"report.json) at LR patch {data['lr_patch']} (HR {data['hr_patch']}); training sets not used: "
                  f"{dropped}; validated on {', '.join(data['val_sets'])}; tested on "
                  f"{', '.join(data['test_sets']) or 'nothing'}"
                  + (f" (not available: {', '.join(data['test_sets_missing'])})" if data.get("test_sets_missing")
                     else "") + "."]
    if plan:
        lines += [(f"- Budget `{plan['budget']}`: {plan['optimiser']}; stage 2 prunes to {plan['prune_target']} "
                  "channels, stage 3 removes every bias."),
                  (f"- Time: {plan['seconds_available']:.0f} s available: {plan['bicubic_pp_s']:.0f} s for the three "
                  f"stages, {plan['training_s'] - plan['bicubic_pp_s']:.0f} s for the baselines, "
                  f"{plan['evaluation_s']:.0f} s for evaluation."),
                  f"- Source of every number: this run on {plan['card']} (device {plan['device']}): training, "
                  "validation and test PSNR; runtime "
                  + ("the GPU protocol on this card." if plan["device"] == "cuda" else "not measured (CPU).")]
    stages = step.get("stage_plans") or []
    if stages:
        lines += ["- Epochs per stage: " + ", ".join(f"{p['stage']} {p['epochs']} of {p['paper_epochs']} "
                                                   f"(validated every {p['val_every']})" for p in stages) + "."]
    if base:
        lines += [(f"- Baselines ({', '.join(plan.get('baselines', []))}): the same budget each, {base['epochs']} of "
                  f"{base['paper_epochs']} epochs = {base['pairs']:,} pairs.")]
    return lines + [""] if lines else []


def evaluation_index(step: dict) -> dict:
    """{(label, dataset): evaluation row} of the rows that have a PSNR."""
    return {(r["label"], r["dataset"]): r for r in step.get("evaluations") or [] if r.get("psnr_rgb") is not None}


def ours_label(step: dict) -> str | None:
    """The published name of the reproduced Bicubic++ (None before it was published)."""
    return next((p["name"] for p in step.get("published") or [] if p["model"] == "bicubic_pp"), None)


def released_vs_ours(step: dict) -> list[str]:
    """Per test set: the released checkpoint's and our RGB / Y PSNR (dB) and the gap (ours - released, dB)."""
    rows, ours, index = [], ours_label(step), evaluation_index(step)
    for (label, dataset), released in index.items():
        mine = index.get((ours, dataset))
        if label != "bicubic_pp_released" or mine is None:
            continue
        rows.append([dataset, fmt(mine.get("images"), "d"), fmt(released["psnr_rgb"]), fmt(mine["psnr_rgb"]),
                     fmt(mine["psnr_rgb"] - released["psnr_rgb"], "+.3f"), fmt(released["psnr_y"]),
                     fmt(mine["psnr_y"]), fmt(mine["psnr_y"] - released["psnr_y"], "+.3f")])
    if not rows:
        return ["Released checkpoint vs ours: not measured (no released checkpoint, or no shared test set).", ""]
    return ([f"Released checkpoint vs ours (`{ours}`), same images, dB; gap = ours - released:", ""]
            + table(["set", "images", "released RGB", "ours RGB", "gap RGB", "released Y", "ours Y", "gap Y"], rows))


def stage_curves(step: dict) -> list[str]:
    """Each stage's validation curve: (epoch, RGB PSNR dB) pairs."""
    curves = step.get("curves") or {}
    lines = [f"- {stage}: " + " ".join(f"({e}, {db:.3f})" for e, db in curve) for stage, curve in curves.items()]
    for b in step.get("baselines") or []:
        if b.get("curve"):
            lines.append(f"- {b['model']}: " + " ".join(f"({e}, {db:.3f})" for e, db in b["curve"]))
    return ["Validation curves (epoch, RGB PSNR dB on the validation set):", "", *lines, ""] if lines else []


def runs_vs_bicubic(step: dict) -> list[str]:
    """Every evaluated run against bicubic on the same set: RGB / Y PSNR and the difference (dB), runtime (ms)."""
    index, rows = evaluation_index(step), []
    bicubic = {dataset: r for (_, dataset), r in index.items() if r.get("model") == BICUBIC}
    for (label, dataset), r in index.items():
        bic = bicubic.get(dataset)
        if r.get("model") == BICUBIC or bic is None:
            continue
        rows.append([label, dataset, fmt(r["psnr_rgb"]), fmt(r["psnr_rgb"] - bic["psnr_rgb"], "+.3f"),
                     fmt(r["psnr_y"]), fmt(r["psnr_y"] - bic["psnr_y"], "+.3f"), fmt(r.get("runtime_ms"), ".4f"),
                     r.get("runtime_on") or "not measured", r["origin"]])
    notes = [f"- {r['label']} on {r['dataset']}: {r.get('error') or 'skipped: ' + str(r.get('skipped'))}"
             for r in step.get("evaluations") or [] if r.get("psnr_rgb") is None]
    if not rows and not notes:
        return []
    return ([("Every run vs bicubic on the same images (dB; runtime: the GPU protocol, FP16, mean ms, on the first "
             "test set; not measured on the CPU):"), ""]
            + table(["run", "set", "PSNR RGB", "vs bicubic", "PSNR Y", "vs bicubic Y", "runtime ms", "timed on",
                     "weights"], rows) + ([*notes, ""] if notes else []))


SECTIONS = {"reproduce": reproduce_section, "environment": environment_section, "data": lambda s, c: data_section(s),
            "gpu_tests": lambda s, c: gpu_tests_section(s), "protocol": protocol_section,
            "variants": variants_section, "sweep": lambda s, c: sweep_section(s),
            "training": training_section, "leaderboard": leaderboard_section}


def markdown(report: dict) -> str:
    """The whole report."""
    card = report["card"]
    runs = report.get("runs") or [report]
    lines = [f"# GPU suite report: {card}{' (QUICK: toy sizes)' if report['quick'] else ''}", "", "Runs:", ""]
    lines += [f"- {r['created']}: commit {r['git_commit']}, budget {r['budget_s']:.0f} s, `{r['command']}`"
              for r in runs]
    lines += [""] + table(["step", "status", "seconds", "run"],
                          [[n, status_line(s), fmt(s.get("seconds"), ".0f"), s.get("run", report["created"])]
                           for n, s in report["steps"].items()])
    for name, step in report["steps"].items():
        if step["status"] != "skipped":
            try:
                lines += SECTIONS[name](step, card)
            except (KeyError, TypeError, ValueError) as exc:  # a partial record must not lose the report
                lines += [f"## {name}", "", f"(section could not be rendered: {exc})", ""]
    return "\n".join(lines) + "\n"
