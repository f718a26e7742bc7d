"""eval.report.regress: the CI gate against a committed reference."""
from __future__ import annotations

import json

import pytest

from core.cli import EXIT_BAD_INPUT
from core.cli import EXIT_FAILURE as EXIT_UNUSABLE
from core.paths import data_root
from eval.report import regress
from eval.report.regress import EXIT_OK, EXIT_REGRESSION, SCHEMA, GateOptions, main, run_gate
from tests.eval.results_factory import H200, MODELS, make_result, write_result, write_standard


@pytest.fixture
def gate(tmp_path):
    """A results folder with the four standard models and a reference made from it by --update."""
    res, ref = tmp_path / "results", tmp_path / "reference.json"
    write_standard(res)
    assert main(["--results", str(res), "--reference", str(ref), "--update"]) == EXIT_OK

    def run(*extra: str) -> int:
        return main(["--results", str(res), "--reference", str(ref), *extra])

    run.results, run.reference = res, ref
    return run


def _out(capsys) -> str:
    cap = capsys.readouterr()  # tables on stdout, errors on stderr
    return " ".join((cap.out + cap.err).split())


def test_update_writes_a_stable_reference(gate):
    text = gate.reference.read_text()
    doc = json.loads(text)
    assert doc["schema"] == SCHEMA and len(doc["entries"]) == 4
    bpp = next(e for e in doc["entries"] if e["model"] == "bicubic_pp")
    assert bpp == {"dataset": "set5", "scale": 3, "degradation": "ntire23", "model": "bicubic_pp",
                   "psnr_rgb": 30.55, "psnr_y": 32.3, "runtime_ms": 420.0,
                   "runtime_ratio_to_bicubic": 2.8, "runtime_protocol": "cpu-fp32",
                   "runtime_device": "AMD EPYC 7763 64-Core Processor", "psnr_tol": None}
    assert gate("--update") == EXIT_OK and gate.reference.read_text() == text  # no timestamps


@pytest.mark.parametrize("weights, drop, expected", [
    ("data/train/espcn/best.pt", 0.20, EXIT_OK),  # trained by the pipeline: TRAINED_PSNR_TOL (0.25 dB)
    ("data/train/espcn/best.pt", 0.30, EXIT_REGRESSION),
    ("/ckpts/espcn_released.pth", 0.06, EXIT_REGRESSION),  # fixed weights: --psnr-tol (0.05 dB)
])
def test_models_trained_by_the_pipeline_have_their_own_tolerance(tmp_path, capsys, weights, drop, expected):
    res, ref = tmp_path / "results", tmp_path / "reference.json"
    write_standard(res)
    trained = make_result("espcn")
    trained["weights"] = weights.replace("data/", f"{data_root()}/", 1) if weights.startswith("data/") else weights
    write_result(res, trained)
    assert main(["--results", str(res), "--reference", str(ref), "--update"]) == EXIT_OK
    entry = next(e for e in json.loads(ref.read_text())["entries"] if e["model"] == "espcn")
    assert entry["psnr_tol"] == (0.25 if weights.startswith("data/train/") else None)
    trained["psnr_rgb"] -= drop
    trained["per_image"] = [dict(r, psnr_rgb=r["psnr_rgb"] - drop) for r in trained["per_image"]]
    write_result(res, trained)
    assert main(["--results", str(res), "--reference", str(ref)]) == expected
    if expected == EXIT_REGRESSION:
        assert f"drop <= {0.25 if weights.startswith('data/') else 0.05} dB" in _out(capsys)


def test_identical_results_pass(gate, capsys):
    assert gate() == EXIT_OK
    assert "regress: OK" in _out(capsys)


@pytest.mark.parametrize("metric", ["psnr_rgb", "psnr_y"])
@pytest.mark.parametrize("drop, expected", [(0.06, EXIT_REGRESSION), (0.04, EXIT_OK),
                                            (0.05, EXIT_OK)])
def test_psnr_drop_threshold(gate, capsys, metric, drop, expected):
    base = MODELS["espcn"][2 if metric == "psnr_rgb" else 3]
    write_result(gate.results, make_result("espcn", **{metric: base - drop}))
    assert gate() == expected
    if expected == EXIT_REGRESSION:
        out = _out(capsys)
        assert "REGRESSIONS" in out and "espcn" in out and metric in out and f"-{drop:.4f} dB" in out


def test_psnr_tolerance_is_an_option(gate):
    write_result(gate.results, make_result("espcn", psnr_rgb=MODELS["espcn"][2] - 0.06))
    assert gate("--psnr-tol", "0.1") == EXIT_OK


