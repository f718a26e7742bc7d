"""Exact values of the Y conversions, the metric conventions and the score."""
import csv
import math
from pathlib import Path

import numpy as np
import pytest

from eval.color import BT601, NTIRE23_COMPAT, gray_luma, ntire23_y, rgb_to_y
from eval.errors import EvalError
from eval.metrics import (
    PSNR_CAP_DB,
    Y_DEFAULT,
    Y_NTIRE23_COMPAT,
    psnr,
    psnr_float32,
    psnr_rgb,
    psnr_y,
    ssim_planes,
    ssim_rgb,
    ssim_y,
)
from eval.score import score


def px(*rgb):
    return np.array([[rgb]], dtype=np.uint8)


@pytest.mark.parametrize("rgb, y_float, y_round", [
    ((0, 0, 0), 16.0, 16), ((255, 255, 255), 235.0, 235), ((255, 0, 0), 81.481, 81),
    ((0, 255, 0), 144.553, 145), ((0, 0, 255), 40.966, 41), ((128, 128, 128), 16 + 219 * 128 / 255, 126),
])
def test_bt601_y_exact(rgb, y_float, y_round):
    assert rgb_to_y(px(*rgb), round_y=False)[0, 0] == pytest.approx(y_float, abs=1e-9)
    assert rgb_to_y(px(*rgb))[0, 0] == y_round


def test_ntire23_compat_swaps_r_and_b():
    assert rgb_to_y(px(255, 0, 0), NTIRE23_COMPAT, round_y=False)[0, 0] == pytest.approx(40.966)
    assert rgb_to_y(px(0, 0, 255), NTIRE23_COMPAT, round_y=False)[0, 0] == pytest.approx(81.481)
    assert BT601.weights == (65.481, 128.553, 24.966)


def test_ntire23_y_is_the_challenge_float32_value():
    y = ntire23_y(px(255, 0, 0))
    assert y.dtype == np.float32
    # float32(float32((16 + 24.966) / 255) * 255): not the exact 40.966
    assert y[0, 0] == np.float32(np.float32(40.966 / 255) * np.float32(255))
    assert y[0, 0] == pytest.approx(40.966, abs=1e-5)
    assert ntire23_y(px(0, 0, 255))[0, 0] == pytest.approx(81.481, abs=1e-5)


def test_psnr_float32_is_float32_arithmetic():
    a = np.full((4, 4), 100.0, np.float32)
    b = a.copy()
    b[0, 0] = 116.0  # MSE 16
    assert psnr_float32(a, b) == float(np.float32(20) * np.log10(np.float32(255) / np.float32(4)))
    assert psnr_float32(a, b) == pytest.approx(10 * math.log10(255**2 / 16), abs=1e-5)
    assert psnr_float32(a, a) == PSNR_CAP_DB


def test_compat_preset_has_no_border_crop_and_no_gray_rule():
    rng = np.random.default_rng(2)
    gt = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
    sr = gt.copy()
    sr[:3] = 0  # only the border differs: shaved by default, counted in compat mode
    assert psnr_y(sr, gt, 3) == PSNR_CAP_DB
    assert psnr_y(sr, gt, 3, Y_NTIRE23_COMPAT) == pytest.approx(
        psnr(ntire23_y(sr), ntire23_y(gt)), abs=1e-4)
    g = np.repeat(gt[..., :1], 3, axis=2)  # a gray image: compat applies the formula anyway
    sr_g = np.clip(g.astype(int) + 5, 0, 255).astype(np.uint8)
    assert psnr_y(sr_g, g, 3, Y_NTIRE23_COMPAT, gray_source=True) == psnr_y(sr_g, g, 3, Y_NTIRE23_COMPAT)
    assert (Y_DEFAULT.name, Y_NTIRE23_COMPAT.name) == ("bt601_rounded_shave", "ntire23_calc_metrics")


def test_ssim_rgb_is_the_mean_of_channel_ssims_without_crop():
    rng = np.random.default_rng(4)
    gt = rng.integers(0, 256, (32, 36, 3), dtype=np.uint8)
    sr = np.clip(gt.astype(int) + rng.integers(-20, 21, gt.shape), 0, 255).astype(np.uint8)
    per_channel = [ssim_planes(sr[..., c].astype(float), gt[..., c].astype(float)) for c in range(3)]
    assert ssim_rgb(sr, gt) == pytest.approx(np.mean(per_channel), abs=1e-12)
    assert ssim_rgb(gt, gt) == pytest.approx(1.0)
    assert 0.5 < ssim_rgb(sr, gt) < 0.99


def test_round_half_away_and_gray_luma():
    assert gray_luma(px(77, 77, 77))[0, 0] == 77
    assert gray_luma(px(100, 0, 0), round_y=False)[0, 0] == pytest.approx(29.9)


