"""The default pipeline evaluates every committed set of weights (models/trained/) beside its own runs.

``dvc.yaml``'s ``evaluate_committed`` is a matrix over ``models/trained/index.yaml`` (``vars``), which
``training.publish`` rewrites (``models.committed.write_index``): none is committed yet, and DVC
makes no stage of an empty matrix; one entry gives one stage per test set.
"""
from __future__ import annotations

import json

import yaml

from core.hashing import file_sha256
from core.paths import REPO_ROOT
from models.committed import INDEX_FILE, TRAINED_DIR, index_text, list_trained, write_index
from tests.pipeline.test_dvc_deps import stages
from tests.pipeline.workspace import dvc, workspace_copy


def _record(root, name: str, model: str = "espcn") -> None:
    """A committed ``<name>.pt`` (any bytes) and its TrainedRecord in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.pt").write_bytes(b"weights")
    (root / f"{name}.json").write_text(json.dumps({
        "name": name, "model": model, "scale": 3, "model_kwargs": {}, "card": "NVIDIA H200", "budget": "paper",
        "commit": "0" * 40, "config": {}, "training_set": {}, "epochs": 1000, "validation_curve": [[1000, 27.9]],
        "sha256": file_sha256(root / f"{name}.pt")}))


def test_the_committed_index_lists_exactly_the_committed_records():
    index = yaml.safe_load((TRAINED_DIR / INDEX_FILE).read_text())
    assert index == {"committed": [{"name": n, "model": json.loads((TRAINED_DIR / f"{n}.json").read_text())["model"]}
                                   for n in list_trained()]}
    assert (TRAINED_DIR / INDEX_FILE).read_text() == index_text(), "run python -m training.publish (write_index)"


def test_write_index_lists_every_record_by_name(tmp_path):
    _record(tmp_path, "rt4ksr_x3_paper", model="rt4ksr")
    _record(tmp_path, "espcn_x3_paper")
    index = yaml.safe_load(write_index(tmp_path).read_text())
    assert index == {"committed": [{"name": "espcn_x3_paper", "model": "espcn"},
                                   {"name": "rt4ksr_x3_paper", "model": "rt4ksr"}]}


def test_the_stage_evaluates_each_committed_weights_file_on_every_test_set():
    stage = stages()["evaluate_committed"]
    assert stage["matrix"] == {"w": "${committed}", "dataset": "${test_sets}"}
    cmd = " ".join(stage["cmd"].split())
    assert ("python -m eval.evaluate --model ${item.w.model} --weights models/trained/${item.w.name}.pt "
            "--label ${item.w.name} --dataset ${item.dataset} --scale ${scale}") in cmd
    assert "--json data/results/${item.w.name}_${item.dataset}_x${scale}.json" in cmd
    assert stage["outs"][0] == "data/results/${item.w.name}_${item.dataset}_x${scale}.json"
    assert "models" in stage["deps"]  # the weights and their records lie in models/trained/
    pipeline = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())
    assert pipeline["vars"] == ["models/trained/index.yaml"]


def test_dvc_makes_no_stage_of_zero_entries_and_one_per_test_set_of_each(tmp_path):
    ws = workspace_copy(tmp_path / "ws")
    listed = dvc(ws, "stage", "list")
    assert "leaderboard" in listed and "evaluate_committed" not in listed  # none committed: no stage, no error
    _record(ws / "models" / "trained", "espcn_x3_paper")
    write_index(ws / "models" / "trained")
    committed = [line.split()[0] for line in dvc(ws, "stage", "list").splitlines() if "evaluate_committed" in line]
    assert committed == ["evaluate_committed@w0-demo"]  # the embedded profile's one test set
    assert "data/results/espcn_x3_paper_demo_x3.json" in dvc(ws, "stage", "list", "evaluate_committed@w0-demo")
