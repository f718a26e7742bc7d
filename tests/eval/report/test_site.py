"""eval.report.site: the web page's files, self-containment, crop choice, iso-score curves, escaping.

The page's behaviour in a real browser is tested in test_site_browser.py.
"""
from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.imageio import save_png
from datasets.paths import gt_dir, sr_dir
from eval.report import site as site_module
from eval.report.leaderboard import main
from eval.report.resultfiles import load_result
from eval.report.site import (
    CROP_SIDE,
    evaluate_command,
    iso_score_curve,
    iso_score_levels,
    provenance_fields,
    script_json,
)
from eval.score import score as ntire23_score
from tests.eval.report.site_factory import MODELS, build_inputs
from tests.eval.results_factory import make_result, write_result, write_standard

OUR_FILES = ("index.html", "site.css", "site.js")


def _build(tmp_path, *extra) -> Path:
    """Run the leaderboard CLI on tmp_path/results and tmp_path/sr; return the site folder."""
    rc = main(["--results", str(tmp_path / "results"), "--sr", str(tmp_path / "sr"),
               "--out", str(tmp_path / "lb"), "--no-figures", *extra])
    assert rc == 0
    return tmp_path / "lb" / "site"


class _Refs(HTMLParser):
    """Collects every src/href of the page."""

    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]


@pytest.fixture(scope="module")
def built(tmp_path_factory, data_root) -> Path:
    """The site of the synthetic two-set leaderboard (set5 on CPU, set14 on an H200)."""
    root = tmp_path_factory.mktemp("site")
    with pytest.MonkeyPatch.context() as mp:  # its own data root: other tests also write set5 GT
        mp.setenv("RTSR_DATA_ROOT", str(root / "data"))
        build_inputs(root)
        return _build(root)


def test_site_files_are_self_contained(built):
    assert sorted(p.name for p in built.iterdir()) == ["crops", "index.html", "plotly.min.js",
                                                     "site.css", "site.js"]
    for name in OUR_FILES:
        text = (built / name).read_text()
        assert not re.search(r"https?://|//cdn|@import", text), name
    parser = _Refs()
    parser.feed((built / "index.html").read_text())
    local = [r for r in parser.refs if not r.startswith("#")]
    assert {"site.css", "site.js", "plotly.min.js"} <= set(local)
    for ref in local:  # every resource is a relative path to a file of this folder
        assert ":" not in ref and not ref.startswith("/") and (built / ref).is_file(), ref
    assert (built / "plotly.min.js").read_text().lstrip().startswith("/**\n* plotly.js v")


def test_one_section_per_set_with_banner_images_and_every_model(built):
    page = (built / "index.html").read_text()
    assert re.findall(r'<section id="([^"]+)" class="board"', page) == ["set14-x3-ntire23",
                                                                       "set5-x3-ntire23"]
    assert "GPU FP16, NTIRE 2023 runtime protocol, on NVIDIA H200" in page
    assert "CPU FP32, not challenge-comparable (runtime on AMD EPYC 7763 64-Core Processor)" in page
    assert page.count("5 images") == 2
    for section in ("set14-x3-ntire23", "set5-x3-ntire23"):
        body = page.split(f'<table class="sortable" data-section="{section}">')[1].split("</table>")[0]
        assert sorted(re.findall(r'<tr data-model="([^"]+)"', body)) == sorted(MODELS)
    assert "score = 0 if P &lt;= P_bic, else 2 * 2**(P - P_bic) / (0.1 * sqrt(t))" in page


