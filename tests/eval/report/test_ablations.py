"""The ablation reporting: one experiment's metrics file (eval.report.ablation_metrics) and the table over
experiments (eval.report.ablations) from ``dvc exp show --json``, in DVC 3's layout."""
from __future__ import annotations

import json

import pytest

from core.paths import REPO_ROOT
from eval.report import ablations
from eval.report.ablation_metrics import variant_metrics
from eval.report.resultfiles import ResultError
from tests.eval.results_factory import make_result, write_result

H200_REPORTS = str(REPO_ROOT / "leaderboard" / "gpu" / "*" / "report.json")
FINAL = {"channels": 32, "convs_per_block": 2, "blocks": 1, "downsample": "stride", "act": "lrelu",
         "bias": False}


def params_file(profile: str = "mirror", epochs: int = 5, **variant) -> dict:
    """The params.yaml data of an ablation experiment."""
    return {"profile": profile, "ablation": {**FINAL, **variant}, "test_sets": ["set5", "set14"],
            "train": {"base": {"lr_patch": 24, "batch": 32, "pairs_per_epoch": 6400, "train_sets": ["t91"]},
                      "ablation": {"model": "bicubic_pp", "epochs": epochs, "lr": 0.005}}}


def metrics_file(set5: float, set14: float, params: int = 50400, gflops: float = 23.224, ms: float = 500.0):
    """An ablation/metrics/variant.json (eval.report.ablation_metrics' layout)."""
    return {"params": params, "gflops_720p": gflops, "scale": 3, "degradation": "ntire23",
            "psnr_rgb": {"set14": set14, "set5": set5}, "psnr_y": {"set14": set14 + 2, "set5": set5 + 3},
            "ssim_rgb": {"set14": 0.7, "set5": 0.8}, "ssim_y": {"set14": 0.75, "set5": 0.85},
            "runtime_ms": ms, "runtime_protocol": "cpu-fp32", "runtime_device": "AMD EPYC"}


def revision(rev: str, name: str | None, params: dict, metrics: dict | None, timestamp: str) -> dict:
    """One revision's entry as `dvc exp show --json` writes it."""
    mfiles = {"leaderboard/metrics.json": {"data": {"set5_x3": {}}}}
    mfiles[ablations.METRICS_FILE] = ({"data": metrics} if metrics is not None else
                                      {"error": {"type": "FileNotFoundError", "msg": "no such file"}})
    return {"rev": rev, "name": name, "data": {"rev": rev, "timestamp": timestamp,
                                               "params": {"params.yaml": {"data": params}},
                                               "metrics": mfiles, "deps": {}, "outs": {}, "meta": {}}}


def exp_show(*experiments) -> list:
    """A `dvc exp show --json` output: the workspace, the baseline commit and its experiments."""
    workspace = revision("workspace", None, params_file(), metrics_file(30.0, 27.0), "")
    workspace["experiments"] = None
    base = revision("a" * 40, "main", params_file(profile="embedded"), None, "2026-11-28T10:00:00")
    base["experiments"] = [{"revs": [revision(f"{i:040d}", name, p, m, ts)], "executor": None, "name": name}
                           for i, (name, p, m, ts) in enumerate(experiments)]
    return [workspace, base]


GRID = [("exp-a", params_file(channels=16), metrics_file(27.50, 25.20, 20592, 9.489, 300.0), "2026-11-28T11:00:00"),
        ("exp-b", params_file(), metrics_file(27.70, 25.40), "2026-11-28T11:05:00"),
        ("exp-c", params_file(channels=16, blocks=2), metrics_file(27.55, 25.25, 23904, 11.01, 420.0),
         "2026-11-28T11:10:00"),
        ("exp-d", params_file(blocks=2), metrics_file(27.80, 25.45, 68832, 31.72, 700.0), "2026-11-28T11:15:00"),
        ("failed", params_file(act="relu"), None, "2026-11-28T11:20:00")]


def test_collect_reads_every_experiment_with_ablation_metrics_in_axis_order():
    rows, notes = ablations.collect(exp_show(*GRID))
    assert [r["experiment"] for r in rows] == ["exp-a", "exp-c", "exp-b", "exp-d"]
    assert [ablations.variant_label(r["variant"]) for r in rows] == ["ch16", "ch16 R2", "final", "R2"]
    assert notes == [("1 experiments without ablation/metrics/variant.json (of the main pipeline, queued or failed) "
                     "are not in the table: failed")]


