"""Bad input to the model registry: each case raises a one-line ModelError naming what to fix."""
from __future__ import annotations

import pickle

import pytest
import torch

from models import ModelError, create_model, upscale


def one_line(exc_info) -> str:
    """The error message, asserted to be a single line."""
    msg = str(exc_info.value)
    assert "\n" not in msg
    return msg


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ModelError) as e:
        create_model("bicubicpp")
    msg = one_line(e)
    assert "unknown model 'bicubicpp'" in msg and "did you mean" in msg and "bicubic_pp" in msg


def test_unsupported_scale():
    with pytest.raises(ModelError) as e:
        create_model("espcn", scale=5)
    assert "does not support scale 5" in one_line(e) and "2, 3, 4" in str(e.value)


def test_unknown_kwarg_choice():
    with pytest.raises(ModelError) as e:
        create_model("bicubic_pp", downsample="wavelet")
    assert "downsample='wavelet'" in one_line(e)


def test_checkpoint_with_wrong_keys(tmp_path):
    path = tmp_path / "bad.pt"
    torch.save({"state_dict": {"nope.weight": torch.zeros(1)}}, path)
    with pytest.raises(ModelError) as e:
        create_model("espcn", weights=path)
    msg = one_line(e)
    assert str(path) in msg and "missing" in msg and "unexpected ['nope.weight']" in msg


def test_checkpoint_with_wrong_shapes(tmp_path):
    state = create_model("bicubic_pp", channels=16).state_dict()
    path = tmp_path / "narrow.pt"
    torch.save({"arch": {"name": "bicubic_pp", "scale": 3, "kwargs": {}}, "state_dict": state}, path)
    with pytest.raises(ModelError) as e:
        create_model("bicubic_pp", weights=path)
    assert "shape of head.weight is (16, 3, 3, 3), model wants (32, 3, 3, 3)" in one_line(e)


def save_released_like(path, conv2_out: int = 32):
    """Write a zero state dict with the released x3 checkpoint's keys (conv2 width adjustable)."""
    torch.save({"conv0.weight": torch.zeros(32, 3, 3, 3), "conv1.weight": torch.zeros(32, 32, 3, 3),
                "conv2.weight": torch.zeros(conv2_out, 32, 3, 3),
                "conv_out.weight": torch.zeros(108, 32, 3, 3)}, path)
    return path


def test_released_layout_with_wrong_shape(tmp_path):
    path = save_released_like(tmp_path / "released_like.pth", conv2_out=16)
    with pytest.raises(ModelError) as e:
        create_model("bicubic_pp", weights=path)
    assert "shape of blocks.0.1.weight is (16, 32, 3, 3)" in one_line(e)


def test_released_checkpoint_at_wrong_scale(tmp_path):
    path = save_released_like(tmp_path / "released_like.pth")
    with pytest.raises(ModelError) as e:
        create_model("bicubic_pp", scale=2, weights=path)
    assert "for scale 3, not 2" in one_line(e)


def test_checkpoint_for_another_model(tmp_path):
    path = tmp_path / "espcn.pt"
    torch.save({"arch": {"name": "espcn", "scale": 3, "kwargs": {}},
                "state_dict": create_model("espcn").state_dict()}, path)
    with pytest.raises(ModelError) as e:
        create_model("bicubic_pp", weights=path)
    assert "for model 'espcn', not 'bicubic_pp'" in one_line(e)


