"""Commit a finished run's weights: ``best.pt`` copied to ``models/trained/<name>.pt`` with its provenance record.

The record (``models.committed.TrainedRecord``) takes the config, epochs and validation curve from
the run's own ``best.pt`` and ``last.pt``, the commit from git, and the training-set fingerprint
from ``datasets.fingerprint``; the sha256 is that of the copied file. Run ``python -m training.publish
RUN_DIR NAME --card "NVIDIA H200" --budget paper`` after training; commit both files and the
rewritten ``index.yaml`` (the list the pipeline's ``evaluate_committed`` stages evaluate).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from core.cli import cli_main, description
from core.hashing import file_sha256
from core.io import write_atomic
from datasets.fingerprint import fingerprints
from eval.provenance import git_commit
from models.committed import TRAINED_DIR, TrainedRecord, record_path, write_index
from models.registry import load_checkpoint
from training.config import TrainError


def validation_curve(history: list) -> list[tuple[int, float]]:
    """(epoch, validation RGB PSNR dB) of every validated epoch of a run history."""
    return [(int(r["epoch"]), float(r["val_psnr_rgb"])) for r in history if r.get("val_psnr_rgb") is not None]


def publish(run: Path, name: str, card: str, budget: str, root: Path = TRAINED_DIR,
            training_set: dict | None = None) -> TrainedRecord:
    """Copy ``run/best.pt`` to ``root/<name>.pt`` and write its record; returns the record."""
    run, root = Path(run), Path(root)
    best, last = run / "best.pt", run / "last.pt"
    if not best.is_file() or not last.is_file():
        raise TrainError(f"{run}: needs best.pt and last.pt of a finished run")
    ckpt, state = load_checkpoint(best), load_checkpoint(last)
    config = dict(ckpt["config"])
    if training_set is None:
        training_set = fingerprints(config["train_sets"], config["scale"], config["degradation"])
    root.mkdir(parents=True, exist_ok=True)
    dest = root / f"{name}.pt"
    shutil.copyfile(best, dest)
    record = TrainedRecord(name=name, model=ckpt["arch"]["name"], scale=config["scale"],
                           model_kwargs=dict(ckpt["arch"].get("kwargs", {})), card=card, budget=budget,
                           commit=git_commit() or "unknown", config=config, training_set=training_set,
                           epochs=int(state["epoch"]), validation_curve=validation_curve(state["history"]),
                           sha256=file_sha256(dest))
    write_atomic(record_path(name, root), json.dumps(record.model_dump(), indent=2) + "\n")
    write_index(root)  # the pipeline's evaluate_committed stages now include it
    return record


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Entry point: publish one run folder under a name."""
    p = argparse.ArgumentParser(prog="python -m training.publish", description=description(__doc__))
    p.add_argument("run", help="finished run folder (best.pt, last.pt)")
    p.add_argument("name", help="name to load the weights by, e.g. bicubic_pp_x3_paper")
    p.add_argument("--card", required=True, help='the device it trained on, e.g. "NVIDIA H200"')
    p.add_argument("--budget", required=True, help="the conf/ budget it trained at: paper, cpu, demo")
    p.add_argument("--root", default=str(TRAINED_DIR), help="folder of committed weights (default: models/trained)")
    args = p.parse_args(argv)
    record = publish(Path(args.run), args.name, args.card, args.budget, Path(args.root))
    print(f"{args.root}/{args.name}.pt sha256 {record.sha256}")


if __name__ == "__main__":
    sys.exit(main())
