"""Baselines: published x3 RGB parameter counts, bicubic references, RT4KSR re-parameterisation."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from baselines.rt4ksr import RepConv, gaussian_kernel
from models import create_model, upscale
from models.cost import count_params


@pytest.mark.parametrize("name,params", [
    ("espcn", 31_131), ("fsrcnn", 24_683), ("abpn", 42_539), ("rfdn", 423_977),
    ("bicubic", 0), ("bicubic_matlab", 0),
    # RT4KSR (24 feats, 4 blocks, forget=False as released), fused: head 2616 + 5 fused 3x3 convs
    # 5x5208 + 5 LayerNorms 5x48 + upsample 23436 (the unused high-frequency branch is dropped)
    ("rt4ksr", 52_332),
])
def test_x3_parameter_counts(name, params):
    assert count_params(create_model(name, scale=3)) == params


def test_rt4ksr_training_form_parameter_count():
    # each RepConv: 1x1 24->48 (1200) + 3x3 48->48 (20784) + 1x1 48->24 (1176) = 23160
    # the file's 165,253: the high-frequency branch's RepConv and gamma are held in either setting
    model = create_model("rt4ksr", scale=3, train_form=True)
    assert count_params(model) == 2616 + 6 * 23160 + 5 * 48 + 23436 + 1 == 165_253
    assert model.training is False and sum(isinstance(m, RepConv) for m in model.modules()) == 6


def test_rt4ksr_reparameterised_counts_with_and_without_forget():
    # forget=True keeps the branch: the authors' deploy form, 57,541; forget=False drops 5,208 + gamma
    assert count_params(create_model("rt4ksr", scale=3, forget=True)) == 57_541
    with_branch = create_model("rt4ksr", scale=3, train_form=True, forget=True).reparameterize()
    assert count_params(with_branch) == 57_541
    without = create_model("rt4ksr", scale=3, train_form=True).reparameterize()
    assert count_params(without) == 57_541 - 5208 - 1 == 52_332
    assert not hasattr(without, "hf_conv") and not hasattr(without, "gamma")


def test_rt4ksr_forget_false_ignores_the_high_frequency_branch():
    torch.manual_seed(0)
    model = create_model("rt4ksr", scale=3, train_form=True)
    x = torch.rand(1, 3, 8, 10)
    with torch.no_grad():
        before = model(x)
        model.gamma.fill_(3.0)
        for p in model.hf_conv.parameters():
            p.add_(1.0)
        assert torch.equal(model(x), before)
        model.forget = True  # the branch now counts
        assert (model(x) - before).abs().max() > 1e-3


def test_bicubic_is_the_challenge_reference():
    x = torch.rand(1, 3, 9, 7)
    ref = F.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False).clamp(0, 1)
    with torch.no_grad():
        assert torch.equal(upscale(create_model("bicubic", scale=3), x, 3), ref)


def test_bicubic_matlab_uses_matlab_imresize():
    from datasets.matlab_resize import imresize_torch

    x = torch.rand(1, 3, 9, 7, dtype=torch.float64)
    with torch.no_grad():
        out = upscale(create_model("bicubic_matlab", scale=2), x, 2)
    assert torch.equal(out, imresize_torch(x, 2).clamp(0, 1))
    # a constant image stays constant (kernel weights sum to one)
    flat = torch.full((1, 3, 4, 5), 0.25, dtype=torch.float64)
    torch.testing.assert_close(create_model("bicubic_matlab", scale=3)(flat),
                               torch.full((1, 3, 12, 15), 0.25, dtype=torch.float64))


def test_abpn_starts_from_a_nearest_neighbour_anchor():
    model = create_model("abpn", scale=3)
    last = model.body[-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)
    x = torch.rand(1, 3, 5, 4)
    with torch.no_grad():
        assert torch.equal(model(x), F.interpolate(x, scale_factor=3, mode="nearest"))


def test_fsrcnn_deconv_gives_exact_size():
    for s in (2, 3, 4):
        with torch.no_grad():
            assert create_model("fsrcnn", scale=s)(torch.rand(1, 3, 7, 5)).shape == (1, 3, 7 * s, 5 * s)


def test_gaussian_kernel_matches_sigma_one():
    k = gaussian_kernel()
    g = torch.exp(-0.5 * torch.tensor([4.0, 1.0, 0.0, 1.0, 4.0]))
    torch.testing.assert_close(k, torch.outer(g, g) / g.sum() ** 2)


def randomise_biases(model: torch.nn.Module) -> None:
    """Random biases, LayerNorm affines and gamma, so fusion is tested beyond the default init."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim <= 1:
                base = 1.0 if name.endswith("weight") or name == "gamma" else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))


@pytest.mark.parametrize("forget", [False, True])
def test_rt4ksr_reparameterize_gives_the_same_output(forget):
    torch.manual_seed(0)
    model = create_model("rt4ksr", scale=3, train_form=True, forget=forget).double()
    randomise_biases(model)
    x = torch.rand(2, 3, 12, 18, dtype=torch.float64)
    with torch.no_grad():
        before = model(x)
        model.reparameterize()
        after = model(x)
    assert not any(isinstance(m, RepConv) for m in model.modules())
    assert count_params(model) == count_params(create_model("rt4ksr", scale=3, forget=forget))
    torch.testing.assert_close(after, before, rtol=0, atol=1e-10)


def test_repconv_fuse_float32():
    torch.manual_seed(0)
    block = RepConv(8)
    x = torch.rand(1, 8, 6, 7)
    with torch.no_grad():
        torch.testing.assert_close(block.fuse()(x), block(x), rtol=1e-5, atol=1e-5)


def test_rt4ksr_training_checkpoint_loads_fused(tmp_path):
    torch.manual_seed(0)
    train = create_model("rt4ksr", scale=3, train_form=True)
    randomise_biases(train)
    path = tmp_path / "best.pt"
    torch.save({"arch": {"name": "rt4ksr", "scale": 3, "kwargs": {"train_form": True}},
                "state_dict": train.state_dict()}, path)
    fused = create_model("rt4ksr", scale=3, weights=path)
    again = create_model("rt4ksr", scale=3, weights=path, train_form=True)
    assert not any(isinstance(m, RepConv) for m in fused.modules())
    assert any(isinstance(m, RepConv) for m in again.modules())
    x = torch.rand(1, 3, 8, 10)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), train(x), rtol=1e-5, atol=1e-5)
        assert torch.equal(again(x), train(x))
