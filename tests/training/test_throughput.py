"""``python -m training.throughput``'s pieces: the old and new paths timed side by side, the patch that fits."""
from __future__ import annotations

import torch

from tests.training.tiny import tiny_config, write_images
from training.throughput import PATHS, compare, fitting_patch, measure_throughput, paper_patch


def test_old_and_new_paths_are_both_timed(tmp_path):
    dataset = write_images(tmp_path / "images", [(96, 72), (84, 96)])
    cfg = tiny_config(dataset, tmp_path / "run")
    runs = compare(cfg, None, steps=2, warmup=1, repeats=2, compile_new=False)
    assert set(runs) == set(PATHS) and all(len(v) == 2 and min(v) > 0 for v in runs.values())
    old = measure_throughput(cfg.model_copy(update=PATHS["old"]), steps=2, warmup=0)
    new = measure_throughput(cfg.model_copy(update=PATHS["new"]), steps=2, warmup=0)
    assert old["mean_loss"] == new["mean_loss"] or abs(old["mean_loss"] / new["mean_loss"] - 1) < 1e-5
    assert (old["sampler"], new["sampler"]) == ("loop", "batched")


def test_fitting_patch_is_capped_by_the_smallest_image():
    images = [torch.zeros(3, 107, 160, dtype=torch.uint8), torch.zeros(3, 160, 107, dtype=torch.uint8)]
    assert fitting_patch(images, 108, 2) == 106 and fitting_patch(images, 96, 2) == 96


def test_paper_patch_falls_back_to_the_released_96_on_bsd200_sized_images():
    bsd = torch.zeros(3, 107, 160, dtype=torch.uint8)  # BSD200 481x321 at x3
    small = torch.zeros(3, 60, 80, dtype=torch.uint8)
    patch, lrs, _ = paper_patch([bsd, small, bsd], [bsd, small, bsd], 108)
    assert patch == 96 and len(lrs) == 2
    big = torch.zeros(3, 200, 300, dtype=torch.uint8)
    assert paper_patch([bsd, big], [bsd, big], 108)[0] == 108
