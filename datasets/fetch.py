"""Fetch HR sets into ``data/hr/<name>/<stem>.png``, verified, written atomically.

Sources, in order: embedded files (``demo*``) or a user folder (``folder:<path>``); a mirror
(``--mirror DIR`` or ``$RTSR_DATA_MIRROR``) holding the set's folder (``Set5/HR``, ``T91``, ...)
or its archive file; otherwise the official archive URL (resumable download, safe extraction).
Every file is checked against its sha256 (bytes) and pixel sha256 where known, decoded with the
``datasets.imageio`` input rules (grayscale -> three equal channels, so everything downstream
sees HxWx3 RGB) and written as PNG: pixels unchanged, whatever the source container.
CLI: ``python -m datasets.fetch NAME... [--mirror DIR] [--drop-alpha] [--force]``; the pipeline's
``fetch`` stages pass no ``--mirror``: ``$RTSR_DATA_MIRROR`` is the one place a mirror is named.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from core.cli import cli_main
from core.hashing import file_sha256
from core.io import staging_dir, write_atomic
from core.overlap import refuse_overlap
from core.paths import data_root
from datasets.download import download, extract
from datasets.imageio import ImageError, load_rgb, pixel_sha256, save_png
from datasets.manifest import read_manifest, write_manifest
from datasets.paths import hr_dir
from datasets.registry import DatasetError, DatasetSpec, get_dataset, list_datasets


def default_mirror() -> Path | None:
    """``$RTSR_DATA_MIRROR`` as a Path (a relative one from the workspace that started the pipeline,
    ``mirror_from_workspace``), or None when unset."""
    env = os.environ.get("RTSR_DATA_MIRROR")
    return mirror_from_workspace(Path(env)) if env else None


def fetch(names: list[str], mirror: Path | None = None, *, drop_alpha: bool = False,
          force: bool = False, progress: bool = True) -> dict[str, Path]:
    """Fetch and verify each set; returns {name: hr folder}. Mirror defaults to $RTSR_DATA_MIRROR."""
    specs = [get_dataset(n) for n in names]  # unknown names fail before any work
    mirror = Path(mirror) if mirror is not None else default_mirror()
    return {spec.name: fetch_spec(spec, mirror, drop_alpha=drop_alpha, force=force, progress=progress)
            for spec in specs}


def fetch_spec(spec: DatasetSpec, mirror: Path | None = None, *, drop_alpha: bool = False,
               force: bool = False, progress: bool = True) -> Path:
    """Fetch one set (see module doc); skips the work when a valid output already exists."""
    out = hr_dir(spec.name)
    if spec.src is not None:  # a folder: set: the data root must not lie in (or be) the user's folder
        refuse_overlap({"HR folder": out}, {"dataset source": spec.src})
    if not force and is_complete(spec, out):
        return out
    start = time.perf_counter()
    src, origin, archive_sha = _locate(spec, mirror, progress)
    files = spec.files
    if archive_sha is not None and spec.archive_suffix:  # e.g. BSDS300 ships JPEGs
        files = tuple(Path(f).stem + spec.archive_suffix for f in files)
    manifest = _convert(spec, files, src, origin, archive_sha, out, drop_alpha)
    if progress:
        print(f"{spec.name}: {len(manifest['images'])} images verified -> {out} "
              f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return out


def is_complete(spec: DatasetSpec, out: Path) -> bool:
    """True when ``out`` has a valid manifest for exactly ``spec``'s files and all PNGs exist."""
    manifest = read_manifest(out)
    if manifest is None or manifest.get("dataset") != spec.name:
        return False
    images = manifest.get("images", {})
    if sorted(images) != sorted(spec.stems) or not all((out / f"{s}.png").is_file() for s in images):
        return False
    if spec.kind == "folder":  # the user's folder may have changed since
        return all(images[Path(f).stem]["file_sha256"] == file_sha256(spec.src / f) for f in spec.files)
    return True


def _locate(spec: DatasetSpec, mirror: Path | None, progress: bool):
    """Folder holding ``spec.files``, a description of the origin, and the archive's sha256."""
    if spec.kind in ("embedded", "folder"):
        return spec.src, f"{spec.kind}:{spec.src}", None
    if mirror is not None:
        return _from_mirror(spec, Path(mirror))
    archive = download(spec.url, data_root() / "downloads" / spec.archive_name,
                       spec.archive_sha256, progress=progress)
    return _extracted(spec, archive), spec.url, file_sha256(archive)


def _from_mirror(spec: DatasetSpec, mirror: Path):
    """The set's folder in the mirror, or its extracted archive when the mirror holds that."""
    if not mirror.is_dir():
        raise DatasetError(f"mirror {mirror} is not a directory; fix --mirror / $RTSR_DATA_MIRROR")
    folder = mirror / spec.mirror_subdir
    if folder.is_dir():
        return folder, f"mirror:{folder}", None
    archive = mirror / spec.archive_name
    if archive.is_file():
        if spec.archive_sha256 and file_sha256(archive) != spec.archive_sha256:
            raise DatasetError(f"{archive}: checksum mismatch; replace it with the file from {spec.url}")
        return _extracted(spec, archive), f"mirror:{archive}", file_sha256(archive)
    raise DatasetError(
        f"mirror {mirror} has neither {spec.mirror_subdir}/ nor {spec.archive_name} for {spec.name}; "
        f"add one (from {spec.url}) or fetch online (no --mirror, $RTSR_DATA_MIRROR unset)")


