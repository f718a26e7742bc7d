"""``python -m eval.gpu_suite.travel``: which mirror images go to the GPU machine for the reproduce step.

The device machine receives at most 64 MiB in all: the repository's tracked files plus the carried
paths (``--also``: wheels or other carried paths, counted first). The plan takes the image sizes
from the mirror's MANIFEST.tsv and adds whole sets (the mirror code path, ``datasets.fetch``, reads
a set only when all its files are there) in this order: the test sets Set5 and Set14 (required),
each training set whose every image fits the reproduce step's LR patch (``eval.gpu_suite.patch``),
then Urban100, each only while the total stays under the limit; a set left out is named with the
reason. ``--stage DEST`` copies the chosen files and their MANIFEST.tsv rows to ``DEST/sr-data`` (a
mirror of its own, read through ``$RTSR_DATA_MIRROR`` on the device) and the released checkpoint,
when present, to ``DEST/official`` (git-ignored under data/; never committed). Sizes are bytes (MiB
= 2**20 bytes).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from core.cli import cli_main, description
from core.io import write_atomic
from core.paths import RELEASED_CHECKPOINT, REPO_ROOT, official_dir
from eval.errors import EvalError
from eval.gpu_suite.context import suite_mirror
from eval.gpu_suite.patch import PAPER_LR_PATCH, RELEASED_LR_PATCH

LIMIT_BYTES = 64 * 2**20  # what the device machine receives in all
MIB = 2**20
REQUIRED_TEST = ("set5", "set14")
TRAINING = ("bsd200", "t91")
OPTIONAL_TEST = ("urban100",)


def manifest_rows(mirror: Path) -> list[dict]:
    """MANIFEST.tsv rows: {"path", "width", "height", "bytes", "line"} (width/height in px of the HR file)."""
    path = Path(mirror) / "MANIFEST.tsv"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EvalError(f"{path}: cannot read the mirror's manifest ({exc.strerror}); "
                        "give --mirror the sr-data folder") from None
    rows = []
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        try:
            w, h = (int(v) for v in cells[1].split("x"))
            rows.append({"path": cells[0], "width": w, "height": h, "bytes": int(cells[3]), "line": line})
        except (IndexError, ValueError):
            raise EvalError(f"{path}: bad row {line[:60]!r}; expected path, WxH, mode, bytes, sha256") from None
    return rows


def set_rows(rows: list[dict], name: str) -> list[dict]:
    """The manifest rows of dataset ``name`` (its registry ``mirror_subdir``)."""
    from datasets.registry import get_dataset

    subdir = get_dataset(name).mirror_subdir
    return [r for r in rows if str(Path(r["path"]).parent) == subdir]


def repo_bytes() -> int:
    """Bytes of the repository's tracked files (what travels besides the carried paths)."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    files = (REPO_ROOT / n for n in names.decode().split("\0") if n)
    return sum(f.stat().st_size for f in files if f.is_file())


