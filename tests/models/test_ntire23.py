"""``--model ntire23:DIR``: a team folder in the NTIRE 2023 submission format (arch.py with srmodel())."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from eval.evaluate import evaluate
from eval.metrics import psnr_rgb
from eval.options import EvalOptions
from models import ModelError, create_model, upscale

BLOCKS = '''
import torch
from torch import nn


class Replicate(nn.Module):
    """1x1 conv to 3 * s * s channels + PixelShuffle: nearest-neighbour upsampling once its weights are loaded."""

    def __init__(self, scale):
        super().__init__()
        self.conv = nn.Conv2d(3, 3 * scale * scale, 1, bias=False)
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x):
        return self.shuffle(self.conv(x))
'''

ARCH = '''
import os

import torch

from .blocks import Replicate


def srmodel():
    """The team's model at x3, weights loaded from beside this file, as in the challenge."""
    model = Replicate(3)
    here = os.path.dirname(os.path.abspath(__file__))
    model.load_state_dict(torch.load(os.path.join(here, "team.pth"), weights_only=True))
    return model
'''


def nearest_weights(scale: int) -> dict:
    """The 1x1 conv weights that make ``Replicate`` exact nearest-neighbour upsampling."""
    w = torch.zeros(3 * scale * scale, 3, 1, 1)
    for c in range(3):
        w[c * scale * scale:(c + 1) * scale * scale, c] = 1.0
    return {"conv.weight": w}


@pytest.fixture
def team(tmp_path):
    """A team folder: __init__.py, arch.py importing a sibling module, its weights beside it."""
    folder = tmp_path / "TeamNearest"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "blocks.py").write_text(BLOCKS)
    (folder / "arch.py").write_text(ARCH)
    torch.save(nearest_weights(3), folder / "team.pth")
    return folder


def test_team_folder_loads_its_own_weights(team):
    model = create_model(f"ntire23:{team}", scale=3)
    x = torch.rand(1, 3, 7, 9)
    with torch.no_grad():
        assert torch.equal(upscale(model, x, 3), F.interpolate(x, scale_factor=3, mode="nearest"))
    assert model.rtsr_info.name == f"ntire23:{team}" and model.rtsr_info.value_range == "unit"


def test_team_folder_evaluates_like_any_model(team, tmp_path):
    """eval.evaluate on a folder dataset: the PSNR is nearest-neighbour upsampling's, computed independently."""
    images = tmp_path / "imgs"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (36, 45, 3), dtype=np.uint8)).save(images / f"im{i}.png")
    result = evaluate(EvalOptions(model=f"ntire23:{team}", dataset=f"folder:{images}", scale=3))
    from datasets.degrade import degrade_dataset
    from datasets.imageio import load_rgb

    lr_dir, gt_dir = degrade_dataset(f"folder:{images}", 3, progress=False)
    expected = []
    for name in ("im0", "im1"):
        lr = load_rgb(lr_dir / f"{name}.png")
        expected.append(psnr_rgb(lr.repeat(3, axis=0).repeat(3, axis=1), load_rgb(gt_dir / f"{name}.png")))
    assert result["psnr_rgb"] == pytest.approx(float(np.mean(expected)), abs=1e-9)
    assert result["contract"] == {"channel_order": "rgb", "value_range": "unit", "layout": None}


def test_weights_option_loads_into_srmodels_module(team, tmp_path):
    """--weights overrides: a DDP-prefixed state dict inside a container, strictly."""
    path = tmp_path / "other.pth"
    zero = {f"module.{k}": torch.zeros_like(v) for k, v in nearest_weights(3).items()}
    torch.save({"state_dict": zero, "epoch": 1}, path)
    model = create_model(f"ntire23:{team}", scale=3, weights=path)
    assert torch.count_nonzero(model.conv.weight) == 0
    torch.save({"conv.weight": torch.zeros(27, 3, 3, 3)}, path)
    with pytest.raises(ModelError) as e:
        create_model(f"ntire23:{team}", scale=3, weights=path)
    assert "shape of conv.weight is (27, 3, 3, 3), model wants (27, 3, 1, 1)" in str(e.value)


def test_team_contract_attributes_are_read(team):
    (team / "arch.py").write_text(ARCH + "\nsrmodel.channel_order = 'bgr'\nsrmodel.scales = (3,)\n")
    (team / "__init__.py").write_text("# re-imported under a new folder name below\n")
    moved = team.with_name("TeamBGR")
    team.rename(moved)
    model = create_model(f"ntire23:{moved}", scale=3)
    assert model.rtsr_info.channel_order == "bgr" and model.rtsr_info.scales == (3,)
    with pytest.raises(ModelError) as e:
        create_model(f"ntire23:{moved}", scale=2)
    assert "does not support scale 2" in str(e.value)


def test_wrong_scale_is_caught_by_the_output_check(team):
    model = create_model(f"ntire23:{team}", scale=2)  # the team's code is x3; nothing declares it
    with pytest.raises(ModelError) as e, torch.no_grad():
        upscale(model, torch.rand(1, 3, 8, 8), 2)
    assert "returned shape (1, 3, 24, 24)" in str(e.value) and "2x the size" in str(e.value)


@pytest.mark.parametrize("setup,fragment", [
    (lambda d: None, "no such folder"),
    (lambda d: d.mkdir(), "arch.py not found"),
    (lambda d: (d.mkdir(), (d / "arch.py").write_text("x = 1\n")), "defines no callable srmodel()"),
    (lambda d: (d.mkdir(), (d / "arch.py").write_text("import not_a_module_xyz\n")),
     "cannot import"),
])
def test_bad_team_folders(tmp_path, setup, fragment):
    folder = tmp_path / "Bad"
    setup(folder)
    with pytest.raises(ModelError) as e:
        create_model(f"ntire23:{folder}", scale=3)
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_srmodel_takes_no_arguments(team):
    with pytest.raises(ModelError) as e:
        create_model(f"ntire23:{team}", scale=3, width=8)
    assert "srmodel() takes no arguments" in str(e.value)
