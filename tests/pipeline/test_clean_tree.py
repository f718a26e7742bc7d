"""After `dvc repro` the git tree stays clean: every pipeline output is git-ignored, none is committed,
and what must stay committed (regression references, the GPU report, the README screenshot) lies
where no stage writes."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from core.paths import REPO_ROOT

COMMITTED = ("references/embedded.json", "references/mirror.json", "leaderboard/site-screenshot.png",
             "leaderboard/gpu/nvidia-h200/report.md")


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def outputs() -> list[str]:
    """Every output path of the pipeline that `dvc repro` runs (./dvc.yaml's stages, resolved by DVC
    from params.yaml), relative. ablation/dvc.yaml is not part of it: its metrics/variant.json is committed
    with each DVC experiment on purpose (README, "The ablation grid")."""
    if shutil.which("git") is None or _git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("needs a git checkout")
    from dvc.repo import Repo

    with Repo(str(REPO_ROOT)) as repo:
        return sorted({str(out.def_path) for stage in repo.index.stages for out in stage.outs
                       if stage.dvcfile.relpath == "dvc.yaml"})


def test_every_output_is_git_ignored_and_none_is_committed(outputs):
    assert "leaderboard/metrics" in outputs and "data/train/sets.json" in outputs
    not_ignored = [o for o in outputs if _git("check-ignore", "-q", o).returncode != 0]
    assert not not_ignored, f"pipeline outputs git would show after `dvc repro`: {not_ignored}"
    tracked = _git("ls-files", "--", *outputs).stdout.split()
    assert not tracked, f"committed files the pipeline rewrites: {tracked}"


def test_what_must_stay_committed_is_no_output_and_not_ignored(outputs):
    for path in COMMITTED:
        assert (REPO_ROOT / path).is_file(), path
        assert _git("check-ignore", "-q", path).returncode != 0, f"{path} is git-ignored"
        assert not any(path == o or path.startswith(o + "/") for o in outputs), f"{path} is an output"


def test_dvc_lock_is_not_committed_and_dvc_is_quiet():
    """dvc.lock records this machine's outputs (runtimes, trained weights): never committed (README)."""
    if shutil.which("git") is None or _git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("needs a git checkout")
    assert _git("ls-files", "dvc.lock").stdout == ""
    config = (REPO_ROOT / ".dvc" / "config").read_text()
    for line in ("analytics = false", "autostage = false", "check_update = false"):
        assert line in config
    assert _git("check-ignore", "-q", "dvc_plots/index.html").returncode == 0
