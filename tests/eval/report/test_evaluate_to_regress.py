"""Real result JSONs from ``eval.evaluate`` (embedded demo set) through the leaderboard and the gate."""
from __future__ import annotations

import json

from PIL import Image

from datasets.paths import sr_dir
from eval.evaluate import main as evaluate
from eval.report.leaderboard import ROW_KEYS
from eval.report.leaderboard import main as leaderboard
from eval.report.regress import main as regress


def test_evaluate_then_leaderboard_then_regress(tmp_path, capsys):
    results, sr_root, out = tmp_path / "results", tmp_path / "sr", tmp_path / "lb"
    for model in ("bicubic", "bicubic_pp"):
        assert evaluate(["--model", model, "--dataset", "demo", "--scale", "3", "--runtime", "cpu",
                         "--passes", "1", "--warmup", "0", "--json", str(results / f"{model}.json"),
                         "--save-sr", str(sr_dir(sr_root, model, "demo", 3, "ntire23"))]) == 0
    assert leaderboard(["--results", str(results), "--out", str(out), "--sr", str(sr_root)]) == 0
    rows = json.loads((out / "leaderboard.json").read_text())
    assert [tuple(r) for r in rows] == [ROW_KEYS] * 2
    by_model = {r["label"]: r for r in rows}
    assert by_model["bicubic"]["score"] == 0.0
    assert by_model["bicubic_pp"]["params"] == 50_400
    assert by_model["bicubic_pp"]["runtime_protocol"] == "cpu-fp32"
    assert {r["dataset"] for r in rows} == {"demo"} and {r["scale"] for r in rows} == {3}
    printed = " ".join("".join(capsys.readouterr()).split())
    assert "Runtimes are CPU figures" in printed and "No crop comparison" not in printed
    for name in ("psnr_vs_runtime.png", "crops.png"):
        with Image.open(out / name) as img:
            assert img.format == "PNG" and img.width > 300
    page = (out / "site" / "index.html").read_text()  # the web page, from real SR images
    assert 'id="demo-x3-ntire23"' in page and "No crops" not in page
    assert len(list((out / "site" / "crops" / "demo-x3-ntire23").glob("*.png"))) >= 3  # HR, 2 models
    ref = tmp_path / "reference.json"
    assert regress(["--results", str(results), "--reference", str(ref), "--update"]) == 0
    assert regress(["--results", str(results), "--reference", str(ref)]) == 0
