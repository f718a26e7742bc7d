"""Training validation (``training.validation.validate``): the one run path, a diverging run scored, not stopped."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import models.padding
import training.validation
from core.quantize import to_uint8_rgb
from eval.metrics import psnr_rgb
from training.validation import validate


class Diverged(nn.Module):
    """Nearest x2, then ``fn``: the output of a run gone wrong (no registry entry: RGB, [0, 1], multiple 1)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(F.interpolate(x, scale_factor=2, mode="nearest"))


def items(n: int = 2) -> list:
    """Validation items as ``training.data.load_validation`` makes them: (lr 1x3x8x6 in [0, 1], gt uint8 16x12x3)."""
    rng = np.random.default_rng(5)
    out = []
    for _ in range(n):
        lr = torch.from_numpy(rng.random((1, 3, 8, 6), dtype=np.float32))
        out.append((lr, rng.integers(0, 256, (16, 12, 3), dtype=np.uint8)))
    return out


@pytest.mark.parametrize("fn", [
    lambda y: y * 255,  # off the scale: the range rule would stop evaluation
    lambda y: 0.1 * y + 1.85,  # the mean rule would
    lambda y: y * float("nan"),  # finiteness would
    lambda y: torch.where(y > 0.5, float("inf"), y),
], ids=["x255", "mean", "nan", "inf"])
def test_a_diverging_run_is_scored_not_stopped(fn):
    model, data = Diverged(fn).train(), items()
    expected = float(np.mean([psnr_rgb(to_uint8_rgb(model(lr)), gt) for lr, gt in data]))  # as before the one path
    assert validate(model, data, 2) == expected
    assert model.training  # restored


def test_validate_goes_through_the_one_run_path_with_range_off_and_nonfinite_scored(monkeypatch):
    calls = []

    def spy(model, lr, scale, **kwargs):
        calls.append(kwargs)
        return models.padding.upscale_uint8(model, lr, scale, **kwargs)

    monkeypatch.setattr(training.validation, "upscale_uint8", spy)
    validate(Diverged(lambda y: y), items(3), 2)
    assert calls == [{"check_range": False, "nonfinite": "score"}] * 3
