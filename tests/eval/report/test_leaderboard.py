"""eval.report.leaderboard: rows, ranking, score, refusals, written files."""
from __future__ import annotations

import csv
import json
import math

import pytest

from eval.report.leaderboard import CPU_WARNING, ROW_KEYS, LeaderboardOptions, build_leaderboard, main
from tests.eval.results_factory import H200, make_result, write_result, write_standard

EXPECTED_KEYS = ["dataset", "scale", "rank", "label", "model", "provenance", "cpu_budget", "params", "gflops_720p",
                 "psnr_rgb", "ssim_rgb", "psnr_y", "ssim_y", "runtime_ms", "runtime_device", "runtime_protocol",
                 "score"]


def _score(p: float, p_bic: float, t_ms: float) -> float:
    """The challenge formula written out independently for the expected values."""
    return 0.0 if p <= p_bic else 2 * 2 ** (p - p_bic) / (0.1 * math.sqrt(t_ms))


def _text(capsys) -> str:
    """Everything printed (tables and notes on stdout, errors on stderr)."""
    cap = capsys.readouterr()
    return cap.out + cap.err


def _run(tmp_path, *extra) -> tuple[int, list[dict]]:
    """Run the CLI on tmp_path/results without figures or page; return (status, leaderboard.json rows)."""
    rc = main(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "lb"),
               "--no-figures", "--no-site", *extra])
    out = tmp_path / "lb" / "leaderboard.json"
    return rc, json.loads(out.read_text()) if rc == 0 else []


def test_row_keys_are_the_documented_ones():
    assert list(ROW_KEYS) == EXPECTED_KEYS


