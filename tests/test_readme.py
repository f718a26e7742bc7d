"""The README's commands are the ones that work: its own-model block runs verbatim on a copy of the
workspace, with the mirror in a folder of its own (a user's, not the project's machines' layout)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from core.paths import REPO_ROOT
from tests.pipeline.workspace import copy_workspace, dvc_env

MARK = "<!-- own-model: tests/test_readme.py runs this block verbatim -->"


def own_model_block() -> str:
    """The bash block right after the own-model marker in README.md."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert MARK in text, "README.md lost the own-model marker"
    match = re.search(r"```bash\n(.*?)```", text[text.index(MARK):], re.DOTALL)
    assert match, "no bash block after the own-model marker"
    return match.group(1)


def test_the_own_model_block_fetches_and_degrades_its_test_set_first():
    block = own_model_block()
    steps = [block.index(s) for s in ("datasets.fetch set5", "datasets.degrade set5", "eval.evaluate --model mynet",
                                      "eval.evaluate --model bicubic", "eval.leaderboard")]
    assert steps == sorted(steps)


@pytest.mark.slow
@pytest.mark.mirror
def test_own_model_block_runs_verbatim(mirror, tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("bash needed")
    elsewhere = tmp_path / "a user's mirror"
    shutil.copytree(mirror / "Set5", elsewhere / "Set5")
    shutil.copy2(mirror / "MANIFEST.tsv", elsewhere / "MANIFEST.tsv")
    ws = copy_workspace(tmp_path / "ws")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", own_model_block()], cwd=ws, text=True,
                          capture_output=True, env=dvc_env(RTSR_DATA_MIRROR=str(elsewhere)), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    mine = json.loads((ws / "data" / "results" / "mynet_set5_x3.json").read_text())
    assert (mine["label"], mine["dataset"], len(mine["per_image"])) == ("mynet", "set5", 5)
    board = json.loads((ws / "leaderboard" / "leaderboard.json").read_text())
    assert {r["label"] for r in board} == {"mynet", "bicubic"}
    assert all(r["score"] is not None for r in board)
    assert "mynet" in proc.stdout  # the printed table


def test_no_placeholder_is_left_in_the_readme():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    left = sorted(set(re.findall(r"@@[A-Z_]*@@", text)))
    assert not left, f"README.md still shows placeholders {left}: fill them from a real run"
