"""The trainer on a tiny folder dataset: resume after a kill, bad input, NaN loss, architecture mismatch."""

import pytest
import torch

from core.errors import RtsrError
from core.paths import REPO_ROOT
from datasets.registry import DatasetError
from models.registry import create_model, load_checkpoint
from tests.training.tiny import BASE, tiny_config, write_images
from training.config import TrainConfig, TrainError
from training.loop import train
from training.train import main as train_main

NAN_PLUGIN = '''
import torch
from torch import nn

class NanAfter(nn.Module):
    """x3 sub-pixel conv whose output turns NaN after ``ok_calls`` training forwards."""
    def __init__(self, scale, ok_calls):
        super().__init__()
        self.conv, self.shuffle = nn.Conv2d(3, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale)
        self.calls, self.ok_calls = 0, ok_calls
    def forward(self, x):
        self.calls += self.training
        out = self.shuffle(self.conv(x))
        return out * float("nan") if self.calls > self.ok_calls else out

def nan_after(scale=3, ok_calls=2):
    return NanAfter(scale, ok_calls)
'''


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("tiny"), [(96, 72), (84, 96)])


def test_resume_after_kill_gives_same_weights(tiny_set, tmp_path):
    full = train(tiny_config(tiny_set, tmp_path / "full"))
    assert full["epochs"] == 3 and full["params"] > 0

    class Killed(Exception):
        pass

    def kill_after_first(epoch):
        if epoch == 1:
            raise Killed

    with pytest.raises(Killed):
        train(tiny_config(tiny_set, tmp_path / "killed"), on_epoch_end=kill_after_first)
    assert load_checkpoint(tmp_path / "killed" / "last.pt")["epoch"] == 1
    resumed = train(tiny_config(tiny_set, tmp_path / "killed"))
    a = load_checkpoint(tmp_path / "full" / "last.pt")
    b = load_checkpoint(tmp_path / "killed" / "last.pt")
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    assert resumed["best_val_psnr_rgb"] == full["best_val_psnr_rgb"]
    lines = (tmp_path / "killed" / "metrics.csv").read_text().splitlines()
    assert lines[0] == "epoch,lr,train_loss,seconds" and len(lines) == 4
    model = create_model("bicubic_pp", weights=tmp_path / "full" / "best.pt")
    assert model.head.out_channels == 8


