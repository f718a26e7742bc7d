"""Fetching: embedded demo sets, the mirror path, verification failures, bad images, no leftovers."""
from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.fetch import fetch, fetch_spec
from datasets.imageio import ImageError, is_grayscale, load_rgb, pixel_sha256
from datasets.paths import hr_dir
from datasets.registry import DatasetError, get_dataset


@pytest.fixture()
def own_root(tmp_path, monkeypatch):
    """A private data root and no $RTSR_DATA_MIRROR, for tests that check what is (not) written."""
    root = tmp_path / "data"
    monkeypatch.setenv("RTSR_DATA_ROOT", str(root))
    monkeypatch.delenv("RTSR_DATA_MIRROR", raising=False)
    return root


def _leftovers(root):
    """Files and non-empty folders under ``root`` (empty parents such as ``hr/`` may remain)."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or any(p.iterdir()))


def test_demo_needs_no_network_or_mirror(own_root):
    import skimage.data

    out = fetch(["demo", "demo_train"])
    assert np.array_equal(load_rgb(out["demo"] / "astronaut.png"), skimage.data.astronaut())
    rocket = np.asarray(Image.open(get_dataset("demo_train").src / "rocket.jpg"))
    assert np.array_equal(load_rgb(out["demo_train"] / "rocket.png"), rocket)  # JPEG -> PNG, same pixels
    manifest = json.loads((out["demo"] / "manifest.json").read_text())
    assert list(manifest["images"]) == ["astronaut", "coffee", "chelsea"]
    assert manifest["images"]["coffee"]["shape"] == [400, 600, 3]


def test_mirror_sets_verified(fetched, mirror):
    fetched("set5", "set14")
    for name in ("set5", "set14"):
        spec = get_dataset(name)
        manifest = json.loads((hr_dir(name) / "manifest.json").read_text())
        assert {s: e["pixel_sha256"] for s, e in manifest["images"].items()} == spec.pixel_sha256
        assert {e["file"]: e["file_sha256"] for e in manifest["images"].values()} == spec.sha256
    baby = load_rgb(hr_dir("set5") / "baby.png")
    assert baby.shape == (512, 512, 3)


def test_set14_grayscale_bridge_is_replicated(fetched, mirror):
    fetched("set14")
    bridge = load_rgb(hr_dir("set14") / "bridge.png")
    gray = np.asarray(Image.open(mirror / "Set14/HR/bridge.png"))
    assert gray.ndim == 2 and bridge.shape == (512, 512, 3) and is_grayscale(bridge)
    assert np.array_equal(bridge[..., 1], gray)
    assert Image.open(hr_dir("set14") / "bridge.png").mode == "RGB"


def _copy_set5(mirror, tmp_path):
    """A private copy of the mirror's Set5 folder that a test may damage."""
    dst = tmp_path / "mirror"
    shutil.copytree(mirror / "Set5", dst / "Set5")
    return dst


def test_mirror_missing_file(own_root, mirror, tmp_path):
    bad = _copy_set5(mirror, tmp_path)
    (bad / "Set5/HR/head.png").unlink()
    with pytest.raises(DatasetError, match=r"Set5/HR/head\.png: missing for set5; re-copy"):
        fetch(["set5"], mirror=bad)
    assert _leftovers(own_root) == []


def test_mirror_without_the_set(own_root, mirror, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"has neither T91/ nor SRCNN_train\.zip for t91"):
        fetch(["t91"], mirror=tmp_path / "empty")


@pytest.mark.parametrize("damage", ["truncate", "other-pixels"])
def test_mirror_checksum_mismatch(own_root, mirror, tmp_path, damage):
    bad = _copy_set5(mirror, tmp_path)
    path = bad / "Set5/HR/bird.png"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:5000])
        pattern = r"bird\.png: checksum mismatch \(sha256 [0-9a-f]{64}, expected 1b20dfba"
    else:
        rgb = load_rgb(path).copy()
        rgb[0, 0, 0] ^= 1
        Image.fromarray(rgb).save(path)
        pattern = r"bird\.png: pixel checksum mismatch"
    with pytest.raises(DatasetError, match=pattern):
        fetch(["set5"], mirror=bad)
    assert _leftovers(own_root) == []


