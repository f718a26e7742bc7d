"""A throwaway copy of the workspace as its own git repository, and DVC run there, for pipeline tests.

The copy holds the files git would check out (tracked, plus new files not yet committed and not
ignored), committed once; ``dvc`` runs in it with the user's environment minus the test session's
``RTSR_DATA_ROOT`` (the pipeline's outputs must land in the copy's ``data/``, as in a user's checkout).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from core.paths import REPO_ROOT


def _copy_checkout(dest: Path) -> None:
    """Copy every file git tracks or would track (no data/, no caches) into ``dest``."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                           check=True, capture_output=True, text=True).stdout.splitlines()
    for rel in files:
        if (REPO_ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / rel, dest / rel)


def copy_workspace(dest: Path) -> Path:
    """The workspace's files in ``dest``, ``git init``-ed (nothing committed); returns ``dest``."""
    _copy_checkout(dest)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


def dvc_env(**extra: str) -> dict:
    """The environment of a user's shell: the tests' own data root (``RTSR_DATA_ROOT``) removed."""
    env = {k: v for k, v in os.environ.items() if k != "RTSR_DATA_ROOT"}
    return {**env, **extra}


def dvc(workspace: Path, *args: str, env: dict | None = None) -> str:
    """Run ``dvc ARGS`` in ``workspace``; its stdout (AssertionError with the output on failure)."""
    proc = subprocess.run(["dvc", *args], cwd=workspace, capture_output=True, text=True,
                          env=env or dvc_env(), check=False)
    assert proc.returncode == 0, f"dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def dvc_status(workspace: Path) -> dict:
    """``dvc status --json`` of a workspace: {stage: [changes]}."""
    return json.loads(dvc(workspace, "status", "--json"))


GIT_ID = ["-c", "user.name=rtsr-test", "-c", "user.email=test@rtsr-bench.invalid"]


def pipeline_env() -> dict:
    """The environment of a user's shell: no test data root, one thread per process on a 2-core runner."""
    env = {k: v for k, v in os.environ.items() if k != "RTSR_DATA_ROOT"}
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run(cmd: list[str], cwd: Path, timeout: float = 600) -> str:
    """Run ``cmd`` in ``cwd``; its stdout, or AssertionError with the output's tail when it fails."""
    proc = subprocess.run(cmd, cwd=cwd, env=pipeline_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def git(cwd: Path, *args: str) -> str:
    """``git`` with a fixed identity in ``cwd``."""
    return run(["git", *GIT_ID, *args], cwd)


def workspace_copy(dest: Path) -> Path:
    """The workspace's files in ``dest``, ``git init``-ed and committed once on ``main``; returns ``dest``.

    Skips the calling test when ``dvc`` or ``git`` is not on PATH."""
    if shutil.which("dvc") is None or shutil.which("git") is None:
        pytest.skip("dvc and git needed")
    _copy_checkout(dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "workspace copy")
    return dest


def wait_for_queue(repo: Path, timeout: float = 900, poll: float = 3) -> int:
    """Wait until DVC's experiment queue in ``repo`` has nothing queued or running; the number that succeeded.

    Reads the queue through DVC's API (queued messages and result files) and not with
    ``dvc queue status``, whose worker inspection can race with a busy worker on the filesystem
    broker and stop it (treeverse/dvc-task#73).
    """
    from dvc.repo import Repo

    deadline = time.monotonic() + timeout
    while True:
        with Repo(str(repo)) as dvc_repo:
            queue = dvc_repo.experiments.celery_queue
            pending = len(list(queue.iter_queued())) + len(list(queue.iter_active()))
            if not pending:
                return len(list(queue.iter_success()))
        assert time.monotonic() < deadline, f"the DVC queue still had {pending} experiments after {timeout} s"
        time.sleep(poll)
