"""Stage 2 of Bicubic++ training: greedy global structured channel pruning by validation PSNR, then finetune.

No magnitude or gradient criterion: at each step every remaining channel of every group still wider
than the target is removed tentatively, the validation RGB PSNR is measured, and the channel whose
removal lowers it least goes. Channel groups of a ``BicubicPP`` (attributes down/head/blocks/tail):
    "stream"      the residual stream: outputs of ``head`` and of each block's LAST conv, tied by the skip
                  connections (removed together); read by each block's first conv and by ``tail``
    "b<i>.c<j>"   outputs of inner conv j of block i (j < m-1), free; read by conv j+1 of that block
Removing channel c of a group is exactly zeroing row c of its producers' weights and biases
(LeakyReLU/ReLU map 0 to 0, so the consumers see a zero input channel); the final network copies the
kept rows/columns into ``create_model(name, channels=target, ...)``. Every group is pruned to ``target``.

Outputs in ``out``: prune_log.csv (step, group, channel index in the original numbering, width after,
val PSNR before/after), pruned.pt (before finetuning), then the finetune run's files (see trainer).
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import torch
from torch import nn

from core.cli import cli_main
from core.errors import RtsrError
from core.hashing import file_sha256
from core.io import write_atomic
from core.progress import say
from models.registry import create_model, load_checkpoint
from training import distributed
from training.checkpoints import build_model, save_checkpoint
from training.config import TrainConfig
from training.data import load_validation
from training.loop import resolve_device, train
from training.train import add_train_args, config_from_args
from training.validation import validate

STREAM = "stream"


class PruneError(RtsrError):
    """A model or target that cannot be pruned; the message says why."""


def conv_groups(model: nn.Module) -> dict[str, tuple[str | None, str | None]]:
    """Conv name -> (group of its output channels, group of its input channels); None = not prunable."""
    for attr in ("head", "blocks", "tail"):
        if not hasattr(model, attr):
            raise PruneError(f"{type(model).__name__} has no {attr!r}; pruning needs the BicubicPP structure")
    out = {"head": (STREAM, None), "tail": (None, STREAM)}
    for b, block in enumerate(model.blocks):
        m = len(block)
        for j in range(m):
            in_group = STREAM if j == 0 else f"b{b}.c{j - 1}"
            out_group = STREAM if j == m - 1 else f"b{b}.c{j}"
            out[f"blocks.{b}.{j}"] = (out_group, in_group)
    return out


def group_widths(model: nn.Module) -> dict[str, int]:
    """Number of output channels of every prunable group."""
    modules = dict(model.named_modules())
    widths = {}
    for name, (out_group, _) in conv_groups(model).items():
        if out_group is not None:
            widths.setdefault(out_group, modules[name].out_channels)
    return widths


def producers(model: nn.Module, group: str) -> list[nn.Conv2d]:
    """The convs whose output channels make up ``group``."""
    modules = dict(model.named_modules())
    return [modules[n] for n, (g, _) in conv_groups(model).items() if g == group]


@torch.no_grad()
def zero_channel(model: nn.Module, group: str, channel: int) -> list:
    """Zero output ``channel`` (weights and bias) of every producer of ``group``; returns what to restore."""
    saved = []
    for conv in producers(model, group):
        saved.append((conv, conv.weight[channel].clone(),
                      None if conv.bias is None else conv.bias[channel].clone()))
        conv.weight[channel] = 0
        if conv.bias is not None:
            conv.bias[channel] = 0
    return saved


@torch.no_grad()
def unzero_channel(saved: list, channel: int) -> None:
    """Undo ``zero_channel``: put back the saved weights and biases of ``channel``."""
    for conv, weight, bias in saved:
        conv.weight[channel] = weight
        if bias is not None:
            conv.bias[channel] = bias


def check_target(widths: dict[str, int], target: int) -> None:
    """PruneError unless 1 <= target <= every group's width."""
    if not isinstance(target, int) or target < 1:
        raise PruneError(f"prune target {target!r} must be an integer >= 1")
    wide = min(widths.values())
    if target > wide:
        raise PruneError(f"prune target {target} is above the current width {wide} "
                         f"(groups: {widths}); choose a target <= {wide}")


def greedy_prune(model: nn.Module, target: int, evaluate, log=say) -> dict[str, list[int]]:
    """Greedy global removal (by ``evaluate(model) -> PSNR``) until every group has ``target`` channels.

    Works on ``model`` in place by zeroing; returns the removed channels per group, and appends
    one record per removal to ``model.prune_log`` (a list of dicts).
    """
    widths = group_widths(model)
    check_target(widths, target)
    removed: dict[str, list[int]] = {g: [] for g in widths}
    records = []
    current = evaluate(model)
    step = 0
    while any(widths[g] - len(removed[g]) > target for g in widths):
        best = None
        for group in widths:
            if widths[group] - len(removed[group]) <= target:
                continue
            for c in range(widths[group]):
                if c in removed[group]:
                    continue
                saved = zero_channel(model, group, c)
                score = evaluate(model)
                unzero_channel(saved, c)
                if best is None or score > best[0]:
                    best = (score, group, c)
        score, group, c = best
        zero_channel(model, group, c)
        removed[group].append(c)
        step += 1
        records.append({"step": step, "group": group, "channel": c,
                        "width_after": widths[group] - len(removed[group]),
                        "val_psnr_before": round(current, 4), "val_psnr_after": round(score, 4)})
        log(f"prune step {step}: {group} channel {c} -> width {records[-1]['width_after']}, "
            f"val PSNR {current:.4f} -> {score:.4f} dB")
        current = score
    model.prune_log = records  # type: ignore[attr-defined]
    return removed


