"""A shared DVC remote: one machine runs the pipeline and pushes data, weights and results; a fresh
clone pulls them with `dvc repro --pull` and has nothing to recompute.

The pipeline is the real one (embedded profile) with toy epochs, in a copy of the workspace; the
remote is a local folder configured by name, as an S3/GCS/SSH remote would be (README, "A shared
cache"). Outputs with ``cache: false`` (the leaderboard tables and figures) come with git, not
from the remote: they are committed, so the clone has them too.
"""
from __future__ import annotations

import pytest

from tests.pipeline.workspace import git, run, workspace_copy

TOY = ["train.bicubic_pp_stage1.epochs=1", "train.bicubic_pp_stage2.epochs=1", "train.bicubic_pp_stage3.epochs=1",
       "train.baseline.epochs=1", "train.base.pairs_per_epoch=16", "train.base.batch=8",
       "train.base.val_crop=24", "train.base.val_every=1", "evaluate.runtime=off"]


@pytest.mark.slow
def test_fresh_clone_pulls_everything_and_recomputes_nothing(tmp_path):
    """~2 min on 2 idle cores: the toy pipeline (18 stages) once, then push, clone, pull."""
    repo = workspace_copy(tmp_path / "ws")
    run(["python", "-m", "core.params", *TOY], repo)
    run(["dvc", "remote", "add", "--default", "shared", str(tmp_path / "remote")], repo)
    run(["dvc", "repro"], repo)
    pushed = run(["dvc", "push"], repo)
    assert "pushed" in pushed, pushed
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "toy pipeline run: dvc.lock, leaderboard/, the remote")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    assert not (clone / "data").exists()
    log = run(["dvc", "repro", "--pull"], clone)
    assert "Running stage" not in log, log
    stages = run(["dvc", "stage", "list", "--name-only"], clone).split()
    # the embedded profile: fetch x3, degrade x3, training_sets, 3 stages, 2 baselines, 4 evaluations,
    # evaluate_zoo (no entries there), leaderboard
    assert len(stages) == 18
    for stage in stages:
        assert f"Pulling data for stage: '{stage}'" in log, stage
    assert log.rstrip().endswith("Data and pipelines are up to date."), log
    # ./dvc.yaml's stages (a bare `dvc status` also lists ablation/dvc.yaml's, which never ran here)
    assert "Data and pipelines are up to date." in run(["dvc", "status", "dvc.yaml"], clone)
    for path in ("data/train/bicubic_pp/best.pt", "data/train/espcn/last.pt", "data/results/abpn_demo_x3.json",
                 "data/lr/ntire23_x3/demo/manifest.json", "leaderboard/site/index.html",
                 "leaderboard/leaderboard.md"):
        assert (clone / path).is_file(), path
    best = "data/train/bicubic_pp/best.pt"
    assert (clone / best).read_bytes() == (repo / best).read_bytes()
