"""The device-side batch sampler (``training.sampler``) against today's per-patch crops (``crop_batch``):
the same patches for the same coordinates, the same draws from the same generator, the same trained
weights bit for bit on the CPU, and a result that does not depend on the number of processes."""
from __future__ import annotations

import itertools

import pytest
import torch

from datasets.patches import batch_coords, crop_batch, dihedral
from models.registry import load_checkpoint
from tests.training.tiny import tiny_config, write_images
from training import distributed
from training.loop import train
from training.sampler import BatchSampler, augment


def images(sizes, scale=3, seed=0):
    """Random uint8 CHW LR tensors of (h, w) ``sizes`` and their HR (x ``scale``) partners."""
    gen = torch.Generator().manual_seed(seed)
    lrs = [torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8) for h, w in sizes]
    hrs = [torch.randint(0, 256, (3, h * scale, w * scale), generator=gen, dtype=torch.uint8) for h, w in sizes]
    return lrs, hrs


def test_gather_equals_crop_batch_for_every_augmentation():
    lrs, hrs = images([(20, 31), (27, 18), (16, 16)])
    sampler = BatchSampler(lrs, hrs, 12, 3)
    coords = [(i, top, left, k) for (i, top, left), k in
              itertools.product([(0, 0, 0), (0, 8, 19), (1, 15, 6), (2, 4, 4), (1, 3, 1)], range(8))]
    old_lr, old_hr = crop_batch(lrs, hrs, coords, 12, 3)
    new_lr, new_hr = sampler.crop(torch.tensor(coords))
    assert torch.equal(new_lr, old_lr) and torch.equal(new_hr, old_hr)
    assert new_lr.is_contiguous() and new_hr.shape == (40, 3, 36, 36)


def test_exact_coords_are_batch_coords_and_leave_the_generator_alike():
    lrs, hrs = images([(20, 31), (27, 18)])
    sampler = BatchSampler(lrs, hrs, 12, 3)
    g_old, g_new = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    for _ in range(3):
        old = batch_coords(lrs, 9, 12, g_old, True)
        assert sampler.exact_coords(9, g_new, True).tolist() == [list(c) for c in old]
    assert torch.equal(g_old.get_state(), g_new.get_state())


def test_vector_coords_stay_inside_every_image():
    lrs, hrs = images([(20, 31), (27, 18), (12, 12)])
    sampler = BatchSampler(lrs, hrs, 12, 3)
    coords = sampler.vector_coords(4096, torch.Generator().manual_seed(1))
    sizes = torch.tensor([[20, 31], [27, 18], [12, 12]])[coords[:, 0]]
    assert (coords[:, 1:3] >= 0).all() and (coords[:, 1:3] + 12 <= sizes).all()
    assert set(coords[:, 3].tolist()) == set(range(8)) and set(coords[:, 0].tolist()) == {0, 1, 2}
    again = sampler.vector_coords(4096, torch.Generator().manual_seed(1))
    assert torch.equal(coords, again)


def test_augment_is_dihedral_per_patch():
    patches = torch.randint(0, 256, (8, 3, 5, 5), dtype=torch.uint8)
    got = augment(patches, torch.arange(8))
    assert all(torch.equal(got[k], dihedral(patches[k], k)) for k in range(8))


def test_shares_of_two_processes_make_the_whole_batch(monkeypatch):
    lrs, hrs = images([(20, 31), (27, 18)])
    sampler = BatchSampler(lrs, hrs, 12, 3)
    coords = sampler.exact_coords(8, torch.Generator().manual_seed(2))
    whole = sampler.crop(coords)
    monkeypatch.setattr(distributed, "world_size", lambda: 2)
    halves = []
    for r in (0, 1):
        monkeypatch.setattr(distributed, "rank", lambda r=r: r)
        halves.append(sampler.crop(coords))
    assert torch.equal(torch.cat([h[0] for h in halves]), whole[0])
    assert torch.equal(torch.cat([h[1] for h in halves]), whole[1])


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("sampler"), [(96, 72), (84, 96), (90, 90)])


def test_training_with_batched_sampler_is_bit_identical_to_the_loop(tiny_set, tmp_path):
    runs = {}
    for sampler in ("loop", "batched"):
        cfg = tiny_config(tiny_set, tmp_path / sampler, sampler=sampler, epochs=2, pairs_per_epoch=16,
                          val_every=2)
        summary = train(cfg)
        runs[sampler] = (summary, load_checkpoint(tmp_path / sampler / "last.pt"))
    (_, ck_loop), (_, ck_new) = runs["loop"], runs["batched"]
    assert [r["train_loss"] for r in ck_loop["history"]] == [r["train_loss"] for r in ck_new["history"]]
    assert all(torch.equal(ck_loop["state_dict"][k], v) for k, v in ck_new["state_dict"].items())
    assert torch.equal(ck_loop["rng"]["patches"], ck_new["rng"]["patches"])
    assert ck_loop["config"] == ck_new["config"] and "sampler" not in ck_new["config"]
