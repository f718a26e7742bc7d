"""The pipeline's configuration: conf/ composes (Hydra, as DVC does), params.yaml is its default, stages exist."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from core.params import compose_params
from core.paths import REPO_ROOT
from datasets.registry import get_dataset
from models import list_models
from training.config import TrainConfig

PROFILES = ("embedded", "mirror", "paper")
STAGE_SECTIONS = ("bicubic_pp_stage1", "bicubic_pp_stage2", "bicubic_pp_stage3", "baseline", "ablation")


def composed(tmp_path, *overrides: str) -> dict:
    """params.yaml as `dvc exp run -S <overrides>` writes it (the same DVC function)."""
    out = compose_params(tmp_path / f"params-{'-'.join(overrides) or 'default'}.yaml", list(overrides))
    return yaml.safe_load(out.read_text())


def test_params_yaml_is_the_generated_default(tmp_path):
    out = compose_params(tmp_path / "params.yaml", [])
    assert (REPO_ROOT / "params.yaml").read_text() == out.read_text(), (
        "params.yaml is generated: run `python -m core.params` and commit the result")

# TrainConfig fields set per run on the command line, never in conf/ (the step's implementation
# choices among them: sampler, precision, Adam kernels, compile).
PER_RUN = {"init", "drop_bias", "device", "threads", "progress", "force",
           "sampler", "precision", "optimizer_impl", "compile", "memory_format"}


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_share_one_shape_and_name_real_things(tmp_path, profile):
    params, embedded = composed(tmp_path, f"profile={profile}"), composed(tmp_path)
    assert params["profile"] == profile
    assert set(params) == set(embedded) and set(params["train"]) == set(embedded["train"])
    assert params["trained"] == ["bicubic_pp", *params["baseline_models"]]
    assert set(params["baseline_models"]) <= set(list_models())
    for dataset in params["prepared_sets"]:
        get_dataset(dataset)  # raises on an unknown name
    base = params["train"]["base"]
    used = set(params["test_sets"]) | set(base["train_sets"]) | set(base["val_sets"])
    assert not set(base["val_sets"]) & set(params["test_sets"]), "validation on a test set"
    assert used <= set(params["prepared_sets"]), "a set is used but never fetched/degraded"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_training_section_is_a_complete_train_config(tmp_path, profile):
    """train.base + the stage's section supply every TrainConfig field but the per-run ones."""
    params = composed(tmp_path, f"profile={profile}")
    per_run = {"out", *PER_RUN}
    for section in STAGE_SECTIONS:
        values = {**params["train"]["base"], **params["train"][section]}
        values.setdefault("model", "espcn")  # train_baseline@<model> passes --model
        cfg = TrainConfig(**values, out="unused")
        assert set(values) == set(TrainConfig.model_fields) - per_run | {"model"}, section
        assert (cfg.scale, cfg.degradation, cfg.quality) == (params["scale"], params["degradation"],
                                                            params["quality"])


def test_groups_compose_independently(tmp_path):
    """data x budget: the mirror data with the demo budget is a valid, different composition."""
    params = composed(tmp_path, "profile=mirror", "budget=demo")
    assert params["train"]["base"]["train_sets"] == ["t91", "bsd200"]
    assert params["train"]["bicubic_pp_stage1"]["epochs"] == 20  # demo budget
    assert params["baseline_models"] == ["espcn", "abpn"]


def test_no_training_default_in_code_duplicates_conf():
    """TrainConfig has no default for anything conf/ supplies (one source of each value)."""
    with_default = {k for k, f in TrainConfig.model_fields.items() if not f.is_required()}
    assert with_default == PER_RUN


def test_dvc_lists_every_stage_of_the_embedded_profile():
    if shutil.which("dvc") is None:
        pytest.skip("dvc not on PATH")
    out = subprocess.run(["dvc", "stage", "list", "--name-only"], cwd=REPO_ROOT, check=True,
                         capture_output=True, text=True).stdout.split()
    expected = {"fetch@demo", "degrade@demo_train", "bicubic_pp_stage1", "bicubic_pp_stage2",
                "bicubic_pp_stage3", "train_baseline@espcn", "evaluate_bicubic@demo",
                "evaluate_trained@bicubic_pp-demo", "leaderboard"}
    assert expected <= set(out)
