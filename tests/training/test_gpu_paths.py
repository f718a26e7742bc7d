"""The trainer's CUDA paths, small: GPU-resident data, AMP on/off, checkpoints that load on the CPU,
and the training-throughput probe (the GPU suite's training step) that shares the loop's step.

Each test runs on the CPU too, so the code is exercised on every machine; the ``cuda`` cases are
marked ``gpu`` and skip without a CUDA device (the GPU suite runs them).
"""
import numpy as np
import pytest
import torch

import models  # noqa: F401  (registers the models)
from models.registry import create_model, load_checkpoint
from tests.training.tiny import tiny_config, write_images
from training.loop import train
from training.throughput import measure_throughput

CUDA = pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(),
                                                                       reason="needs CUDA")])
DEVICES = ["cpu", CUDA]


@pytest.fixture(scope="module")
def smooth_set(tmp_path_factory) -> str:
    """folder: dataset of two smooth 96x72 / 84x96 RGB images."""
    return write_images(tmp_path_factory.mktemp("smooth"), [(96, 72), (84, 96)])


def device_cfg(dataset: str, out, device: str, **kw):
    """Two short epochs of an 8-channel Bicubic++ on ``device``."""
    return tiny_config(dataset, out, device=device, epochs=2, pairs_per_epoch=16, seed=1, **kw)


@pytest.mark.parametrize("amp", [True, False])
@pytest.mark.parametrize("device", DEVICES)
def test_trainer_runs_and_checkpoints_load_on_cpu(smooth_set, tmp_path, device, amp):
    summary = train(device_cfg(smooth_set, tmp_path / "run", device, amp=amp))
    assert summary["device"] == device and summary["epochs"] == 2
    assert np.isfinite(summary["final_train_loss"]) and summary["best_val_psnr_rgb"] > 5
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert all(v.device.type == "cpu" for v in last["state_dict"].values())
    assert bool(last["scaler"]) == (device == "cuda" and amp)  # a disabled scaler saves no state
    assert last["config"]["amp"] is amp  # part of the run's identity
    model = create_model("bicubic_pp", weights=tmp_path / "run" / "best.pt")
    assert model.head.out_channels == 8


@pytest.mark.parametrize("device", DEVICES)
def test_throughput_amp_on_and_off(smooth_set, tmp_path, device):
    for amp in (True, False):
        row = measure_throughput(device_cfg(smooth_set, tmp_path, device, amp=amp), steps=3, warmup=1)
        assert row["patches_per_s"] > 0 and row["amp"] == (amp and device == "cuda")
        assert row["mean_loss"] is not None and row["batch"] == 4 and row["steps"] == 3