def test_rows_sorted_by_score_with_exact_values(tmp_path, capsys):
    write_standard(tmp_path / "results")
    rc, rows = _run(tmp_path)
    assert rc == 0
    assert [list(r) for r in rows] == [EXPECTED_KEYS] * 4
    # CPU scores: bicubic_pp 2*2**0.95/(0.1*sqrt(420)) = 1.8853, espcn 1.4216, fsrcnn 1.0830
    assert [r["label"] for r in rows] == ["bicubic_pp", "espcn", "fsrcnn", "bicubic"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    bpp = rows[0]
    assert bpp["score"] == pytest.approx(round(_score(30.55, 29.60, 420.0), 4))
    assert bpp["score"] == pytest.approx(1.8853, abs=1e-4)
    assert bpp == {**bpp, "dataset": "set5", "scale": 3, "provenance": "no weights", "cpu_budget": False,
                   "params": 50400, "gflops_720p": 23.224,
                   "psnr_rgb": 30.55, "ssim_rgb": 0.865, "psnr_y": 32.3, "ssim_y": 0.879,
                   "runtime_ms": 420.0, "runtime_protocol": "cpu-fp32",
                   "runtime_device": "AMD EPYC 7763 64-Core Processor"}
    assert rows[-1]["score"] == 0.0  # bicubic itself: P == P_bic
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    assert CPU_WARNING in md and "## set5 x3 (ntire23)" in md


def test_cpu_warning_is_printed(tmp_path, capsys):
    write_standard(tmp_path / "results")
    assert _run(tmp_path)[0] == 0
    out = " ".join(_text(capsys).split())
    assert "Runtimes are CPU figures" in out and "NOT comparable" in out


def test_gpu_score_matches_the_challenge_table(tmp_path, capsys):
    """Track 1 (../shared/PROTOCOL.md): bicubic 33.92 dB; Noah TerminalVision 35.02 dB at 3.19 ms -> 24.00."""
    res = tmp_path / "results"
    write_result(res, make_result("bicubic", scale=2, psnr_rgb=33.92, runtime_ms=0.9, device=H200))
    write_result(res, make_result("noah", model="espcn", scale=2, psnr_rgb=35.02, runtime_ms=3.19,
                                  device=H200))
    rc, rows = _run(tmp_path)
    assert rc == 0
    assert rows[0]["label"] == "noah" and rows[0]["score"] == pytest.approx(24.00, abs=0.005)
    assert rows[0]["runtime_protocol"] == "ntire23-gpu-fp16" and rows[0]["runtime_device"] == "NVIDIA H200"
    assert "CPU figures" not in _text(capsys)


def test_no_bicubic_row_gives_null_scores_and_a_note(tmp_path, capsys):
    res = tmp_path / "results"
    write_result(res, make_result("bicubic_pp"))
    write_result(res, make_result("espcn"))
    rc, rows = _run(tmp_path)
    assert rc == 0
    assert [r["score"] for r in rows] == [None, None] and [r["rank"] for r in rows] == [None, None]
    assert [r["label"] for r in rows] == ["bicubic_pp", "espcn"]  # by PSNR RGB
    out = " ".join(_text(capsys).split())
    command = (f"python -m eval.evaluate --model bicubic --dataset set5 --scale 3 --degradation ntire23 "
               f"--runtime cpu --json {res / 'bicubic_set5_x3.json'} --save-sr ")
    assert "no bicubic result" in out and command in out  # a command to paste, no placeholder
    assert "ntire23_x3/set5/bicubic`" in out


def test_missing_runtime_gives_null_score(tmp_path, capsys):
    res = tmp_path / "results"
    write_standard(res)
    write_result(res, make_result("espcn", runtime_ms=None))  # overwrite: --runtime off
    rc, rows = _run(tmp_path)
    espcn = next(r for r in rows if r["label"] == "espcn")
    assert rc == 0 and espcn["score"] is None and espcn["rank"] is None and espcn["runtime_ms"] is None
    assert rows[-1]["label"] == "espcn"  # unscored rows go last
    assert "no runtime" in " ".join(_text(capsys).split())


def test_other_scale_is_a_separate_table_never_mixed(tmp_path, capsys):
    res = tmp_path / "results"
    write_standard(res)
    write_result(res, make_result("bicubic_pp", scale=2, psnr_rgb=33.5))
    rc, rows = _run(tmp_path)
    assert rc == 0
    x2 = [r for r in rows if r["scale"] == 2]
    x3 = [r for r in rows if r["scale"] == 3]
    assert len(x2) == 1 and x2[0]["score"] is None  # x3 bicubic is not used as the x2 reference
    assert len(x3) == 4 and x3[0]["score"] == pytest.approx(1.8853, abs=1e-4)
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    assert "## set5 x2 (ntire23)" in md and "## set5 x3 (ntire23)" in md
    rc, rows = _run(tmp_path, "--scale", "3")
    assert rc == 0 and {r["scale"] for r in rows} == {3}
    assert "ignored 1 result file(s)" in " ".join(_text(capsys).split())


def test_other_degradation_is_refused_naming_the_files(tmp_path, capsys):
    res = tmp_path / "results"
    write_standard(res)
    write_result(res, make_result("espcn", degradation="classic"), name="espcn_classic.json")
    rc, _ = _run(tmp_path)
    out = " ".join(_text(capsys).split())
    assert rc == 1 and "different degradations" in out and "espcn_classic.json" in out
    assert not (tmp_path / "lb" / "leaderboard.json").exists()
    assert _run(tmp_path, "--degradation", "ntire23")[0] == 0


def test_corrupt_result_file_is_a_one_line_error(tmp_path, capsys):
    res = tmp_path / "results"
    write_standard(res)
    (res / "broken.json").write_text('{"model": "espcn", "psnr_rgb": 30.')
    rc, _ = _run(tmp_path)
    out = _text(capsys).strip()
    assert rc == 1 and "broken.json" in out and "corrupt result file" in out
    assert len(out.splitlines()) == 1 and out.startswith("error: ")


def test_no_result_files_exit_1(tmp_path, capsys):
    (tmp_path / "results").mkdir()
    rc, _ = _run(tmp_path)
    assert rc == 1 and "no result files" in _text(capsys)


def test_duplicate_label_is_refused(tmp_path, capsys):
    res = tmp_path / "results"
    write_standard(res)
    write_result(res, make_result("espcn", psnr_rgb=30.1), name="espcn_again.json")
    rc, _ = _run(tmp_path)
    out = " ".join(_text(capsys).split())
    assert rc == 1 and "same model label" in out and "espcn_again.json" in out


@pytest.mark.parametrize("change, message", [
    ({"device": {"name": "NVIDIA H200", "driver": "x", "torch": "2.13.0", "cuda": "12.8"}},
     "different platforms"),
    ({"images": ["baby", "bird"]}, "different images"),
    ({"lr_hash": "cd" * 32}, "different LR inputs"),
])
def test_incomparable_rows_in_one_table_are_refused(tmp_path, capsys, change, message):
    res = tmp_path / "results"
    write_standard(res)
    write_result(res, make_result("espcn", **change))
    rc, _ = _run(tmp_path)
    out = " ".join(_text(capsys).split())
    assert rc == 1 and message in out and "espcn_set5_x3.json" in out


def test_different_y_presets_in_one_table_are_refused(tmp_path, capsys):
    res = tmp_path / "results"
    for label in ("bicubic", "espcn"):
        r = make_result(label)
        r["conventions"] = {"y_preset": "bt601_rounded_shave"}
        write_result(res, r)
    compat = make_result("fsrcnn")
    compat["conventions"] = {"y_preset": "ntire23_calc_metrics"}
    write_result(res, compat)
    rc, _ = _run(tmp_path)
    out = " ".join(_text(capsys).split())
    assert rc == 1 and "different Y metric presets" in out and "fsrcnn_set5_x3.json" in out


def test_result_without_ssim_rgb_is_refused_as_older(tmp_path, capsys):
    res = tmp_path / "results"
    write_standard(res)
    old = make_result("espcn")
    del old["ssim_rgb"]
    write_result(res, old)
    rc, _ = _run(tmp_path)
    out = " ".join(_text(capsys).split())
    assert rc == 1 and "espcn_set5_x3.json: no ssim_rgb: written by an older eval.evaluate" in out


def test_csv_has_the_same_columns_and_rows(tmp_path):
    write_standard(tmp_path / "results")
    _, rows = _run(tmp_path)
    with open(tmp_path / "lb" / "leaderboard.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0]) == EXPECTED_KEYS
    assert [t["label"] for t in table] == [r["label"] for r in rows]
    assert float(table[0]["score"]) == rows[0]["score"]
    assert sorted(p.name for p in (tmp_path / "lb").iterdir()) == [
        "leaderboard.csv", "leaderboard.json", "leaderboard.md", "metrics"]  # no temp files


def test_dvc_metrics_are_one_flat_file_per_model_and_test_set(tmp_path):
    """`dvc metrics show` prints one row per file: a row per model, a column per metric."""
    write_standard(tmp_path / "results")
    _, rows = _run(tmp_path)
    folder = tmp_path / "lb" / "metrics"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.json")) == [
        "set5_x3/bicubic.json", "set5_x3/bicubic_pp.json", "set5_x3/espcn.json", "set5_x3/fsrcnn.json"]
    assert json.loads((folder / "set5_x3" / "bicubic_pp.json").read_text()) == {
        "psnr_rgb": 30.55, "ssim_rgb": 0.865, "psnr_y": 32.3, "ssim_y": 0.879, "runtime_ms": 420.0,
        "score": rows[0]["score"]}
    (folder / "set5_x3" / "gone.json").write_text("{}")  # a model no longer in the results
    _run(tmp_path)
    assert not (folder / "set5_x3" / "gone.json").exists()


def test_quiet_prints_no_table_and_a_rerun_writes_the_same_bytes(tmp_path, capsys):
    """The pipeline's stage runs --quiet; the README's `python -m eval.leaderboard` prints the tables
    and rewrites every output with the same bytes, so DVC sees no change."""
    write_standard(tmp_path / "results")
    assert main(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "lb"), "--quiet"]) == 0
    quiet = _text(capsys)
    assert "bicubic_pp" not in quiet and "wrote " in quiet
    before = {p: p.read_bytes() for p in (tmp_path / "lb").rglob("*") if p.is_file()}
    assert main(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "lb")]) == 0
    assert "bicubic_pp" in _text(capsys)
    after = {p: p.read_bytes() for p in (tmp_path / "lb").rglob("*") if p.is_file()}
    assert after.keys() == before.keys() and len(after) > 5
    assert [p.name for p in after if after[p] != before[p]] == []


