"""CLI: train one model (one stage) with ``training.loop``.

    python -m training.train --config params.yaml --section train.base train.bicubic_pp_stage1 \
        --out data/train/bicubic_pp_stage1
    python -m training.train --config params.yaml --section train.base train.baseline --model espcn \
        --out data/train/espcn --epochs 20

``--config FILE --section A B ...`` reads the TrainConfig fields from those YAML mappings, merged in
order (``train.base`` holds what every stage shares, then the stage's own section); flags given on
the command line override them. Stage 3 of Bicubic++ is ``--init <stage-2 best.pt> --drop-bias``.
Data-parallel: ``torchrun --nproc-per-node N -m training.train ...`` (same flags; ``training.distributed``).
"""
from __future__ import annotations

import argparse
import sys

import yaml

from core.cli import cli_main, description
from core.overlap import refuse_overlap
from core.paths import DEFAULT_MIRROR, REPO_ROOT
from core.protocol import DEGRADATIONS
from training import distributed
from training.config import (
    LOSSES,
    MEMORY_FORMATS,
    OPTIMIZER_IMPLS,
    PRECISIONS,
    SAMPLERS,
    ConfigError,
    TrainConfig,
    make_train_config,
    read_sections,
)
from training.loop import train
from training.schedule import SCHEDULES


def parse_kv(items: list[str] | None) -> dict:
    """``["channels=34", "bias=true"]`` -> ``{"channels": 34, "bias": True}`` (values parsed as YAML)."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--arch {item!r} must look like key=value")
        out[key] = yaml.safe_load(value)
    return out


PARAMS = "(default: from the --config sections)"


def add_train_args(p: argparse.ArgumentParser) -> None:
    """The TrainConfig flags (all default to None so the params sections can supply them)."""
    p.add_argument("--config", help="params file whose sections hold the run's settings, e.g. params.yaml "
                                    "(default: none; then every setting must be a flag)")
    p.add_argument("--section", nargs="+", default=[],
                   help="dotted keys of --config's sections, merged in order, later wins, e.g. "
                        "train.base train.bicubic_pp_stage1 (default: none)")
    p.add_argument("--model", help=f"registered model name or module:factory plug-in {PARAMS}")
    p.add_argument("--out", help="run folder: last.pt, best.pt, metrics.csv, val.csv, summary.json "
                                 "(required, as a flag or in the sections)")
    p.add_argument("--scale", type=int, help=f"upscaling factor {PARAMS}")
    p.add_argument("--arch", nargs="*", metavar="KEY=VALUE",
                   help=f"model kwargs over the sections' model_kwargs, e.g. channels=34 bias=true {PARAMS}")
    p.add_argument("--train-sets", nargs="+", help=f"training sets, e.g. demo_train {PARAMS}")
    p.add_argument("--val-sets", nargs="+", help=f"validation sets, e.g. demo_valid {PARAMS}")
    p.add_argument("--degradation", choices=DEGRADATIONS, help=f"LR degradation of both {PARAMS}")
    p.add_argument("--quality", type=int, help=f"JPEG quality of the ntire23 LR inputs {PARAMS}")
    p.add_argument("--epochs", type=int, help=f"epochs to train {PARAMS}")
    p.add_argument("--pairs-per-epoch", type=int, help=f"random LR/HR patch pairs per epoch {PARAMS}")
    p.add_argument("--batch", type=int, help=f"patch pairs per step {PARAMS}")
    p.add_argument("--lr-patch", type=int, help=f"LR patch side in px (HR patch = scale x this) {PARAMS}")
    p.add_argument("--lr", type=float, help=f"Adam learning rate at epoch 0 {PARAMS}")
    p.add_argument("--beta1", type=float, help=f"Adam beta1 {PARAMS}")
    p.add_argument("--beta2", type=float, help=f"Adam beta2 {PARAMS}")
    p.add_argument("--schedule", choices=SCHEDULES, help=f"learning-rate schedule {PARAMS}")
    p.add_argument("--loss", choices=list(LOSSES), help=f"training loss on [0, 1] RGB {PARAMS}")
    p.add_argument("--val-every", type=int, help=f"validate every N epochs and at the last one {PARAMS}")
    p.add_argument("--val-crop", type=int,
                   help=f"centre-crop validation LR images to this many px per side, 0: whole {PARAMS}")
    p.add_argument("--no-augment", dest="augment", action="store_const", const=False,
                   help=f"no dihedral (flip/rotate) augmentation of the patches {PARAMS}")
    p.add_argument("--seed", type=int, help=f"seed of the weights and the patch sampler {PARAMS}")
    p.add_argument("--init", help="checkpoint to start from, e.g. the previous stage's best.pt (default: none)")
    p.add_argument("--drop-bias", action="store_const", const=True,
                   help="remove every bias of --init first (Bicubic++ stage 3; default: keep them)")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:1 (default: auto, CUDA when available)")
    p.add_argument("--no-amp", dest="amp", action="store_const", const=False,
                   help="train in FP32 on CUDA (default: train.base.amp, FP16 autocast with loss "
                        "scaling on CUDA; the CPU always trains in FP32)")
    p.add_argument("--force", action="store_const", const=True,
                   help="--out holds a run made with other settings: start over and replace it "
                        "(default: refused, naming the settings that differ)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 0, torch's own choice)")
    p.add_argument("--sampler", choices=SAMPLERS,
                   help="patch sampler: batched (one gather, default), loop (per-patch crops, the same "
                        "patches), device (vectorised draw on the device: another random stream)")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="step precision (default: auto, fp16 + loss scaling on CUDA with amp, fp32 on the CPU)")
    p.add_argument("--optimizer-impl", choices=OPTIMIZER_IMPLS,
                   help="Adam kernels (default: auto, fused on CUDA, torch's loop on the CPU)")
    p.add_argument("--compile", action="store_const", const=True,
                   help="capture the step with torch.compile (CUDA graphs on CUDA; default: eager)")
    p.add_argument("--memory-format", choices=MEMORY_FORMATS,
                   help="layout of the model and LR batches (default: auto, channels_last on CUDA, "
                        "NCHW-contiguous on the CPU; channels_last is faster for Bicubic++ on some CPUs)")
    p.add_argument("--no-progress", dest="progress", action="store_const", const=False,
                   help="no progress bar, plain lines only, also on a terminal (default: a rich bar on "
                        "a terminal; a line per epoch is always printed, on stderr)")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of the params sections (if any) with the command-line flags over them."""
    values = read_sections(args.config, args.section) if args.config else {}
    values.update({k: v for k, v in vars(args).items() if k in TrainConfig.model_fields and v is not None})
    if args.arch:
        values["model_kwargs"] = {**values.get("model_kwargs", {}), **parse_kv(args.arch)}
    source = f"{args.config} [{' + '.join(args.section)}] and flags" if args.config else "the flags"
    return make_train_config(values, source)


@cli_main(kept="the run folder's last.pt holds the last finished epoch; run the same command "
              "again to resume from it")
def main(argv: list[str] | None = None) -> None:
    """Entry point (``core.cli``: a bad input is one line on stderr, exit status 2)."""
    parser = argparse.ArgumentParser(prog="python -m training.train", description=description(__doc__))
    add_train_args(parser)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    refuse_overlap({"--out": cfg.out}, {"--config": args.config, "--init": cfg.init,
                                        "mirror": DEFAULT_MIRROR, "references": REPO_ROOT / "references"})
    with distributed.process_group(cfg.device):
        train(cfg)  # the loop prints a line per epoch and the outcome (core.progress), on rank 0


if __name__ == "__main__":
    sys.exit(main())