def fits_patch(rows: list[dict], scale: int, lr_patch: int) -> bool:
    """True when every image's LR (HR side // scale, px) is at least ``lr_patch`` on both sides."""
    return all(min(r["width"], r["height"]) // scale >= lr_patch for r in rows)


def training_note(rows: list[dict], scale: int) -> str | None:
    """None when the set trains at LR 108 or 96; else why the reproduce step cannot train on it whole."""
    if fits_patch(rows, scale, PAPER_LR_PATCH) or fits_patch(rows, scale, RELEASED_LR_PATCH):
        return None
    fit = sum(min(r["width"], r["height"]) // scale >= RELEASED_LR_PATCH for r in rows)
    return (f"only {fit} of {len(rows)} images fit LR {RELEASED_LR_PATCH} (HR {RELEASED_LR_PATCH * scale}); "
            "the reproduce step trains on whole sets")


def carried_bytes(paths: list[Path]) -> int:
    """Bytes of the other carried paths (files, or folders counted file by file), e.g. a folder of wheels."""
    total = 0
    for path in map(Path, paths):
        if not path.exists():
            raise EvalError(f"{path}: no such file or folder to count; give the paths the device call carries")
        files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
        total += sum(f.stat().st_size for f in files)
    return total


def official_bytes() -> int:
    """Bytes of the released Bicubic++ x3 checkpoint, 0 when it is not here."""
    path = official_dir() / RELEASED_CHECKPOINT
    return path.stat().st_size if path.is_file() else 0


def travel_plan(mirror: Path, scale: int = 3, limit: int = LIMIT_BYTES, also: list[Path] = ()) -> dict:
    """The plan: {"sets", "dropped", "images" (mirror paths), "bytes" (of the images), "repo_bytes",
    "official_bytes", "also_bytes", "total_bytes", "total_mib", "limit_mib", "header" (MANIFEST.tsv's first
    line)}; ``also``: other carried paths (wheels, ...) counted before any image."""
    rows = manifest_rows(mirror)
    tracked, released, extra = repo_bytes(), official_bytes(), carried_bytes(list(also))
    total, sets, dropped, images, image_bytes = tracked + released + extra, [], [], [], 0
    for name in (*REQUIRED_TEST, *TRAINING, *OPTIONAL_TEST):
        mine = set_rows(rows, name)
        size = sum(r["bytes"] for r in mine)
        note = training_note(mine, scale) if name in TRAINING else None
        if not mine:
            note = "not in the mirror"
        elif note is None and total + size >= limit:
            note = f"{size / MIB:.2f} MiB would bring the total to {(total + size) / MIB:.2f} MiB"
        if note is not None:
            if name in REQUIRED_TEST:
                raise EvalError(f"{mirror}: test set {name} cannot travel ({note}); it is required")
            dropped.append({"name": name, "images": len(mine), "mib": round(size / MIB, 2), "reason": note})
            continue
        total, image_bytes = total + size, image_bytes + size
        sets.append({"name": name, "images": len(mine), "mib": round(size / MIB, 2)})
        images += [r["path"] for r in mine]
    return {"sets": sets, "dropped": dropped, "images": images, "bytes": image_bytes, "repo_bytes": tracked,
            "official_bytes": released, "also_bytes": extra, "total_bytes": total, "total_mib": round(total / MIB, 2),
            "limit_mib": limit / MIB, "header": (Path(mirror) / "MANIFEST.tsv").read_text().splitlines()[0]}


def stage(plan: dict, mirror: Path, dest: Path) -> Path:
    """Copy the plan's images and MANIFEST.tsv rows to ``dest/sr-data``, the checkpoint to ``dest/official``."""
    mirror, out = Path(mirror), Path(dest) / "sr-data"
    lines = {r["path"]: r["line"] for r in manifest_rows(mirror)}
    for rel in plan["images"]:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror / rel, out / rel)
    write_atomic(out / "MANIFEST.tsv", "\n".join([plan["header"], *(lines[p] for p in plan["images"])]) + "\n")
    released = official_dir() / RELEASED_CHECKPOINT
    if released.is_file():
        (Path(dest) / "official").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(released, Path(dest) / "official" / RELEASED_CHECKPOINT)
    return out


def plan_lines(plan: dict) -> list[str]:
    """The plan in words: what travels, what is left out and why, the total in MiB."""
    lines = [f"travels: {s['name']} ({s['images']} images, {s['mib']:.2f} MiB)" for s in plan["sets"]]
    lines += [f"left out: {d['name']} ({d['images']} images, {d['mib']:.2f} MiB): {d['reason']}"
              for d in plan["dropped"]]
    lines.append(f"total {plan['total_mib']:.2f} MiB of {plan['limit_mib']:.0f} MiB: images "
                 f"{plan['bytes'] / MIB:.2f} + tracked files {plan['repo_bytes'] / MIB:.2f} + released "
                 f"checkpoint {plan['official_bytes'] / MIB:.2f}"
                 + (f" + other carried paths {plan['also_bytes'] / MIB:.2f}" if plan.get("also_bytes") else ""))
    return lines


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Print the travel plan; with --stage, copy its files."""
    p = argparse.ArgumentParser(prog="python -m eval.gpu_suite.travel", description=description(__doc__))
    p.add_argument("--mirror", default=None, help="the full mirror folder (default: $RTSR_DATA_MIRROR; on "
                   "the project's CI machines, the sr-data folder of the shared/ folder beside the checkout)")
    p.add_argument("--scale", type=int, default=3, help="upscaling factor (default 3)")
    p.add_argument("--stage", type=Path, default=None, metavar="DEST",
                   help="copy the plan to DEST/sr-data and DEST/official, e.g. data/travel (default: print only)")
    p.add_argument("--also", nargs="+", type=Path, default=[], metavar="PATH",
                   help="other paths the device call carries, counted first, e.g. a folder of wheels (default: none)")
    args = p.parse_args(argv)
    mirror = args.mirror or suite_mirror()
    if mirror is None:
        raise EvalError("no mirror: give --mirror the sr-data folder or set $RTSR_DATA_MIRROR")
    plan = travel_plan(Path(mirror), args.scale, also=args.also)
    print("\n".join(plan_lines(plan)))
    if args.stage is not None:
        print(f"staged -> {stage(plan, Path(mirror), args.stage)}")


if __name__ == "__main__":
    sys.exit(main())
