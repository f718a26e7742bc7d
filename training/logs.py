"""A run's records: metrics.csv (every epoch), val.csv (validated epochs), summary.json."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import torch
from torch import nn

from core.io import write_atomic
from training.config import TrainConfig


def write_tables(out: Path, history: list) -> None:
    """metrics.csv (every epoch) and val.csv (validated epochs) from the run history."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", "lr", "train_loss", "seconds"])
    for row in history:
        writer.writerow([row["epoch"], f"{row['lr']:.6g}", f"{row['train_loss']:.6g}", f"{row['seconds']:.3f}"])
    write_atomic(out / "metrics.csv", buf.getvalue())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", "val_psnr_rgb"])
    for row in history:
        if row["val_psnr_rgb"] is not None:
            writer.writerow([row["epoch"], f"{row['val_psnr_rgb']:.4f}"])
    write_atomic(out / "val.csv", buf.getvalue())


def write_summary(cfg: TrainConfig, arch: dict, model: nn.Module, history: list, best: dict,
                  device: torch.device) -> dict:
    """summary.json for ``dvc metrics``: best/final validation PSNR, loss, params, seconds, seed.

    ``train_seconds`` and ``pairs_per_second`` count whole epochs (training plus validation) of this
    process and any earlier, resumed ones.
    """
    summary = {
        "model": cfg.model, "arch": arch, "scale": cfg.scale,
        "params": sum(p.numel() for p in model.parameters()),
        "epochs": len(history), "best_epoch": best["epoch"], "best_val_psnr_rgb": best["val_psnr_rgb"],
        "final_val_psnr_rgb": history[-1]["val_psnr_rgb"] if history else None,
        "final_train_loss": history[-1]["train_loss"] if history else None,
        "train_seconds": round(sum(r["seconds"] for r in history), 2),
        "pairs_per_second": round(len(history) * math.ceil(cfg.pairs_per_epoch / cfg.batch) * cfg.batch
                                  / max(1e-9, sum(r["seconds"] for r in history)), 1),
        "seed": cfg.seed, "device": str(device), "val_sets": list(cfg.val_sets),
    }
    write_atomic(Path(cfg.out) / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
