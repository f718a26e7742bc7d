"""What the suite ran on: GPU (name, memory, SMs, driver, clocks), CUDA/cuDNN/torch, CPU, packages."""
from __future__ import annotations

import importlib.util
import os
import subprocess

import torch

from eval.provenance import cpu_name, gpu_driver, versions

SMI_FIELDS = ("clocks.sm", "clocks.mem", "clocks.max.sm", "clocks.max.mem", "power.draw", "power.limit",
              "temperature.gpu", "pstate", "persistence_mode", "compute_mode")


def smi_query() -> dict:
    """``nvidia-smi --query-gpu`` readings of GPU 0 ({} when nvidia-smi is missing or fails)."""
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={','.join(SMI_FIELDS)}", "--format=csv,noheader"],
                             capture_output=True, text=True, check=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    values = [v.strip() for v in out.strip().splitlines()[0].split(",")] if out.strip() else []
    return dict(zip(SMI_FIELDS, values))


def gpu_block() -> dict:
    """Name, memory (GiB), compute capability, SM count, driver and nvidia-smi readings of CUDA device 0."""
    props = torch.cuda.get_device_properties(0)
    return {"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1),
            "capability": f"{props.major}.{props.minor}", "multiprocessors": props.multi_processor_count,
            "driver": gpu_driver(), "smi": smi_query()}


def environment(device: str) -> dict:
    """The environment block of the report."""
    return {
        "device_type": device,
        "gpu": gpu_block() if device == "cuda" and torch.cuda.is_available() else None,
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cpu": cpu_name(), "cpu_count": os.cpu_count(),
        "torch_tensorrt": importlib.util.find_spec("torch_tensorrt") is not None,
        "versions": versions(),
    }
