"""Golden numbers: MATLAB-bicubic baseline under the classic protocol vs the published tables.

The tables resize the rounded uint8 Y channel; ``--classic-y`` reproduces that. Measured on the
mirror images (Y PSNR / SSIM): Set5 x3 30.388/0.8681, x2 33.652, x4 28.418, Set14 x3 27.539,
Urban100 x3 24.457/0.7343. The RGB classic path (resize RGB, Y from the rounded RGB output) gives
Set5 x3 30.386, x2 33.649 (0.011 below 33.66), x4 28.419, Set14 x3 27.533, Urban100 x3 24.456.
Set14 x3 is 27.54 on these files (the published 27.55 is 0.011 higher; PROTOCOL.md notes this).
"""
import pytest

from eval.evaluate import build_parser, evaluate


def run(dataset, scale, *extra):
    args = build_parser().parse_args(["--model", "bicubic_matlab", "--dataset", dataset, "--scale",
                                      str(scale), "--degradation", "classic", *extra])
    return evaluate(args)


@pytest.mark.mirror
@pytest.mark.parametrize("dataset, scale, psnr, ssim", [
    ("set5", 3, 30.39, 0.8682), ("set5", 2, 33.66, 0.9299), ("set5", 4, 28.42, 0.8104),
])
def test_set5_classic_y_matches_published(fetched, dataset, scale, psnr, ssim):
    fetched(dataset)
    result = run(dataset, scale, "--classic-y")
    assert result["psnr_rgb"] is None and result["ssim_rgb"] is None and len(result["per_image"]) == 5
    assert result["psnr_y"] == pytest.approx(psnr, abs=0.01)
    assert result["ssim_y"] == pytest.approx(ssim, abs=0.001)


@pytest.mark.mirror
def test_set14_x3_classic_y(fetched):
    fetched("set14")
    result = run("set14", 3, "--classic-y")
    assert result["psnr_y"] == pytest.approx(27.54, abs=0.01)  # published 27.55; see module doc
    assert result["ssim_y"] == pytest.approx(0.7742, abs=0.001)


@pytest.mark.mirror
def test_rgb_classic_path_set5_x3_is_within_0_01(fetched):
    fetched("set5")
    result = run("set5", 3)
    assert result["psnr_y"] == pytest.approx(30.386, abs=0.001)
    assert result["psnr_y"] == pytest.approx(30.39, abs=0.01)


@pytest.mark.slow
@pytest.mark.mirror
def test_urban100_x3_classic_y(fetched):
    fetched("urban100")
    result = run("urban100", 3, "--classic-y")
    assert len(result["per_image"]) == 100
    assert result["psnr_y"] == pytest.approx(24.46, abs=0.01)
    assert result["ssim_y"] == pytest.approx(0.7349, abs=0.001)