@torch.no_grad()
def remove_channels(model: nn.Module, removed: dict[str, list[int]], name: str, scale: int,
                    arch_kwargs: dict) -> tuple[nn.Module, dict]:
    """Structurally smaller copy of ``model`` without the ``removed`` channels (all groups equal width)."""
    widths = group_widths(model)
    kept = {g: [c for c in range(widths[g]) if c not in set(removed.get(g, []))] for g in widths}
    sizes = {len(k) for k in kept.values()}
    if len(sizes) != 1:
        raise PruneError(f"groups would end with different widths {({g: len(k) for g, k in kept.items()})}; "
                         "the model takes one channels value")
    kwargs = {**arch_kwargs, "channels": sizes.pop()}
    small = create_model(name, scale, **kwargs)
    big_mods, small_mods = dict(model.named_modules()), dict(small.named_modules())
    for conv_name, (out_group, in_group) in conv_groups(model).items():
        src, dst = big_mods[conv_name], small_mods[conv_name]
        rows = kept[out_group] if out_group else list(range(src.out_channels))
        cols = kept[in_group] if in_group else list(range(src.in_channels))
        dst.weight.copy_(src.weight[rows][:, cols])
        if src.bias is not None:
            dst.bias.copy_(src.bias[rows])
    return small, kwargs


def write_log(path: Path, records: list) -> None:
    """The pruning log as CSV (one row per removed channel)."""
    buf = io.StringIO()
    fields = ["step", "group", "channel", "width_after", "val_psnr_before", "val_psnr_after"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    write_atomic(path, buf.getvalue())


def prune_stage(cfg: TrainConfig, target: int) -> dict:
    """Prune ``cfg.init`` to ``target`` channels (reusing out/pruned.pt when made from the same input), then finetune.

    Under torchrun only rank 0 prunes (the others wait), then every rank finetunes.
    """
    if not cfg.init:
        raise PruneError("pruning needs --init (the stage-1 checkpoint)")
    out = Path(cfg.out)
    pruned_path = out / "pruned.pt"
    key = {"init_sha256": file_sha256(cfg.init), "target": target, "val_sets": list(cfg.val_sets),
           "val_crop": cfg.val_crop, "scale": cfg.scale}
    done = load_checkpoint(pruned_path) if pruned_path.is_file() else None
    if done is not None and done.get("prune") != key and (out / "last.pt").is_file() and not cfg.force:
        changed = sorted(k for k in key if (done.get("prune") or {}).get(k) != key[k])
        raise PruneError(f"{pruned_path}: pruned with other settings ({', '.join(changed)}); give a new "
                         "--out, or --force to prune and finetune this run over (its best.pt is replaced)")
    if distributed.is_main() and (done is None or done.get("prune") != key):
        model, arch = build_model(cfg)
        device = resolve_device(cfg.device)
        model = model.to(device).eval()
        check_target(group_widths(model), target)
        items = load_validation(cfg, device)
        say(f"{out.name}: pruning {cfg.init} to {target} channels per group by validation PSNR "
            f"(widths {group_widths(model)}; each step validates every remaining channel)")
        removed = greedy_prune(model, target, lambda m: validate(m, items, cfg.scale),
                               log=lambda line: say(f"{out.name}: {line}"))
        write_log(out / "prune_log.csv", model.prune_log)
        small, kwargs = remove_channels(model.cpu(), removed, cfg.model, cfg.scale, arch["kwargs"])
        save_checkpoint({"arch": {**arch, "kwargs": kwargs}, "state_dict": small.state_dict(), "prune": key,
                     "removed": removed, "log": model.prune_log}, pruned_path)
    elif distributed.is_main():
        say(f"{out.name}: {pruned_path} was pruned from this {cfg.init} already; finetuning it")
    distributed.barrier()
    return train(cfg.model_copy(update={"init": str(pruned_path)}))


@cli_main
def main(argv: list[str] | None = None) -> None:
    """CLI: ``python -m training.prune --init S1/best.pt --target 32 --out DIR [train flags]``."""
    parser = argparse.ArgumentParser(
        prog="python -m training.prune", description="greedy structured pruning by validation PSNR, then finetune",
        epilog="example: python -m training.prune --config params.yaml --section train.base "
               "train.bicubic_pp_stage2 --target 32 --init data/train/bicubic_pp_stage1/best.pt "
               "--out data/train/bicubic_pp_stage2")
    add_train_args(parser)
    parser.add_argument("--target", type=int, required=True,
                        help="channels per group after pruning (required; the paper's and params' prune.target: 32)")
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    with distributed.process_group(cfg.device):
        summary = prune_stage(cfg, args.target)
        if distributed.is_main():
            channels = summary["arch"]["kwargs"].get("channels")
            say(f"{Path(args.out or '.').name}: {summary['model']} pruned to {channels} "
                f"channels, best val PSNR {summary['best_val_psnr_rgb']:.3f} dB, {summary['params']:,} params")


if __name__ == "__main__":
    sys.exit(main())
