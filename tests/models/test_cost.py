"""Model cost: params and MACs (FLOPs = 2 x MACs, torch's flop counter) at a 720p LR input."""
from __future__ import annotations

import pytest

from models import ModelError, create_model, list_models
from models.cost import count_flops, count_params

LR_PIXELS = 720 * 1280


def test_bicubic_pp_720p_is_11_6_gmac():
    cost = count_flops(create_model("bicubic_pp", scale=3), scale=3)
    # every conv runs at half resolution (360 x 640); MACs = pixels x weights, bias-free
    assert cost["macs"] == 360 * 640 * 50_400 == 11_612_160_000
    assert cost["flops"] == 2 * cost["macs"]
    assert cost["input"] == [1, 3, 720, 1280]


def test_espcn_720p_macs_are_pixels_times_weights():
    weights = 31_131 - (64 + 32 + 27)  # minus biases
    assert count_flops(create_model("espcn", scale=3), scale=3)["macs"] == LR_PIXELS * weights


def test_odd_input_is_padded_like_upscale():
    cost = count_flops(create_model("bicubic_pp", scale=3), scale=3, lr_hw=(5, 7))
    assert cost["input"] == [1, 3, 6, 8]


def test_half_precision_model_and_wrong_scale():
    model = create_model("bicubic_pp", scale=3).half()
    assert count_flops(model, scale=3)["macs"] == 11_612_160_000
    with pytest.raises(ModelError, match="expected \\(1, 3, 1440, 2560\\) at scale 2"):
        count_flops(model, scale=2)


def test_bicubic_has_no_counted_macs():
    assert count_flops(create_model("bicubic", scale=3), scale=3)["macs"] == 0


@pytest.mark.parametrize("name", list_models())
def test_every_model_has_a_cost(name):
    model = create_model(name, scale=3)
    cost = count_flops(model, scale=3)
    assert cost["macs"] >= 0 and count_params(model) >= 0
    assert next(model.parameters(), None) is None or next(model.parameters()).device.type == "cpu"
