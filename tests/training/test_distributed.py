"""Data-parallel training on the CPU: 2 processes under torchrun (gloo) against 1 with the same global batch.

The two runs see the same patches (every rank draws the global batch, crops its half), so their
per-epoch losses and final weights agree to float32 tolerance; only the gradient all-reduce sums
in another order. A run killed after one epoch in 1 process resumes under 2 and ends where the
uninterrupted 2-process run ends.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
import torch
import yaml

from core.paths import REPO_ROOT
from models.registry import load_checkpoint
from tests.training.tiny import BASE, tiny_config, write_images
from training import distributed
from training.loop import train

# float32 with another summation order of the gradient, 16 Adam steps: measured, the per-epoch losses
# agree in all 6 significant digits metrics.csv keeps and the weights within 3e-8 (2 cores, torch
# 2.13 CPU); the bounds leave a margin of 10 and 30.
LOSS_RTOL = 1e-5
WEIGHT_ATOL = 1e-6
RUN = {**BASE, "epochs": 4, "pairs_per_epoch": 16, "batch": 4, "val_every": 2}
CONFIG_KEYS = set(RUN) - {"progress", "device"}


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("ddp"), [(96, 72), (84, 96), (90, 90)])


def torchrun(nproc: int, params, out, tmp_path) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node N -m training.train`` on the params file's ``run`` section."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "training.train", "--config", str(params), "--section", "run", "--out", str(out),
           "--device", "cpu", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def losses(out) -> list[float]:
    with open(out / "metrics.csv", encoding="utf-8") as fh:
        return [float(row["train_loss"]) for row in csv.DictReader(fh)]


def assert_same_weights(a, b):
    sa, sb = load_checkpoint(a)["state_dict"], load_checkpoint(b)["state_dict"]
    assert sa.keys() == sb.keys()
    for key in sa:
        torch.testing.assert_close(sa[key], sb[key], rtol=0, atol=WEIGHT_ATOL, msg=key)


@pytest.mark.slow
def test_two_processes_match_one_and_resume_across_world_sizes(tiny_set, tmp_path):
    """~25 s on 2 cores (two torchrun launches)."""
    torch.set_num_threads(1)
    one = train(tiny_config(tiny_set, tmp_path / "one", **{k: RUN[k] for k in CONFIG_KEYS - {"model"}}))
    params = tmp_path / "params.yaml"
    section = {k: RUN[k] for k in CONFIG_KEYS} | {"train_sets": [tiny_set], "val_sets": [tiny_set]}
    params.write_text(yaml.safe_dump({"run": section}))

    proc = torchrun(2, params, tmp_path / "two", tmp_path)
    assert proc.stderr.count("done: best val PSNR") == 1, "only rank 0 prints (core.progress, on stderr)"
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "best.pt", "last.pt", "metrics.csv", "summary.json", "val.csv"]
    assert len(losses(tmp_path / "one")) == RUN["epochs"]
    assert losses(tmp_path / "two") == pytest.approx(losses(tmp_path / "one"), rel=LOSS_RTOL)
    assert_same_weights(tmp_path / "one" / "last.pt", tmp_path / "two" / "last.pt")
    assert load_checkpoint(tmp_path / "two" / "best.pt")["val_psnr_rgb"] == pytest.approx(
        one["best_val_psnr_rgb"], abs=1e-3)

    class Killed(Exception):
        pass

    def kill_after_first(epoch):
        if epoch == 1:
            raise Killed

    with pytest.raises(Killed):  # 1 process, killed after epoch 1 ...
        train(tiny_config(tiny_set, tmp_path / "resumed", **{k: RUN[k] for k in CONFIG_KEYS - {"model"}}),
              on_epoch_end=kill_after_first)
    torchrun(2, params, tmp_path / "resumed", tmp_path)  # ... resumed by 2 processes
    assert load_checkpoint(tmp_path / "resumed" / "last.pt")["epoch"] == RUN["epochs"]
    assert losses(tmp_path / "resumed") == pytest.approx(losses(tmp_path / "two"), rel=LOSS_RTOL)
    assert_same_weights(tmp_path / "two" / "last.pt", tmp_path / "resumed" / "last.pt")


def test_the_global_batch_is_split_not_redrawn(monkeypatch):
    """Rank r of N crops items [r*B/N, (r+1)*B/N) of the one global batch; B must divide by N."""
    monkeypatch.setattr(distributed, "active", lambda: True)
    monkeypatch.setattr(distributed.dist, "get_world_size", lambda: 2)
    shares = []
    for r in (0, 1):
        monkeypatch.setattr(distributed.dist, "get_rank", lambda r=r: r)
        shares.append(distributed.shard(list("abcdef")))
    assert shares == [["a", "b", "c"], ["d", "e", "f"]]
    assert not distributed.is_main()
    with pytest.raises(Exception, match="batch=5 is the global batch and must be divisible by the 2"):
        distributed.check_global_batch(5)


def test_without_torchrun_everything_is_the_single_process_identity(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with distributed.process_group("cpu"):
        assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
        assert distributed.shard([1, 2, 3]) == [1, 2, 3]
        assert distributed.mean_over_ranks(torch.tensor(2.5)) == 2.5
        model = torch.nn.Linear(2, 2)
        assert distributed.wrap(model, torch.device("cpu")) is model


def test_ranks_that_see_different_run_folders_are_refused(monkeypatch):
    """A node without the shared --out folder would start over while rank 0 resumes: refused."""
    monkeypatch.setattr(distributed, "active", lambda: True)
    monkeypatch.setattr(distributed.dist, "get_backend", lambda: "gloo")

    def other_rank_resumes_at_3(tensor, op=None):  # this rank: 0; the other: 3
        tensor.copy_(torch.maximum(tensor, torch.tensor([3, -3])))

    monkeypatch.setattr(distributed.dist, "all_reduce", other_rank_resumes_at_3)
    with pytest.raises(Exception, match=r"disagree on the epoch \(0 to 3\).*shared by all nodes"):
        distributed.check_same_on_all_ranks(0, "the epoch")
    distributed.check_same_on_all_ranks(3, "the epoch")  # every rank at 3: fine
