"""Bicubic++: structure and parameter counts of the ablation axes, and the released x3 checkpoint."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models import create_model, upscale
from models.bicubic_pp import BicubicPP
from models.cost import count_params
from models.official import RELEASED_LAYOUT, bgr_to_rgb


def test_default_is_the_papers_final_x3_net():
    model = create_model("bicubic_pp")
    assert count_params(model) == 50_400
    assert all(m.bias is None for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert isinstance(model.down, torch.nn.Identity)
    assert (model.head.in_channels, model.head.out_channels, model.head.stride) == (3, 32, (2, 2))
    assert len(model.blocks) == 1 and len(model.blocks[0]) == 2
    assert model.tail.out_channels == 108 and model.shuffle.upscale_factor == 6
    assert isinstance(model.act, torch.nn.LeakyReLU) and model.act.negative_slope == 0.1


def test_stage1_configuration_is_one_call():
    model = create_model("bicubic_pp", channels=34, bias=True)
    # 3->34 + 2x 34->34 + 34->108, all 3x3, with biases
    assert count_params(model) == (3 * 34 + 34 * 34 * 2 + 34 * 108) * 9 + 34 * 3 + 108 == 54_984


@pytest.mark.parametrize("kwargs,params", [
    ({"scale": 2}, (3 * 32 + 32 * 32 * 2 + 32 * 48) * 9),
    ({"scale": 4}, (3 * 32 + 32 * 32 * 2 + 32 * 192) * 9),
    ({"downsample": "s2d"}, (12 * 32 + 32 * 32 * 2 + 32 * 108) * 9),
    ({"convs_per_block": 3, "blocks": 2}, (3 * 32 + 32 * 32 * 6 + 32 * 108) * 9),
    ({"act": "relu"}, 50_400),
])
def test_ablation_axes(kwargs, params):
    model = create_model("bicubic_pp", **kwargs)
    assert count_params(model) == params
    s = kwargs.get("scale", 3)
    with torch.no_grad():
        assert upscale(model, torch.rand(1, 3, 5, 8), s).shape == (1, 3, 5 * s, 8 * s)


def test_s2d_and_relu_modules():
    model = create_model("bicubic_pp", downsample="s2d", act="relu")
    assert isinstance(model.down, torch.nn.PixelUnshuffle) and model.head.stride == (1, 1)
    assert isinstance(model.act, torch.nn.ReLU)


def test_project_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = create_model("bicubic_pp", channels=34, bias=True)
    path = tmp_path / "best.pt"
    torch.save({"arch": {"name": "bicubic_pp", "scale": 3, "kwargs": {"channels": 34, "bias": True}},
                "state_dict": model.state_dict(), "epoch": 3}, path)
    loaded = create_model("bicubic_pp", scale=3, weights=path)
    x = torch.rand(1, 3, 10, 12)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_bgr_to_rgb_permutation_is_exact():
    """The permuted model on RGB equals the raw (BGR) model on flipped input, flipped back."""
    torch.manual_seed(0)
    raw = BicubicPP(3, bias=True)
    rgb = BicubicPP(3, bias=True)
    rgb.load_state_dict(bgr_to_rgb(raw.state_dict()))
    x = torch.rand(2, 3, 8, 10)
    with torch.no_grad():
        torch.testing.assert_close(rgb(x), raw(x.flip(1)).flip(1), rtol=0, atol=1e-6)


def test_rename_covers_released_keys():
    state = {k: torch.zeros(1, 1, 1, 1) for k in ("conv0.weight", "conv1.weight", "conv2.weight", "conv_out.weight")}
    renamed = RELEASED_LAYOUT.rename_to_ours(state)
    assert set(renamed) == {"head.weight", "blocks.0.0.weight", "blocks.0.1.weight", "tail.weight"}


def psnr_rgb(model, lr: np.ndarray, gt: np.ndarray, scale: int) -> float:
    """RGB PSNR (uint8, peak 255, no crop) of ``model`` run on ``lr`` through ``upscale``."""
    x = torch.from_numpy(lr.copy()).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        y = upscale(model, x, scale).clamp(0, 1)
    sr = (y[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    mse = np.mean((sr.astype(np.float64) - gt.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


@pytest.fixture(scope="module")
def baby(fetched):
    """Set5 'baby' HR (cropped to a multiple of 3) and its NTIRE 2023 x3 LR, uint8 RGB."""
    from datasets.degrade import CROP_CENTER, crop_to_multiple, degrade_ntire23
    from datasets.imageio import load_rgb
    from datasets.paths import hr_dir

    fetched("set5")
    hr = load_rgb(hr_dir("set5") / "baby.png")
    return degrade_ntire23(hr, 3, quality=90), crop_to_multiple(hr, 3, rule=CROP_CENTER)


@pytest.mark.mirror
def test_released_checkpoint_beats_bicubic_in_rgb_and_needs_the_flip(baby, released_checkpoint):
    lr, gt = baby
    released = create_model("bicubic_pp", scale=3, weights=released_checkpoint)
    assert count_params(released) == 50_400
    p_released = psnr_rgb(released, lr, gt, 3)
    p_bicubic = psnr_rgb(create_model("bicubic", scale=3), lr, gt, 3)
    unflipped = BicubicPP(3)
    unflipped.load_state_dict(RELEASED_LAYOUT.rename_to_ours(torch.load(released_checkpoint, weights_only=True)))
    unflipped.rtsr_info = released.rtsr_info
    p_unflipped = psnr_rgb(unflipped, lr, gt, 3)
    # measured (Pillow/libjpeg-turbo here, centre crop): released 31.44, bicubic 30.80, unflipped 31.22 dB
    assert p_released > p_bicubic + 0.4
    assert p_released > p_unflipped + 0.1
