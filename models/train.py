"""CLI: train one model (one stage) with ``models.trainer``.

    python -m models.train --model espcn --out data/train/espcn --train-sets t91 bsd200 \
        --val-sets demo --epochs 20 --lr-patch 24 --batch 32
    python -m models.train --config params.yaml --section train.cpu.bicubic_pp_stage1 --out data/train/bpp_s1

``--config FILE --section a.b`` reads the TrainConfig fields from that YAML mapping (keys as the
field names: train_sets, lr_patch, model_kwargs, ...); flags given on the command line override it.
Stage 3 of Bicubic++ is ``--init <stage-2 best.pt> --drop-bias``.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

import yaml

from models.trainer import TrainConfig, TrainError, train

FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


class ConfigError(ValueError):
    """A config file, section or key that cannot be used; the message says which."""


def read_section(path: str, section: str) -> dict:
    """The mapping at dotted ``section`` of YAML file ``path`` (checked against TrainConfig's fields)."""
    try:
        with open(path, encoding="utf-8") as fh:
            node = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    for key in section.split(".") if section else []:
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(f"{path}: no section {section!r} (missing {key!r})")
        node = node[key]
    if not isinstance(node, dict):
        raise ConfigError(f"{path}: section {section!r} is not a mapping")
    unknown = sorted(set(node) - FIELDS)
    if unknown:
        raise ConfigError(f"{path}: section {section!r} has unknown keys {unknown}; known: {sorted(FIELDS)}")
    return dict(node)


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
    """The TrainConfig flags (all default to None so a config section can supply them)."""
    p.add_argument("--config", help="YAML file with a section of TrainConfig fields (e.g. params.yaml)")
    p.add_argument("--section", default="", help="dotted key of that section, e.g. train.cpu.stage1")
    p.add_argument("--model", help="registered model name or module:factory plug-in")
    p.add_argument("--out", help="run folder (last.pt, best.pt, metrics.csv, val.csv, summary.json)")
    p.add_argument("--scale", type=int)
    p.add_argument("--arch", nargs="*", metavar="KEY=VALUE", help="model kwargs, e.g. channels=34 bias=true")
    p.add_argument("--train-sets", nargs="+")
    p.add_argument("--val-sets", nargs="+")
    p.add_argument("--degradation", choices=["ntire23", "classic"])
    p.add_argument("--quality", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--pairs-per-epoch", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--lr-patch", type=int, help="LR patch side in px (HR patch = scale x this)")
    p.add_argument("--lr", type=float)
    p.add_argument("--beta1", type=float)
    p.add_argument("--beta2", type=float)
    p.add_argument("--schedule", choices=["paper", "public", "constant"])
    p.add_argument("--loss", choices=["mse", "l1"])
    p.add_argument("--val-every", type=int)
    p.add_argument("--val-crop", type=int, help="centre-crop validation LR images to this size (0: whole)")
    p.add_argument("--no-augment", dest="augment", action="store_const", const=False)
    p.add_argument("--seed", type=int)
    p.add_argument("--init", help="checkpoint to start from")
    p.add_argument("--drop-bias", action="store_const", const=True, help="remove every bias of --init first")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1")
    p.add_argument("--no-amp", dest="amp", action="store_const", const=False,
                   help="train in FP32 on CUDA (default: FP16 autocast with loss scaling; CPU is always FP32)")
    p.add_argument("--threads", type=int, help="torch CPU threads (0: default)")
    p.add_argument("--no-progress", dest="progress", action="store_const", const=False)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Merge the config section (if any) and the command-line flags into a TrainConfig."""
    values = read_section(args.config, args.section) if args.config else {}
    flags = {k: v for k, v in vars(args).items() if k in FIELDS and v is not None}
    values.update(flags)
    if args.arch:
        values["model_kwargs"] = {**values.get("model_kwargs", {}), **parse_kv(args.arch)}
    for key in ("model", "out"):
        if not values.get(key):
            raise ConfigError(f"--{key} is required (on the command line or in the config section)")
    return TrainConfig(**values)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 with a one-line message on bad input)."""
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__.split("\n")[0])
    add_train_args(parser)
    args = parser.parse_args(argv)
    try:
        import models  # noqa: F401  (registers every model)
        summary = train(config_from_args(args))
    except (TrainError, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{summary['model']}: best val PSNR {summary['best_val_psnr_rgb']:.3f} dB (epoch "
          f"{summary['best_epoch']}), {summary['params']} params, {summary['train_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