@pytest.mark.parametrize("ms, expected", [(600.0 * 1.25, EXIT_REGRESSION), (600.0 * 1.15, EXIT_OK)])
def test_runtime_ratio_regression(gate, capsys, ms, expected):
    write_result(gate.results, make_result("espcn", runtime_ms=ms))
    assert gate("--runtime-tol", "0.2") == expected
    if expected == EXIT_REGRESSION:
        assert "runtime / bicubic" in _out(capsys)


@pytest.mark.parametrize("device, factor, expected", [
    (None, 1.9, EXIT_OK), (None, 2.1, EXIT_REGRESSION),  # CPU FP32: 100 % by default
    (H200, 1.15, EXIT_OK), (H200, 1.25, EXIT_REGRESSION),  # GPU protocol: 20 %
])
def test_default_runtime_tolerance_follows_the_protocol(tmp_path, device, factor, expected):
    res, ref = tmp_path / "results", tmp_path / "reference.json"
    kw = {} if device is None else {"device": device}
    for label in MODELS:
        write_result(res, make_result(label, **kw))
    assert main(["--results", str(res), "--reference", str(ref), "--update"]) == EXIT_OK
    write_result(res, make_result("espcn", runtime_ms=MODELS["espcn"][5] * factor, **kw))
    assert main(["--results", str(res), "--reference", str(ref)]) == expected


def test_a_slower_machine_is_not_a_regression_when_bicubic_slows_down_too(gate):
    """The runtime check compares ratios to bicubic measured in the same run, not absolute ms."""
    for label in MODELS:
        write_result(gate.results, make_result(label, runtime_ms=MODELS[label][5] * 2.0))
    assert gate() == EXIT_OK


def test_device_mismatch_refuses_the_runtime_check_but_still_checks_psnr(gate, capsys):
    for label in MODELS:
        write_result(gate.results, make_result(label, runtime_ms=MODELS[label][5] / 300, device=H200))
    assert gate() == EXIT_OK
    out = _out(capsys)
    assert "Runtime checks refused" in out and "ntire23-gpu-fp16 on NVIDIA H200" in out
    assert gate("--require-runtime") == EXIT_REGRESSION
    write_result(gate.results, make_result("espcn", psnr_rgb=MODELS["espcn"][2] - 0.06,
                                           runtime_ms=2.0, device=H200))
    assert gate() == EXIT_REGRESSION
    assert "psnr_rgb" in _out(capsys)


def test_missing_runtime_refuses_the_runtime_check(gate, capsys):
    write_result(gate.results, make_result("espcn", runtime_ms=None))
    assert gate() == EXIT_OK
    assert "no runtime" in _out(capsys)
    assert gate("--require-runtime") == EXIT_REGRESSION


def test_model_missing_from_the_current_results_is_a_regression(gate, capsys):
    (gate.results / "fsrcnn_set5_x3.json").unlink()
    assert gate() == EXIT_REGRESSION
    out = _out(capsys)
    assert "fsrcnn" in out and "missing" in out


def test_new_model_is_reported_not_failed(gate, capsys):
    write_result(gate.results, make_result("mine", model="espcn"))
    assert gate() == EXIT_OK
    assert "not in the reference" in _out(capsys)


def test_corrupt_result_file_cannot_compare(gate, capsys):
    (gate.results / "broken.json").write_text("{not json")
    assert gate() == EXIT_UNUSABLE
    out = _out(capsys)
    assert "broken.json" in out and "corrupt result file" in out


@pytest.mark.parametrize("content, message", [
    ("{oops", "corrupt reference"),
    (json.dumps({"schema": "something-else", "entries": []}), "not a rtsr-bench-reference/1"),
    (json.dumps({"schema": SCHEMA, "entries": [{"model": "espcn"}]}), "entry 0 lacks"),
])
def test_unusable_reference(gate, capsys, content, message):
    gate.reference.write_text(content)
    assert gate() == EXIT_BAD_INPUT
    out = _out(capsys)
    assert message in out and "reference.json" in out


def test_missing_reference_and_missing_results(tmp_path, capsys):
    res = tmp_path / "results"
    write_standard(res)
    assert main(["--results", str(res), "--reference", str(tmp_path / "none.json")]) == EXIT_BAD_INPUT
    assert "--update" in _out(capsys)
    (tmp_path / "empty").mkdir()
    assert main(["--results", str(tmp_path / "empty"), "--reference", str(tmp_path / "x.json"),
                 "--update"]) == EXIT_UNUSABLE
    assert "no result files" in _out(capsys) and not (tmp_path / "x.json").exists()


