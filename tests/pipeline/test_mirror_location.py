"""The README's mirror switch works wherever the mirror is: `$RTSR_DATA_MIRROR` is the one place its
location is given (no params key, no path in conf/ or dvc.yaml)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from core.params import composed_params
from core.paths import REPO_ROOT
from tests.pipeline.workspace import copy_workspace, dvc, dvc_env


def test_no_mirror_path_in_the_pipeline_definition():
    for profile in ("embedded", "mirror", "paper"):
        assert "mirror" not in composed_params([f"profile={profile}"]), profile
    fetch = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]["fetch"]
    assert fetch["cmd"] == "python -m datasets.fetch ${item.dataset}" and "params" not in fetch
    for folder in ("conf", "core"):
        for path in (REPO_ROOT / folder).rglob("*.yaml"):
            assert "sr-data" not in path.read_text(), path


@pytest.mark.slow
@pytest.mark.mirror
def test_dvc_exp_run_profile_mirror_fetches_from_a_mirror_anywhere(mirror, tmp_path):
    """`export RTSR_DATA_MIRROR=...; dvc exp run -S profile=mirror` with the mirror in a folder that is
    not ../shared/sr-data (only the stage fetch@set5 is run: seconds)."""
    if shutil.which("dvc") is None or shutil.which("git") is None:
        pytest.skip("dvc and git needed")
    elsewhere = tmp_path / "somewhere else" / "my-mirror"
    shutil.copytree(mirror / "Set5", elsewhere / "Set5")
    shutil.copy2(mirror / "MANIFEST.tsv", elsewhere / "MANIFEST.tsv")
    ws = copy_workspace(tmp_path / "ws")
    env = dvc_env(RTSR_DATA_MIRROR=str(elsewhere), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t.invalid",
                  GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t.invalid")
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "workspace"], cwd=ws, check=True, env=env)
    dvc(ws, "exp", "run", "-S", "profile=mirror", "fetch@set5", env=env)
    manifest = json.loads((ws / "data" / "hr" / "set5" / "manifest.json").read_text())
    assert manifest["source"] == f"mirror:{elsewhere / 'Set5' / 'HR'}"
    assert len(manifest["images"]) == 5
    assert yaml.safe_load((ws / "params.yaml").read_text())["profile"] == "mirror"