def test_gflops_are_quoted_per_720p_frame(tmp_path):
    """x2 FLOPs are counted at the 1080p protocol input: rescaled by pixel count to 720p."""
    res = tmp_path / "results"
    r = make_result("bicubic_pp", scale=2)
    r["flops"] = {"macs": 26_127_360_000, "flops": 52_254_720_000, "input": [1, 3, 1080, 1920]}
    write_result(res, r)
    rc, rows = _run(tmp_path)
    assert rc == 0 and rows[0]["gflops_720p"] == 23.224  # 52.25472 * (720*1280)/(1080*1920)


# -- issue 13: no number taken on trust; outputs whole or not at all --------------------------------------
def test_summary_that_disagrees_with_per_image_values_is_refused(tmp_path, capsys):
    """A result whose psnr_rgb says 45 while its per-image values say 28.3 was ranked first (score 111944)."""
    write_standard(tmp_path / "results")
    forged = make_result("espcn", psnr_rgb=28.3)
    forged["psnr_rgb"] = 45.0
    path = write_result(tmp_path / "results", forged)
    rc, rows = _run(tmp_path)
    cap = capsys.readouterr()
    assert rc == 1 and rows == []
    assert cap.err == (f"error: {path}: psnr_rgb says 45.0 but the mean of its 5 per-image values is "
                       "28.300000 (tolerance 1e-06); the summary is not taken on trust: re-run eval.evaluate "
                       "for this result\n")
    assert not (tmp_path / "lb").exists()


