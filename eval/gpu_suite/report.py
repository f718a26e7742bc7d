"""The suite's report as Markdown: one section per step, the card named in every table's heading."""
from __future__ import annotations


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
        lines += [f"- GPU: **{gpu.get('name')}**, {gpu.get('memory_gib')} GiB, compute capability "
                  f"{gpu.get('capability')}, {gpu.get('multiprocessors')} SMs, driver {gpu.get('driver')}",
                  f"- Clocks at start (nvidia-smi): SM {smi.get('clocks.sm', '?')} (max {smi.get('clocks.max.sm', '?')}), "
                  f"memory {smi.get('clocks.mem', '?')}; power {smi.get('power.draw', '?')} / {smi.get('power.limit', '?')}; "
                  f"{smi.get('temperature.gpu', '?')} C; {smi.get('pstate', '?')}"]
    lines += [f"- torch {env.get('torch')}, CUDA {env.get('cuda')}, cuDNN {env.get('cudnn')}, "
              f"torch_tensorrt importable: {env.get('torch_tensorrt')}",
              f"- CPU: {env.get('cpu')} ({env.get('cpu_count')} logical cores)", ""]
    return lines


def data_section(step: dict) -> list[str]:
    """Which sets were prepared."""
    rows = [[s["name"], "yes" if s["ok"] else "no", fmt(s.get("images"), "d"), s.get("error", "")]
            for s in step.get("sets", [])]
    return ["## Data", ""] + table(["set", "prepared", "images", "note"], rows)


def gpu_tests_section(step: dict) -> list[str]:
    """The pytest summary."""
    return ["## GPU tests", "", f"`{step.get('command', 'pytest -m gpu')}`: **{step.get('summary')}** "
            f"(exit {step.get('exit_code')}, {fmt(step.get('seconds'), '.0f')} s)", ""]


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
             "Each figure: mean/median/CV over repeats of the protocol's mean "
             f"({s.get('warmup') or 50} warm-up, {s.get('passes') or 244} passes, events per pass + synchronize); "
             "`eager` is the suite's own loop (one event pair around all passes); landscape is the "
             "2160/S x 3840/S option.", ""] + table(head, rows))


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
             f"Fidelity: FP16 output of the variant on a {mosaic.get('set')} mosaic "
             f"({'x'.join(map(str, mosaic.get('lr_shape', [])[:2]))} LR) vs the FP32 eager output, RGB PSNR "
             "against the GT mosaic; flagged when NaN/Inf or a drop over 0.01 dB.", ""]
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
        lines += [f"Paper profile estimate: {est['pairs']:,} patch pairs at {est['patches_per_s']:,.0f}/s = "
                  f"**{est['hours_training_steps']:.2f} h** ({est['note']}).", ""]
    plan = step.get("plan")
    if plan:
        lines += [f"Three stages in the time left: LR patch {plan['lr_patch']}, batch {plan['batch']}, "
                  f"{plan['pairs_per_epoch']} pairs per epoch, epochs {plan['epochs']}, trained on "
                  f"{', '.join(plan['train_sets'])}, validated on {', '.join(plan['val_sets'])}.", ""]
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
    lines = [f"## GPU leaderboard ({card})", "", "Ranked tables: [leaderboard.md](leaderboard.md); results in "
             "`results/`.", ""]
    missing = step.get("test_sets_missing") or []
    if missing:
        lines += [f"Test sets not available on this machine: {', '.join(missing)}.", ""]
    rows = [[e["label"], e["model"], e["origin"]] for e in step.get("entries", [])]
    return lines + table(["label", "model", "weights"], rows)


SECTIONS = {"environment": environment_section, "data": lambda s, c: data_section(s),
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
