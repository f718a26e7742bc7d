"""A throw-away copy of the workspace for tests that run ``dvc`` on it (git-tracked and new files only)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from core.paths import REPO_ROOT


def copy_workspace(dest: Path) -> Path:
    """Copy every file git tracks or would track (no data/, no caches) into ``dest``; ``git init`` it."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                           check=True, capture_output=True, text=True).stdout.splitlines()
    for rel in files:
        if (REPO_ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / rel, dest / rel)
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
