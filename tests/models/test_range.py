"""The tensor contract (``models.contract``): channel order and value range applied once by ``upscale``,
and the output range check, whose rule is pinned here value by value."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models import ModelError, create_model, upscale
from models.contract import from_model, output_range_problem, to_model

MEAN_255 = torch.tensor([114.4, 111.5, 103.0]).view(1, 3, 1, 1)  # DIV2K RGB mean x 255 (EDSR's MeanShift)


class MeanShiftNet(nn.Module):
    """A [0, 255] network in EDSR's style: subtract the 255-scale mean, a ReLU body, add the mean back."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return F.interpolate(F.relu(x - MEAN_255) + MEAN_255, scale_factor=self.scale, mode="nearest")


class SigmoidNet(nn.Module):
    """A [0, 1] network whose output passes through a sigmoid: it never leaves [0, 1]."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        logits = torch.logit(x.clamp(1e-4, 1 - 1e-4))
        return F.interpolate(torch.sigmoid(logits), scale_factor=self.scale, mode="nearest")


class OrderProbe(nn.Module):
    """Records the input it got; returns it nearest-upsampled (identity on any contract)."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale, self.seen = scale, None

    def forward(self, x):
        self.seen = x.clone()
        return F.interpolate(x, scale_factor=self.scale, mode="nearest")


def plugin(factory, **attrs):
    """A plug-in-like model: ``factory(scale)`` with contract attributes, through the registry."""
    from models.registry import info_from_attributes

    def make(scale=2):
        return factory(scale)

    for key, value in attrs.items():
        setattr(make, key, value)
    model = make().eval()
    model.rtsr_info = info_from_attributes(f"test:{factory.__name__}", make)
    return model


def image(seed: int = 0) -> torch.Tensor:
    """A 1x3x12x10 canonical RGB image with values spread over [0, 1]."""
    return torch.rand(1, 3, 12, 10, generator=torch.Generator().manual_seed(seed))


def test_conversions_round_trip_exactly():
    x = image()
    for order in ("rgb", "bgr"):
        for value_range in ("unit", "255"):
            y = to_model(x, order, value_range)
            torch.testing.assert_close(from_model(y, order, value_range), x, rtol=0, atol=1e-7)
    assert torch.equal(to_model(x, "bgr", "255"), x.flip(1) * 255)


def test_upscale_feeds_the_declared_contract_and_returns_canonical():
    model = plugin(OrderProbe, channel_order="bgr", value_range="255")
    x = image()
    out = upscale(model, x, 2)
    assert torch.equal(model.seen, x.flip(1) * 255)
    torch.testing.assert_close(out, F.interpolate(x, scale_factor=2, mode="nearest"), rtol=0, atol=1e-6)


def test_a_255_model_fed_unit_is_caught():
    x = image()
    right = plugin(MeanShiftNet, value_range="255")
    out = upscale(right, x, 2)  # declared correctly: passes, max(x, mean) upsampled
    torch.testing.assert_close(out, F.interpolate(torch.maximum(x, MEAN_255 / 255), scale_factor=2),
                               rtol=0, atol=1e-6)
    wrong = plugin(MeanShiftNet)  # the same network declared (by default) as [0, 1]
    with pytest.raises(ModelError) as e:
        upscale(wrong, x, 2)
    msg = str(e.value)
    assert "of its output values lie outside [-1, 2]" in msg and "value_range 'unit'" in msg
    assert "100.0%" in msg and "is its declared value_range right?" in msg and "\n" not in msg


def test_a_unit_model_fed_255_is_caught():
    x = image()
    assert upscale(plugin(SigmoidNet), x, 2).shape == (1, 3, 24, 20)
    with pytest.raises(ModelError) as e:
        upscale(plugin(SigmoidNet, value_range="255"), x, 2)
    assert "less than one uint8 level" in str(e.value) and "value_range '255'" in str(e.value)


@pytest.mark.parametrize("outside,fails", [(1, False), (2, True)])
def test_out_of_range_rule_is_more_than_one_percent_beyond_a_whole_range(outside, fails):
    x = torch.linspace(0, 1, 100).view(1, 1, 10, 10)
    y = x.clone()
    y.view(-1)[:outside] = torch.tensor([2.0001, -1.0001])[:outside]  # just beyond [-1, 2]
    y.view(-1)[50:60] = 2.0  # on the bound: inside
    assert (output_range_problem(x, y, "unit") is not None) == fails
    assert (output_range_problem(x * 255, y * 255, "255") is not None) == fails


@pytest.mark.parametrize("x_span,y_span,fails", [(0.1, 0.9 / 255, True), (0.1, 1.1 / 255, False),
                                                  (0.09, 0.0, False)])
def test_collapse_rule(x_span, y_span, fails):
    x = torch.tensor([0.5, 0.5 + x_span]).view(1, 1, 1, 2)
    y = torch.tensor([0.2, 0.2 + y_span]).view(1, 1, 1, 2)
    assert (output_range_problem(x, y, "unit") is not None) == fails


def test_non_finite_values_are_left_to_the_finiteness_check():
    y = torch.full((1, 3, 4, 4), float("nan"))
    assert output_range_problem(torch.rand(1, 3, 2, 2), y, "unit") is None


def test_validation_can_score_a_diverged_model():
    model = plugin(MeanShiftNet)
    out = upscale(model, image(), 2, check_range=False)
    assert out.min() > 100  # scored (and clamped later), not stopped


def test_every_builtin_model_is_rgb_unit():
    from models import list_models

    for name in list_models():
        info = create_model(name, scale=3).rtsr_info
        assert (info.channel_order, info.value_range) == ("rgb", "unit"), name
