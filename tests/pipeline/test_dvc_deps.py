"""dvc.yaml's code deps follow one rule, checked against what each stage's command really imports.

Rule (dvc.yaml header): a stage depends on the library packages its command imports from as whole
folders (core, datasets, baselines, models) and on the exact files it imports from eval/ and
training/. So every code change that can change a stage's output re-runs it, and editing a
reporting or pruning module does not re-run training or evaluation.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from core.paths import REPO_ROOT
from tests.importgraph import closure_files

LIBRARY = ("core", "datasets", "baselines", "models")
PER_FILE = ("eval", "training")


PIPELINES = ("dvc.yaml", "ablation/dvc.yaml")  # the ablation stages run from the root (wdir ..)


def stages() -> dict[str, dict]:
    """The stage definitions of every pipeline file (templates, before matrix expansion), by DVC address."""
    out = {}
    for pipeline in PIPELINES:
        for name, stage in yaml.safe_load((REPO_ROOT / pipeline).read_text())["stages"].items():
            out[name if pipeline == "dvc.yaml" else f"{pipeline}:{name}"] = stage
    return out


def command_module(cmd: str) -> str:
    """The module a stage's ``python -m MODULE ...`` command runs."""
    match = re.match(r"\s*python -m ([\w.]+)", cmd)
    assert match, f"stage command is not `python -m MODULE ...`: {cmd!r}"
    return match.group(1)


def code_deps(deps: list[str]) -> tuple[set[str], set[str]]:
    """(folder deps of project packages, .py file deps) of a stage."""
    folders = {d for d in deps if d in LIBRARY + PER_FILE}
    files = {d for d in deps if d.endswith(".py")}
    return folders, files


@pytest.mark.parametrize("name", sorted(stages()))
def test_stage_code_deps_follow_the_rule(name):
    stage = stages()[name]
    needed = closure_files(command_module(stage["cmd"]))
    folders, files = code_deps(stage["deps"])
    assert not folders & set(PER_FILE), f"{name}: list the files of eval/ and training/, not the folder"
    assert not {f for f in files if f.split("/")[0] in LIBRARY}, f"{name}: depend on library folders"
    used_packages = {f.split("/")[0] for f in needed}
    uncovered = sorted(f for f in needed if f.split("/")[0] not in folders and f not in files)
    assert not uncovered, f"{name}: its command imports files outside its deps: {uncovered}"
    assert folders <= used_packages, f"{name}: depends on packages it never imports: {folders - used_packages}"
    stale = sorted(files - needed)
    assert not stale, f"{name}: depends on files its command does not import: {stale}"


def test_rule_check_catches_a_missing_file(monkeypatch):
    """The check can fail: drop one needed eval/ file from a stage and it is reported."""
    full = stages()
    broken = {**full["evaluate_bicubic"], "deps": [d for d in full["evaluate_bicubic"]["deps"]
                                                     if d != "eval/color.py"]}
    monkeypatch.setattr(__import__("tests.pipeline.test_dvc_deps", fromlist=["x"]), "stages",
                        lambda: {**full, "evaluate_bicubic": broken})
    with pytest.raises(AssertionError, match=r"eval/color\.py"):
        test_stage_code_deps_follow_the_rule("evaluate_bicubic")


def test_editing_color_py_makes_dvc_status_list_the_evaluate_stages(tmp_path):
    """In a copy of the workspace, an edit of eval/color.py shows as a changed dep of every evaluate stage."""
    if shutil.which("dvc") is None or shutil.which("git") is None:
        pytest.skip("dvc and git needed")
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, check=True, capture_output=True,
                             text=True).stdout.split()
    copy = tmp_path / "ws"
    for rel in tracked:
        if (REPO_ROOT / rel).is_file():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / rel, copy / rel)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    with open(copy / "eval" / "color.py", "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    status = _status(copy)
    evaluate = [s for s in status if s.startswith(("evaluate_bicubic@", "evaluate_trained@"))]
    assert evaluate, status
    for stage in evaluate:
        assert "eval/color.py" in _changed_deps(status[stage]), stage
    for stage in ("fetch@demo", "degrade@demo"):
        assert "eval/color.py" not in _changed_deps(status.get(stage, [])), stage


def _status(workspace: Path) -> dict:
    """``dvc status --json`` of a workspace."""
    import json

    out = subprocess.run(["dvc", "status", "--json"], cwd=workspace, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def _changed_deps(entries: list) -> set[str]:
    """The paths of a stage's ``changed deps`` in ``dvc status --json``."""
    return {path for e in entries if isinstance(e, dict) for path in e.get("changed deps", {})}


def test_evaluation_stages_depend_on_evaluate_by_leaf_key():
    """Adding an ``evaluate.external`` entry re-runs only the stages of that entry, not every evaluation."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    leaves = {f"evaluate.{key}" for key in params["evaluate"]}
    used = {name: [p for p in stage.get("params", []) if str(p).startswith("evaluate")]
            for name, stage in stages().items()}
    assert all(p in leaves - {"evaluate.external"} for ps in used.values() for p in ps), used
    assert used["evaluate_bicubic"] == ["evaluate.runtime", "evaluate.warmup", "evaluate.passes"]
    assert used["evaluate_zoo"] == ["evaluate.warmup", "evaluate.passes"]
