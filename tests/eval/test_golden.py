"""Golden numbers: MATLAB-bicubic baseline under the classic protocol vs the published tables.

The values are data, kept beside this file in ``golden_classic.csv`` (pyiqa keeps its official values
the same way): one row per (set, scale, path) with the expected Y PSNR / SSIM, the tolerances and
where each number comes from. ``classic_y`` is ``--classic-y`` (the tables resize the rounded uint8
Y channel); ``classic_rgb`` resizes RGB and takes Y from the rounded RGB output (measured: Set5 x3
30.386, x2 33.649, x4 28.419, Set14 x3 27.533, Urban100 x3 24.456).
"""
import csv
from pathlib import Path

import pytest

from eval.evaluate import evaluate
from eval.options import EvalOptions

GOLDEN = Path(__file__).with_name("golden_classic.csv")
IMAGES = {"set5": 5, "set14": 14, "urban100": 100}


def golden_rows() -> list:
    """One pytest param per CSV row; Urban100 (100 images) is marked slow."""
    rows = []
    for row in csv.DictReader(GOLDEN.open(encoding="utf-8")):
        marks = [pytest.mark.slow] if row["dataset"] == "urban100" else []
        rows.append(pytest.param(row, marks=marks, id=f"{row['dataset']}-x{row['scale']}-{row['path']}"))
    return rows


@pytest.mark.mirror
@pytest.mark.parametrize("row", golden_rows())
def test_classic_protocol_matches_golden(fetched, row):
    fetched(row["dataset"])
    result = evaluate(EvalOptions(model="bicubic_matlab", dataset=row["dataset"], scale=int(row["scale"]),
                                  degradation="classic", classic_y=row["path"] == "classic_y"))
    assert len(result["per_image"]) == IMAGES[row["dataset"]]
    assert (result["psnr_rgb"] is None) == (row["path"] == "classic_y")
    assert (result["ssim_rgb"] is None) == (row["path"] == "classic_y")
    assert result["psnr_y"] == pytest.approx(float(row["psnr_y"]), abs=float(row["psnr_tol"])), row["source"]
    if row["ssim_y"]:
        assert result["ssim_y"] == pytest.approx(float(row["ssim_y"]), abs=float(row["ssim_tol"])), row["source"]
