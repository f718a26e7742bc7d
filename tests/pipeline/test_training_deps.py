"""Training stages depend only on the sets train.base names: degrading another set never makes them stale.

Run on a copy of the workspace with real DVC: the data stages up to ``training_sets`` run for real
(embedded photos, seconds), the training stages' outputs are stand-ins recorded with ``dvc commit``
(training itself would take minutes), then a set outside the training lists is degraded.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.pipeline.workspace import copy_workspace, dvc, dvc_env, dvc_status
from tests.training.tiny import write_images

TRAINING = ("bicubic_pp_stage1", "train_baseline@espcn")


@pytest.mark.slow
def test_degrading_a_test_set_leaves_training_up_to_date(tmp_path):
    if shutil.which("dvc") is None or shutil.which("git") is None:
        pytest.skip("dvc and git needed")
    ws = copy_workspace(tmp_path / "ws")
    dvc(ws, "repro", "training_sets")
    for stage in TRAINING:  # stand-in outputs, recorded as if the stage had run
        out = ws / "data" / "train" / stage.split("@")[-1]
        out.mkdir(parents=True)
        (out / "best.pt").write_bytes(b"stand-in")
    dvc(ws, "commit", "--force", *TRAINING)
    assert not set(TRAINING) & set(dvc_status(ws))

    extra = write_images(tmp_path / "extra", [(96, 72)])  # a test set no training stage names
    subprocess.run([sys.executable, "-m", "datasets.degrade", extra, "--scale", "3"], cwd=ws, check=True,
                   env=dvc_env(), capture_output=True)
    assert any((ws / "data" / "lr" / "ntire23_x3").glob("folder-extra-*/"))
    status = dvc_status(ws)
    assert "training_sets" in status  # its folder dep changed; its output will not
    assert not set(TRAINING) & set(status), status
    dvc(ws, "repro", "training_sets")
    assert not set(TRAINING) & set(dvc_status(ws))

    # the fingerprint does follow the training data: one changed LR file of a training set
    with open(ws / "data" / "lr" / "ntire23_x3" / "demo_train" / "manifest.json", "a") as fh:
        fh.write(" ")
    dvc(ws, "repro", "--single-item", "training_sets")  # without it DVC would restore demo_train first
    status = dvc_status(ws)
    for stage in TRAINING:
        assert "data/train/sets.json" in str(status.get(stage)), (stage, status)
