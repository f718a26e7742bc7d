"""`pip install -e .` claims no top-level names, so our packages and a third-party ``datasets`` coexist.

The project runs from its workspace: ``python -m ...`` from the repository root (the working
directory is first on ``sys.path``) and pytest's ``pythonpath = ["."]``. The install only brings the
dependencies. Proof, offline: in a fresh virtual environment, our editable wheel (built by
setuptools' PEP 660 hook from this pyproject.toml) is installed next to a stand-in for Hugging
Face's ``datasets`` distribution; outside the workspace ``import datasets`` is theirs and our
names do not exist, inside the workspace ``datasets`` is ours.
"""
from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.paths import REPO_ROOT

OUR_PACKAGES = ("core", "datasets", "baselines", "models", "eval", "training")


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def stub_datasets_wheel(folder: Path) -> Path:
    """A wheel of a distribution named ``datasets`` (as Hugging Face's) whose package says who it is."""
    files = {
        "datasets/__init__.py": b'WHO = "third-party datasets"\n',
        "datasets-99.0.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: datasets\nVersion: 99.0.0\n",
        "datasets-99.0.0.dist-info/WHEEL": (b"Wheel-Version: 1.0\nGenerator: rtsr-bench-test\n"
                                            b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        "datasets-99.0.0.dist-info/top_level.txt": b"datasets\n",
    }
    record = [_record_line(n, d) for n, d in files.items()] + ["datasets-99.0.0.dist-info/RECORD,,"]
    path = folder / "datasets-99.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr("datasets-99.0.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def our_editable_wheel(folder: Path) -> Path:
    """Our project's editable wheel, built from a copy of the project (the workspace stays clean)."""
    src = folder / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, src / name)
    for package in OUR_PACKAGES:  # present, so that a package-discovery setting would find them
        shutil.copytree(REPO_ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    dist = folder / "dist"
    code = f"from setuptools import build_meta; print(build_meta.build_editable({str(dist)!r}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=src, check=True, capture_output=True, text=True)
    return dist / out.stdout.strip().splitlines()[-1]


def run_in(python: Path, cwd: Path, code: str) -> str:
    """Run ``python -c code`` in ``cwd``; its stdout."""
    return subprocess.run([str(python), "-c", code], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv holding our editable install and the stand-in third-party ``datasets``."""
    root = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    wheels = [our_editable_wheel(root), stub_datasets_wheel(root)]
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", *map(str, wheels)], check=True)
    return python


def test_our_wheel_claims_no_top_level_name(venv):
    top_level = run_in(venv, venv.parent, "from importlib.metadata import distribution as d; "
                                          "print(repr(d('rtsr-bench').read_text('top_level.txt')))")
    assert top_level in ("''", "'\\n'", "None")
    probe = f"import importlib.util as u; print([n for n in {OUR_PACKAGES!r} if u.find_spec(n)])"
    assert run_in(venv, venv.parent, probe) == "['datasets']"  # only the third party's


def test_third_party_datasets_outside_the_workspace(venv):
    assert run_in(venv, venv.parent, "import datasets; print(datasets.WHO)") == "third-party datasets"


def test_ours_inside_the_workspace(venv):
    where = run_in(venv, REPO_ROOT, "import datasets.paths, core; print(datasets.__file__)")
    assert Path(where) == REPO_ROOT / "datasets" / "__init__.py"