def test_several_scales_and_degradations_are_checked_separately(tmp_path):
    res, ref = tmp_path / "results", tmp_path / "reference.json"
    write_standard(res)
    write_result(res, make_result("bicubic", degradation="classic"), name="bic_classic.json")
    write_result(res, make_result("espcn", degradation="classic"), name="espcn_classic.json")
    args = ["--results", str(res), "--reference", str(ref)]
    assert main([*args, "--update"]) == EXIT_OK
    assert len(json.loads(ref.read_text())["entries"]) == 6
    write_result(res, make_result("espcn", degradation="classic", psnr_rgb=30.0),
                 name="espcn_classic.json")
    assert main(args) == EXIT_REGRESSION


@pytest.fixture
def profiles(tmp_path, monkeypatch):
    """references/ in tmp with an embedded (demo) and a mirror (set5, set14) reference; params.yaml
    of the workspace says ``embedded``."""
    refs = tmp_path / "references"
    monkeypatch.setattr(regress, "REFERENCES_DIR", refs)
    monkeypatch.setattr(regress, "workspace_profile", lambda: "embedded")
    for profile, sets in (("embedded", ["demo"]), ("mirror", ["set5", "set14"])):
        res = tmp_path / f"res-{profile}"
        for ds in sets:
            write_standard(res, dataset=ds)
        assert main(["--results", str(res), "--reference", str(refs / f"{profile}.json"), "--update"]) == 0
    return tmp_path


def test_the_reference_is_the_results_own_profile(profiles, capsys):
    """Mirror results while params.yaml says embedded (CI restores params.yaml): the mirror reference."""
    assert main(["--results", str(profiles / "res-mirror")]) == EXIT_OK
    out = _out(capsys)
    assert "profile mirror" in out and "mirror.json" in out and "regress: OK" in out
    assert main(["--results", str(profiles / "res-embedded")]) == EXIT_OK
    assert "profile embedded (params.yaml's profile" in _out(capsys)


def test_another_profiles_results_are_not_a_regression(profiles, capsys):
    assert main(["--results", str(profiles / "res-mirror"), "--profile", "embedded"]) == EXIT_BAD_INPUT
    out = _out(capsys)
    assert "another profile's results, not a regression" in out
    assert "python -m eval.regress --profile mirror" in out and "--update" not in out


def test_missing_test_set_suggests_its_pipeline_not_update(profiles, capsys):
    for path in (profiles / "res-mirror").glob("*_set14_x3.json"):
        path.unlink()
    assert main(["--results", str(profiles / "res-mirror")]) == EXIT_REGRESSION
    out = _out(capsys)
    assert "no results at all for set14 x3 (ntire23)" in out and "--update" not in out


def test_update_of_a_profile_keeps_its_test_sets_only(profiles, capsys, monkeypatch):
    """Stale results of another profile in data/results never enter a profile's reference."""
    res = profiles / "res-mixed"
    write_standard(res, dataset="demo")
    write_standard(res, dataset="set5")
    assert main(["--results", str(res), "--update", "--profile", "mirror"]) == EXIT_OK
    doc = json.loads((profiles / "references" / "mirror.json").read_text())
    assert doc["profile"] == "mirror" and {e["dataset"] for e in doc["entries"]} == {"set5"}
    assert main(["--results", str(res), "--update"]) == EXIT_OK  # params.yaml's profile: embedded
    doc = json.loads((profiles / "references" / "embedded.json").read_text())
    assert {e["dataset"] for e in doc["entries"]} == {"demo"}


# -- issue 13: no number taken on trust -----------------------------------------------------------------
def _reference_with(gate, change) -> None:
    doc = json.loads(gate.reference.read_text())
    change(doc)
    gate.reference.write_text(json.dumps(doc))  # json writes NaN/Infinity as the reference would hold them


@pytest.mark.parametrize("change, said", [
    (lambda d: d.update(entries=[]), "the reference has no entries, so it checks nothing"),
    (lambda d: d["entries"][0].update(psnr_rgb=float("nan")),
     "entries[0].psnr_rgb=nan: Input should be a finite number"),
    (lambda d: d["entries"][1].update(psnr_y=float("inf")), "entries[1].psnr_y=inf: Input should be a finite number"),
    (lambda d: d["entries"][0].update(psnr_rgb="29.6"), "entries[0].psnr_rgb='29.6': Input should be a valid number"),
    (lambda d: d["entries"][2].update(runtime_ratio_to_bicubic=-1.0),
     "entries[2].runtime_ratio_to_bicubic=-1.0: Input should be greater than 0"),
    (lambda d: d["entries"][0].update(scale="3"), "entries[0].scale='3': Input should be a valid integer"),
    (lambda d: d["entries"].append(dict(d["entries"][0])), "two entries for set5 3 ntire23 bicubic"),
])
def test_reference_that_cannot_be_trusted_is_bad_input(gate, capsys, change, said):
    _reference_with(gate, change)
    assert gate() == EXIT_BAD_INPUT
    cap = capsys.readouterr()
    assert cap.err.startswith(f"error: {gate.reference}: ") and said in cap.err and cap.err.count("\n") == 1
    assert "regress: OK" not in cap.out