def test_other_settings_get_their_own_table_and_duplicates_keep_the_newer():
    again = ("exp-b2", params_file(), metrics_file(27.71, 25.41), "2026-11-28T12:00:00")
    longer = ("exp-long", params_file(epochs=50), metrics_file(28.0, 25.6), "2026-11-28T12:05:00")
    rows, notes = ablations.collect(exp_show(*GRID, again, longer))
    assert [r["experiment"] for r in rows if r["variant"] == FINAL] == ["exp-b2", "exp-long"]
    assert len({r["setting"] for r in rows}) == 2
    assert "exp-b and exp-b2: the same variant and setting; kept the newer exp-b2" in notes


def test_gpu_runtime_only_for_the_architecture_the_suite_timed():
    """The committed H200 report's channels sweep times the final form: ch16 and ch32 match, R2 does not."""
    sweeps = ablations.gpu_sweeps(H200_REPORTS)
    h200 = sweeps["NVIDIA H200"]
    assert h200["scale"] == 3 and sorted(h200["ms"])[:3] == [16, 20, 24]
    assert ablations.gpu_ms({**FINAL, "channels": 16}, 3, h200) == pytest.approx(0.45562447228881175)
    assert ablations.gpu_ms({**FINAL, "blocks": 2}, 3, h200) is None
    assert ablations.gpu_ms({**FINAL, "bias": True}, 3, h200) is None
    assert ablations.gpu_ms(FINAL, 4, h200) is None  # another scale


def test_main_writes_the_table_and_plot(tmp_path, capsys):
    show = tmp_path / "show.json"
    show.write_text(json.dumps(exp_show(*GRID)))
    assert ablations.main(["--exp-show", str(show), "--out", str(tmp_path / "lb"),
                           "--gpu-reports", H200_REPORTS]) == 0
    md = (tmp_path / "lb" / "ablations.md").read_text()
    table = [line for line in md.splitlines() if line.startswith("| exp-")]
    assert table[0] == ("| exp-a | ch16 | 16 | 2 | 1 | stride | lrelu | False | 20592 | 9.4890 | 27.5000 | "
                        "25.2000 | 300.0 | 0.4556 |")
    assert table[3] == ("| exp-d | R2 | 32 | 2 | 2 | stride | lrelu | False | 68832 | 31.7200 | 27.8000 | "
                        "25.4500 | 700.0 | - |")
    assert "| experiment | variant | ch | m | R | down | act | bias | params | gflops_720p | psnr_rgb set5 | " \
           "psnr_rgb set14 | cpu_ms | gpu_ms NVIDIA H200 |" in md
    assert (tmp_path / "lb" / "ablations.png").read_bytes()[:4] == b"\x89PNG"
    assert "exp-d" in capsys.readouterr().out


def test_no_ablation_experiment_is_one_line_and_writes_nothing(tmp_path, capsys):
    show = tmp_path / "show.json"
    show.write_text(json.dumps(exp_show()))
    assert ablations.main(["--exp-show", str(show), "--out", str(tmp_path / "lb")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no experiment with ablation/metrics/variant.json" in err[0]
    assert not (tmp_path / "lb").exists()


def test_variant_metrics_from_the_result_files(tmp_path):
    write_result(tmp_path, make_result("bicubic_pp", dataset="set5", psnr_rgb=27.7, runtime_ms=510.0))
    write_result(tmp_path, make_result("bicubic_pp", dataset="set14", psnr_rgb=25.4, runtime_ms=490.0))
    write_result(tmp_path, make_result("bicubic_pp", dataset="urban100", psnr_rgb=23.1, runtime_ms=530.0))
    m = variant_metrics(tmp_path)
    assert m["psnr_rgb"] == {"set14": 25.4, "set5": 27.7, "urban100": 23.1}
    assert m["params"] == 50_400 and m["gflops_720p"] == pytest.approx(23.224, abs=1e-3)
    assert (m["runtime_ms"], m["runtime_protocol"]) == (510.0, "cpu-fp32")  # median of 490, 510, 530


def test_variant_metrics_refuses_two_models(tmp_path):
    write_result(tmp_path, make_result("bicubic_pp", dataset="set5"))
    write_result(tmp_path, make_result("espcn", dataset="set14"))
    with pytest.raises(ResultError, match="results of 2 different models"):
        variant_metrics(tmp_path)
