"""Regenerate ``<dataset>.sha256`` and ``<dataset>.pixels.sha256`` from the mirror's MANIFEST.tsv.

Run from the repository root: ``python -m datasets.checksums.generate [MIRROR]`` (default ``../shared/sr-data``).
``<dataset>.sha256``: sha256 of each file's bytes, ``sha256sum`` format, paths relative to the
dataset's folder in the mirror. ``<dataset>.pixels.sha256``: ``datasets.imageio.pixel_sha256`` of
each file's decoded HxWx3 uint8 RGB pixels (input rules applied), keyed by stem: this is what
verifies files that arrive in another container (BMP/JPEG archives) with unchanged pixels.
"""
from __future__ import annotations

import sys
from pathlib import Path

from core.cli import cli_main
from core.paths import DEFAULT_MIRROR
from datasets.imageio import load_rgb, pixel_sha256

FOLDERS = {"set5": "Set5/HR", "set14": "Set14/HR", "urban100": "Urban100/HR", "t91": "T91", "bsd200": "BSD200"}


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Write both checksum files for every dataset listed in ``MIRROR/MANIFEST.tsv``."""
    mirror = Path(argv[0]) if argv else DEFAULT_MIRROR
    rows = [line.split("\t") for line in (mirror / "MANIFEST.tsv").read_text().splitlines()[1:]]
    out = Path(__file__).resolve().parent
    for name, folder in FOLDERS.items():
        files, pixels = [], []
        for path, _wh, _mode, _size, sha in sorted(r for r in rows if r[0].startswith(folder + "/")):
            rel = path[len(folder) + 1:]
            files.append(f"{sha.strip()}  {rel}\n")
            pixels.append(f"{pixel_sha256(load_rgb(mirror / path))}  {Path(rel).stem}\n")
        (out / f"{name}.sha256").write_text("".join(files))
        (out / f"{name}.pixels.sha256").write_text("".join(pixels))
        print(f"{name}: {len(files)} files")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