def _extracted(spec: DatasetSpec, archive: Path) -> Path:
    """Extract ``archive`` once (cached beside the downloads) and return the set's folder in it."""
    root = data_root() / "downloads" / f"{archive.name}.d"
    stamp = root / ".archive-sha256"
    sha = file_sha256(archive)
    if not (stamp.is_file() and stamp.read_text() == sha):
        extract(archive, root)
        write_atomic(stamp, sha)
    folder = root / spec.archive_subdir
    if not folder.is_dir():
        raise DatasetError(f"{archive}: no folder {spec.archive_subdir}/ inside; the archive layout "
                           "changed or the file is wrong: delete it and fetch again")
    return folder


def _convert(spec: DatasetSpec, files: tuple[str, ...], src: Path, origin: str,
             archive_sha: str | None, out: Path, drop_alpha: bool) -> dict:
    """Verify each source file and write it as PNG into a staging folder that replaces ``out``."""
    _check_all_present(spec, files, src)
    images = {}
    with staging_dir(out) as tmp:
        for name in files:
            images[Path(name).stem] = _convert_one(spec, src / name, tmp, drop_alpha)
        manifest = write_manifest(tmp, {
            "dataset": spec.name, "role": spec.role, "citation": spec.citation, "source": origin,
            "archive_sha256": archive_sha, "images": images, "unhashed": ["source", "archive_sha256"],
        })
    return manifest


def _check_all_present(spec: DatasetSpec, files: tuple[str, ...], src: Path) -> None:
    """Fail before converting anything when a source file is missing."""
    missing = [f for f in files if not (src / f).is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DatasetError(f"{src / missing[0]}: missing{more} for {spec.name}; "
                           "re-copy the mirror folder or fetch again")


def _convert_one(spec: DatasetSpec, path: Path, tmp: Path, drop_alpha: bool) -> dict:
    """Check one file's sha256 / pixel sha256, save it as ``tmp/<stem>.png``; its manifest entry."""
    stem = path.stem
    file_sha = file_sha256(path)
    want, want_pix = spec.sha256.get(path.name), spec.pixel_sha256.get(stem)
    bytes_differ = want is not None and file_sha != want
    mismatch = (f"{path}: checksum mismatch (sha256 {file_sha}, expected {want}); the file is "
                "corrupt or different: replace it and fetch again")
    if bytes_differ and want_pix is None:
        raise DatasetError(mismatch)
    try:
        rgb = load_rgb(path, drop_alpha=drop_alpha)
    except ImageError:
        if bytes_differ:
            raise DatasetError(mismatch) from None
        raise
    pix = pixel_sha256(rgb)
    if want_pix is not None and pix != want_pix:
        raise DatasetError(f"{path}: pixel checksum mismatch (got {pix}, expected {want_pix}); "
                           "replace the file and fetch again")
    save_png(tmp / f"{stem}.png", rgb)
    return {"file": path.name, "file_sha256": file_sha, "pixel_sha256": pix,
            "shape": list(rgb.shape), "source_mode": _source_mode(path)}


def _source_mode(path: Path) -> str:
    """PIL mode of the source file ("L" = single channel: the classic Y protocol uses its gray value)."""
    from PIL import Image

    with Image.open(path) as img:
        return img.mode


def _optional_path(text: str) -> Path | None:
    """``--mirror ""`` (as DVC passes an empty ``mirror`` param) means no mirror given; a relative path
    is taken from the workspace the pipeline was started in (``mirror_from_workspace``)."""
    return mirror_from_workspace(Path(text)) if text.strip() else None


def mirror_from_workspace(path: Path) -> Path:
    """A relative mirror path from the DVC workspace that started this stage (``$DVC_ROOT``) when the
    stage runs elsewhere: a queued experiment runs in a temporary copy (``.dvc/tmp/exps/...``), where
    a relative ``$RTSR_DATA_MIRROR`` or ``--mirror`` would not resolve. Unchanged otherwise."""
    origin = os.environ.get("DVC_ROOT")
    if path.is_absolute() or not origin or Path(origin).resolve() == Path.cwd().resolve():
        return path
    return Path(os.path.normpath(Path(origin).resolve() / path))


@cli_main
def main(argv: list[str] | None = None) -> None:
    """CLI entry point (``core.cli``: a bad input is one line on stderr, exit status 2)."""
    parser = argparse.ArgumentParser(
        prog="python -m datasets.fetch", description="Fetch and verify HR datasets into data/hr/.")
    parser.add_argument("names", nargs="+", metavar="NAME",
                        help=f"{', '.join(list_datasets())} or folder:<path>")
    parser.add_argument("--mirror", type=_optional_path, default=None,
                        help="offline mirror folder: Set5/HR/, Set14/HR/, Urban100/HR/, T91/, BSD200/ "
                             "(or the sets' archive files) and MANIFEST.tsv (default, or an empty "
                             "string: $RTSR_DATA_MIRROR; when that is unset too, the official URLs)")
    parser.add_argument("--drop-alpha", action="store_true",
                        help="discard alpha channels of folder: sets (default: an alpha channel is an error)")
    parser.add_argument("--force", action="store_true",
                        help="redo even if data/hr/<name> is complete (default: skip complete sets)")
    args = parser.parse_args(argv)
    for name, path in fetch(args.names, args.mirror, drop_alpha=args.drop_alpha,
                            force=args.force).items():
        print(f"{name}\t{path}")


if __name__ == "__main__":
    sys.exit(main())