class Payload:
    """Unpickling this would run code: it would create the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_code_is_refused(tmp_path):
    path, marker = tmp_path / "evil.pt", tmp_path / "code_ran"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": Payload(marker)}, f, protocol=2)
    with pytest.raises(ModelError) as e:
        create_model("espcn", weights=path)
    msg = one_line(e)
    assert "refused to load" in msg and "weights_only=True" in msg
    assert not marker.exists()


def test_missing_checkpoint(tmp_path):
    with pytest.raises(ModelError) as e:
        create_model("espcn", weights=tmp_path / "nothing.pt")
    assert "checkpoint not found" in one_line(e)


def test_rt4ksr_fused_checkpoint_cannot_give_training_form(tmp_path):
    path = tmp_path / "fused.pt"
    torch.save({"arch": {"name": "rt4ksr", "scale": 3, "kwargs": {}},
                "state_dict": create_model("rt4ksr").state_dict()}, path)
    with pytest.raises(ModelError) as e:
        create_model("rt4ksr", weights=path, train_form=True)
    assert "cannot be recovered" in one_line(e)


PLUGINS = '''
import torch
from torch import nn


def raises(scale=3):
    raise RuntimeError("boom")


def not_a_module(scale=3):
    return "hello"


def wrong_size(scale=3):
    return nn.Conv2d(3, 3, 3, padding=1)


def wrong_channels(scale=3):
    return nn.Sequential(nn.Conv2d(3, 4 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))
'''


@pytest.fixture()
def plugin_file(tmp_path):
    path = tmp_path / "bad_plugins.py"
    path.write_text(PLUGINS)
    return path


def test_plugin_factory_that_raises(plugin_file):
    with pytest.raises(ModelError) as e:
        create_model(f"{plugin_file}:raises")
    assert "raised RuntimeError: boom" in one_line(e)


def test_plugin_factory_returning_non_module(plugin_file):
    with pytest.raises(ModelError) as e:
        create_model(f"{plugin_file}:not_a_module")
    assert "returned str, not a torch.nn.Module" in one_line(e)


@pytest.mark.parametrize("factory,got", [("wrong_size", "(1, 3, 6, 6)"),
                                          ("wrong_channels", "(1, 4, 18, 18)")])
def test_plugin_with_wrong_output(plugin_file, factory, got):
    model = create_model(f"{plugin_file}:{factory}", scale=3)
    with pytest.raises(ModelError) as e, torch.no_grad():
        upscale(model, torch.rand(1, 3, 6, 6), 3)
    msg = one_line(e)
    assert f"returned shape {got}" in msg and "expected (1, 3, 18, 18)" in msg


def test_plugin_missing_factory(plugin_file):
    with pytest.raises(ModelError) as e:
        create_model(f"{plugin_file}:nope")
    assert "has no callable 'nope'" in one_line(e)


def test_plugin_missing_file(tmp_path):
    with pytest.raises(ModelError) as e:
        create_model(f"{tmp_path / 'absent.py'}:f")
    assert "cannot import" in one_line(e)


# -- issue 13: every checkpoint problem is one line naming the file, for every caller ---------------
def _zip_bytes(obj) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _legacy_bytes(obj) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


ESPCN_STATE = {k: v for k, v in create_model("espcn").state_dict().items()}
BAD_CHECKPOINTS = {  # file bytes -> what the one-line message says
    "empty": (b"", "empty file (0 bytes), not a checkpoint"),
    "truncated_zip": (_zip_bytes({"state_dict": ESPCN_STATE})[:300], "corrupt or truncated checkpoint"),
    "truncated_legacy": (_legacy_bytes({"state_dict": ESPCN_STATE})[:-40], "corrupt or truncated checkpoint"),
    "text": (b"hello, not a checkpoint", "corrupt or truncated checkpoint"),
    "a_list": (_zip_bytes([1, 2]), "expected a state dict, found list"),
    "a_tensor": (_zip_bytes(torch.zeros(3)), "expected a state dict, found Tensor"),
    "lists_for_tensors": (_zip_bytes({k: v.tolist() for k, v in ESPCN_STATE.items()}),
                          "state dict entry 'body.0.weight' is a list, expected a tensor"),
    "state_dict_a_string": (_zip_bytes({"state_dict": "acid"}),
                            "the state dict is a str, expected a mapping of parameter names to tensors"),
    "state_dict_empty": (_zip_bytes({"state_dict": {}}), "the state dict is empty"),
    "arch_a_string": (_zip_bytes({"arch": "espcn", "state_dict": ESPCN_STATE}),
                      "'arch' is a str, expected a mapping"),
    "arch_kwargs_a_string": (_zip_bytes({"arch": {"name": "espcn", "kwargs": "channels"},
                                         "state_dict": ESPCN_STATE}), "arch.kwargs is a str"),
}


@pytest.mark.parametrize("case", sorted(BAD_CHECKPOINTS))
@pytest.mark.parametrize("model", ["espcn", "bicubic_pp", "rt4ksr"])
def test_bad_checkpoint_is_one_line_naming_the_file(tmp_path, case, model):
    data, message = BAD_CHECKPOINTS[case]
    path = tmp_path / f"{case}.pth"
    path.write_bytes(data)
    with pytest.raises(ModelError) as e:
        create_model(model, weights=path)
    msg = one_line(e)
    assert msg.startswith(f"{path}: ")
    if model == "espcn" or "entry" not in message:
        assert message in msg
    else:  # another model's keys: still the first entry named
        assert "is a list, expected a tensor" in msg


def test_a_folder_as_checkpoint(tmp_path):
    with pytest.raises(ModelError) as e:
        create_model("espcn", weights=tmp_path)
    assert one_line(e) == f"{tmp_path}: is a folder, not a checkpoint file; give the .pt/.pth file"


EXITING = '''
import sys
from torch import nn

def exits(scale=3):
    sys.exit(0)

def exits_1(scale=3):
    sys.exit("giving up")
'''


@pytest.mark.parametrize("factory, said", [("exits", "called sys.exit(0)"),
                                           ("exits_1", "called sys.exit('giving up')")])
def test_plugin_factory_calling_sys_exit(tmp_path, factory, said):
    plugin = tmp_path / "exiting.py"
    plugin.write_text(EXITING)
    with pytest.raises(ModelError) as e:
        create_model(f"{plugin}:{factory}")
    assert one_line(e) == f"plug-in '{plugin}:{factory}': factory {said}"


def test_plugin_module_exiting_at_import(tmp_path):
    plugin = tmp_path / "exit_on_import.py"
    plugin.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(ModelError) as e:
        create_model(f"{plugin}:f")
    assert "cannot import" in one_line(e) and "called sys.exit(3)" in one_line(e)


def test_plugin_returning_a_tuple(plugin_file, tmp_path):
    path = tmp_path / "tuple_plugin.py"
    path.write_text("from torch import nn\nclass T(nn.Module):\n    def forward(self, x):\n"
                    "        return x, x\ndef f(scale=3):\n    return T()\n")
    model = create_model(f"{path}:f")
    with pytest.raises(ModelError) as e, torch.no_grad():
        upscale(model, torch.rand(1, 3, 6, 6), 3)
    assert one_line(e) == (f"plug-in '{path}:f' returned a tuple, not a tensor; its forward must "
                           "return one NCHW tensor (no tuple or list)")
