"""Make LR inputs and their ground truth from verified HR sets, reproducibly and recorded.

Degradations (all on HxWx3 uint8 RGB, HWC):
    ntire23 (default)  HR centre-cropped to a multiple of S (``CROP_CENTER``: the challenge's
                       ``prepare_data.py``, torchvision ``center_crop``: offsets
                       ``int(round((H - h) / 2.0))`` and ``int(round((W - w) / 2.0))``, Python's
                       round, i.e. half to even: a 1 px excess is cut at the bottom/right, 3 px
                       as 2 on top and 1 below) -> Pillow ``Image.resize((w//S, h//S),
                       Image.BICUBIC)`` (antialiased) -> Pillow JPEG in memory with quality Q
                       (default 90), subsampling 4:2:0, optimize off, progressive off, default
                       tables, all stated explicitly -> decoded by Pillow -> PNG.
    classic            HR cropped top-left to a multiple of S (``CROP_TOP_LEFT``: MATLAB's
                       ``modcrop``) -> MATLAB-compatible bicubic ``imresize(gt, 1/S)`` (a=-0.5,
                       antialiased, MATLAB rounding), no JPEG: the published Set5/Set14 protocol.
                       A grayscale HR (three equal channels) stays three equal channels, so its
                       Y for evaluation is the gray value.
Outputs: ``data/lr/<deg>_x<S>/<name>/<stem>.png`` and ``data/gt/<deg>_x<S>/<name>/<stem>.png``
(GT = the cropped HR; LR is exactly GT/S), each folder with a ``manifest.json`` holding the
pixel sha256 of every image, the parameters (the crop rule by name; each GT entry's
``crop_offset`` [top, left] in HR pixels) and the Pillow/libjpeg/numpy versions; decoded JPEG
pixels depend on the libjpeg build, hence the versions. Both folders are written to temp folders
and renamed into place; an error leaves neither behind.
CLI: ``python -m datasets.degrade NAME... --scale S [--degradation ntire23|classic]
[--quality 90] [--drop-alpha] [--force]``.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, features

from core.cli import cli_main
from core.io import staging_dir
from core.protocol import CROP_CENTER, CROP_TOP_LEFT, DEGRADATIONS, JPEG_QUALITY
from core.schema import SCALE_RULE, valid_scale
from datasets.imageio import load_rgb, pixel_sha256, save_png
from datasets.manifest import read_manifest, write_manifest
from datasets.paths import gt_dir, hr_dir, lr_dir
from datasets.registry import DatasetError, get_dataset

JPEG_SUBSAMPLING = 2  # Pillow's code for 4:2:0
JPEG_OPTIONS = {"subsampling": "4:2:0", "optimize": False, "progressive": False, "qtables": "default"}


def check_scale(scale) -> int:
    """Validate the integer downscaling factor (``core.schema.valid_scale``); returns it as int."""
    if not valid_scale(scale):
        raise DatasetError(f"scale {scale!r} is not supported; use {SCALE_RULE} (e.g. --scale 3)")
    return int(scale)


def check_quality(quality) -> int:
    """Validate the JPEG quality (1..100)."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise DatasetError(f"JPEG quality {quality!r} is out of range; use an integer in 1..100 "
                           f"(default {JPEG_QUALITY})")
    return int(quality)


def crop_offset(h: int, w: int, s: int, rule: str) -> tuple[int, int]:
    """(top, left) of the largest H, W multiple of ``s`` inside ``h`` x ``w`` under the named ``rule``."""
    ch, cw = h - h % s, w - w % s
    if rule == CROP_CENTER:  # torchvision's int(round(...)); Python's round is half to even, int out
        return round((h - ch) / 2.0), round((w - cw) / 2.0)
    if rule == CROP_TOP_LEFT:
        return 0, 0
    raise DatasetError(f"unknown crop rule {rule!r}; use {CROP_CENTER} or {CROP_TOP_LEFT}")


