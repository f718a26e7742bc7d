"""The GPU suite on the CPU: the quick run writes every report file with every step, time boxes hold,
bad options are refused; and its building blocks (mosaic, sweep parsing, repeat statistics)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from core.paths import REPO_ROOT
from eval.errors import EvalError
from eval.gpu_suite.__main__ import build_parser, make_context, run_step
from eval.gpu_suite.__main__ import main as suite_main
from eval.gpu_suite.context import card_slug
from eval.gpu_suite.mosaic import build_mosaic, tile_side
from eval.gpu_suite.record import Record, json_safe
from eval.gpu_suite.runtime_variants import VARIANTS, repeat_stats
from eval.gpu_suite.steps import STEPS
from eval.gpu_suite.sweep import DEFAULT_CHANNELS, parse_channels
from models.registry import list_models
from tests.conftest import mirror_path


def test_default_sweep_is_the_papers_range():
    assert DEFAULT_CHANNELS == (16, 20, 24, 28, 30, 32, 34, 36, 40, 44, 48, 52, 56, 60, 64)
    assert parse_channels("16:24:4,30") == [16, 20, 24, 30]
    for bad in ("0,4", "16:x", "16:64:0"):
        with pytest.raises(EvalError, match="need channel counts >= 1"):
            parse_channels(bad)


def test_repeat_stats_exact():
    s = repeat_stats([1.0, 2.0, 3.0, 6.0])
    assert (s["mean_ms"], s["median_ms"]) == (3.0, 2.5)
    assert s["cv"] == pytest.approx(np.std([1, 2, 3, 6]) / 3.0)


def test_every_step_has_a_function_and_a_weight_and_reproduce_comes_first():
    from eval.gpu_suite.step import FUNCTIONS
    from eval.gpu_suite.steps import WEIGHTS
    assert sorted(FUNCTIONS) == sorted(STEPS) == sorted(WEIGHTS) and STEPS[0] == "reproduce"
    assert max(WEIGHTS, key=WEIGHTS.get) == "reproduce" and sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_card_slug():
    assert card_slug("NVIDIA H200") == "nvidia-h200"
    assert card_slug("cpu AMD EPYC 7763 64-Core Processor") == "cpu-amd-epyc-7763-64-core-processor"


def test_record_is_strict_json(tmp_path):
    rec = Record(tmp_path / "r.json")
    rec.put("x", {"nan": float("nan"), "np": np.float32(1.5), "flag": np.bool_(True)})
    assert json.loads((tmp_path / "r.json").read_text()) == {"x": {"nan": None, "np": 1.5, "flag": True}}
    assert json_safe([float("inf"), 1]) == [None, 1]


def test_mosaic_tiles_are_aligned_crops():
    rng = np.random.default_rng(0)
    pairs = []
    for h, w in [(10, 14), (12, 9)]:
        gt = rng.integers(0, 256, (3 * h, 3 * w, 3), dtype=np.uint8)
        pairs.append((gt[::3, ::3].copy(), gt))
    assert tile_side([p[0] for p in pairs]) == 8  # smallest side 9 -> even 8
    lr, gt = build_mosaic(pairs, (20, 18), 3)
    assert lr.shape == (20, 18, 3) and gt.shape == (60, 54, 3)
    # tile 0 = centre 8x8 crop of image 0 (top 1, left 3); tile 1 = image 1 (top 2, left 0)
    assert (lr[:8, :8] == pairs[0][0][1:9, 3:11]).all()
    assert (lr[:8, 8:16] == pairs[1][0][2:10, 0:8]).all()
    assert (gt[:24, :24] == pairs[0][1][3:27, 9:33]).all()
    assert (gt[::3, ::3] == lr).all()  # every GT pixel block is aligned with its LR pixel


def test_bad_options_are_refused(capsys):
    assert suite_main(["--device", "cpu", "--budget-s", "0"]) == 2
    assert "--budget-s 0.0: need a positive, finite number of seconds" in capsys.readouterr().err
    if not __import__("torch").cuda.is_available():
        assert suite_main(["--device", "cuda"]) == 2
        assert "--device cuda needs a CUDA device" in capsys.readouterr().err


def test_no_budget_skips_every_step(tmp_path):
    assert suite_main(["--device", "cpu", "--quick", "--out", str(tmp_path), "--budget-s", "5"]) == 1
    (report,) = tmp_path.glob("*/report.json")
    steps = json.loads(report.read_text())["steps"]
    assert list(steps) == list(STEPS)
    assert all(s["status"] == "skipped" and "budget used up" in s["reason"] for s in steps.values())


def test_a_step_over_its_time_box_is_killed_and_keeps_its_record(tmp_path):
    ctx = make_context(build_parser().parse_args(["--device", "cpu", "--quick", "--out", str(tmp_path)]))
    result = run_step("gpu_tests", ctx, timeout=3.0, scratch=tmp_path)  # pytest cannot finish in 3 s
    assert result["status"] == "timeout" and result["seconds"] < 15
    assert result["command"].startswith("-m pytest -m gpu")  # saved before the child was killed


def test_a_step_that_skipped_work_for_time_names_it():
    from eval.gpu_suite.__main__ import budget_skips
    record = {"skipped": [{"model": "rt4ksr", "reason": "step budget used up"}],
              "rows": [{"model": "bicubic_pp", "variant": "eager"},
                       {"model": "bicubic_pp", "variant": "graph", "skipped": "needs CUDA"},
                       {"model": "espcn", "variant": "eager", "skipped": "step budget used up"}],
              "evaluations": [{"label": "abpn", "dataset": "set5", "skipped": "budget"}]}
    assert budget_skips(record) == ["rt4ksr", "espcn eager", "abpn"]
    assert budget_skips({"rows": [{"model": "x", "variant": "graph", "skipped": "needs CUDA"}]}) == []


@pytest.mark.slow
def test_quick_cpu_run_writes_every_report_file(tmp_path):
    # a budget that cannot run out on a loaded machine: the test checks the report, not the clock
    out = tmp_path / "gpu"
    proc = subprocess.run([sys.executable, "-m", "eval.gpu_suite", "--device", "cpu", "--quick",
                           "--out", str(out), "--budget-s", "36000"], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (folder,) = out.iterdir()
    assert folder.name.startswith("cpu-")
    names = {p.name for p in folder.iterdir()}
    assert {"report.json", "report.md", "sweep.png", "sweep.json", "leaderboard.md", "leaderboard.json",
            "results"} <= names
    report = json.loads((folder / "report.json").read_text())
    steps = report["steps"]
    assert list(steps) == list(STEPS) and steps["reproduce"]["status"] == "quick"  # toy sizes, and says so
    assert all(s["status"] == "ok" for n, s in steps.items() if n != "reproduce")
    assert [p["name"] for p in steps["reproduce"]["published"]] == ["bicubic_pp_x3_quick", "espcn_x3_quick"]
    assert report["quick"] and report["device_type"] == "cpu"
    assert steps["environment"]["environment"]["torch"]
    assert "skipped" in steps["gpu_tests"]["summary"]  # no CUDA here: every gpu test skips
    assert [m["model"] for m in steps["protocol"]["models"]] == list_models()
    assert steps["protocol"]["input_shape"] == [1, 3, 32, 48]
    bpp = next(m for m in steps["protocol"]["models"] if m["model"] == "bicubic_pp")
    assert bpp["protocol"]["call"] == "direct" and bpp["eager"]["median_ms"] > 0 and bpp["params"] == 50_400
    rows = steps["variants"]["rows"]
    assert [r["variant"] for r in rows[:len(VARIANTS)]] == list(VARIANTS)
    for r in rows:  # each variant either timed with its fidelity, or says why not
        assert ("fidelity" in r and r["fidelity"]["ok"]) or r.get("skipped")
    assert [r["channels"] for r in steps["sweep"]["rows"]] == [16, 32, 34]
    train = steps["training"]
    assert train["throughput"][0]["patches_per_s"] > 0 and train["paper_profile_estimate"]["pairs"] == 2_400_000
    assert train["stage1"]["params"] == 54_984 and train["stage3"]["params"] == 50_400
    labels = {e["label"] for e in steps["leaderboard"]["entries"]}
    assert {"bicubic", "bicubic_pp_gpu", "espcn_gpu"} <= labels
    board = json.loads((folder / "leaderboard.json").read_text())
    assert {r["label"] for r in board} == labels and all(r["dataset"] == "demo" for r in board)
    md = (folder / "report.md").read_text()
    assert f"# GPU suite report: {report['card']}" in md and "## Channels sweep" in md


def test_keep_reruns_only_the_named_steps(tmp_path):
    args = ["--device", "cpu", "--quick", "--out", str(tmp_path), "--budget-s", "120"]
    assert suite_main([*args, "--steps", "environment"]) == 0
    (report_path,) = tmp_path.glob("*/report.json")
    first = json.loads(report_path.read_text())
    assert suite_main([*args, "--steps", "gpu_tests", "--keep"]) == 0
    second = json.loads(report_path.read_text())
    assert list(second["steps"]) == ["environment", "gpu_tests"]
    assert second["steps"]["environment"]["run"] == first["created"]
    assert second["steps"]["gpu_tests"]["run"] == second["created"]
    assert [r["created"] for r in second["runs"]] == [first["created"], second["created"]]
    assert suite_main([*args, "--steps", "environment"]) == 0  # without --keep: a fresh report
    assert list(json.loads(report_path.read_text())["steps"]) == ["environment"]


@pytest.mark.mirror
def test_travel_plan_fits_the_device_machines_64_mib(mirror):
    from eval.gpu_suite.travel import (
        LIMIT_BYTES,
        manifest_rows,
        official_bytes,
        repo_bytes,
        travel_plan,
    )
    plan = travel_plan(mirror)
    sizes = {r["path"]: r["bytes"] for r in manifest_rows(mirror)}
    assert plan["bytes"] == sum(sizes[p] for p in plan["images"])  # the sizes are MANIFEST.tsv's
    assert plan["total_bytes"] == plan["bytes"] + repo_bytes() + official_bytes() < LIMIT_BYTES == 64 * 2**20
    assert [s["name"] for s in plan["sets"]] == ["set5", "set14", "bsd200"]
    assert [(s["images"]) for s in plan["sets"]] == [5, 14, 200] and len(plan["images"]) == 219
    dropped = {d["name"]: d["reason"] for d in plan["dropped"]}
    assert dropped["t91"].startswith("only 16 of 91 images fit LR 96 (HR 288)")
    assert "would bring the total to" in dropped["urban100"]  # 129 MiB alone is over the limit


@pytest.mark.mirror
def test_a_staged_travel_plan_is_a_mirror_datasets_fetch_reads(mirror, tmp_path, monkeypatch):
    from datasets.fetch import fetch
    from eval.gpu_suite.travel import repo_bytes, stage, travel_plan
    plan = travel_plan(mirror, limit=repo_bytes() + 8 * 2**20)  # room for Set5 + Set14 only
    assert [s["name"] for s in plan["sets"]] == ["set5", "set14"]
    monkeypatch.setenv("RTSR_OFFICIAL_DIR", str(tmp_path / "no-official"))
    staged = stage(plan, mirror, tmp_path / "travel")
    assert len((staged / "MANIFEST.tsv").read_text().splitlines()) == 1 + 19
    monkeypatch.setenv("RTSR_DATA_MIRROR", str(staged))  # the path users take: $RTSR_DATA_MIRROR
    monkeypatch.setenv("RTSR_DATA_ROOT", str(tmp_path / "data"))
    (hr,) = fetch(["set5"], progress=False).values()
    assert sorted(p.stem for p in hr.glob("*.png")) == ["baby", "bird", "butterfly", "head", "woman"]


def test_reproduce_patch_is_the_papers_where_it_fits_else_the_released_96():
    from eval.gpu_suite.patch import PAPER_LR_PATCH, RELEASED_LR_PATCH, choose_patch
    from eval.gpu_suite.steps import PAPER_BUDGET, conf_values
    assert PAPER_LR_PATCH == conf_values(PAPER_BUDGET, "bicubic_pp_stage1")["lr_patch"] == 108
    sides = {"t91": {"tt1": 120, "t1": 26}, "bsd200": {"a": 107, "b": 107}}
    chosen = choose_patch(sides, [PAPER_LR_PATCH, RELEASED_LR_PATCH])
    assert (chosen["lr_patch"], chosen["sets"]) == (96, ["bsd200"])
    assert chosen["dropped"] == {"t91": "1 of 2 LR images are smaller than 96 px"}
    assert choose_patch({"big": {"x": 200}}, [108, 96])["lr_patch"] == 108
    with pytest.raises(EvalError, match="no training set fits an LR patch of 108 or 120 px"):
        choose_patch(sides, [108, 120])


def test_a_step_that_did_less_than_asked_is_never_plain_ok():
    from eval.gpu_suite.__main__ import FINISHED, step_status
    scaled = {"reduced": {"kind": "scaled", "reason": "epochs scaled down to fit the step's time: 120 of 1000"}}
    assert step_status("ok", scaled) == ("scaled", {**scaled, "reason": scaled["reduced"]["reason"]})
    assert step_status("ok", {"reduced": {"kind": "quick", "reason": "toy sizes"}})[0] == "quick"
    skipped = {**scaled, "baselines": [{"model": "rfdn", "skipped": "step budget used up"}]}
    assert step_status("ok", skipped)[0] == "partial"  # skipped work outranks smaller work
    assert step_status("timeout", scaled) == ("timeout", scaled)
    assert step_status("ok", {"reduced": None}) == ("ok", {"reduced": None})
    assert "scaled" not in FINISHED and "partial" not in FINISHED and "quick" in FINISHED


def test_reproduce_planner_scales_epochs_to_the_time():
    from eval.gpu_suite.reproduce import (
        DUTY,
        epochs_that_fit,
        equal_epochs,
        seconds_per_epoch,
        val_every,
    )
    paper = {"epochs": 1000, "val_every": 20, "pairs_per_epoch": 800}
    assert epochs_that_fit(100.0, 0.5, 1000) == 200
    assert epochs_that_fit(5000.0, 0.5, 1000) == 1000  # never more than the paper's
    assert epochs_that_fit(0.1, 5.0, 1000) == 1
    assert [val_every(e, paper) for e in (1000, 200, 1)] == [20, 4, 1]
    assert seconds_per_epoch(8000.0, paper) == pytest.approx(0.1 / DUTY)
    # 2 baselines at 800 and 400 pairs/s, 2 s start-up each: (100 - 4) s / ((1/800 + 1/400) / 0.8) s = 20480 pairs
    assert DUTY == 0.8 and equal_epochs(100.0, {"a": 800.0, "b": 400.0}, 2.0, paper) == 25
    assert equal_epochs(1e9, {"a": 800.0}, 2.0, paper) == 1000


def test_quick_reproduce_step_publishes_checked_weights_and_reports_the_gap(tmp_path):
    # a budget that cannot run out: --quick trains 1 epoch of 16 pairs whatever the machine's load
    from core.hashing import file_sha256
    from core.paths import RELEASED_CHECKPOINT, official_dir
    from models.committed import checked_weights, load_trained
    assert suite_main(["--device", "cpu", "--quick", "--out", str(tmp_path), "--steps", "reproduce",
                       "--budget-s", "36000"]) == 0
    (folder,) = tmp_path.iterdir()
    report = json.loads((folder / "report.json").read_text())
    step = report["steps"]["reproduce"]
    assert step["status"] == "quick" and step["reason"].startswith("toy sizes (--quick): demo_train data")
    assert (step["data"]["lr_patch"], step["data"]["train_sets"]) == (8, ["demo_train"])
    assert step["data"]["images"]["demo_train"] == ["hubble_deep_field", "ihc", "motorcycle_left", "retina", "rocket"]
    assert "Adam betas (0.99, 0.999), lr 0.0005, schedule 'paper'" in step["plan"]["optimiser"]
    assert (step["stage1"]["params"], step["stage2"]["params"], step["stage3"]["params"]) == (54_984, 50_604, 50_400)
    names = [p["name"] for p in step["published"]]
    assert names == ["bicubic_pp_x3_quick", "espcn_x3_quick"]
    for name in names:
        path, record = checked_weights(name, root=folder / "trained")
        assert record.sha256 == file_sha256(path) and record.card == report["card"] and record.epochs == 1
        assert (record.config["beta1"], record.config["schedule"], record.config["lr_patch"]) == (0.99, "paper", 8)
        assert list(record.training_set["sets"]) == ["demo_train"] and len(record.validation_curve) == 1
    ours = load_trained("bicubic_pp_x3_quick", root=folder / "trained")
    assert sum(p.numel() for p in ours.parameters()) == 50_400 and ours.rtsr_record.model_kwargs["bias"] is False
    evals = {r["label"]: r for r in step["evaluations"]}
    released = (official_dir() / RELEASED_CHECKPOINT).is_file()
    assert set(evals) == {"bicubic", *names} | ({"bicubic_pp_released"} if released else set())
    assert all(r["dataset"] == "demo" and r["images"] == 3 and r["runtime_ms"] is None for r in evals.values())
    md = (folder / "report.md").read_text()
    assert "## Reproduce: Bicubic++ and the baselines at the paper budget" in md
    assert "**Reduced (quick):** toy sizes (--quick)" in md
    if mirror_path() is not None:  # the travel plan of the mirror the suite read
        assert "- travels: bsd200 (200 images, 49.49 MiB)" in md and "- left out: urban100 (100 images" in md
    if released:  # the released-vs-ours row: both PSNRs and the gap, as computed from the record
        rel, mine = evals["bicubic_pp_released"], evals["bicubic_pp_x3_quick"]
        gap = mine["psnr_rgb"] - rel["psnr_rgb"]
        row = (f"| demo | 3 | {rel['psnr_rgb']:.3f} | {mine['psnr_rgb']:.3f} | {gap:+.3f} | "
               f"{rel['psnr_y']:.3f} | {mine['psnr_y']:.3f} | {mine['psnr_y'] - rel['psnr_y']:+.3f} |")
        assert row in md and rel["psnr_rgb"] > evals["bicubic"]["psnr_rgb"]  # released weights beat bicubic


def test_travel_cli_refuses_a_folder_without_a_manifest(tmp_path, capsys):
    from eval.gpu_suite.travel import main as travel_main
    assert travel_main(["--mirror", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'MANIFEST.tsv'}: cannot read the mirror's manifest" in err and len(err.splitlines()) == 1


def test_scaled_epochs_are_said_in_the_status_and_in_the_published_names(tmp_path):
    from eval.gpu_suite.reproduce import budget_tag, reduction
    ctx = make_context(build_parser().parse_args(["--device", "cpu", "--out", str(tmp_path)]))
    rec = Record(tmp_path / "r.json")
    for epochs in (1000, 1000, 1000):
        rec.append("stage_plans", {"epochs": epochs})
    rec.put("baseline_budget", {"epochs": 1000, "paper_epochs": 1000, "pairs": 800_000})
    assert reduction(ctx, rec) is None  # the paper's epochs everywhere: plain ok
    assert budget_tag(ctx, [1000, 1000, 1000], 1000) == ("paper", "paper")
    rec.put("baseline_budget", {"epochs": 40, "paper_epochs": 1000, "pairs": 32_000})
    assert reduction(ctx, rec) == {"kind": "scaled", "reason": "epochs scaled down to fit the step's time: "
                                   "Bicubic++ stages 1000/1000/1000 of 1000, baselines 40 of 1000 (32,000 pairs each)"}
    assert budget_tag(ctx, [300, 310, 320], 1000) == ("paper_scaled", "paper scaled to 300/310/320 of 1000 epochs")
    quick = make_context(build_parser().parse_args(["--device", "cpu", "--quick", "--out", str(tmp_path)]))
    assert reduction(quick, rec)["kind"] == "quick" and budget_tag(quick, [1], 1000)[0] == "quick"


@pytest.mark.mirror
def test_other_carried_paths_leave_less_room_for_images(mirror, tmp_path):
    from eval.gpu_suite.travel import plan_lines, travel_plan
    wheels = tmp_path / ".whl"
    wheels.mkdir()
    (wheels / "a.whl").write_bytes(b"\0" * (3 * 2**20))  # 3 MiB of wheels: BSD200 still fits
    plan = travel_plan(mirror, also=[wheels])
    assert plan["also_bytes"] == 3 * 2**20 and "bsd200" in [s["name"] for s in plan["sets"]]
    assert plan_lines(plan)[-1].endswith("+ other carried paths 3.00")
    (wheels / "b.whl").write_bytes(b"\0" * (8 * 2**20))  # 11 MiB: BSD200's 49.49 MiB no longer fits
    assert [s["name"] for s in travel_plan(mirror, also=[wheels])["sets"]] == ["set5", "set14"]


@pytest.mark.parametrize(("quick", "data"), [(False, "mirror"), (True, "embedded")])
def test_the_suite_reads_its_sets_from_conf(quick, data, tmp_path):
    from core.yamlload import load_yaml
    conf = load_yaml((REPO_ROOT / "conf" / "data" / f"{data}.yaml").read_text(encoding="utf-8"))
    argv = ["--device", "cpu", "--out", str(tmp_path)] + (["--quick"] if quick else [])
    ctx = make_context(build_parser().parse_args(argv))
    assert (ctx.test_sets, ctx.train_sets, ctx.val_sets) == (
        conf["test_sets"], conf["train"]["base"]["train_sets"], conf["train"]["base"]["val_sets"])
    named = make_context(build_parser().parse_args([*argv, "--test-sets", "set5", "--val-sets", "set14"]))
    assert (named.test_sets, named.val_sets) == (["set5"], ["set14"])