def test_reencoded_file_with_same_pixels_is_accepted(own_root, mirror, tmp_path):
    bad = _copy_set5(mirror, tmp_path)
    path = bad / "Set5/HR/head.png"
    Image.open(path).save(path, compress_level=1)  # different bytes, same pixels
    out = fetch(["set5"], mirror=bad)["set5"]
    assert pixel_sha256(load_rgb(out / "head.png")) == get_dataset("set5").pixel_sha256["head"]


def test_offline_without_mirror_names_url_and_option(own_root):
    spec = dataclasses.replace(get_dataset("set5"), url="http://127.0.0.1:9/benchmark.tar")
    with pytest.raises(DatasetError, match=r"http://127\.0\.0\.1:9/benchmark\.tar: cannot download .*--mirror DIR"):
        fetch_spec(spec, None, progress=False)
    assert not hr_dir("set5").exists()


def test_mirror_may_hold_the_archive(own_root, mirror, tmp_path):
    import zipfile

    spec = dataclasses.replace(get_dataset("set5"), url="https://example.invalid/Set5_HR.zip",
                               archive_subdir="Set5_HR", mirror_subdir="Set5_missing")
    (tmp_path / "m").mkdir()
    with zipfile.ZipFile(tmp_path / "m" / "Set5_HR.zip", "w") as zf:
        for f in spec.files:
            zf.write(mirror / "Set5/HR" / f, f"Set5_HR/{f}")
    out = fetch_spec(spec, tmp_path / "m", progress=False)
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(spec.stems)


def _folder_with(tmp_path, name, make):
    """A user folder holding one good image and one image made by ``make(path)``."""
    folder = tmp_path / "user"
    folder.mkdir()
    Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(folder / "good.png")
    make(folder / name)
    return f"folder:{folder}"


@pytest.mark.parametrize("name, make, pattern", [
    ("bad.png", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10),
     r"bad\.png: corrupt or truncated image"),
    ("cut.jpg", lambda p: p.write_bytes(_jpeg_bytes()[:300]), r"cut\.jpg: corrupt or truncated image"),
    ("deep.png", lambda p: Image.fromarray(np.full((8, 8), 4000, np.uint16)).save(p),
     r"deep\.png: unsupported image mode 'I;16'"),
    ("alpha.png", lambda p: Image.new("RGBA", (8, 8)).save(p),
     r"alpha\.png: image has an alpha channel .*--drop-alpha"),
])
def test_bad_images_fail_cleanly(own_root, tmp_path, name, make, pattern):
    dataset = _folder_with(tmp_path, name, make)
    with pytest.raises(ImageError, match=pattern):
        fetch([dataset])
    assert _leftovers(own_root) == []


def test_drop_alpha(own_root, tmp_path):
    dataset = _folder_with(tmp_path, "alpha.png", lambda p: Image.new("RGBA", (8, 8), (1, 2, 3, 4)).save(p))
    out = fetch([dataset], drop_alpha=True)[dataset]
    assert out.name.startswith("folder-user-") and load_rgb(out / "alpha.png")[0, 0].tolist() == [1, 2, 3]


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def test_relative_mirror_is_read_from_the_workspace_that_queued_the_experiment(tmp_path, monkeypatch):
    """A queued DVC experiment runs in <repo>/.dvc/tmp/exps/tmpX with DVC_ROOT=<repo>: a relative
    ``../shared/sr-data`` (--mirror or $RTSR_DATA_MIRROR) means <repo>/../shared/sr-data there, as in
    the workspace."""
    from datasets.fetch import default_mirror, mirror_from_workspace

    repo = tmp_path / "repo"
    temp_copy = repo / ".dvc" / "tmp" / "exps" / "tmpabc"
    temp_copy.mkdir(parents=True)
    monkeypatch.chdir(temp_copy)
    monkeypatch.setenv("DVC_ROOT", str(repo))
    assert mirror_from_workspace(Path("../shared/sr-data")) == tmp_path / "shared" / "sr-data"
    assert mirror_from_workspace(Path("/abs/mirror")) == Path("/abs/mirror")
    monkeypatch.setenv("RTSR_DATA_MIRROR", "../shared/sr-data")
    assert default_mirror() == tmp_path / "shared" / "sr-data"
    monkeypatch.chdir(repo)  # a plain `dvc repro`: DVC_ROOT is the cwd, the path stays as given
    assert mirror_from_workspace(Path("../shared/sr-data")) == Path("../shared/sr-data")
    monkeypatch.delenv("DVC_ROOT")
    monkeypatch.chdir(temp_copy)
    assert mirror_from_workspace(Path("../shared/sr-data")) == Path("../shared/sr-data")
