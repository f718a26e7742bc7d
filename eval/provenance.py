"""Provenance of a result: git commit, package versions, device, input manifest hash, timestamp."""
from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

from core.hashing import file_sha256
from core.paths import REPO_ROOT

PACKAGES = ("torch", "numpy", "pillow", "scikit-image", "opencv-python-headless")


def git_commit(repo: Path = REPO_ROOT) -> str | None:
    """HEAD commit hash, with ``-dirty`` when tracked files are modified; None outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def versions() -> dict:
    """Installed versions of the packages that change numbers (python, torch, numpy, pillow, ...)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["cuda"] = torch.version.cuda
    out["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return out


def cpu_name() -> str:
    """The CPU model name from /proc/cpuinfo (Linux) or ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_driver() -> str | None:
    """NVIDIA driver version via ``nvidia-smi``; None when it is not available."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, check=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def device_info(device_type: str) -> dict:
    """{"name", "driver", "torch", "cuda"} of the CUDA device 0 or the CPU."""
    if device_type == "cuda":
        return {"name": torch.cuda.get_device_name(0), "driver": gpu_driver(),
                "torch": torch.__version__, "cuda": torch.version.cuda}
    return {"name": cpu_name(), "driver": None, "torch": torch.__version__, "cuda": None}


def provenance(lr_manifest: Path | None, device_type: str) -> dict:
    """The result JSON's ``provenance`` block."""
    return {
        "git_commit": git_commit(),
        "versions": versions(),
        "device": device_info(device_type),
        "lr_manifest_sha256": (file_sha256(lr_manifest)
                               if lr_manifest is not None and Path(lr_manifest).is_file() else None),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