def test_gain_and_median_columns_hold_the_values(built):
    page = (built / "index.html").read_text()
    row = page.split('<tr data-model="bicubic_pp"')[1].split("</tr>")[0]
    cells = re.findall(r'data-sort="([^"]*)">(?:<a [^>]*>)?([^<]*)', row)
    # set14 (the first section) is the H200 one: bicubic_pp 1.17 ms, median 0.99 x mean
    texts = [text for _, text in cells]
    expected_score = 2 * 2 ** (27.711 - 27.205) / (0.1 * math.sqrt(1.17))
    # rank, label, score and PSNR first (what the ranking uses), the weights' provenance last
    assert texts == ["1", "bicubic_pp", f"{expected_score:.2f}", "27.711", "+0.506", "1.170", "50,400", "23.22",
                     "30.659", "0.8552", "0.8650", "1.158", "user checkpoint"]  # SSIM RGB: results_factory
    assert float(cells[2][0]) == pytest.approx(expected_score, abs=1e-4)
    headers = re.findall(r'<th scope="col" data-key="([^"]+)"', page.split("<table")[1].split("</thead>")[0])
    assert headers[:4] == ["rank", "label", "score", "psnr_rgb"] and headers[-1] == "provenance"


def test_crops_are_small_pngs_one_per_model_with_images(built):
    for section, labels in (("set5-x3-ntire23", 6), ("set14-x3-ntire23", 5)):  # set14: no fsrcnn PNGs
        files = sorted((built / "crops" / section).glob("*.png"))
        assert len(files) == 3 * (1 + labels)  # 3 crops x (HR + every label with SR images)
        for f in files:
            with Image.open(f) as img:
                assert img.format == "PNG" and img.size == (CROP_SIDE, CROP_SIDE)
            assert f.stat().st_size < 20_000
    page = (built / "index.html").read_text()
    assert "No saved SR images for fsrcnn" in page


def test_chart_figure_has_one_point_per_timed_model_and_log_axis(built):
    page = (built / "index.html").read_text()
    fig = json.loads(re.search(r'id="fig-set5-x3-ntire23">(.*?)</script>', page, re.DOTALL).group(1))
    models = [t for t in fig["data"] if t.get("customdata")]
    assert len(models) == 1 and sorted(models[0]["customdata"]) == sorted(MODELS)
    assert fig["layout"]["xaxis"]["type"] == "log"
    names = [t.get("name") for t in fig["data"]]
    assert "Pareto front" in names and "bicubic 27.205 dB" in names and "iso-score curves" in names
    front = next(t for t in fig["data"] if t.get("name") == "Pareto front")
    # CPU set5: bicubic 219.9 ms / 27.205, bicubic_pp 321.4 / 27.711, abpn 1824.8 / 27.976
    assert front["x"] == [219.9, 321.4, 1824.8] and front["y"] == [27.205, 27.711, 27.976]


def test_no_site_flag_skips_the_page(tmp_path):
    write_standard(tmp_path / "results")
    site = _build(tmp_path, "--no-site")
    assert not site.exists() and (tmp_path / "lb" / "leaderboard.json").is_file()


def test_iso_score_curve_points_have_that_score():
    for level in (0.5, 2.0, 20.0):
        ts, ps = iso_score_curve(level, 27.0, 0.1, 5000.0)
        assert ts[0] == pytest.approx(max(0.1, (20 / level) ** 2))  # starts on the bicubic line
        assert ps[0] == pytest.approx(27.0)
        for t, p in zip(ts[1:], ps[1:]):
            assert ntire23_score(p, 27.0, t) == pytest.approx(level, rel=1e-5)
    assert iso_score_curve(0.01, 27.0, 0.1, 5000.0) == ([], [])  # meets bicubic beyond 5000 ms


def test_the_page_and_the_png_share_one_runtime_tick_rule():
    import eval.report.plots
    import eval.report.site
    from eval.report.chart_axes import log_ticks

    assert eval.report.site.log_ticks is eval.report.plots.log_ticks is log_ticks
    assert log_ticks(0.29, 21.2) == [0.29, 0.5, 1, 2, 5, 10, 21.2]


