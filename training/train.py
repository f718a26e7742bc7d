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

from core.cli import cli_main
from core.protocol import DEGRADATIONS
from training import distributed
from training.config import LOSSES, ConfigError, TrainConfig, make_train_config, read_sections
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


def add_train_args(p: argparse.ArgumentParser) -> None:
    """The TrainConfig flags (all default to None so the params sections can supply them)."""
    p.add_argument("--config", help="params file whose sections hold TrainConfig fields (params.yaml)")
    p.add_argument("--section", nargs="+", default=[],
                   help="dotted keys of those sections, merged in order, e.g. train.base train.baseline")
    p.add_argument("--model", help="registered model name or module:factory plug-in")
    p.add_argument("--out", help="run folder (last.pt, best.pt, metrics.csv, val.csv, summary.json)")
    p.add_argument("--scale", type=int)
    p.add_argument("--arch", nargs="*", metavar="KEY=VALUE", help="model kwargs, e.g. channels=34 bias=true")
    p.add_argument("--train-sets", nargs="+")
    p.add_argument("--val-sets", nargs="+")
    p.add_argument("--degradation", choices=DEGRADATIONS)
    p.add_argument("--quality", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--pairs-per-epoch", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--lr-patch", type=int, help="LR patch side in px (HR patch = scale x this)")
    p.add_argument("--lr", type=float, help="Adam learning rate")
    p.add_argument("--beta1", type=float)
    p.add_argument("--beta2", type=float)
    p.add_argument("--schedule", choices=SCHEDULES)
    p.add_argument("--loss", choices=list(LOSSES))
    p.add_argument("--val-every", type=int)
    p.add_argument("--val-crop", type=int, help="centre-crop validation LR images to this size (0: whole)")
    p.add_argument("--no-augment", dest="augment", action="store_const", const=False)
    p.add_argument("--seed", type=int)
    p.add_argument("--init", help="checkpoint to start from")
    p.add_argument("--drop-bias", action="store_const", const=True, help="remove every bias of --init first")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1")
    p.add_argument("--no-amp", dest="amp", action="store_const", const=False,
                   help="train in FP32 on CUDA (params: train.base.amp, FP16 autocast with loss scaling; "
                        "CPU is always FP32)")
    p.add_argument("--threads", type=int, help="torch CPU threads (0: default)")
    p.add_argument("--no-progress", dest="progress", action="store_const", const=False)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of the params sections (if any) with the command-line flags over them."""
    values = read_sections(args.config, args.section) if args.config else {}
    values.update({k: v for k, v in vars(args).items() if k in TrainConfig.model_fields and v is not None})
    if args.arch:
        values["model_kwargs"] = {**values.get("model_kwargs", {}), **parse_kv(args.arch)}
    source = f"{args.config} [{' + '.join(args.section)}] and flags" if args.config else "the flags"
    return make_train_config(values, source)


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Entry point (``core.cli``: a bad input is one line on stderr, exit status 2)."""
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n")[0])
    add_train_args(parser)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    with distributed.process_group(cfg.device):
        summary = train(cfg)
        if distributed.is_main():
            print(f"{summary['model']}: best val PSNR {summary['best_val_psnr_rgb']:.3f} dB (epoch "
                  f"{summary['best_epoch']}), {summary['params']} params, {summary['train_seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
