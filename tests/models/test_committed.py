"""Committed weights (``models.committed``, ``training.publish``): a tiny run trained here on the CPU, published
to a temporary folder, loads by name, matches the run's own best.pt, and is refused once its bytes change."""
from __future__ import annotations

import json

import pytest
import torch

from models.committed import TRAINED_DIR, list_trained, load_trained, read_record
from models.errors import ModelError
from models.registry import create_model
from tests.training.tiny import tiny_config, write_images
from training.loop import train
from training.publish import publish

FINGERPRINT = {"sets": {"tiny": {"images": 2}}}  # the test's folder: set has no datasets.degrade manifest


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """(root folder, run folder) of a 2-epoch tiny Bicubic++ published as ``tiny_bicubic_pp``."""
    tmp = tmp_path_factory.mktemp("committed")
    dataset = write_images(tmp / "images", [(96, 72), (84, 96)])
    run = tmp / "run"
    train(tiny_config(dataset, run, epochs=2, pairs_per_epoch=8))
    publish(run, "tiny_bicubic_pp", card="cpu (test)", budget="test", root=tmp / "trained",
            training_set=FINGERPRINT)
    return tmp / "trained", run


def test_weights_load_by_name_and_equal_the_run(published):
    root, run = published
    assert list_trained(root) == ["tiny_bicubic_pp"]
    model = load_trained("tiny_bicubic_pp", root)
    ref = create_model("bicubic_pp", scale=3, weights=run / "best.pt")
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(model(x), ref(x))
    record = model.rtsr_record
    assert record.card == "cpu (test)" and record.epochs == 2 and record.training_set == FINGERPRINT
    assert [e for e, _ in record.validation_curve] == [1, 2] and record.config["model"] == "bicubic_pp"
    assert len(record.sha256) == 64 and record.commit


def test_changed_weights_are_refused(published, tmp_path):
    root, _ = published
    copy = tmp_path / "trained"
    copy.mkdir()
    for suffix in (".pt", ".json"):
        (copy / f"tiny_bicubic_pp{suffix}").write_bytes((root / f"tiny_bicubic_pp{suffix}").read_bytes())
    with open(copy / "tiny_bicubic_pp.pt", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="does not match its record"):
        load_trained("tiny_bicubic_pp", copy)


def test_unknown_name_and_bad_record_are_one_line_errors(published, tmp_path):
    root, _ = published
    with pytest.raises(ModelError, match="no committed weights named 'nope'.*tiny_bicubic_pp"):
        load_trained("nope", root)
    (tmp_path / "bad.json").write_text(json.dumps({"name": "bad"}))
    with pytest.raises(ModelError, match="not a provenance record"):
        read_record("bad", tmp_path)


def test_the_committed_folder_holds_no_weights_without_records():
    assert (TRAINED_DIR / "README.md").is_file()
    for pt in TRAINED_DIR.glob("*.pt"):
        load_trained(pt.stem)  # every committed file has a record and matches its sha256
