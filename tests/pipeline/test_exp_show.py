"""`dvc exp show` works on this workspace: no params key shares a name with a dependency folder, and
the README's exp-show hints run verbatim (DVC's column table failed with ``unexpected error - 'baselines'``
when the params key ``baselines`` sat beside the dependency folder ``baselines/``)."""
from __future__ import annotations

import re
import shlex

import pytest
import yaml

from core.paths import REPO_ROOT
from tests.pipeline.test_params import PROFILES, composed
from tests.pipeline.workspace import run, workspace_copy
from training.config import ConfigError, check_params


def readme_exp_show_hints() -> list[str]:
    """The README's `dvc exp show ...` command lines that keep the table readable, comments stripped."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("keep it readable", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines() if line.startswith("dvc exp show")]


def param_columns(node: dict, prefix: str = "") -> set[str]:
    """The params columns of `dvc exp show`: dotted paths to every leaf (a list is one leaf)."""
    cols = set()
    for key, value in node.items():
        name = f"{prefix}{key}"
        cols |= param_columns(value, f"{name}.") if isinstance(value, dict) else {name}
    return cols


def dependency_columns() -> set[str]:
    """The dependency columns of `dvc exp show`: every literal dep path of dvc.yaml and ablation/dvc.yaml."""
    deps = set()
    for path in (REPO_ROOT / "dvc.yaml", REPO_ROOT / "ablation" / "dvc.yaml"):
        for stage in yaml.safe_load(path.read_text())["stages"].values():
            deps |= {d for d in stage.get("deps", []) if "${" not in d}
    return deps


@pytest.mark.parametrize("profile", PROFILES)
def test_no_params_column_is_the_name_of_a_dependency(tmp_path, profile):
    deps = dependency_columns()
    assert {"baselines", "datasets", "models"} <= deps
    assert param_columns(composed(tmp_path, f"profile={profile}")) & deps == set()


@pytest.mark.parametrize(("old", "new"), [("baselines", "baseline_models"), ("datasets", "prepared_sets")])
def test_a_renamed_params_key_is_refused_with_its_new_name(old, new):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params[old] = params.pop(new)
    with pytest.raises(ConfigError, match=f"params key '{old}' was renamed to '{new}'"):
        check_params(params, "params.yaml")


def test_the_readmes_exp_show_hints_run_verbatim(tmp_path):
    hints = readme_exp_show_hints()
    assert hints == ["dvc exp show --only-changed",
                     "dvc exp show --drop '.*' --keep 'Experiment|profile|.*bicubic_pp.json:psnr_rgb'"]
    repo = workspace_copy(tmp_path / "ws")
    for hint in hints:
        out = run(shlex.split(hint), repo, timeout=300)
        assert "workspace" in out and "main" in out, f"{hint}: no rows in\n{out}"
    assert "embedded" in run(shlex.split(hints[1]), repo, timeout=300)
