"""eval.report.plots and eval.report.crops: Pareto front, outliers, ticks, the deterministic crops, both figures."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from datasets.imageio import save_png
from datasets.paths import gt_dir, sr_dir
from eval.report import plots
from eval.report.chart_axes import log_ticks, psnr_limits
from eval.report.crops import Spot, border_margin, choose_spots, max_window, reference_model
from eval.report.leaderboard import main
from eval.report.plots import choose_crop, pareto_front
from tests.eval.results_factory import SET5, make_result, write_result, write_standard


def test_pareto_front_keeps_only_undominated_points():
    pts = [(1.0, 30.0), (2.0, 29.0), (3.0, 31.0), (3.0, 30.5), (10.0, 31.0), (20.0, 32.0)]
    assert pareto_front(pts) == [0, 2, 5]
    assert pareto_front([]) == []


@pytest.fixture(autouse=True)
def own_data_root(tmp_path, monkeypatch):
    """The planted GT images go to this test's own data root, never the session's real Set5 GT."""
    monkeypatch.setenv("RTSR_DATA_ROOT", str(tmp_path / "data"))


def _make_images(sr_root, rng) -> None:
    """GT, bicubic SR (a planted error at image 'bird', rows 40-71, cols 30-61) and two models' SR."""
    gt_folder = gt_dir("set5", 3, "ntire23")
    for i, stem in enumerate(SET5):
        gt = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
        save_png(gt_folder / f"{stem}.png", gt)
        bic = gt.copy()
        bic[:, :, 0] ^= np.uint8(1 + i)  # small, even error everywhere
        if stem == "bird":
            bic[40:72, 30:62] = 255 - gt[40:72, 30:62]
        save_png(sr_dir(sr_root, "bicubic", "set5", 3, "ntire23") / f"{stem}.png", bic)
        save_png(sr_dir(sr_root, "bicubic_pp", "set5", 3, "ntire23") / f"{stem}.png", gt)


def test_worst_bicubic_crop_finds_the_planted_error(tmp_path):
    _make_images(tmp_path / "sr", np.random.default_rng(0))
    spots = choose_spots(gt_dir("set5", 3, "ntire23"), sr_dir(tmp_path / "sr", "bicubic", "set5", 3, "ntire23"),
                         None, 32, 1, scale=3)
    assert spots == [Spot("bird", 40, 30, 32)]


def test_sr_dir_convention(tmp_path):
    assert sr_dir(tmp_path, "my model", "set5", 3, "ntire23") == tmp_path / "ntire23_x3" / "set5" / "my model"


def test_figures_are_readable_pngs(tmp_path, capsys):
    write_standard(tmp_path / "results")
    _make_images(tmp_path / "sr", np.random.default_rng(1))
    rc = main(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "lb"),
               "--sr", str(tmp_path / "sr"), "--crop-size", "32"])
    assert rc == 0
    for name in ("psnr_vs_runtime.png", "crops.png"):
        with Image.open(tmp_path / "lb" / name) as img:
            img.verify()
        with Image.open(tmp_path / "lb" / name) as img:
            assert img.format == "PNG" and img.width > 300 and img.height > 150
    out = " ".join("".join(capsys.readouterr()).split())
    assert "crops.png lacks espcn, fsrcnn" in out


def test_crops_without_sr_images_writes_an_explaining_picture(tmp_path, capsys):
    write_standard(tmp_path / "results")
    rc = main(["--results", str(tmp_path / "results"), "--out", str(tmp_path / "lb"),
               "--sr", str(tmp_path / "nowhere")])
    assert rc == 0
    with Image.open(tmp_path / "lb" / "crops.png") as img:
        assert img.format == "PNG"
    assert "no bicubic SR images" in " ".join("".join(capsys.readouterr()).split())


def test_max_window_keeps_the_margin_and_takes_the_first_on_ties():
    err = np.zeros((40, 50), dtype=np.int64)
    err[0:8, 0:8] = 9  # the largest error sits in the corner
    err[20:28, 30:38] = 5
    assert max_window(err, 8) == (0, 0, 576.0)
    assert max_window(err, 8, margin=6) == (20, 30, 320.0)
    assert max_window(np.zeros((10, 10), dtype=np.int64), 4, margin=100)[:2] == (3, 3)  # margin shrinks
    assert max_window(np.ones((10, 10), dtype=np.int64), 4)[:2] == (0, 0)