def test_iso_score_levels_span_the_scores():
    assert iso_score_levels([1.8853, 1.4216, 1.0830, 0.0]) == [1.0, 2.0]
    assert iso_score_levels([26.26, 15.42, 7.12]) == [5.0, 10.0, 20.0, 50.0]
    assert iso_score_levels([0.0, None]) == []
    assert len(iso_score_levels([0.011, 900.0])) <= 5


def test_labels_are_escaped_everywhere(tmp_path):
    evil = 'x</script><script>alert("1")</script>&'
    res = tmp_path / "results"
    write_result(res, make_result("bicubic"))
    write_result(res, make_result(evil, model="bicubic_pp"), name="evil.json")
    page = (_build(tmp_path) / "index.html").read_text()
    assert page.count("</script>") == page.count("<script")  # no element is closed by a label
    assert "x&lt;/script&gt;&lt;script&gt;alert(&#34;1&#34;)&lt;/script&gt;&amp;" in page
    fig = json.loads(re.search(r'id="fig-set5-x3-ntire23">(.*?)</script>', page, re.DOTALL).group(1))
    assert evil in fig["data"][-1]["customdata"]


def test_ssim_rgb_column_holds_each_results_value(tmp_path):
    """Every result carries ssim_rgb (eval.report.resultfiles requires it), so the column is always shown."""
    res = tmp_path / "results"
    write_standard(res)
    data = make_result("espcn")
    data["ssim_rgb"] = 0.91234
    for row in data["per_image"]:  # the set mean is recomputed from these
        row["ssim_rgb"] = 0.91234
    write_result(res, data)
    page = (_build(tmp_path) / "index.html").read_text()
    assert "SSIM RGB</button>" in page
    assert '<td class="num" data-sort="0.91234">0.9123</td>' in page


def test_no_runtime_section_says_so_and_has_no_chart(tmp_path):
    res = tmp_path / "results"
    for label in ("bicubic", "bicubic_pp"):
        write_result(res, make_result(label, runtime_ms=None))
    page = (_build(tmp_path) / "index.html").read_text()
    assert "Runtime not measured (--runtime off): no scores" in page
    assert 'class="chart"' not in page and "there is no chart" in page
    assert "No crops: no bicubic SR images" in page


def test_provenance_names_the_command_and_the_data_hash(tmp_path):
    path = write_result(tmp_path, make_result("bicubic_pp"))
    result = load_result(path)
    assert evaluate_command(result.data) == (
        "python -m eval.evaluate --model bicubic_pp --label bicubic_pp --dataset set5 --scale 3 "
        "--degradation ntire23 --runtime cpu --warmup 2 --passes 5")
    fields = dict(provenance_fields(result))
    assert fields["lr manifest sha256"] == "ab" * 32 and fields["weights origin"] == "no weights"
    assert fields["git commit"] == "0" * 40 and fields["result file"] == "bicubic_pp_set5_x3.json"
    assert fields["runtime device"].startswith("name AMD EPYC 7763")


def test_a_failed_build_keeps_the_previous_site(tmp_path, monkeypatch):
    write_standard(tmp_path / "results")
    site = _build(tmp_path)
    before = (site / "index.html").read_bytes()

    def broken(*_args, **_kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(site_module, "render", broken)
    with pytest.raises(RuntimeError, match="template exploded"):
        _build(tmp_path)
    assert (site / "index.html").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "lb").iterdir() if p.name.startswith(".")) == []


def test_sr_images_of_the_wrong_size_give_a_note_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("RTSR_DATA_ROOT", str(tmp_path / "data"))
    write_standard(tmp_path / "results")
    gt = np.zeros((30, 30, 3), np.uint8)
    save_png(gt_dir("set5", 3, "ntire23") / "baby.png", gt)
    save_png(sr_dir(tmp_path / "sr", "bicubic", "set5", 3, "ntire23") / "baby.png", gt)
    save_png(sr_dir(tmp_path / "sr", "espcn", "set5", 3, "ntire23") / "baby.png", gt[:20])
    page = (_build(tmp_path) / "index.html").read_text()
    assert "No crops:" in page and "differs from the GT&#39;s" in page and "re-run eval.evaluate" in page


