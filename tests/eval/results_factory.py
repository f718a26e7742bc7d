"""Synthetic result JSONs in the exact schema ``python -m eval.evaluate --json`` writes.

Values are realistic for Set5 x3 under the ntire23 degradation (the numbers themselves are made up).
"""
from __future__ import annotations

import json
from pathlib import Path

SET5 = ["baby", "bird", "butterfly", "head", "woman"]
CPU = {"name": "AMD EPYC 7763 64-Core Processor", "driver": None, "torch": "2.13.0", "cuda": None}
H200 = {"name": "NVIDIA H200", "driver": "570.86.15", "torch": "2.13.0", "cuda": "12.8"}

# label -> (params, MACs at 720p, psnr_rgb, psnr_y, ssim_y, cpu mean ms, ssim_rgb)
MODELS = {
    "bicubic": (0, 0, 29.60, 31.30, 0.8560, 150.0, 0.8410),
    "bicubic_pp": (50_400, 11_612_160_000, 30.55, 32.30, 0.8790, 420.0, 0.8650),
    "espcn": (31_131, 28_677_600_000, 30.40, 32.10, 0.8750, 600.0, 0.8610),
    "fsrcnn": (24_683, 22_742_016_000, 30.30, 32.00, 0.8730, 900.0, 0.8590),
}


def runtime_block(mean_ms: float, device: dict = CPU) -> dict:
    """A runtime block; ``device`` decides the protocol (CUDA name -> GPU FP16)."""
    gpu = device.get("cuda") is not None
    return {"protocol": "ntire23-gpu-fp16" if gpu else "cpu-fp32",
            "device_type": "cuda" if gpu else "cpu", "mean_ms": mean_ms, "median_ms": mean_ms * 0.99,
            "p10_ms": mean_ms * 0.97, "p90_ms": mean_ms * 1.04, "std_ms": mean_ms * 0.02,
            "warmup": 50 if gpu else 2, "passes": 244 if gpu else 5,
            "input_shape": [1, 3, 1280, 720], "peak_mem_mb": 812.5 if gpu else None, "device": device}


def make_result(label: str = "bicubic_pp", *, model: str | None = None, dataset: str = "set5",
                scale: int = 3, degradation: str = "ntire23", psnr_rgb: float | None = None,
                psnr_y: float | None = None, runtime_ms: float | None | str = "default",
                device: dict = CPU, images: list[str] = SET5, lr_hash: str = "ab" * 32) -> dict:
    """One result dict; ``runtime_ms=None`` means evaluated with ``--runtime off``."""
    params, macs, rgb, y, ssim, ms, ssim_rgb = MODELS[model or label]
    rgb = rgb if psnr_rgb is None else psnr_rgb
    y = y if psnr_y is None else psnr_y
    ms = ms if runtime_ms == "default" else runtime_ms
    return {
        "model": model or label, "label": label, "weights": None, "dataset": dataset,
        "scale": scale, "degradation": degradation, "psnr_rgb": rgb, "ssim_rgb": ssim_rgb,
        "psnr_y": y, "ssim_y": ssim,
        "per_image": [{"name": n, "psnr_rgb": rgb, "ssim_rgb": ssim_rgb, "psnr_y": y, "ssim_y": ssim}
                      for n in images],
        "runtime": None if ms is None else runtime_block(ms, device),
        "params": params, "flops": {"macs": macs, "flops": 2 * macs, "input": [1, 3, 720, 1280]},
        "provenance": {"git_commit": "0" * 40, "versions": {"torch": "2.13.0"}, "device": "cpu",
                       "lr_manifest_sha256": lr_hash, "created": "2025-01-01T00:00:00Z"},
    }


def write_result(folder: Path, data: dict, name: str | None = None) -> Path:
    """Write ``data`` as ``<folder>/<name or label_dataset_xS>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{data['label']}_{data['dataset']}_x{data['scale']}.json")
    path.write_text(json.dumps(data, indent=2))
    return path


def write_standard(folder: Path, **kwargs) -> list[Path]:
    """The four standard models of ``MODELS`` on one test set."""
    return [write_result(folder, make_result(label, **kwargs)) for label in MODELS]