def test_psnr_rgb_value_and_cap():
    gt = np.zeros((4, 4, 3), np.uint8)
    sr = gt.copy()
    assert psnr_rgb(sr, gt) == PSNR_CAP_DB == 100.0
    sr[0, 0, 0] = 16  # MSE = 256 / 48
    assert psnr_rgb(sr, gt) == pytest.approx(10 * math.log10(255**2 * 48 / 256))


def test_psnr_y_shaves_scale_pixels():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
    sr = gt.copy()
    sr[:3] = 0  # only the shaved border differs
    sr[:, -3:] = 255
    assert psnr_y(sr, gt, 3) == PSNR_CAP_DB
    assert psnr_y(sr, gt, 2) < 40
    assert ssim_y(sr, gt, 3) == pytest.approx(1.0)


def test_gray_source_file_uses_gray_value():
    rng = np.random.default_rng(1)
    g = rng.integers(0, 256, (24, 24), dtype=np.uint8)
    gt = np.repeat(g[..., None], 3, axis=2)
    sr = gt.copy()
    sr[..., 0] = np.clip(sr[..., 0].astype(int) + 10, 0, 255)  # only R changes
    ygt = g[2:-2, 2:-2].astype(float)
    ysr = np.floor(0.299 * sr[..., 0] + 0.587 * sr[..., 1] + 0.114 * sr[..., 2] + 0.5)[2:-2, 2:-2]
    assert psnr_y(sr, gt, 2, gray_source=True) == pytest.approx(psnr(ysr, ygt))
    assert psnr_y(gt, gt, 2, gray_source=True) == PSNR_CAP_DB


def test_three_channel_file_with_equal_channels_uses_the_formula():
    """MATLAB's rgb2ycbcr rule: equal channels in an RGB file are not a gray file."""
    rng = np.random.default_rng(1)
    gt = np.repeat(rng.integers(0, 256, (24, 24, 1), dtype=np.uint8), 3, axis=2)
    sr = np.clip(gt.astype(int) + rng.integers(-8, 9, gt.shape), 0, 255).astype(np.uint8)
    expected = psnr(rgb_to_y(sr)[2:-2, 2:-2], rgb_to_y(gt)[2:-2, 2:-2])
    assert psnr_y(sr, gt, 2) == pytest.approx(expected, abs=1e-12)
    assert psnr_y(sr, gt, 2) != pytest.approx(psnr_y(sr, gt, 2, gray_source=True), abs=1e-3)


def test_bad_metric_input_is_one_line():
    a = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(EvalError, match="differs from GT shape"):
        psnr_rgb(a, np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(EvalError, match="uint8 RGB"):
        psnr_rgb(a.astype(np.float32), a)


TRACK1 = Path(__file__).with_name("golden_score_track1.csv")  # ../shared/PROTOCOL.md, "Score"
TRACK1_BICUBIC = 33.92  # Track 1 (x2) bicubic PSNR in the same table


@pytest.mark.parametrize("row", list(csv.DictReader(TRACK1.open(encoding="utf-8"))), ids=lambda r: r["team"])
def test_score_track1(row):
    """Published scores came from unrounded PSNRs; from the listed (rounded) ones we get the second column."""
    p, t = float(row["psnr_rgb"]), float(row["runtime_ms"])
    assert score(p, TRACK1_BICUBIC, t) == pytest.approx(float(row["score_from_rounded_psnr"]), abs=0.01)
    # the published score implies an unrounded PSNR gain within the rounding of the listed PSNRs
    implied_gain = math.log2(float(row["published_score"]) * 0.1 * math.sqrt(t) / 2)
    assert abs(implied_gain - (p - TRACK1_BICUBIC)) <= 0.01 + 1e-9


def test_score_zero_at_or_below_bicubic_and_bad_runtime():
    assert score(30.0, 30.0, 1.0) == 0.0
    assert score(29.0, 30.0, 1.0) == 0.0
    assert score(31.0, 30.0, 1.0) == pytest.approx(2 * 2 / 0.1)  # 2 * 2**1, not 2**2
    with pytest.raises(EvalError, match="runtime"):
        score(31.0, 30.0, 0.0)


def test_evaluator_metrics_equal_public_metrics():
    from eval.evaluate import image_metrics

    rng = np.random.default_rng(3)
    gt = rng.integers(0, 256, (40, 44, 3), dtype=np.uint8)
    sr = np.clip(gt.astype(int) + rng.integers(-9, 10, gt.shape), 0, 255).astype(np.uint8)
    m = image_metrics(sr, gt, 3)
    assert m == {"psnr_rgb": psnr_rgb(sr, gt), "ssim_rgb": ssim_rgb(sr, gt), "psnr_y": psnr_y(sr, gt, 3),
                 "ssim_y": ssim_y(sr, gt, 3)}
    c = image_metrics(sr, gt, 3, Y_NTIRE23_COMPAT)
    assert c["psnr_y"] == psnr_y(sr, gt, 3, Y_NTIRE23_COMPAT) and c["psnr_rgb"] == m["psnr_rgb"]