@pytest.mark.parametrize("change, said", [
    (lambda d: d.pop("per_image"), "no per_image values, so its set means cannot be checked"),
    (lambda d: d["per_image"][2].update(ssim_y=float("nan")), "per_image 'butterfly' ssim_y is nan"),
    (lambda d: d["per_image"][0].update(psnr_y="32.1"), "per_image 'baby' psnr_y is '32.1', expected a finite"),
    (lambda d: d["per_image"][1].update(name="baby"), "per_image lists image 'baby' twice"),
    (lambda d: d["runtime"].update(device="cpu"), "runtime device/protocol are 'cpu'/'cpu-fp32'"),
    (lambda d: d.update(flops="many"), "flops is 'many'"),
])
def test_per_image_values_and_blocks_are_checked(tmp_path, capsys, change, said):
    write_standard(tmp_path / "results")
    data = make_result("espcn")
    change(data)
    path = write_result(tmp_path / "results", data)
    rc, _ = _run(tmp_path)
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith(f"error: {path}: {said}") and err.count("\n") == 1, err


def test_a_failure_while_writing_leaves_the_previous_leaderboard(tmp_path, capsys, monkeypatch):
    import eval.report.plots
    from eval.report.resultfiles import ResultError

    write_standard(tmp_path / "results")
    out = tmp_path / "lb"
    out.mkdir()
    (out / "leaderboard.md").write_text("previous")
    (out / "reference.json").write_text("committed")

    def broken(*args, **kwargs):
        raise ResultError("results/x.json: cannot draw it")

    monkeypatch.setattr(eval.report.plots, "write_crops", broken)
    rc = main(["--results", str(tmp_path / "results"), "--out", str(out), "--no-site"])
    assert rc == 1 and capsys.readouterr().err == "error: results/x.json: cannot draw it\n"
    assert sorted(p.name for p in out.iterdir()) == ["leaderboard.md", "reference.json"]  # no temp left
    assert (out / "leaderboard.md").read_text() == "previous"


def test_bad_options_are_bad_input(tmp_path, capsys):
    write_standard(tmp_path / "results")
    (tmp_path / "file").write_text("x")
    rc = main(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "file")])
    assert rc == 2 and capsys.readouterr().err == (f"error: {tmp_path / 'file'}: is a file; --out needs a "
                                                   "folder path (new or a folder)\n")
    rc = main(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "lb"), "--crop-size", "0"])
    assert rc == 2 and capsys.readouterr().err == "error: --crop-size=0: must be >= 8 px\n"
    assert not (tmp_path / "lb").exists()