def test_a_line_per_epoch_and_a_finished_run_says_nothing_to_do(tiny_set, tmp_path, capsys):
    """Under `dvc repro` (no terminal) every epoch prints a line; re-running a finished stage trains nothing."""
    first = train(tiny_config(tiny_set, tmp_path / "stage"))
    err = capsys.readouterr().err.splitlines()
    epochs = [line for line in err if line.startswith("stage epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["stage epoch 1/3", "stage epoch 2/3", "stage epoch 3/3"]
    assert all(" loss " in line and " val PSNR " in line and " ETA " in line for line in epochs)
    assert err[-1].startswith("stage: done: best val PSNR ") and "epochs 1-3 in " in err[-1]
    again = train(tiny_config(tiny_set, tmp_path / "stage"))
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("stage: nothing to do: ") and "all 3 epochs" in err[0]
    assert again == first  # the same summary, not a new run's timings


def test_training_set_smaller_than_one_patch(tmp_path):
    tiny = write_images(tmp_path / "small", [(30, 30)])
    with pytest.raises(DatasetError, match="smaller than the LR patch 16"):
        train(tiny_config(tiny, tmp_path / "run", lr_patch=16))


def test_one_image_smaller_than_patch_is_named(tiny_set, tmp_path):
    mixed = write_images(tmp_path / "mixed", [(96, 96), (96, 30)])
    with pytest.raises(DatasetError, match=r"img1: LR size 32x10 is smaller than the LR patch 16"):
        train(tiny_config(mixed, tmp_path / "run", lr_patch=16))


def test_resume_from_another_architecture(tiny_set, tmp_path):
    train(tiny_config(tiny_set, tmp_path / "run", epochs=1))
    with pytest.raises(TrainError, match="holds a run of"):
        train(tiny_config(tiny_set, tmp_path / "run", epochs=1, model_kwargs={"channels": 6, "bias": True}))


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tiny_set, tmp_path):
    plugin = tmp_path / "nanmodel.py"
    plugin.write_text(NAN_PLUGIN)
    cfg = tiny_config(tiny_set, tmp_path / "run", model=f"{plugin}:nan_after", model_kwargs={"ok_calls": 2},
               epochs=3)  # 2 iterations per epoch: epoch 1 is fine, epoch 2 is NaN
    with pytest.raises(TrainError, match="epoch 2: training loss is nan.*last good checkpoint"):
        train(cfg)
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert last["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in last["state_dict"].values())


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    params = str(REPO_ROOT / "params.yaml")
    assert train_main(["--config", params, "--section", "train.base", "train.baseline", "--model", "bicubic",
                       "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not trainable" in err
    assert train_main(["--config", str(tmp_path / "missing.yaml"), "--section", "a"]) == 2
    assert "cannot read config" in capsys.readouterr().err


def test_cli_names_missing_and_bad_values(tmp_path, capsys):
    assert train_main(["--model", "espcn", "--out", str(tmp_path / "r"), "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the flags: no value for amp, augment, batch, beta1") and "lr_patch" in err
    bad = tmp_path / "p.yaml"
    bad.write_text("train:\n  base: {epochs: ten}\n")
    assert train_main(["--config", str(bad), "--section", "train.base", "--model", "espcn",
                       "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == (f"error: {bad}: train.base.epochs='ten': Input should be a "
                                       "valid integer\n")
    bad.write_text("train:\n  base: {epochs: 3}\n")
    assert train_main(["--config", str(bad), "--section", "train.base", "--model", "espcn",
                       "--out", str(tmp_path / "r")]) == 2
    assert "no value for" in capsys.readouterr().err
    bad.write_text("train:\n  base: {epochs: ten, wings: 2}\n")
    assert train_main(["--config", str(bad), "--section", "train.base"]) == 2
    assert "unknown keys ['wings']" in capsys.readouterr().err


def test_params_sections_merge_in_order_and_flags_win(tmp_path):
    from training.config import load_train_config

    cfg = load_train_config(REPO_ROOT / "params.yaml", ["train.base", "train.bicubic_pp_stage1"],
                            {"out": str(tmp_path), "epochs": 2})
    assert cfg.model_kwargs == {"channels": 34, "bias": True} and cfg.model == "bicubic_pp"
    assert (cfg.epochs, cfg.scale, cfg.train_sets) == (2, 3, ["demo_train"])


def test_trainer_builds_rt4ksr_in_its_training_form(tmp_path):
    from training.checkpoints import build_model

    model, arch = build_model(TrainConfig(**{**BASE, "model": "rt4ksr", "model_kwargs": {}, "out": str(tmp_path),
                                             "train_sets": ["demo_train"], "val_sets": ["demo_valid"]}))
    assert arch["kwargs"] == {"train_form": True}
    # multi-branch; re-parameterised 52,332 (57,541 with forget=True)
    assert sum(p.numel() for p in model.parameters()) == 165_253


def test_nan_in_the_first_epoch_does_not_claim_a_checkpoint(tiny_set, tmp_path):
    """Issue 13 (`lr: inf`): the message said the last good checkpoint was kept in a last.pt that did not exist."""
    plugin = tmp_path / "nanmodel.py"
    plugin.write_text(NAN_PLUGIN)
    cfg = tiny_config(tiny_set, tmp_path / "run", model=f"{plugin}:nan_after", model_kwargs={"ok_calls": 0})
    with pytest.raises(TrainError) as e:
        train(cfg)
    assert str(e.value) == (f"epoch 1: training loss is nan; stopped. No epoch finished, so no checkpoint "
                            f"was written ({tmp_path / 'run'} holds no last.pt); lower --lr or check the data")
    assert not (tmp_path / "run" / "last.pt").exists()


FAILING_PLUGINS = '''
import sys
from torch import nn

class Conv(nn.Module):
    def __init__(self, scale, mode):
        super().__init__()
        self.conv, self.shuffle, self.mode = nn.Conv2d(3, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale), mode
    def forward(self, x):
        if self.mode == "raises":
            raise RuntimeError("kaboom")
        if self.mode == "exits":
            sys.exit(4)
        return self.shuffle(self.conv(x))

def raises(scale=3):
    return Conv(scale, "raises")

def exits(scale=3):
    return Conv(scale, "exits")

def no_weights(scale=3):
    return nn.Upsample(scale_factor=scale)
'''


@pytest.mark.parametrize("factory, said", [
    ("raises", "plug-in '{p}': training epoch 1 raised RuntimeError: kaboom"),
    ("exits", "plug-in '{p}': training epoch 1 called sys.exit(4)"),
    ("no_weights", "plug-in '{p}' has no trainable parameters; nothing to train"),
])
def test_plugin_failing_in_training_is_one_line(tiny_set, tmp_path, factory, said):
    plugin = tmp_path / "failing.py"
    plugin.write_text(FAILING_PLUGINS)
    spec = f"{plugin}:{factory}"
    with pytest.raises(TrainError if factory == "no_weights" else RtsrError) as e:
        train(tiny_config(tiny_set, tmp_path / "run", model=spec, model_kwargs={}))
    assert str(e.value) == said.format(p=spec)
    assert not (tmp_path / "run" / "last.pt").exists()
