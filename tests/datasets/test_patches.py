"""Training patches: aligned with the degrade output, dihedral augmentation applied identically."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from datasets.imageio import load_rgb
from datasets.patches import (
    batch_coords,
    check_patch_fits,
    crop_batch,
    crop_pair,
    dihedral,
    load_pairs,
    sample_coords,
    to_chw_tensor,
)
from datasets.paths import gt_dir, lr_dir
from datasets.registry import DatasetError


@pytest.fixture(scope="module")
def demo_pairs():
    """The demo set's ntire23 x3 pairs (embedded data: no mirror needed)."""
    return load_pairs(["demo"], 3)


def test_load_pairs_are_the_degrade_outputs(demo_pairs):
    assert [p.name for p in demo_pairs] == ["demo/astronaut", "demo/coffee", "demo/chelsea"]
    lr, hr = demo_pairs[2]
    assert np.array_equal(lr, load_rgb(lr_dir("demo", 3) / "chelsea.png"))
    assert np.array_equal(hr, load_rgb(gt_dir("demo", 3) / "chelsea.png"))
    assert (lr.shape, hr.shape) == ((100, 150, 3), (300, 450, 3))


def test_dihedral_group_is_eight_distinct_transforms():
    x = torch.arange(12).reshape(1, 3, 4)
    outs = {tuple(dihedral(x, k).flatten().tolist()) + tuple(dihedral(x, k).shape) for k in range(8)}
    assert len(outs) == 8
    assert torch.equal(dihedral(x, 5), x.flip(-1).transpose(-1, -2))


def draw_batch(lrs, hrs, batch: int, lr_patch: int, scale: int, gen, augment: bool = True):
    """The trainer's draw: ``batch_coords`` then ``crop_batch`` (float [0, 1] NCHW LR and HR patches)."""
    return crop_batch(lrs, hrs, batch_coords(lrs, batch, lr_patch, gen, augment), lr_patch, scale)


def test_batch_patches_are_crops_of_degrade_output(demo_pairs):
    lrs = [to_chw_tensor(lr) for lr, _ in demo_pairs]
    hrs = [to_chw_tensor(hr) for _, hr in demo_pairs]
    gen = torch.Generator().manual_seed(123)
    replay = torch.Generator().manual_seed(123)
    lr_b, hr_b = draw_batch(lrs, hrs, 6, 24, 3, gen, augment=True)
    assert (lr_b.shape, hr_b.shape, lr_b.dtype) == ((6, 3, 24, 24), (6, 3, 72, 72), torch.float32)
    assert 0.0 <= float(lr_b.min()) and float(lr_b.max()) <= 1.0
    idx = torch.randint(0, 3, (6,), generator=replay).tolist()
    for b, i in enumerate(idx):
        top, left, k = sample_coords(lrs[i], 24, replay, True)
        lr_file = load_rgb(lr_dir("demo", 3) / f"{demo_pairs[i].name.split('/')[1]}.png")
        crop = torch.from_numpy(lr_file[top: top + 24, left: left + 24].transpose(2, 0, 1).copy())
        assert torch.equal((lr_b[b] * 255).round().to(torch.uint8), dihedral(crop, k))
        want_hr = dihedral(hrs[i][:, top * 3: top * 3 + 72, left * 3: left * 3 + 72], k)
        assert torch.equal((hr_b[b] * 255).round().to(torch.uint8), want_hr)


def test_augmentation_is_applied_identically_to_lr_and_hr(demo_pairs):
    lr, hr = (to_chw_tensor(a) for a in demo_pairs[0])
    base_lr, base_hr = crop_pair(lr, hr, 10, 20, 16, 3, 0)
    for k in range(8):
        a_lr, a_hr = crop_pair(lr, hr, 10, 20, 16, 3, k)
        # downscaling the augmented HR by block-averaging matches augmenting the downscaled HR
        pool = torch.nn.functional.avg_pool2d
        assert torch.equal(pool(a_hr.float()[None], 3)[0], dihedral(pool(base_hr.float()[None], 3)[0], k))
        assert torch.equal(a_lr, dihedral(base_lr, k))


def test_image_smaller_than_patch_is_named(demo_pairs):
    lrs = [to_chw_tensor(lr) for lr, _ in demo_pairs]
    with pytest.raises(DatasetError, match=r"demo/chelsea: LR size 150x100 is smaller than the LR patch 108"):
        check_patch_fits(lrs, 108, [p.name for p in demo_pairs])
    with pytest.raises(DatasetError, match=r"image #2: LR size 150x100 is smaller than the LR patch 120"):
        draw_batch(lrs, lrs, 2, 120, 3, torch.Generator())


def test_empty_training_set():
    with pytest.raises(DatasetError, match="the training set is empty"):
        draw_batch([], [], 4, 16, 3, torch.Generator())
