"""The dataset registry: names, expected files, checksums against the mirror's MANIFEST.tsv."""
from __future__ import annotations

import pytest

from datasets.fetch import main as fetch_main
from datasets.registry import DatasetError, get_dataset, list_datasets


def test_names_roles_and_sizes():
    expected = {"div2k_train": ("train", 800), "div2k_valid": ("valid", 100), "set5": ("test", 5),
                "set14": ("test", 14), "urban100": ("test", 100), "t91": ("train", 91),
                "bsd200": ("train", 200), "demo": ("test", 3), "demo_train": ("train", 5),
                "demo_valid": ("valid", 1)}
    assert list_datasets() == list(expected)
    for name, (role, n) in expected.items():
        spec = get_dataset(name)
        assert (spec.role, len(spec.files), len(set(spec.stems))) == (role, n, n)
        assert spec.citation and (spec.url or spec.kind == "embedded")


def test_div2k_layout():
    train, valid = get_dataset("div2k_train"), get_dataset("div2k_valid")
    assert (train.stems[0], train.stems[-1], valid.stems[0], valid.stems[-1]) == ("0001", "0800", "0801", "0900")
    assert train.url == "https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_train_HR.zip"
    assert valid.url == "https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip"
    assert (train.archive_subdir, valid.archive_subdir) == ("DIV2K_train_HR", "DIV2K_valid_HR")


def test_demo_sets_use_skimage_registry_checksums():
    spec = get_dataset("demo_train")
    assert spec.stems == ("rocket", "hubble_deep_field", "retina", "ihc", "motorcycle_left")
    assert spec.sha256["ihc.png"] == "f8dd1aa387ddd1f49d8ad13b50921b237df8e9b262606d258770687b0ef93cef"
    assert get_dataset("demo").stems == ("astronaut", "coffee", "chelsea")
    assert get_dataset("demo_valid").stems == ("motorcycle_right",)


def test_checksums_match_mirror_manifest(mirror):
    rows = [r.split("\t") for r in (mirror / "MANIFEST.tsv").read_text().splitlines()[1:]]
    manifest = {r[0]: r[4].strip() for r in rows}
    for name in ("set5", "set14", "urban100", "t91", "bsd200"):
        spec = get_dataset(name)
        assert {f"{spec.mirror_subdir}/{f}": spec.sha256[f] for f in spec.files} == {
            k: v for k, v in manifest.items() if k.startswith(spec.mirror_subdir + "/")}
        assert set(spec.pixel_sha256) == set(spec.stems)
    assert len(manifest) == 410


def test_unknown_name_suggests_close_matches(capsys):
    with pytest.raises(DatasetError, match=r"unknown dataset 'urban10'; did you mean urban100\?"):
        get_dataset("urban10")
    assert fetch_main(["set55"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean set5" in err


def test_folder_dataset(tmp_path):
    (tmp_path / "b.png").write_bytes(b"")
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    spec = get_dataset(f"folder:{tmp_path}")
    assert (spec.files, spec.kind, spec.sha256) == (("a.jpg", "b.png"), "folder", {})
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="share the stem 'a'"):
        get_dataset(f"folder:{tmp_path}")
    with pytest.raises(DatasetError, match="not a directory"):
        get_dataset(f"folder:{tmp_path / 'nope'}")