def test_best_gain_crop_is_where_the_model_gains_most_away_from_the_border(tmp_path):
    rng = np.random.default_rng(3)
    gt_folder, bic, model = tmp_path / "gt", tmp_path / "bic", tmp_path / "model"
    for stem in ("a", "b"):
        gt = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
        out_bic, out_model = gt.copy(), gt.copy()
        out_bic[..., 1] ^= 8  # bicubic errs everywhere a little; the model is exact everywhere ...
        out_model[..., 1] ^= 8
        if stem == "b":
            out_model[30:54, 60:84] = gt[30:54, 60:84]  # ... except that it gains inside image b
            out_bic[0:24, 0:24] = 255 - gt[0:24, 0:24]  # bicubic's worst spot: a corner, where
            out_model[0:24, 0:24] = 255 - gt[0:24, 0:24]  # the model is just as lost (no gain)
        for folder, img in ((gt_folder, gt), (bic, out_bic), (model, out_model)):
            save_png(folder / f"{stem}.png", img)
    # bicubic's worst spot is the corner (0, 0) of b: out of bounds, 24 px (8 LR px at x3) from the borders
    assert choose_spots(gt_folder, bic, None, 24, 1, scale=3) == [Spot("a", 24, 24, 24)]
    assert choose_spots(gt_folder, bic, model, 24, 2, scale=3) == [Spot("b", 30, 60, 24), Spot("a", 24, 24, 24)]


def test_psnr_axis_ignores_an_outlier_and_labels_the_extremes():
    lo, hi, cut = psnr_limits([27.2, 27.9, 28.3, 7.1], bicubic=27.2)
    assert cut == pytest.approx(24.2) and lo == pytest.approx(27.2 - 0.132) and hi == pytest.approx(28.3 + 0.132)
    assert psnr_limits([27.2, 27.9], bicubic=27.2)[2] is None
    assert log_ticks(0.447, 21.1) == [0.447, 1, 2, 5, 10, 21.1]
    assert log_ticks(150, 900) == [150, 200, 500, 900]


def test_crops_png_has_a_panel_per_test_set_with_the_crop_psnr(tmp_path, monkeypatch):
    res, sr = tmp_path / "results", tmp_path / "sr"
    rng = np.random.default_rng(5)
    for dataset in ("set5", "set14"):
        for label in ("bicubic", "bicubic_pp"):
            write_result(res, make_result(label, dataset=dataset, images=["img"]))
        gt = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
        save_png(gt_dir(dataset, 3, "ntire23") / "img.png", gt)
        bic = gt.copy()
        bic[..., 0] ^= 16
        save_png(sr_dir(sr, "bicubic", dataset, 3, "ntire23") / "img.png", bic)
        save_png(sr_dir(sr, "bicubic_pp", dataset, 3, "ntire23") / "img.png", gt)
    drawn = []
    monkeypatch.setattr(plots, "_draw_panels", lambda panels, path: drawn.extend(panels))
    assert main(["--results", str(res), "--out", str(tmp_path / "lb"), "--sr", str(sr), "--no-site",
                 "--crop-size", "32"]) == 0
    assert [title.split(",")[0] for title, _, _ in drawn] == ["set14 x3 (ntire23)", "set5 x3 (ntire23)"]
    title, ref, outputs = drawn[0]
    assert "where bicubic_pp gains most over bicubic" in title and "dB = PSNR RGB of the crop" in title
    assert ref.shape == (32, 32, 3) and [label for label, _ in outputs] == ["bicubic", "bicubic_pp"]


def test_an_outlier_does_not_hide_the_front(tmp_path):
    """A random-weights model at 7 dB: the figure is drawn, with the other points on a readable axis."""
    res = tmp_path / "results"
    write_standard(res)
    write_result(res, make_result("random", model="espcn", psnr_rgb=7.1))
    assert main(["--results", str(res), "--out", str(tmp_path / "lb"), "--no-site"]) == 0
    with Image.open(tmp_path / "lb" / "psnr_vs_runtime.png") as img:
        assert img.format == "PNG" and img.width > 300


