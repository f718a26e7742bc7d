"""``python -m datasets.fingerprint``: one hash per named set of its LR and GT folders, in one JSON file.

Why: a DVC stage cannot list a params list (``train.base.train_sets``) as dependencies, and a
dependency on the whole ``data/lr/<deg>_x<S>`` folder makes every training stage stale when any
other set (a test set) is degraded. The pipeline's ``training_sets`` stage runs this command on
exactly the training and validation sets and writes their fingerprints; the training stages depend
on that file, which changes only when those sets' pixels, manifests or names change. The sets
come from the command line, or from a params section (``--params params.yaml --section
train.base``: its ``train_sets`` and ``val_sets``, ``scale`` and ``degradation``, the values the
training stages read).

A folder's hash is the sha256 of its sorted ``<file name>\\t<sha256 of the file>`` lines (PNGs and
manifest.json; hidden temporary files excluded). Output (written atomically)::

    {"degradation": "ntire23", "scale": 3,
     "sets": {"<name>": {"images": N, "lr_sha256": "...", "gt_sha256": "..."}, ...}}
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import yaml

from core.cli import cli_main, description
from core.hashing import file_sha256
from core.io import write_atomic
from core.protocol import DEGRADATIONS
from core.yamlload import load_yaml
from datasets.paths import gt_dir, lr_dir
from datasets.registry import DatasetError


def folder_sha256(folder: Path) -> str:
    """sha256 of the sorted ``name<TAB>file sha256`` lines of the visible files directly in ``folder``."""
    lines = [f"{p.name}\t{file_sha256(p)}\n" for p in sorted(Path(folder).iterdir())
             if p.is_file() and not p.name.startswith(".")]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def set_fingerprint(name: str, scale: int, degradation: str) -> dict:
    """``{"images", "lr_sha256", "gt_sha256"}`` of one degraded set; DatasetError when it is not degraded."""
    lr, gt = lr_dir(name, scale, degradation), gt_dir(name, scale, degradation)
    for folder in (lr, gt):
        if not (folder / "manifest.json").is_file():
            raise DatasetError(f"{folder}: not made yet; run `python -m datasets.degrade {name} "
                               f"--scale {scale} --degradation {degradation}`")
    images = sum(1 for p in lr.glob("*.png") if not p.name.startswith("."))
    return {"images": images, "lr_sha256": folder_sha256(lr), "gt_sha256": folder_sha256(gt)}


def fingerprints(names: list[str], scale: int, degradation: str) -> dict:
    """The document written by the CLI: every named set once, in the order given."""
    unique = list(dict.fromkeys(names))
    return {"degradation": degradation, "scale": scale,
            "sets": {n: set_fingerprint(n, scale, degradation) for n in unique}}


def training_sets(params: Path, section: str) -> tuple[list[str], int, str]:
    """(train_sets + val_sets, scale, degradation) of a params section such as ``train.base``."""
    try:
        node = load_yaml(Path(params).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{params}: cannot read it as YAML ({str(exc).splitlines()[0]})") from None
    for key in section.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    needed = ("train_sets", "val_sets", "scale", "degradation")
    if not isinstance(node, dict) or any(k not in node for k in needed):
        raise DatasetError(f"{params}: section {section!r} needs {', '.join(needed)}")
    return [*node["train_sets"], *node["val_sets"]], int(node["scale"]), str(node["degradation"])


@cli_main
def main(argv: list[str] | None = None) -> None:
    """CLI entry point (``core.cli``: a set not degraded yet is one line on stderr, exit status 2)."""
    parser = argparse.ArgumentParser(
        prog="python -m datasets.fingerprint", description=description(__doc__),
        epilog="examples: python -m datasets.fingerprint demo_train demo_valid --scale 3 --out sets.json; "
               "python -m datasets.fingerprint --params params.yaml --section train.base --out sets.json")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="degraded sets to fingerprint (a name given twice counts once)")
    parser.add_argument("--params", type=Path, default=None,
                        help="read the sets, scale and degradation from this params file instead "
                             "(default: none; the sets are the NAMEs)")
    parser.add_argument("--section", default="train.base",
                        help="section of --params holding train_sets, val_sets, scale, degradation "
                             "(default: train.base)")
    parser.add_argument("--scale", type=int, default=None,
                        help="scale of the LR/GT folders (required with NAMEs; default: --params')")
    parser.add_argument("--degradation", choices=DEGRADATIONS, default=None,
                        help=f"degradation of the LR/GT folders (default: --params', else {DEGRADATIONS[0]})")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write (required)")
    args = parser.parse_args(argv)
    if args.params is not None:
        names, scale, degradation = training_sets(args.params, args.section)
        names += args.names
        scale, degradation = args.scale or scale, args.degradation or degradation
    elif args.names and args.scale:
        names, scale, degradation = args.names, args.scale, args.degradation or DEGRADATIONS[0]
    else:
        parser.error("give NAME... with --scale, or --params FILE")
    doc = fingerprints(names, scale, degradation)
    write_atomic(args.out, json.dumps(doc, indent=2) + "\n")
    print(f"{', '.join(doc['sets'])} ({degradation} x{scale}) -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
