"""Checkpoint layouts (``models.layouts``): renames both ways, containers, prefixes, strictness after mapping."""
from __future__ import annotations

import pytest
import torch

from models import ModelError, create_model, register
from models.layouts import Layout, Rename, rename_keys, unwrap
from models.loaders import RFDN_AIM2020
from models.official import RELEASED_LAYOUT
from models.registry import _REGISTRY


def rfdn_official_keys() -> set[str]:
    """The 128 keys of rfdn_x4_aim2020.pth, as NOTICE.md lists them (fea_conv, B1..B4, c.0, LR_conv, upsampler.0)."""
    block = [f"{c}.{p}" for c in ("c1_d", "c1_r", "c2_d", "c2_r", "c3_d", "c3_r", "c4", "c5")
             for p in ("weight", "bias")]
    block += [f"esa.{c}.{p}" for c in ("conv1", "conv_f", "conv_max", "conv2", "conv3", "conv3_", "conv4")
              for p in ("weight", "bias")]
    keys = {f"B{i}.{k}" for i in range(1, 5) for k in block}
    return keys | {f"{m}.{p}" for m in ("fea_conv", "c.0", "LR_conv", "upsampler.0") for p in ("weight", "bias")}


def test_rename_template_with_offset_both_ways():
    rule = Rename("B{i}.", "blocks.{i}.", offset=-1)
    assert rule.apply("B1.esa.conv4.bias") == "blocks.0.esa.conv4.bias"
    assert rule.apply("B12.c5.weight") == "blocks.11.c5.weight"
    assert rule.apply("blocks.3.c4.weight", to_ours=False) == "B4.c4.weight"
    assert rule.apply("fea_conv.weight") is None and rule.apply("xB1.w") is None


def test_rfdn_layout_maps_our_state_to_the_files_keys_and_back():
    torch.manual_seed(0)
    ours = create_model("rfdn", scale=4).state_dict()
    theirs = RFDN_AIM2020.to_theirs(ours)
    assert set(theirs) == rfdn_official_keys() and len(theirs) == 128
    assert sum(v.numel() for v in theirs.values()) == 433_448
    back = RFDN_AIM2020.to_ours(theirs)
    assert set(back) == set(ours) and all(torch.equal(back[k], ours[k]) for k in ours)


def test_released_bicubic_pp_layout_maps_both_ways_exactly():
    """Renames + the BGR permutation (its own inverse): theirs -> ours -> theirs is the identity."""
    g = torch.Generator().manual_seed(0)
    theirs = {"conv0.weight": torch.randn(32, 3, 3, 3, generator=g),
              "conv1.weight": torch.randn(32, 32, 3, 3, generator=g),
              "conv2.weight": torch.randn(32, 32, 3, 3, generator=g),
              "conv_out.weight": torch.randn(108, 32, 3, 3, generator=g)}
    ours = RELEASED_LAYOUT.to_ours(theirs)
    assert set(ours) == {"head.weight", "blocks.0.0.weight", "blocks.0.1.weight", "tail.weight"}
    assert torch.equal(ours["head.weight"], theirs["conv0.weight"].flip(1))
    again = RELEASED_LAYOUT.to_theirs(ours)
    assert all(torch.equal(again[k], theirs[k]) for k in theirs) and set(again) == set(theirs)


def test_ambiguous_renames_are_refused():
    with pytest.raises(ModelError) as e:
        rename_keys({"a.w": torch.zeros(1), "b.w": torch.zeros(1)}, [Rename("a.", "x."), Rename("b.", "x.")])
    assert "two keys map to 'x.w'" in str(e.value)


def save(path, obj):
    """torch.save and return the path."""
    torch.save(obj, path)
    return path


@pytest.fixture(scope="module")
def rfdn_file_like():
    """A random RFDN x4 state dict in the released file's layout."""
    torch.manual_seed(3)
    return RFDN_AIM2020.to_theirs(create_model("rfdn", scale=4).state_dict())


def test_foreign_layout_loads_and_carries_its_contract(tmp_path, rfdn_file_like):
    model = create_model("rfdn", scale=4, weights=save(tmp_path / "rfdn.pth", rfdn_file_like))
    assert model.rtsr_layout == "rfdn-aim2020" and model.rtsr_info.value_range == "255"
    assert torch.equal(model.blocks[3].esa.conv4.bias, rfdn_file_like["B4.esa.conv4.bias"])
    scratch = create_model("rfdn", scale=4)
    assert scratch.rtsr_layout is None and scratch.rtsr_info.value_range == "unit"