# -- issue 23.8: one crop rule for crops.png and the page, with a border margin, blind to broken models -------
def test_the_border_margin_is_8_percent_of_the_shorter_side_and_8_lr_pixels():
    assert border_margin(90, 120, 3) == 24  # 8 LR px x3 > 8 % of 90 (7.2)
    assert border_margin(1020, 2040, 2) == 82  # 8 % of 1020 = 81.6 > 16
    err = np.zeros((200, 300), dtype=np.int64)
    err[0:20, 0:20] = 9  # a blank-corner artefact: the largest sum (3600), but inside the margin
    err[100:140, 150:190] = 1
    assert max_window(err, 40, border_margin(200, 300, 3)) == (100, 150, 1600.0)


def test_the_reference_model_is_the_best_real_one_never_an_outlier():
    assert reference_model({"abpn": 27.98, "espcn": 27.18, "broken": 7.1}, 27.2) == "abpn"
    assert reference_model({"broken": 7.1}, 27.2) is None  # bicubic's error decides then
    assert reference_model({}, 27.2) is None
    assert reference_model({"bicubic": 27.9, "espcn": 27.18}, 27.2) == "bicubic"  # a model *labelled* bicubic
    assert reference_model({"espcn": 26.0, "broken": 7.1}, 27.2) == "espcn"  # below bicubic, but no outlier


def _broken_model(sr_root, labels) -> list[dict]:
    """Rows of the site factory's set5 models plus a broken one (inverted outputs, 7.1 dB) with SR images."""
    from tests.eval.report.site_factory import MODELS

    folder = sr_dir(sr_root, "broken", "set5", 3, "ntire23")
    for stem in SET5:
        gt = np.asarray(Image.open(gt_dir("set5", 3, "ntire23") / f"{stem}.png"))
        save_png(folder / f"{stem}.png", 255 - gt)
    broken = {"label": "broken", "model": "espcn", "psnr_rgb": 7.1}
    return [{"label": lb, "model": lb, "psnr_rgb": MODELS[lb][2]} for lb in labels] + [broken]


def test_a_broken_model_does_not_change_the_crop(tmp_path):
    from tests.eval.report.site_factory import MODELS, write_images

    sr = tmp_path / "sr"
    write_images(sr, "set5", list(MODELS), (96, 120))
    key = ("set5", 3, "ntire23")
    rows = [{"label": lb, "model": lb, "psnr_rgb": MODELS[lb][2]} for lb in MODELS]
    spot, best = choose_crop(key, rows, sr, 32)
    assert best == "abpn"  # the highest PSNR RGB of the factory's models
    with_broken = _broken_model(sr, list(MODELS))
    assert choose_crop(key, with_broken, sr, 32) == (spot, "abpn")
    only_bicubic = choose_crop(key, [{"label": "bicubic", "model": "bicubic", "psnr_rgb": 27.205}], sr, 32)
    assert only_bicubic[1] is None
    assert choose_crop(key, with_broken[:1] + with_broken[-1:], sr, 32) == only_bicubic  # broken ignored
    m = border_margin(96, 120, 3)
    assert m <= spot.top <= 96 - 32 - m and m <= spot.left <= 120 - 32 - m


def test_crops_png_and_the_page_pick_the_same_crop(tmp_path, monkeypatch):
    import re

    from tests.eval.report.site_factory import build_inputs

    res, sr, _ = build_inputs(tmp_path, gpu_set=False)
    drawn = []
    monkeypatch.setattr(plots, "_draw_panels", lambda panels, path: drawn.extend(panels))
    assert main(["--results", str(res), "--out", str(tmp_path / "lb"), "--sr", str(sr), "--crop-size", "64"]) == 0
    title = drawn[0][0]
    png = re.search(r"image (\w+): 64x64 HR crop at \(row (\d+), col (\d+)\)", title).groups()
    page = (tmp_path / "lb" / "site" / "index.html").read_text()
    first = re.search(r"<figcaption>(\w+): 64x64 HR pixels at row (\d+), column (\d+)", page).groups()
    assert png == first and "where abpn gains most over bicubic" in title
