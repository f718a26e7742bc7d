"""A test-set mosaic at a fixed input size: real LR content in the runtime protocol's tensor shape.

Shape-specialised runtimes (CUDA graphs, ``torch.compile``, TensorRT) are built for one input shape;
checking their output on a test set of many sizes would rebuild them per image. Instead the LR images
of a set are tiled, row-major and cyclically, into one canvas of the protocol's (H, W); every tile is
the centre crop (``tile`` x ``tile`` LR px, the set's smallest LR side rounded down to even) of
one image, and the ground-truth mosaic holds the aligned ``scale``-times larger crops of the GT.
Arrays are uint8 HxWx3 RGB (HWC); the LR/GT pairs come from ``datasets.degrade`` outputs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.imageio import load_rgb
from eval.errors import EvalError


def tile_side(lr_images: list[np.ndarray]) -> int:
    """Largest even side that fits inside every LR image (>= 2)."""
    side = min(min(im.shape[:2]) for im in lr_images)
    side -= side % 2
    if side < 2:
        raise EvalError(f"LR images too small to tile (smallest side {side + side % 2} px)")
    return side


def centre_box(h: int, w: int, side: int) -> tuple[int, int]:
    """(top, left) of a centred ``side`` x ``side`` box in an h x w image."""
    return (h - side) // 2, (w - side) // 2


def build_mosaic(pairs: list[tuple[np.ndarray, np.ndarray]], hw: tuple[int, int],
                 scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(LR mosaic h x w x 3, GT mosaic sh x sw x 3), uint8 RGB, from (LR, GT) uint8 pairs; see module doc."""
    if not pairs:
        raise EvalError("no LR/GT pairs to build a mosaic from")
    h, w = hw
    side = tile_side([lr for lr, _ in pairs])
    lr_canvas = np.zeros((h, w, 3), np.uint8)
    gt_canvas = np.zeros((h * scale, w * scale, 3), np.uint8)
    k = 0
    for y in range(0, h, side):
        for x in range(0, w, side):
            lr, gt = pairs[k % len(pairs)]
            k += 1
            th, tw = min(side, h - y), min(side, w - x)
            top, left = centre_box(*lr.shape[:2], side)
            lr_canvas[y:y + th, x:x + tw] = lr[top:top + th, left:left + tw]
            gt_canvas[y * scale:(y + th) * scale, x * scale:(x + tw) * scale] = \
                gt[top * scale:(top + th) * scale, left * scale:(left + tw) * scale]
    return lr_canvas, gt_canvas


def load_degraded_pairs(lr_folder: Path, gt_folder: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(LR, GT) uint8 RGB pairs of a degraded set, by sorted file name."""
    pairs = []
    for lr_path in sorted(Path(lr_folder).glob("*.png")):
        if not lr_path.name.startswith("."):
            pairs.append((load_rgb(lr_path), load_rgb(Path(gt_folder) / lr_path.name)))
    return pairs