@pytest.mark.parametrize("flag, value", [("--psnr-tol", "nan"), ("--psnr-tol", "-0.01"),
                                         ("--runtime-tol", "inf"), ("--runtime-tol", "nan")])
def test_tolerance_must_be_finite_and_not_negative(gate, capsys, flag, value):
    assert gate(flag, value) == EXIT_BAD_INPUT
    want = f"error: {flag}={float(value)!r}: must be a finite number >= 0 (e.g. {flag} 0.05)\n"
    assert capsys.readouterr().err == want


def test_result_whose_summary_disagrees_with_its_images_is_unusable(gate, capsys):
    data = make_result("espcn", psnr_rgb=30.40)
    data["psnr_rgb"] = 45.0  # the per-image values still say 30.40
    write_result(gate.results, data)
    assert gate() == EXIT_UNUSABLE == 1
    err = capsys.readouterr().err
    assert err == (f"error: {gate.results / 'espcn_set5_x3.json'}: psnr_rgb says 45.0 but the mean of its 5 "
                   "per-image values is 30.400000 (tolerance 1e-06); the summary is not taken on trust: re-run "
                   "eval.evaluate for this result\n")


# -- issue 19.6: committed and released weights are fixed weights: their numbers must not move ---------------
COMMITTED = {"kind": "committed", "budget": "paper", "card": "NVIDIA H200", "name": "espcn_x3_paper"}


@pytest.mark.parametrize("origin, change, expected", [
    (COMMITTED, -0.06, EXIT_REGRESSION), (COMMITTED, -0.04, EXIT_OK),
    (COMMITTED, +0.06, EXIT_REGRESSION), (COMMITTED, +0.04, EXIT_OK),  # a rise is a change too
    ({"kind": "released", "name": "bicubic_pp_released"}, +0.06, EXIT_REGRESSION),
    ({"kind": "trained_here", "budget": "cpu"}, -0.06, EXIT_OK),  # trained here: 0.25 dB, drops only
    ({"kind": "trained_here", "budget": "cpu"}, +0.60, EXIT_OK),
    ({"kind": "user"}, +0.06, EXIT_OK),  # other weights: drops only
])
def test_fixed_weights_fail_on_any_change_beyond_the_tolerance(tmp_path, capsys, origin, change, expected):
    res, ref = tmp_path / "results", tmp_path / "reference.json"
    write_standard(res)
    fixed = {**make_result("espcn"), "weights": "models/trained/espcn_x3_paper.pt", "weights_origin": origin}
    write_result(res, fixed)
    assert main(["--results", str(res), "--reference", str(ref), "--update"]) == EXIT_OK
    entry = next(e for e in json.loads(ref.read_text())["entries"] if e["model"] == "espcn")
    assert entry.get("fixed_weights") is (True if origin["kind"] in ("committed", "released") else None)
    assert entry["psnr_tol"] == (0.25 if origin["kind"] == "trained_here" else None)
    write_result(res, {**make_result("espcn", psnr_rgb=MODELS["espcn"][2] + change),
                       "weights": fixed["weights"], "weights_origin": origin})
    capsys.readouterr()
    assert main(["--results", str(res), "--reference", str(ref)]) == expected
    if expected == EXIT_REGRESSION:
        out = _out(capsys)
        assert f"{change:+.4f} dB" in out and "|change| <= 0.05 dB (fixed weights)" in out


def test_run_gate_takes_typed_options_as_the_cli_does(tmp_path, capsys):
    """``run_gate(GateOptions(...))`` is what ``main`` runs: same exit status for the same inputs."""
    results = tmp_path / "results"
    write_standard(results)
    ref = tmp_path / "ref.json"
    assert run_gate(GateOptions(results=results, reference=ref, update=True)) == EXIT_OK
    assert run_gate(GateOptions(results=results, reference=ref)) == EXIT_OK
    assert main(["--results", str(results), "--reference", str(ref)]) == EXIT_OK
    with pytest.raises(ValueError, match="extra"):
        GateOptions(psnr_tolerance=0.1)  # a misspelt option is refused, not ignored