def test_script_json_cannot_close_its_element():
    text = script_json({"label": "a</script><!--b"})
    assert "</" not in text and "<!--" not in text
    assert json.loads(text) == {"label": "a</script><!--b"}


def test_cpu_budget_rows_say_so_on_the_page(tmp_path):
    """ESPCN at 5 CPU epochs ranks below bicubic: its weights cell and a note under the table say why."""
    from eval.origin import CPU_BUDGET_NOTE

    res = tmp_path / "results"
    write_standard(res)
    trained = make_result("espcn", psnr_rgb=29.1)
    trained["weights_origin"] = {"kind": "trained_here", "budget": "cpu"}
    write_result(res, trained)
    write_result(res, make_result("bicubic", dataset="set14"))
    page = (_build(tmp_path) / "index.html").read_text()
    set5 = page.split('<section id="set5-x3-ntire23"')[1].split("</section>")[0]
    set14 = page.split('<section id="set14-x3-ntire23"')[1].split("</section>")[0]
    row = set5.split('<tr data-model="espcn"')[1].split("</tr>")[0]
    assert '<td class="text wrap" data-sort="trained here, CPU budget (cpu)">trained here, CPU budget (cpu)</td>' in row
    assert f'<p class="note cpu-budget">{CPU_BUDGET_NOTE.replace(chr(39), "&#39;")}</p>' in set5
    assert "cpu-budget" not in set14  # no CPU-budget row there


def test_a_random_weights_model_does_not_stretch_the_charts_psnr_axis(tmp_path):
    """The page clips the y-axis with psnr_vs_runtime.png's rule (eval.report.chart_axes.psnr_limits), not 5-30 dB."""
    from eval.report.chart_axes import psnr_limits

    res = tmp_path / "results"
    write_standard(res)
    write_result(res, make_result("random", model="espcn", psnr_rgb=7.1))
    page = (_build(tmp_path) / "index.html").read_text()
    fig = json.loads(re.search(r'id="fig-set5-x3-ntire23">(.*?)</script>', page, re.DOTALL).group(1))
    lo, hi, _ = psnr_limits([29.60, 30.55, 30.40, 30.30, 7.1], 29.60)
    assert fig["layout"]["yaxis"]["range"] == pytest.approx([lo, hi])
    assert fig["layout"]["yaxis"]["range"] == pytest.approx([29.6 - 0.114, 30.55 + 0.114])
    edge = next(t for t in fig["data"] if t.get("name", "").startswith("off scale"))
    assert edge["customdata"] == ["random"] and edge["text"] == ["random 7.10 dB (off scale)"]
    assert edge["y"] == [pytest.approx(lo + 0.02 * (hi - lo))]
    front = next(t for t in fig["data"] if t.get("name") == "Pareto front")
    assert 7.1 not in front["y"]


def test_the_runtime_axis_ticks_are_the_data_extremes_and_1_2_5_values_as_the_png():
    from eval.report.chart_axes import tick_text
    from eval.report.site import chart

    rows = [{"label": n, "rank": i, "score": s, "psnr_rgb": p, "gain_db": 0.0, "psnr_y": p, "ssim_y": 0.9,
             "runtime_ms": t, "runtime_median_ms": t, "params": 1, "gflops_720p": 1.0, "provenance": "no weights",
             "runtime_protocol": "cpu-fp32", "model": n}
            for i, (n, s, p, t) in enumerate([("bicubic", 0.0, 27.2, 219.87), ("espcn", 0.5, 27.5, 2710.3)], 1)]
    xaxis = chart(rows).layout.xaxis
    assert list(xaxis.tickvals) == [219.87, 500, 1000, 2000, 2710.3]
    assert list(xaxis.ticktext) == ["220", "500", "1000", "2000", "2710"] == list(map(tick_text, xaxis.tickvals))