def test_project_checkpoint_keeps_the_registered_contract(tmp_path):
    state = create_model("rfdn", scale=4).state_dict()
    path = save(tmp_path / "best.pt", {"arch": {"name": "rfdn", "scale": 4, "kwargs": {}}, "state_dict": state})
    model = create_model("rfdn", scale=4, weights=path)
    assert model.rtsr_layout is None and model.rtsr_info.value_range == "unit"


@pytest.mark.parametrize("wrap,steps", [
    (lambda s: {"params_ema": s, "params": {k: torch.zeros_like(v) for k, v in s.items()}},
     ["container 'params_ema'"]),
    (lambda s: {"params": s, "iter": 5}, ["container 'params'"]),
    (lambda s: {"state_dict": {f"module.{k}": v for k, v in s.items()}, "epoch": 3},
     ["container 'state_dict'", "prefix 'module.' stripped"]),
    (lambda s: {"model": {"state_dict": {f"_orig_mod.{k}": v for k, v in s.items()}}},
     ["container 'model'", "container 'state_dict'", "prefix '_orig_mod.' stripped"]),
], ids=["params_ema-first", "params", "ddp-prefix", "nested-compiled"])
def test_containers_and_prefixes_are_unwrapped(tmp_path, rfdn_file_like, wrap, steps):
    state, taken = unwrap(wrap(rfdn_file_like))
    assert taken == steps and set(state) == set(rfdn_file_like)
    assert all(torch.equal(state[k], rfdn_file_like[k]) for k in rfdn_file_like)
    model = create_model("rfdn", scale=4, weights=save(tmp_path / "wrapped.pth", wrap(rfdn_file_like)))
    assert torch.equal(model.fea_conv.weight, rfdn_file_like["fea_conv.weight"])


def test_checkpoint_without_a_state_dict_names_its_keys(tmp_path):
    with pytest.raises(ModelError) as e:
        create_model("rfdn", scale=4, weights=save(tmp_path / "x.pth", {"epoch": 3, "net": [1, 2]}))
    msg = str(e.value)
    assert "no state dict found" in msg and "'epoch'" in msg and "params_ema" in msg and "\n" not in msg


def test_strict_after_mapping_lists_what_still_does_not_fit(tmp_path, rfdn_file_like):
    state = {k: v for k, v in rfdn_file_like.items() if k != "B4.esa.conv4.bias"}
    state["B4.extra.weight"] = torch.zeros(1)
    with pytest.raises(ModelError) as e:
        create_model("rfdn", scale=4, weights=save(tmp_path / "partial.pth", {"params": state}))
    msg = str(e.value)
    assert "read as layout 'rfdn-aim2020', container 'params'" in msg
    assert "missing ['blocks.3.esa.conv4.bias']" in msg and "unexpected ['blocks.3.extra.weight']" in msg
    assert "layouts tried: its own, 'rfdn-aim2020'" in msg and "\n" not in msg


def test_strict_after_mapping_checks_shapes_and_scale(tmp_path, rfdn_file_like):
    narrow = dict(rfdn_file_like, **{"LR_conv.weight": torch.zeros(50, 48, 3, 3)})
    with pytest.raises(ModelError) as e:
        create_model("rfdn", scale=4, weights=save(tmp_path / "narrow.pth", narrow))
    assert "shape of lr_conv.weight is (50, 48, 3, 3), model wants (50, 50, 3, 3)" in str(e.value)
    with pytest.raises(ModelError) as e:
        create_model("rfdn", scale=3, weights=save(tmp_path / "x4.pth", rfdn_file_like))
    assert "rfdn-aim2020 checkpoint is for scale 4, not 3; use --scale 4" in str(e.value)


def test_a_registered_layout_with_an_unknown_range_is_refused():
    bad = Layout("bad", value_range="1023")
    with pytest.raises(ModelError) as e:
        register("tmp_bad_layout_model", lambda scale=3: torch.nn.Identity(), layouts=(bad,))
    assert "model 'tmp_bad_layout_model'" in str(e.value) and "'1023'" in str(e.value)
    with pytest.raises(ModelError):
        register("tmp_bad_range_model", lambda scale=3: torch.nn.Identity(), value_range="0-255")
    assert "tmp_bad_layout_model" not in _REGISTRY and "tmp_bad_range_model" not in _REGISTRY
