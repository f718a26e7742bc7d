"""Aligned random LR/HR training patches from ``degrade`` outputs, with the 8 dihedral augmentations.

The LR patch is a crop of the degrade output itself (``data/lr/...``), so its pixels are exactly
what ``datasets.degrade`` made for that region; the HR patch is the matching GT crop
(LR position times S, size times S). Augmentation index k in 0..7 (the dihedral group D4):
bit 0 flips left-right, bit 1 flips top-bottom, bit 2 transposes H and W (applied in that
order), identically to LR and HR. Images are uint8 CHW tensors (RGB) on any device; batches
come out float NCHW in [0, 1] on the same device.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from core.protocol import JPEG_QUALITY
from datasets.degrade import check_scale, degrade_dataset
from datasets.manifest import read_manifest
from datasets.registry import DatasetError

N_AUGMENT = 8


class Pair(tuple):
    """``(lr, hr)`` uint8 HxWx3 RGB arrays (unpacks as a 2-tuple) with the image's ``name``."""

    def __new__(cls, lr: np.ndarray, hr: np.ndarray, name: str):
        obj = super().__new__(cls, (lr, hr))
        obj.name = name
        return obj


def _read_png_rgb(path) -> np.ndarray:
    """Read one of our 8-bit RGB PNGs as HxWx3 uint8 RGB (OpenCV decode, BGR -> RGB)."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DatasetError(f"{path}: cannot be read; delete the folder and run `python -m datasets.degrade` again")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load_pairs(names: list[str], scale: int, degradation: str = "ntire23",
               quality: int = JPEG_QUALITY) -> list[Pair]:
    """(lr, hr) uint8 HWC RGB pairs of every image of ``names`` (degrading them first if needed)."""
    scale = check_scale(scale)
    pairs = []
    for name in names:
        lr_folder, gt_folder = degrade_dataset(name, scale, degradation, quality, progress=False)
        for stem, entry in read_manifest(lr_folder)["images"].items():
            lr, hr = _read_png_rgb(lr_folder / f"{stem}.png"), _read_png_rgb(gt_folder / f"{stem}.png")
            if list(lr.shape) != entry["shape"] or hr.shape != (lr.shape[0] * scale, lr.shape[1] * scale, 3):
                raise DatasetError(f"{lr_folder / stem}.png: shape {lr.shape} / GT {hr.shape} do not match "
                                   "the manifest; run `python -m datasets.degrade --force`")
            pairs.append(Pair(lr, hr, f"{name}/{stem}"))
    if not pairs:
        raise DatasetError(f"no training images in {', '.join(names)}; give at least one dataset with images")
    return pairs


def to_chw_tensor(rgb: np.ndarray, device="cpu") -> torch.Tensor:
    """uint8 HxWx3 array -> uint8 3xHxW tensor on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).to(device)


def check_patch_fits(lr_list, lr_patch: int, names=None) -> None:
    """Error naming the first LR image (uint8 CHW) smaller than ``lr_patch`` x ``lr_patch``."""
    if len(lr_list) == 0:
        raise DatasetError("the training set is empty; it needs at least one image larger than one patch")
    if not isinstance(lr_patch, int) or lr_patch < 1:
        raise DatasetError(f"LR patch size {lr_patch!r} must be a positive integer (paper: 108)")
    for i, lr in enumerate(lr_list):
        h, w = lr.shape[-2:]
        if h < lr_patch or w < lr_patch:
            name = names[i] if names is not None else f"image #{i}"
            raise DatasetError(f"{name}: LR size {w}x{h} is smaller than the LR patch {lr_patch}; "
                               "use a smaller patch size or remove the image")


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """Apply dihedral transform ``k`` (0..7) to a ...xHxW tensor (bit0 LR-flip, bit1 TB-flip, bit2 transpose)."""
    if k & 1:
        x = x.flip(-1)
    if k & 2:
        x = x.flip(-2)
    if k & 4:
        x = x.transpose(-1, -2)
    return x


def crop_pair(lr: torch.Tensor, hr: torch.Tensor, top: int, left: int, lr_patch: int, scale: int,
              k: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """LR crop at (top, left) and the HR crop at (top*S, left*S), both transformed by ``k``."""
    lr_p = lr[..., top: top + lr_patch, left: left + lr_patch]
    hr_p = hr[..., top * scale: (top + lr_patch) * scale, left * scale: (left + lr_patch) * scale]
    return dihedral(lr_p, k), dihedral(hr_p, k)


def sample_coords(lr: torch.Tensor, lr_patch: int, generator: torch.Generator,
                  augment: bool) -> tuple[int, int, int]:
    """Random (top, left, k) for one LR image (CHW), drawn from ``generator`` (CPU)."""
    h, w = lr.shape[-2:]
    top = int(torch.randint(0, h - lr_patch + 1, (1,), generator=generator))
    left = int(torch.randint(0, w - lr_patch + 1, (1,), generator=generator))
    k = int(torch.randint(0, N_AUGMENT, (1,), generator=generator)) if augment else 0
    return top, left, k


def batch_coords(lr_list, batch: int, lr_patch: int, generator: torch.Generator,
                 augment: bool = True) -> list[tuple[int, int, int, int]]:
    """(image index, top, left, k) of ``batch`` random patches, drawn from ``generator`` (CPU) in one fixed
    order: the ``batch`` image indices, then each patch's position and augmentation.

    Drawing a whole batch's coordinates is cheap; cropping is not. A data-parallel run draws the same
    global batch on every process and crops only its share (``training.distributed.shard``), so the
    patches do not depend on the number of processes.
    """
    check_patch_fits(lr_list, lr_patch)
    idx = torch.randint(0, len(lr_list), (batch,), generator=generator).tolist()
    return [(i, *sample_coords(lr_list[i], lr_patch, generator, augment)) for i in idx]


def crop_batch(lr_list, hr_list, coords, lr_patch: int, scale: int):
    """The aligned patches at ``coords`` ((image, top, left, k) each) of uint8 CHW tensors:
    (lr B3pp, hr B3(pS)(pS)) float in [0, 1] on the images' device."""
    lrs, hrs = [], []
    for i, top, left, k in coords:
        lr_p, hr_p = crop_pair(lr_list[i], hr_list[i], top, left, lr_patch, scale, k)
        lrs.append(lr_p)
        hrs.append(hr_p)
    return torch.stack(lrs).float().div_(255), torch.stack(hrs).float().div_(255)
