"""eval.plots: Pareto front, the deterministic crop choice, and both figures as readable PNGs."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from datasets.imageio import save_png
from datasets.paths import gt_dir
from eval.leaderboard import main
from eval.plots import pareto_front, sr_dir, worst_bicubic_crop
from tests.eval.results_factory import SET5, write_standard


def test_pareto_front_keeps_only_undominated_points():
    pts = [(1.0, 30.0), (2.0, 29.0), (3.0, 31.0), (3.0, 30.5), (10.0, 31.0), (20.0, 32.0)]
    assert pareto_front(pts) == [0, 2, 5]
    assert pareto_front([]) == []


@pytest.fixture(autouse=True)
def own_data_root(tmp_path, monkeypatch):
    """The planted GT images go to this test's own data root, never the session's real Set5 GT."""
    monkeypatch.setenv("RTSR_DATA_ROOT", str(tmp_path / "data"))


def _make_images(sr_root, rng) -> None:
    """GT, bicubic SR (a planted error at image 'bird', rows 40-71, cols 8-39) and two models' SR."""
    gt_folder = gt_dir("set5", 3, "ntire23")
    for i, stem in enumerate(SET5):
        gt = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
        save_png(gt_folder / f"{stem}.png", gt)
        bic = gt.copy()
        bic[:, :, 0] ^= np.uint8(1 + i)  # small, even error everywhere
        if stem == "bird":
            bic[40:72, 8:40] = 255 - gt[40:72, 8:40]
        save_png(sr_dir(sr_root, "bicubic", "set5", 3, "ntire23") / f"{stem}.png", bic)
        save_png(sr_dir(sr_root, "bicubic_pp", "set5", 3, "ntire23") / f"{stem}.png", gt)


def test_worst_bicubic_crop_finds_the_planted_error(tmp_path):
    _make_images(tmp_path / "sr", np.random.default_rng(0))
    stem, top, left, side = worst_bicubic_crop(gt_dir("set5", 3, "ntire23"),
                                               sr_dir(tmp_path / "sr", "bicubic", "set5", 3, "ntire23"), 32)
    assert (stem, top, left, side) == ("bird", 40, 8, 32)


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
