"""The authors' released RT4KSR x3 file, loaded as shipped, against golden per-image PSNRs on Set5.

The golden values (``golden_rt4ksr_x3_set5.csv``: uint8 RGB PSNR, our default Y and the challenge's
compat Y, ntire23 x3 LR) were computed once from the released file through our loader
(``python -m tests.baselines.test_rt4ksr_released`` rewrites them); no code of the authors' is used.
Skipped (with the reason) when the file is absent (``$RTSR_OFFICIAL_DIR`` or ``../shared/official``).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.rt4ksr import RepConv
from models import create_model
from models.cost import count_params
from models.external import zoo_entry

GOLDEN = Path(__file__).with_name("golden_rt4ksr_x3_set5.csv")
COLUMNS = ("name", "psnr_rgb", "psnr_y", "psnr_y_compat")


@pytest.fixture(scope="module")
def released() -> Path:
    """The released ``rt4ksr_x3.pth``; skipped when absent."""
    path = zoo_entry("rt4ksr_released").path()
    if not path.is_file():
        pytest.skip(f"released checkpoint not found at {path}: set RTSR_OFFICIAL_DIR or place ../shared/official")
    return path


def set5_pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, uint8 RGB LR, uint8 RGB GT) of Set5 ntire23 x3 in the session's data root (made when missing)."""
    from core.paths import data_root
    from datasets.imageio import load_rgb
    from eval.evaluate import list_pairs

    lr_dir, gt_dir = data_root() / "lr/ntire23_x3/set5", data_root() / "gt/ntire23_x3/set5"
    if not lr_dir.is_dir():
        from datasets.degrade import main as degrade_main

        degrade_main(["set5", "--scale", "3"])
    return [(p.name, load_rgb(p.lr), load_rgb(p.gt)) for p in list_pairs(lr_dir, gt_dir)]


def image_psnrs(model, lr: np.ndarray, gt: np.ndarray) -> dict:
    """RGB, default-Y and compat-Y PSNR of one uint8 RGB image through the evaluator's own path."""
    from eval.evaluate import run_image
    from eval.metrics import Y_NTIRE23_COMPAT, psnr_rgb, psnr_y

    sr = run_image(model, "image", lr, 3)
    return {"psnr_rgb": psnr_rgb(sr, gt), "psnr_y": psnr_y(sr, gt, 3),
            "psnr_y_compat": psnr_y(sr, gt, 3, Y_NTIRE23_COMPAT)}


def test_the_file_loads_as_shipped_in_both_forms(released):
    train = create_model("rt4ksr", scale=3, weights=released, train_form=True)
    fused = create_model("rt4ksr", scale=3, weights=released)
    assert count_params(train) == 165_253 and count_params(fused) == 52_332  # 57,541 - hf branch 5,208 - gamma
    assert (train.rtsr_layout, fused.rtsr_layout) == ("rt4ksr-authors", "rt4ksr-authors")
    assert float(train.gamma.detach()) == 0.0 and not train.forget
    assert not any(isinstance(m, RepConv) for m in fused.modules())


def test_the_layout_maps_both_ways_to_the_files_own_keys(released):
    from models.layouts import unwrap
    from models.loaders import RT4KSR_AUTHORS

    file_state, steps = unwrap(torch.load(released, map_location="cpu", weights_only=True), released)
    assert steps == ["container 'state_dict'", "prefix 'module.' stripped"] and len(file_state) == 51
    ours = create_model("rt4ksr", scale=3, weights=released, train_form=True).state_dict()
    back = RT4KSR_AUTHORS.to_theirs(ours)
    assert sorted(back) == sorted(file_state)
    assert all(torch.equal(back[k], file_state[k]) for k in file_state)


def test_a_wrong_scale_names_the_right_one(released):
    from models.errors import ModelError

    with pytest.raises(ModelError, match="use --scale 3"):
        create_model("rt4ksr", scale=2, weights=released)


@pytest.mark.mirror
def test_training_and_reparameterised_forms_agree_on_set5(released, fetched):
    fetched("set5")
    train = create_model("rt4ksr", scale=3, weights=released, train_form=True)
    fused = create_model("rt4ksr", scale=3, weights=released)
    with torch.no_grad():
        for _, lr, _ in set5_pairs():
            x = torch.from_numpy(lr.copy()).permute(2, 0, 1)[None].float() / 255
            x = x[..., : x.shape[-2] // 2 * 2, : x.shape[-1] // 2 * 2]
            torch.testing.assert_close(fused(x), train(x), rtol=0, atol=1e-5)


@pytest.mark.mirror
def test_per_image_psnr_matches_the_golden_values(released, fetched):
    fetched("set5")
    model = create_model("rt4ksr", scale=3, weights=released)
    with GOLDEN.open() as f:
        golden = {row["name"]: row for row in csv.DictReader(f)}
    pairs = set5_pairs()
    assert sorted(golden) == sorted(name for name, _, _ in pairs) and len(golden) == 5
    for name, lr, gt in pairs:
        got = image_psnrs(model, lr, gt)
        for key in COLUMNS[1:]:
            assert got[key] == pytest.approx(float(golden[name][key]), abs=1e-3), (name, key)


def write_golden() -> None:
    """Recompute the golden CSV from the released file (run once; needs the mirror's Set5)."""
    model = create_model("rt4ksr", scale=3, weights=zoo_entry("rt4ksr_released").path())
    rows = [{"name": name, **{k: f"{v:.4f}" for k, v in image_psnrs(model, lr, gt).items()}}
            for name, lr, gt in set5_pairs()]
    with GOLDEN.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_golden()
