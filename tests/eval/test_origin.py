"""eval.weights_origin (the block eval.evaluate writes) and eval.origin (what the tables say of it)."""
from __future__ import annotations

import json

import pytest

from core.hashing import file_sha256
from core.paths import data_root
from eval import weights_origin as wo
from eval.origin import Origin, origin_of, origin_text
from eval.report.resultfiles import ResultError, load_result
from models.errors import ModelError
from models.external import zoo_entry
from tests.eval.results_factory import make_result, write_result


def _record(root, name: str, budget: str = "paper", card: str = "NVIDIA H200") -> None:
    """A committed ``<name>.pt`` (any bytes) and its TrainedRecord, in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.pt").write_bytes(b"weights of " + name.encode())
    record = {"name": name, "model": "espcn", "scale": 3, "model_kwargs": {}, "card": card, "budget": budget,
              "commit": "0" * 40, "config": {}, "training_set": {}, "epochs": 1000,
              "validation_curve": [[1000, 27.9]], "sha256": file_sha256(root / f"{name}.pt")}
    (root / f"{name}.json").write_text(json.dumps(record))


def test_committed_weights_carry_their_records_budget_and_card(tmp_path):
    _record(tmp_path, "espcn_x3_paper")
    block = wo.weights_origin("espcn", tmp_path / "espcn_x3_paper.pt", root=tmp_path)
    assert block == {"kind": "committed", "budget": "paper", "card": "NVIDIA H200", "name": "espcn_x3_paper",
                     "sha256": file_sha256(tmp_path / "espcn_x3_paper.pt")}
    assert origin_text(origin_of({"weights_origin": block})) == "trained here, paper budget on NVIDIA H200"


def test_committed_weights_with_another_sha256_are_refused(tmp_path):
    _record(tmp_path, "espcn_x3_paper")
    (tmp_path / "espcn_x3_paper.pt").write_bytes(b"replaced")
    with pytest.raises(ModelError, match="does not match its record"):
        wo.weights_origin("espcn", tmp_path / "espcn_x3_paper.pt", root=tmp_path)


def test_a_run_trained_here_names_the_profiles_budget(tmp_path):
    best = data_root() / "train" / "espcn" / "best.pt"
    block = wo.weights_origin("espcn", best, root=tmp_path)
    assert block["kind"] == "trained_here" and block["budget"] == "demo"  # params.yaml: profile embedded
    origin = origin_of({"weights_origin": block})
    assert origin.cpu_budget and origin_text(origin) == "trained here, CPU budget (demo)"
    variant = data_root() / "ablation" / "train" / "best.pt"  # the ablation grid's run
    assert wo.weights_origin("bicubic_pp", variant, root=tmp_path)["kind"] == "trained_here"
    assert wo.weights_origin("espcn", data_root() / "elsewhere" / "best.pt", root=tmp_path)["kind"] == "user"


def test_workspace_budget_follows_the_profile(tmp_path):
    (tmp_path / "conf" / "profile").mkdir(parents=True)
    (tmp_path / "params.yaml").write_text("profile: mirror\n")
    (tmp_path / "conf" / "profile" / "mirror.yaml").write_text("defaults:\n  - /data: mirror\n  - /budget: cpu\n")
    assert wo.workspace_budget(tmp_path) == "cpu"
    (tmp_path / "params.yaml").write_text("profile: gone\n")
    assert wo.workspace_budget(tmp_path) is None


def test_released_none_random_and_user(tmp_path, monkeypatch):
    ckpt = tmp_path / "bicubic_pp_x3.pth"
    ckpt.write_bytes(b"released")
    released = zoo_entry("bicubic_pp_released")
    monkeypatch.setattr(wo, "identify", lambda path: released if str(path) == str(ckpt) else None)
    assert wo.weights_origin("bicubic_pp", ckpt, root=tmp_path)["kind"] == "released"
    assert wo.weights_origin("bicubic_pp", ckpt, root=tmp_path)["name"] == "bicubic_pp_released"
    assert wo.weights_origin("bicubic", None, root=tmp_path)["kind"] == "none"
    assert wo.weights_origin("espcn", None, root=tmp_path)["kind"] == "random"
    assert wo.weights_origin("plugins/mine.py:build", None, root=tmp_path)["kind"] == "user"
    mine = tmp_path / "mine.pth"
    mine.write_bytes(b"mine")
    assert wo.weights_origin("espcn", mine, root=tmp_path) == {
        "kind": "user", "budget": None, "card": None, "name": None, "sha256": file_sha256(mine)}


@pytest.mark.parametrize("origin, text", [
    (Origin("trained_here", "cpu"), "trained here, CPU budget (cpu)"),
    (Origin("trained_here", "paper"), "trained here, paper budget"),
    (Origin("committed", "demo", "cpu (2 vCPU)"), "trained here, CPU budget (demo) on cpu (2 vCPU)"),
    (Origin("released"), "released by the authors"),
    (Origin("none"), "no weights"),
])
def test_origin_text(origin, text):
    assert origin_text(origin) == text
    assert origin.cpu_budget == (origin.budget in ("cpu", "demo"))


def test_an_unknown_origin_kind_is_refused(tmp_path):
    data = make_result("espcn")
    data["weights_origin"] = {"kind": "downloaded"}
    path = write_result(tmp_path, data)
    with pytest.raises(ResultError, match=r"weights_origin\.kind"):
        load_result(path)
