"""The DVC pipeline's configuration: params.yaml is the embedded profile, profiles compose, stages exist."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from core.paths import REPO_ROOT
from datasets.registry import get_dataset
from models import list_models

PROFILES = REPO_ROOT / "conf"
NAMES = ("embedded", "mirror", "paper")


def load_profile(name: str) -> dict:
    """The parsed profile file ``conf/profile/<name>.yaml``."""
    return yaml.safe_load((PROFILES / "profile" / f"{name}.yaml").read_text())


def test_params_yaml_is_the_embedded_profile():
    assert yaml.safe_load((REPO_ROOT / "params.yaml").read_text()) == load_profile("embedded")


def test_hydra_composes_each_profile_as_dvc_exp_run_would():
    hydra = pytest.importorskip("hydra")
    from omegaconf import OmegaConf

    for name in NAMES:
        with hydra.initialize_config_dir(config_dir=str(PROFILES), version_base=None):
            cfg = hydra.compose(config_name="config", overrides=[f"profile={name}"])
        assert OmegaConf.to_container(cfg) == load_profile(name), name


@pytest.mark.parametrize("name", NAMES)
def test_profiles_share_one_shape_and_name_real_things(name):
    profile, embedded = load_profile(name), load_profile("embedded")
    assert set(profile) == set(embedded)
    assert set(profile["train"]) == set(embedded["train"])
    assert profile["trained"] == ["bicubic_pp", *profile["baselines"]]
    assert set(profile["baselines"]) <= set(list_models())
    for dataset in profile["datasets"]:
        get_dataset(dataset)  # raises on an unknown name
    used = set(profile["test_sets"])
    for section in profile["train"].values():
        used |= set(section["train_sets"]) | set(section["val_sets"])
        assert not set(section["val_sets"]) & set(profile["test_sets"]), "validation on a test set"
    assert used <= set(profile["datasets"]), "a set is used but never fetched/degraded"


def test_dvc_lists_every_stage_of_the_embedded_profile():
    if shutil.which("dvc") is None:
        pytest.skip("dvc not on PATH")
    out = subprocess.run(["dvc", "stage", "list", "--name-only"], cwd=REPO_ROOT, check=True,
                         capture_output=True, text=True).stdout.split()
    expected = {"fetch@demo", "degrade@demo_train", "bicubic_pp_stage1", "bicubic_pp_stage2",
                "bicubic_pp_stage3", "train_baseline@espcn", "evaluate_bicubic@demo",
                "evaluate_trained@bicubic_pp-demo", "leaderboard"}
    assert expected <= set(out)
