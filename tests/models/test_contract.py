"""Contract tests run over every registered model (timm style) and over a file plug-in.

Every model must: give exactly S x the input size through ``models.padding.upscale`` for even,
odd, thin (1-3 px) and non-square inputs at every supported scale in {2, 3, 4}; give finite FP32
and FP16 outputs; survive a state-dict round trip; and be deterministic.
"""
from __future__ import annotations

import pytest
import torch

from models import create_model, list_models, model_info, upscale

SIZES = [(8, 8), (7, 9), (1, 1), (2, 3), (3, 1), (5, 12)]  # even, odd, thin, thin, thin, non-square
PLUGIN_SOURCE = '''
import torch
from torch import nn


def tiny(scale=3, width=4):
    """A 2-conv sub-pixel net: NCHW RGB [0, 1] -> s times the size."""
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(width, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))


tiny.scales = (2, 3, 4)
'''


@pytest.fixture(scope="session")
def plugin_name(tmp_path_factory) -> str:
    """A ``file.py:factory`` plug-in written to a temporary directory."""
    path = tmp_path_factory.mktemp("plugin") / "tiny_plugin.py"
    path.write_text(PLUGIN_SOURCE)
    return f"{path}:tiny"


def all_names() -> list[str]:
    """Registered models plus the placeholder for the plug-in."""
    return list_models() + ["<plugin>"]


def resolve(name: str, plugin_name: str) -> str:
    """Swap the placeholder for the real plug-in spec."""
    return plugin_name if name == "<plugin>" else name


def model_scale_cases() -> list:
    """(name, scale) pairs for every supported scale in {2, 3, 4}."""
    cases = []
    for name in all_names():
        scales = (2, 3, 4) if name == "<plugin>" else model_info(name).scales
        cases += [pytest.param(name, s, id=f"{name}-x{s}") for s in (2, 3, 4) if s in scales]
    return cases


def lr(h: int, w: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    """A random 1x3xHxW tensor in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, h, w, generator=g).to(dtype)


@pytest.mark.parametrize("name,scale", model_scale_cases())
def test_output_is_exactly_scale_times_input(name, scale, plugin_name):
    model = create_model(resolve(name, plugin_name), scale=scale)
    with torch.no_grad():
        for h, w in SIZES:
            out = upscale(model, lr(h, w), scale)
            assert tuple(out.shape) == (1, 3, scale * h, scale * w), (h, w)


@pytest.mark.parametrize("name", all_names())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
def test_forward_is_finite(name, dtype, plugin_name):
    model = create_model(resolve(name, plugin_name), scale=3).to(dtype)
    x = lr(10, 14, dtype=dtype)
    try:
        with torch.no_grad():
            out = upscale(model, x, 3)
    except (RuntimeError, NotImplementedError) as exc:
        if dtype is torch.float16 and not torch.cuda.is_available():
            pytest.skip(f"FP16 not supported on this CPU build for {name}: {exc}")
        raise
    assert out.dtype == dtype
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", all_names())
def test_state_dict_round_trip(name, plugin_name):
    spec = resolve(name, plugin_name)
    torch.manual_seed(1)
    a = create_model(spec, scale=3)
    torch.manual_seed(2)
    b = create_model(spec, scale=3)
    b.load_state_dict(a.state_dict(), strict=True)
    x = lr(12, 16)
    with torch.no_grad():
        assert torch.equal(upscale(a, x, 3), upscale(b, x, 3))


@pytest.mark.parametrize("name", all_names())
def test_deterministic(name, plugin_name):
    model = create_model(resolve(name, plugin_name), scale=3)
    x = lr(12, 16)
    with torch.no_grad():
        assert torch.equal(upscale(model, x, 3), upscale(model, x, 3))


@pytest.mark.parametrize("name", list_models())
def test_registry_metadata(name):
    info = model_info(name)
    assert info.name == name and info.channel_order == "rgb" and info.paper
    assert info.multiple >= 1 and info.min_size >= 1 and set(info.scales) >= {3}


def test_registry_lists_the_required_models():
    assert list_models() == ["abpn", "bicubic", "bicubic_matlab", "bicubic_pp", "espcn", "fsrcnn",
                             "imdn", "rfdn", "rt4ksr"]
    assert list_models("bicubic*") == ["bicubic", "bicubic_matlab", "bicubic_pp"]
    assert not model_info("bicubic").trainable and not model_info("bicubic_matlab").trainable
    assert model_info("bicubic_pp").multiple == 2


def test_plugin_created_in_eval_mode_with_info(plugin_name):
    model = create_model(plugin_name, scale=2, width=6)
    assert not model.training and model.rtsr_scale == 2
    assert model.rtsr_info.scales == (2, 3, 4)
    assert model[0].out_channels == 6


@pytest.mark.gpu
@pytest.mark.parametrize("name", list_models())
def test_fp16_on_cuda_is_finite_and_close_to_fp32(name):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model = create_model(name, scale=3).cuda()
    x = lr(32, 48).cuda()
    with torch.no_grad():
        ref = upscale(model, x, 3)
        half = upscale(model.half(), x.half(), 3)
    assert torch.isfinite(half).all()
    assert (half.float() - ref).abs().max().item() < 0.05
