"""Stage 2 (structured pruning with tied residual channels) and stage 3 (bias removal) of Bicubic++."""
import copy

import pytest
import torch

from core.paths import REPO_ROOT
from models.registry import create_model
from training.checkpoints import save_checkpoint
from training.debias import without_biases
from training.prune import (
    PruneError,
    check_target,
    conv_groups,
    greedy_prune,
    group_widths,
    remove_channels,
    zero_channel,
)


def _random_model(**kwargs):
    """A Bicubic++ with random weights and non-zero random biases."""
    torch.manual_seed(0)
    model = create_model("bicubic_pp", 3, **kwargs)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    return model


@pytest.mark.parametrize("kwargs,removed", [
    ({"channels": 34, "bias": True}, {"stream": [3, 17], "b0.c0": [0, 33]}),
    ({"channels": 6, "bias": True, "convs_per_block": 3, "blocks": 2},
     {"stream": [5, 1], "b0.c0": [2, 3], "b0.c1": [0, 1], "b1.c0": [4, 5], "b1.c1": [1, 2]}),
])
def test_structural_pruning_equals_zeroed_channels(kwargs, removed):
    model = _random_model(**kwargs)
    masked = copy.deepcopy(model)
    for group, chans in removed.items():
        for c in chans:
            zero_channel(masked, group, c)
    small, new_kwargs = remove_channels(model, removed, "bicubic_pp", 3, kwargs)
    assert new_kwargs["channels"] == kwargs["channels"] - 2
    x = torch.rand(2, 3, 14, 18, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref, out = masked(x), small(x)
    assert out.shape == (2, 3, 42, 54)
    torch.testing.assert_close(out, ref, rtol=0, atol=2e-6)
    # and the zeroed channels really mattered: the unpruned network differs
    assert (model(x) - ref).abs().max() > 1e-3


def test_groups_tie_head_and_last_block_conv():
    model = _random_model(channels=34, bias=True)
    assert conv_groups(model) == {"head": ("stream", None), "tail": (None, "stream"),
                                  "blocks.0.0": ("b0.c0", "stream"), "blocks.0.1": ("stream", "b0.c0")}
    assert group_widths(model) == {"stream": 34, "b0.c0": 34}


def test_greedy_prune_removes_least_harmful_channel_per_step():
    model = _random_model(channels=34, bias=True)
    # a stand-in "PSNR": minus the total weight magnitude of channels 30..33 of every group still alive,
    # so the cheapest removal is always the highest-norm channel among 30..33
    def evaluate(m):
        return -sum(float(conv.weight[30:].detach().abs().sum()) for conv in (m.head, m.blocks[0][0], m.blocks[0][1]))
    removed = greedy_prune(model, 32, evaluate, log=lambda _: None)
    assert sorted(len(v) for v in removed.values()) == [2, 2]
    assert all(c >= 30 for chans in removed.values() for c in chans)
    log = model.prune_log
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert all(r["val_psnr_after"] >= r["val_psnr_before"] for r in log)
    assert {r["group"] for r in log} == {"stream", "b0.c0"}


@pytest.mark.parametrize("target", [35, 0, -3])
def test_prune_target_out_of_range(target):
    with pytest.raises(PruneError, match="target"):
        check_target({"stream": 34, "b0.c0": 34}, target)


def test_stage3_drops_biases_and_loads_as_default_bicubic_pp(tmp_path):
    model = _random_model(channels=32, bias=True)
    arch = {"channels": 32, "bias": True}
    small, kwargs = without_biases("bicubic_pp", 3, arch, model.state_dict())
    assert kwargs == {"channels": 32, "bias": False}
    assert sum(p.numel() for p in small.parameters()) == 50400
    torch.testing.assert_close(small.head.weight, model.head.weight, rtol=0, atol=0)
    path = tmp_path / "best.pt"
    save_checkpoint({"arch": {"name": "bicubic_pp", "scale": 3, "kwargs": kwargs},
                 "state_dict": small.state_dict()}, path)
    loaded = create_model("bicubic_pp", weights=path)
    assert sum(p.numel() for p in loaded.parameters()) == 50400
    assert type(loaded).__name__ == "BicubicPP" and loaded.head.bias is None


def test_three_stage_cli_pipeline_on_tiny_data(tmp_path):
    """Stage 1 (34 ch + bias) -> stage 2 (prune to 32, log, finetune) -> stage 3 (no bias): 50,400 params."""
    import csv

    import numpy as np
    from PIL import Image

    from training.prune import main as prune_main
    from training.train import main as train_main

    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
    Image.fromarray(small).resize((72, 72), Image.BICUBIC).save(folder / "a.png")
    common = ["--config", str(REPO_ROOT / "params.yaml"), "--section", "train.base",
              "--train-sets", f"folder:{folder}", "--val-sets", f"folder:{folder}", "--epochs", "1",
              "--pairs-per-epoch", "4", "--batch", "4", "--lr-patch", "8", "--lr", "5e-4", "--beta1", "0.99",
              "--schedule", "paper", "--val-every", "1", "--val-crop", "0", "--no-progress", "--device", "cpu"]
    s1, s2, s3 = tmp_path / "s1", tmp_path / "s2", tmp_path / "s3"
    assert train_main(["--model", "bicubic_pp", "--arch", "channels=34", "bias=true", "--out", str(s1), *common]) == 0
    assert prune_main(["--model", "bicubic_pp", "--init", str(s1 / "best.pt"), "--target", "32",
                       "--out", str(s2), *common]) == 0
    rows = list(csv.DictReader((s2 / "prune_log.csv").open()))
    assert len(rows) == 4 and {r["group"] for r in rows} == {"stream", "b0.c0"}
    assert [int(r["width_after"]) for r in rows if r["group"] == "stream"] == [33, 32]
    assert all(r["val_psnr_before"] and r["val_psnr_after"] for r in rows)
    assert load_checkpoint_arch(s2 / "best.pt") == {"channels": 32, "bias": True}
    best = (s2 / "best.pt").read_bytes()
    assert prune_main(["--model", "bicubic_pp", "--init", str(s1 / "best.pt"), "--target", "31",
                       "--out", str(s2), *common]) == 2  # issue 20: another target into a finished run
    assert (s2 / "best.pt").read_bytes() == best
    assert train_main(["--model", "bicubic_pp", "--init", str(s2 / "best.pt"), "--drop-bias",
                       "--out", str(s3), *common]) == 0
    final = create_model("bicubic_pp", weights=s3 / "best.pt")
    assert sum(p.numel() for p in final.parameters()) == 50400
    assert load_checkpoint_arch(s3 / "best.pt") == {"channels": 32, "bias": False}


def load_checkpoint_arch(path):
    """The model kwargs recorded in a project checkpoint."""
    from models.registry import load_checkpoint

    return load_checkpoint(path)["arch"]["kwargs"]
