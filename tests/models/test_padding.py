"""The one run path (``models.padding``): every output check raises from ``upscale`` with the wording users
saw, and ``upscale_uint8`` is ``upscale`` plus the one float -> uint8 conversion and a NaN/Inf policy."""
from __future__ import annotations

import ast

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.quantize import to_uint8_rgb
from models.errors import ModelError
from models.padding import NONFINITE, NonFiniteOutput, upscale, upscale_uint8
from models.registry import info_from_attributes
from tests.importgraph import module_files

NAN_MESSAGE = "plug-in 'test:emits' output contains NaN/Inf; the model or its weights are broken"
RUN_PIECES = {"to_uint8_rgb", "to_model", "from_model", "output_range_problem", "module_contract", "upscale"}
PIECE_HOMES = {"core.quantize", "models.contract", "models.padding",
               "models"}  # where they are defined or used; ``models`` re-exports ``upscale`` for tests
RUN_PATH_CALLERS = ("eval.evaluate", "training.validation", "eval.gpu_suite.runtime_variants")
MEAN_MESSAGE = ("plug-in 'test:emits' output has mean {mean}, outside [-0.5, 1.5]: not the [0, 1] scale of the "
                "contract (a 0..255 output must be divided by 255)")


class Emits(nn.Module):
    """Nearest x``scale`` of its input, then ``fn`` of that: an output the test chooses."""

    def __init__(self, fn, scale: int):
        super().__init__()
        self.fn, self.scale = fn, scale

    def forward(self, x):
        return self.fn(F.interpolate(x, scale_factor=self.scale, mode="nearest"))


def emits(fn=lambda y: y, **attrs) -> nn.Module:
    """``Emits(fn)`` at x2 as plug-in ``test:emits``, contract attributes ``attrs`` (``multiple``, ``value_range``)."""
    def make(scale=2):
        return Emits(fn, scale)

    for key, value in attrs.items():
        setattr(make, key, value)
    model = make()
    model.rtsr_info = info_from_attributes("test:emits", make)
    return model


def image(h: int = 12, w: int = 10) -> torch.Tensor:
    """A 1x3xhxw canonical RGB image with values spread over [0, 1]."""
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))


def one_nan(y):
    """``y`` with its first value NaN (far under the range rule's 1 %)."""
    y = y.clone()
    y.view(-1)[0] = float("nan")
    return y


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_nan_or_inf_output_raises_naming_the_model(bad):
    def poison(y):
        y = y.clone()
        y.view(-1)[5] = bad
        return y

    with pytest.raises(NonFiniteOutput) as e:
        upscale(emits(poison), image(), 2)
    assert str(e.value) == NAN_MESSAGE and isinstance(e.value, ModelError)


@pytest.mark.parametrize("shift, mean", [(1.85, "1.9"), (-0.9, "-0.85")])
def test_a_mean_off_the_unit_scale_raises_naming_the_model(shift, mean):
    model = emits(lambda y: 0.1 * y + shift)  # every value inside the range rule's [-1, 2]: only the mean fails
    with pytest.raises(ModelError) as e:
        upscale(model, torch.full((1, 3, 12, 10), 0.5), 2)
    assert str(e.value) == MEAN_MESSAGE.format(mean=mean)


def test_the_mean_rule_reads_the_canonical_output():
    model = emits(lambda y: 0.1 * y + 1.85 * 255, value_range="255")  # mean 484.5 in its units, 1.9 canonical
    with pytest.raises(ModelError, match=r"output has mean 1\.9, outside"):
        upscale(model, torch.full((1, 3, 12, 10), 0.5), 2)
    assert upscale(emits(lambda y: 0.1 * y + 0.45 * 255, value_range="255"), image(), 2).mean() < 0.5


def test_check_range_off_turns_off_the_range_and_the_mean_rules_not_finiteness():
    for fn in (lambda y: y * 255, lambda y: 0.1 * y + 1.85):  # range rule, mean rule
        out = upscale(emits(fn), image(), 2, check_range=False)
        assert out.shape == (1, 3, 24, 20)
    with pytest.raises(NonFiniteOutput):
        upscale(emits(one_nan), image(), 2, check_range=False)


def test_check_finite_off_returns_the_nan():
    out = upscale(emits(one_nan), image(), 2, check_finite=False)
    assert torch.isnan(out.view(-1)[0]) and bool(torch.isfinite(out.view(-1)[1:]).all())