def test_build_leaderboard_takes_typed_options_and_writes_what_the_cli_writes(tmp_path, capsys):
    write_standard(tmp_path / "results")
    assert main(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "cli"), "--no-site",
                 "--no-figures", "--quiet"]) == 0
    out = build_leaderboard(LeaderboardOptions(results=tmp_path / "results", out=tmp_path / "api", site=False,
                                               figures=False, quiet=True))
    assert out == tmp_path / "api"
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json"):
        assert (out / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["leaderboard.csv", "leaderboard.json", "leaderboard.md", "metrics"]
    with pytest.raises(ValueError, match="crop_size"):
        LeaderboardOptions(crop_size=4)
    with pytest.raises(ValueError, match="extra"):
        LeaderboardOptions(no_site=True)  # a typo'd or CLI-only name is refused, not ignored


def test_ssim_is_rounded_once_as_eval_evaluate_prints_it(tmp_path, capsys):
    data = make_result("bicubic_pp")
    data["ssim_rgb"] = 0.870449  # rounded to 5 places first, it printed 0.8705; evaluate prints 0.8704
    for image in data.get("per_image", []):
        image["ssim_rgb"] = 0.870449
    write_result(tmp_path / "results", data)
    write_result(tmp_path / "results", make_result("bicubic"))
    rc, rows = _run(tmp_path)
    assert rc == 0, _text(capsys)
    assert [r["ssim_rgb"] for r in rows if r["label"] == "bicubic_pp"] == [0.870449]
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    assert "0.8704" in md and "0.8705" not in md


def test_degradation_help_lists_its_choices(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--degradation {ntire23,classic}" in capsys.readouterr().out


# -- issue 19.6 / 23.6: where each row's weights came from; CPU-budget rows say so ------------------------
ORIGINS = {  # label -> (weights_origin block, the provenance cell)
    "bicubic": ({"kind": "none"}, "no weights"),
    "espcn": ({"kind": "trained_here", "budget": "demo"}, "trained here, CPU budget (demo)"),
    "fsrcnn": ({"kind": "committed", "budget": "paper", "card": "NVIDIA H200", "name": "fsrcnn_x3_paper"},
               "trained here, paper budget on NVIDIA H200"),
    "bicubic_pp": ({"kind": "released", "name": "bicubic_pp_released"}, "released by the authors"),
}


def _with_origins(folder, origins=ORIGINS) -> None:
    """The four standard results, each with the weights_origin block of ``origins``."""
    for label, (block, _) in origins.items():
        data = make_result(label)
        data["weights_origin"] = {"budget": None, "card": None, "name": None, "sha256": None, **block}
        write_result(folder, data)


def test_every_row_says_where_its_weights_came_from(tmp_path):
    _with_origins(tmp_path / "results")
    write_result(tmp_path / "results", {**make_result("mine", model="espcn"),
                                        "weights_origin": {"kind": "user", "sha256": "ab" * 32}})
    write_result(tmp_path / "results", {**make_result("init", model="espcn", psnr_rgb=7.1),
                                        "weights_origin": {"kind": "random"}})
    rc, rows = _run(tmp_path)
    assert rc == 0
    said = {r["label"]: (r["provenance"], r["cpu_budget"]) for r in rows}
    assert said == {**{label: (text, label == "espcn") for label, (_, text) in ORIGINS.items()},
                    "mine": ("user checkpoint", False), "init": ("random weights (untrained)", False)}
    with open(tmp_path / "lb" / "leaderboard.csv", newline="") as fh:
        table = {t["label"]: t["provenance"] for t in csv.DictReader(fh)}
    assert table["fsrcnn"] == "trained here, paper budget on NVIDIA H200" and table["mine"] == "user checkpoint"
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    lines = md.splitlines()
    assert ("| 4 | fsrcnn | 24,683 | 45.48 | 30.300 | 0.8590 | 32.000 | 0.8730 | 900.0 | 1.08 | trained here, "
            "paper budget on NVIDIA H200 |") in lines
    assert ("| # | model | params | GFLOPs 720p | PSNR RGB | SSIM RGB | PSNR Y | SSIM Y | runtime ms | score "
            "| weights |") in md


def test_results_without_the_origin_block_are_classified_from_their_fields(tmp_path):
    """Results written before weights_origin existed: external -> released, data/train -> trained here."""
    from core.paths import data_root

    res = tmp_path / "results"
    write_result(res, make_result("bicubic"))
    trained = make_result("espcn")
    trained["weights"] = str(data_root() / "train" / "espcn" / "best.pt")
    write_result(res, trained)
    released = make_result("bicubic_pp")
    released.update(weights="/ckpt/bicubic_pp_x3.pth", external={"name": "bicubic_pp_released",
                                                                 "source": "github", "trained_on": "DIV2K"})
    write_result(res, released)
    write_result(res, {**make_result("fsrcnn"), "weights": "/elsewhere/fsrcnn.pth"})
    rc, rows = _run(tmp_path)
    assert rc == 0
    assert {r["label"]: r["provenance"] for r in rows} == {
        "bicubic": "no weights", "espcn": "trained here, budget not recorded",
        "bicubic_pp": "released by the authors", "fsrcnn": "user checkpoint"}


def test_a_cpu_budget_row_puts_a_note_under_its_table(tmp_path, capsys):
    """ESPCN after 5 CPU epochs ranks below bicubic: the table says it is a CPU-budget run."""
    from eval.origin import CPU_BUDGET_NOTE

    res = tmp_path / "results"
    _with_origins(res)
    write_result(res, make_result("bicubic", dataset="set14"))
    write_result(res, {**make_result("fsrcnn", dataset="set14"), "weights_origin": ORIGINS["fsrcnn"][0]})
    rc = main(["--results", str(res), "--out", str(tmp_path / "lb"), "--no-figures", "--no-site"])
    assert rc == 0
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    set5, set14 = md.split("## set5 x3")[1], md.split("## set14 x3")[1].split("## set5 x3")[0]
    assert CPU_BUDGET_NOTE in set5 and CPU_BUDGET_NOTE not in set14  # set14 has no CPU-budget row
    assert md.count(CPU_BUDGET_NOTE) == 1
    assert "trained for minutes on a CPU" in " ".join(_text(capsys).split())  # the printed table too


def test_a_relabelled_bicubic_is_still_the_reference_row(tmp_path):
    """Rows carry ``label`` (shown) and ``model`` (registry name); "is bicubic" goes by the model."""
    res = tmp_path / "results"
    write_result(res, make_result("bicubic_ref", model="bicubic", scale=2, psnr_rgb=33.92, runtime_ms=0.9,
                                  device=H200))
    write_result(res, make_result("noah", model="espcn", scale=2, psnr_rgb=35.02, runtime_ms=3.19, device=H200))
    rc, rows = _run(tmp_path)
    assert rc == 0
    assert [(r["label"], r["model"]) for r in rows] == [("noah", "espcn"), ("bicubic_ref", "bicubic")]
    assert rows[0]["score"] == pytest.approx(24.00, abs=0.005) and rows[1]["score"] == 0.0
    assert (tmp_path / "lb" / "metrics" / "set5_x2" / "bicubic_ref.json").is_file()


def test_the_page_gives_a_relabelled_bicubic_its_gain_column(tmp_path):
    from eval.report.resultfiles import Result
    from eval.report.site import table_rows

    rows = [{"label": "noah", "model": "espcn", "psnr_rgb": 35.02},
            {"label": "bicubic_ref", "model": "bicubic", "psnr_rgb": 33.92}]
    results = {r["label"]: Result(tmp_path / f"{r['label']}.json", {"runtime": {"median_ms": 1.0}}) for r in rows}
    assert [r["gain_db"] for r in table_rows(rows, results)] == [1.1, 0.0]