def crop_to_multiple(hr: np.ndarray, s: int, name: str = "image", *, rule: str) -> np.ndarray:
    """Crop an HxWxC array to H, W multiples of ``s`` by the named ``rule``; error if a side < ``s``."""
    h, w = hr.shape[:2]
    if h < s or w < s:
        raise DatasetError(f"{name}: {w}x{h} is smaller than the scale {s}; remove it or use a smaller --scale")
    top, left = crop_offset(h, w, s, rule)
    return hr[top: top + h - h % s, left: left + w - w % s]


def jpeg_roundtrip(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> np.ndarray:
    """Encode uint8 RGB HWC as Pillow JPEG (4:2:0, no optimize, baseline) in memory and decode it."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, subsampling=JPEG_SUBSAMPLING,
                              optimize=False, progressive=False)
    buf.seek(0)
    with Image.open(buf) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def degrade_ntire23(hr: np.ndarray, scale: int, quality: int = 90, name: str = "image") -> np.ndarray:
    """NTIRE 2023 LR from uint8 RGB HWC: centre crop, Pillow bicubic 1/S, JPEG q (4:2:0) round trip."""
    scale, quality = check_scale(scale), check_quality(quality)
    gt = crop_to_multiple(hr, scale, name, rule=CROP_CENTER)
    h, w = gt.shape[:2]
    small = Image.fromarray(gt).resize((w // scale, h // scale), Image.BICUBIC)
    return jpeg_roundtrip(np.asarray(small), quality)


def degrade_classic(hr: np.ndarray, scale: int, name: str = "image") -> np.ndarray:
    """Classic LR from uint8 RGB HWC: top-left crop, MATLAB bicubic imresize by 1/S, uint8 (no JPEG)."""
    from datasets.matlab_resize import imresize

    scale = check_scale(scale)
    gt = crop_to_multiple(hr, scale, name, rule=CROP_TOP_LEFT)
    lr = imresize(gt, 1.0 / scale)
    h, w = gt.shape[:2]
    if lr.shape != (h // scale, w // scale, 3) or lr.dtype != np.uint8:
        raise DatasetError(f"{name}: imresize gave {lr.shape} {lr.dtype}, expected {(h // scale, w // scale, 3)} uint8")
    return lr


def degradation_params(degradation: str, scale: int, quality: int) -> dict:
    """The parameters recorded in (and hashed into) both manifests."""
    if degradation == "ntire23":
        return {"degradation": "ntire23", "scale": scale, "crop": CROP_CENTER,
                "resize": "PIL.Image.resize BICUBIC", "jpeg": dict(JPEG_OPTIONS, quality=quality)}
    if degradation == "classic":
        return {"degradation": "classic", "scale": scale, "crop": CROP_TOP_LEFT,
                "resize": "datasets.matlab_resize.imresize (MATLAB bicubic, a=-0.5, antialiased)",
                "jpeg": None}
    raise DatasetError(f"unknown degradation {degradation!r}; use one of {', '.join(DEGRADATIONS)}")


def library_versions() -> dict:
    """Versions that decide the decoded pixels: Pillow, its libjpeg, numpy."""
    import PIL

    return {"pillow": PIL.__version__, "libjpeg": features.version("jpg"),
            "libjpeg_turbo": features.version("libjpeg_turbo"), "numpy": np.__version__}


def degrade_dataset(name: str, scale: int, degradation: str = "ntire23", quality: int = 90,
                    drop_alpha: bool = False, *, force: bool = False,
                    progress: bool = True) -> tuple[Path, Path]:
    """Write LR and GT folders (+ manifests) for ``name``; fetches HR first if missing. -> (lr, gt)."""
    scale, quality = check_scale(scale), check_quality(quality)
    params = degradation_params(degradation, scale, quality)
    spec = get_dataset(name)
    hr_manifest = _ensure_hr(spec.name, drop_alpha, progress)
    lr_out, gt_out = lr_dir(spec.name, scale, degradation), gt_dir(spec.name, scale, degradation)
    header = {"dataset": spec.name, **params, "versions": library_versions(),
              "hr_manifest_sha256": hr_manifest["manifest_sha256"]}
    if not force and _up_to_date(lr_out, gt_out, header):
        return lr_out, gt_out
    start = time.perf_counter()
    hr_folder = hr_dir(spec.name)
    with staging_dir(lr_out) as lr_tmp, staging_dir(gt_out) as gt_tmp:
        lr_images, gt_images = {}, {}
        for stem in hr_manifest["images"]:
            path = hr_folder / f"{stem}.png"
            hr = load_rgb(path, drop_alpha=drop_alpha)
            gt = crop_to_multiple(hr, scale, str(path), rule=params["crop"])
            offset = crop_offset(*hr.shape[:2], scale, params["crop"])
            lr = (degrade_ntire23(gt, scale, quality, str(path)) if degradation == "ntire23"
                  else degrade_classic(gt, scale, str(path)))
            save_png(gt_tmp / f"{stem}.png", gt)
            save_png(lr_tmp / f"{stem}.png", lr)
            gt_images[stem] = {"sha256": pixel_sha256(gt), "shape": list(gt.shape),
                               "crop_offset": list(offset),
                               "source_mode": hr_manifest["images"][stem].get("source_mode")}
            lr_images[stem] = {"sha256": pixel_sha256(lr), "shape": list(lr.shape)}
        write_manifest(lr_tmp, {**header, "kind": "lr", "images": lr_images})
        write_manifest(gt_tmp, {**header, "kind": "gt", "images": gt_images})
    if progress:
        print(f"{spec.name}: {len(lr_images)} LR/GT pairs ({degradation} x{scale}) -> {lr_out} "
              f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return lr_out, gt_out


def _ensure_hr(name: str, drop_alpha: bool, progress: bool) -> dict:
    """The HR manifest of ``name``, fetching the set first (embedded or $RTSR_DATA_MIRROR)."""
    from datasets.fetch import fetch

    fetch([name], drop_alpha=drop_alpha, progress=progress)
    manifest = read_manifest(hr_dir(name))
    if manifest is None:
        raise DatasetError(f"{hr_dir(name)}: no valid manifest.json; run `python -m datasets.fetch {name} --force`")
    return manifest


def _up_to_date(lr_out: Path, gt_out: Path, header: dict) -> bool:
    """True when both folders hold manifests made from the same HR, parameters and versions."""
    for folder in (lr_out, gt_out):
        manifest = read_manifest(folder)
        if manifest is None or any(manifest.get(k) != v for k, v in header.items()):
            return False
        if not all((folder / f"{s}.png").is_file() for s in manifest["images"]):
            return False
    return True


@cli_main
def main(argv: list[str] | None = None) -> None:
    """CLI entry point (``core.cli``: a bad input is one line on stderr, exit status 2)."""
    parser = argparse.ArgumentParser(prog="python -m datasets.degrade",
                                     description="Make LR/GT pairs from HR sets (see module doc).")
    parser.add_argument("names", nargs="+", metavar="NAME",
                        help="registered sets (set5, demo, ...; fetched first when missing) or folder:<path>")
    parser.add_argument("--scale", type=int, required=True, help="integer factor >= 2 (required; the challenge's: 3)")
    parser.add_argument("--degradation", choices=DEGRADATIONS, default="ntire23",
                        help="ntire23: centre crop, Pillow bicubic, JPEG; classic: MATLAB bicubic, no JPEG "
                             "(default: ntire23)")
    parser.add_argument("--quality", type=int, default=JPEG_QUALITY,
                        help=f"JPEG quality of ntire23 (default: {JPEG_QUALITY})")
    parser.add_argument("--drop-alpha", action="store_true",
                        help="discard alpha channels (default: an alpha channel is an error)")
    parser.add_argument("--force", action="store_true",
                        help="regenerate even if up to date (default: skip sets already made)")
    args = parser.parse_args(argv)
    check_scale(args.scale)
    for name in args.names:
        get_dataset(name)  # every name is checked before any work
    for name in args.names:
        lr, gt = degrade_dataset(name, args.scale, args.degradation, args.quality,
                                 args.drop_alpha, force=args.force)
        print(f"{name}\t{lr}\t{gt}")


if __name__ == "__main__":
    sys.exit(main())
