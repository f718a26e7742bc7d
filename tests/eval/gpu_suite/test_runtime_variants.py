"""The runtime variants' fidelity (``eval.gpu_suite.runtime_variants``) on the one run path: the same figures as
the by-hand path it replaced, the variant's callable unpadded under the module's contract, NaN/Inf counted."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import eval.gpu_suite.runtime_variants as rv
import models.padding
from core.quantize import to_uint8_rgb
from eval.evaluate import to_tensor
from eval.metrics import psnr_rgb
from models.contract import from_model, to_model
from models.registry import info_from_attributes


class Smooth(nn.Module):
    """Bilinear x``scale`` then a 3x3 blur (weights: something for ``.half()`` and ``deepcopy`` to carry)."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale
        self.blur = nn.Conv2d(3, 3, 3, padding=1, groups=3, bias=False)
        nn.init.constant_(self.blur.weight, 1 / 9)

    def forward(self, x):
        return self.blur(F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False))


def smooth(**attrs) -> nn.Module:
    """``Smooth`` at x2 as plug-in ``test:smooth`` with contract attributes ``attrs``, as ``create_model`` leaves it."""
    def make(scale=2):
        return Smooth(scale)

    for key, value in attrs.items():
        setattr(make, key, value)
    model = make()
    model.rtsr_info, model.rtsr_scale = info_from_attributes("test:smooth", make), 2
    return model


def mosaic(h: int = 14, w: int = 11):
    """(LR uint8 hxwx3, GT uint8 2hx2wx3) RGB; sides that are no multiple of 4."""
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8), rng.integers(0, 256, (2 * h, 2 * w, 3), dtype=np.uint8)


def by_hand(forward, model, device: str, lr: np.ndarray, half: bool) -> np.ndarray:
    """The variants' own path before the one run path: to_model, the callable (no padding), from_model, uint8."""
    order, value_range = model.rtsr_info.channel_order, model.rtsr_info.value_range
    with torch.no_grad():
        out = forward(to_model(to_tensor(lr, device, half), order, value_range))
    return to_uint8_rgb(from_model(out, order, value_range))


@pytest.mark.parametrize("variant", ["eager", "channels_last"])
@pytest.mark.parametrize("attrs", [{}, {"channel_order": "bgr", "value_range": "255", "multiple": 4}],
                         ids=["rgb-unit", "bgr-255-multiple4"])
def test_figures_equal_the_by_hand_path(variant, attrs):
    model, (lr, gt) = smooth(**attrs), mosaic()
    net = rv.prepared(model, "cpu", half=False)
    ref = rv.reference_psnr(model, "cpu", lr, gt)
    assert ref == float(psnr_rgb(by_hand(net, model, "cpu", lr, half=False), gt))
    with torch.no_grad():
        run, _ = rv.build_runner(variant, model, "cpu", torch.randn(1, 3, 14, 11))
    fid = rv.fidelity(run, model, "cpu", lr, gt, ref)
    assert fid["psnr_variant"] == float(psnr_rgb(by_hand(run, model, "cpu", lr, half=False), gt))
    assert fid["finite"] and fid["ok"] and fid["drop_db"] == ref - fid["psnr_variant"]


@pytest.mark.parametrize("poison", [lambda y: y * float("nan"), lambda y: torch.where(y > 0.5, float("inf"), y)],
                         ids=["nan", "half-inf"])
def test_a_nonfinite_variant_is_counted_not_raised(poison):
    model, (lr, gt) = smooth(), mosaic()
    fid = rv.fidelity(lambda x: poison(model(x)), model, "cpu", lr, gt, 30.0)
    assert (fid["finite"], fid["psnr_variant"], fid["drop_db"], fid["ok"]) == (False, None, None, False)


def test_an_off_scale_variant_is_scored_as_before():
    """The range and mean rules are off for the variants, as they were: a 0..255 output gets its (low) PSNR."""
    model, (lr, gt) = smooth(), mosaic()
    fid = rv.fidelity(lambda x: model(x) * 255, model, "cpu", lr, gt, 30.0)
    assert fid["finite"] and fid["psnr_variant"] == float(psnr_rgb(np.full_like(gt, 255), gt))  # every value >= 1


def test_reference_and_fidelity_go_through_the_one_run_path_unpadded(monkeypatch):
    calls, seen = [], []

    def spy(model, lr, scale, **kwargs):
        calls.append((model, lr.dtype, scale, kwargs))
        return models.padding.upscale_uint8(model, lr, scale, **kwargs)

    def run(x):
        seen.append(tuple(x.shape))
        return model(x)

    monkeypatch.setattr(rv, "upscale_uint8", spy)
    model, (lr, gt) = smooth(value_range="255", multiple=4), mosaic()
    rv.fidelity(run, model, "cpu", lr, gt, rv.reference_psnr(model, "cpu", lr, gt))
    (ref_model, ref_dtype, ref_scale, ref_kw), (fid_model, fid_dtype, fid_scale, fid_kw) = calls
    assert ref_model is fid_model is model and ref_scale == fid_scale == 2  # the contract: the module's rtsr_info
    assert ref_dtype == fid_dtype == torch.float32  # FP16 input only on CUDA
    ref_forward = ref_kw.pop("forward")
    assert isinstance(ref_forward, Smooth) and ref_forward is not model and not ref_forward.training  # prepared copy
    assert fid_kw.pop("forward") is run
    assert ref_kw == {"pad": False, "check_range": False, "nonfinite": "score"}
    assert fid_kw == {"pad": False, "check_range": False, "nonfinite": "none"}
    assert seen == [(1, 3, 14, 11)]  # the callable gets the mosaic as it is: no padding to the multiple