def test_the_range_rule_comes_before_finiteness():
    """An output mostly +Inf breaks the range rule first, as in the evaluator before (its FP16 check included)."""
    with pytest.raises(ModelError, match="of its output values lie outside") as e:
        upscale(emits(lambda y: torch.where(y > 0.5, float("inf"), y)), image(), 2)
    assert not isinstance(e.value, NonFiniteOutput)


def test_upscale_uint8_is_upscale_then_the_one_uint8_conversion():
    model, x = emits(lambda y: 1.2 * y - 0.1), image()  # overshoot both ways: clamped by the conversion
    sr = upscale_uint8(model, x, 2)
    assert sr.dtype == np.uint8 and sr.shape == (24, 20, 3)
    assert np.array_equal(sr, to_uint8_rgb(upscale(model, x, 2)))
    assert sr.min() == 0 and sr.max() == 255


def test_upscale_uint8_nonfinite_policies():
    model, x = emits(one_nan), image()
    assert set(NONFINITE) == {"raise", "none", "score"}
    with pytest.raises(NonFiniteOutput, match="output contains NaN/Inf"):
        upscale_uint8(model, x, 2)
    assert upscale_uint8(model, x, 2, nonfinite="none") is None
    scored = upscale_uint8(model, x, 2, nonfinite="score")
    assert np.array_equal(scored, to_uint8_rgb(upscale(model, x, 2, check_finite=False)))
    with pytest.raises(ValueError, match="nonfinite='skip'; choose from raise, none, score"):
        upscale_uint8(model, x, 2, nonfinite="skip")


def test_other_errors_are_not_swallowed_by_nonfinite_none():
    with pytest.raises(ModelError, match="output has mean"):
        upscale_uint8(emits(lambda y: 0.1 * y + 1.85), torch.full((1, 3, 12, 10), 0.5), 2, nonfinite="none")


def test_a_separate_forward_runs_under_the_modules_contract():
    model = emits(value_range="255", channel_order="bgr", multiple=4)
    seen = []

    def forward(x):
        seen.append(x)
        return F.interpolate(x, scale_factor=2, mode="nearest")

    x = image(6, 5)
    out = upscale(model, x, 2, forward=forward)
    assert seen[0].shape == (1, 3, 8, 8)  # padded to the module's multiple
    torch.testing.assert_close(seen[0][..., :6, :5], x.flip(1) * 255)  # BGR, [0, 255]: the module's contract
    torch.testing.assert_close(out, F.interpolate(x, scale_factor=2, mode="nearest"))
    unpadded = upscale(model, x, 2, forward=forward, pad=False)
    assert seen[1].shape == (1, 3, 6, 5)
    torch.testing.assert_close(unpadded, out)


def test_an_unpadded_run_still_checks_the_shape_and_dtype():
    model = emits()
    with pytest.raises(ModelError, match=r"returned shape \(1, 3, 12, 10\) for input \(1, 3, 12, 10\); "
                                         r"expected \(1, 3, 24, 20\)"):
        upscale(model, image(), 2, forward=lambda x: x, pad=False)
    with pytest.raises(ModelError, match="returned dtype torch.uint8"):
        upscale(model, image(), 2, forward=lambda x: model(x).mul(255).to(torch.uint8), pad=False)


def imported_and_read(name: str) -> set[tuple[str, str]]:
    """(module, name) of every ``from module import name`` in project module ``name``; ("", attr) per ``x.attr``."""
    path = module_files()[name]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            found.update((node.module or "", alias.name) for alias in node.names)
        elif isinstance(node, ast.Attribute):
            found.add(("", node.attr))
    return found


def test_no_other_module_converts_checks_or_quantizes_a_model_output():
    """Contract, checks and the uint8 conversion are only reached through ``models.padding`` (the one run path)."""
    users = {}
    for name in module_files():
        pieces = {piece for _, piece in imported_and_read(name)} & RUN_PIECES
        if pieces and name not in PIECE_HOMES:
            users[name] = sorted(pieces)
    assert users == {}


@pytest.mark.parametrize("caller", RUN_PATH_CALLERS)
def test_evaluation_validation_and_the_variants_run_models_through_upscale_uint8(caller):
    assert ("models.padding", "upscale_uint8") in imported_and_read(caller)
