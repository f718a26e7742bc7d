"""Image reading and atomic writing with explicit, tested input rules.

Every image in the project is an ``H x W x 3`` ``uint8`` array in RGB order (HWC).
Input rules (``load_rgb``):
    RGB              -> as is
    L (grayscale)    -> replicated to three equal channels
    1 (bilevel)      -> 0/255 grayscale, replicated
    P (palette)      -> converted to RGB (an error if the palette has transparency, as RGBA)
    RGBA, LA, PA     -> ``ImageError`` unless ``drop_alpha=True`` (then the alpha is discarded)
    I;16, I, F, ...  -> ``ImageError``: convert to 8-bit yourself; no silent bit-depth change
    several frames   -> ``ImageError`` (animated PNG/GIF, multi-page TIFF): never cut to the first
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.errors import RtsrError
from core.io import atomic_path

ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
SINGLE_CHANNEL_MODES = ("L", "1", "LA", "La", "I;16", "I", "F")  # gray source files (+ alpha)


class ImageError(RtsrError):
    """A file that cannot be used as an image; the message names the file and the fix."""


def load_rgb(path: str | os.PathLike, *, drop_alpha: bool = False) -> np.ndarray:
    """Read ``path`` as an HxWx3 uint8 RGB array following the module's input rules."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            return _to_rgb_array(img, path, drop_alpha)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file; run `python -m datasets.fetch` first") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ImageError(
            f"{path}: corrupt or truncated image ({exc}); delete it and fetch it again"
        ) from None


def _to_rgb_array(img: Image.Image, path: Path, drop_alpha: bool) -> np.ndarray:
    """Apply the input rules to an opened PIL image."""
    frames = getattr(img, "n_frames", 1)
    if frames != 1:
        raise ImageError(f"{path}: holds {frames} frames (animated or multi-page); save the one "
                         "frame you mean as its own still image")
    mode = img.mode
    if mode == "P" and "transparency" in img.info:
        img, mode = img.convert("RGBA"), "RGBA"
    if mode in ALPHA_MODES:
        if not drop_alpha:
            raise ImageError(
                f"{path}: image has an alpha channel (mode {mode}); pass --drop-alpha to discard it"
            )
        img = img.convert("RGB")
    elif mode in ("L", "1", "P"):
        img = img.convert("RGB")
    elif mode != "RGB":
        raise ImageError(
            f"{path}: unsupported image mode {mode!r} (16-bit, float or CMYK); "
            "convert it to 8-bit RGB or grayscale first"
        )
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))


def is_single_channel_mode(mode: str | None) -> bool:
    """True for a PIL mode of a single-channel (gray) source file: the one gray rule of the metrics.

    Decided by the source file, never by pixel values: an RGB file with equal channels is RGB.
    """
    return mode in SINGLE_CHANNEL_MODES


def is_grayscale(rgb: np.ndarray) -> bool:
    """True when an HxWx3 array has three identical channels (a replicated grayscale image)."""
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def pixel_sha256(rgb: np.ndarray) -> str:
    """sha256 hex of a uint8 image's pixels: ASCII ``"uint8 HxWxC\n"`` then the C-order bytes."""
    if rgb.dtype != np.uint8:
        raise ImageError(f"pixel_sha256 expects uint8, got {rgb.dtype}")
    header = ("uint8 " + "x".join(str(d) for d in rgb.shape) + "\n").encode()
    return hashlib.sha256(header + np.ascontiguousarray(rgb).tobytes()).hexdigest()


def save_png(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Write an HxWx3 (or HxW) uint8 array as PNG atomically: temp file, then rename."""
    if rgb.dtype != np.uint8:
        raise ImageError(f"{path}: refusing to save dtype {rgb.dtype}; expected uint8")
    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(rgb).save(tmp, format="PNG")
