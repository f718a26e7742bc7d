"""Device-side batch sampler: a whole batch of aligned LR/HR patches cut by one gather on the training device.

The training images (uint8 CHW tensors of any sizes) are packed once into two zero-padded NHWC
stacks on the device (LR ``N x Hmax x Wmax x 3``, HR ``N x S*Hmax x S*Wmax x 3``). A batch's
coordinates are a ``B x 4`` int64 tensor of (image index, top, left, k) rows; the crop and the
dihedral augmentation k (``datasets.patches.dihedral``: bit 0 flips left-right, bit 1 top-bottom,
bit 2 transposes) are one index map per patch, so LR and HR come out of a single advanced-index
gather each, with no Python loop over patches. The result is bit-identical to
``datasets.patches.crop_batch`` at the same coordinates (uint8 gather, then the same float
conversion): float NCHW in [0, 1], contiguous.

Coordinates come from one of two draws:
- ``exact_coords``: ``datasets.patches.batch_coords``, the same generator calls in the same order
  as the loop sampler (CPU generator), so a run's patches and RNG state are unchanged;
- ``vector_coords``: one vectorised draw on a generator living on the training device (no host
  round trip; a different random stream, so opt-in).
Either way every process draws the global batch and keeps its contiguous share
(``training.distributed.shard``), so the patches do not depend on the number of processes.
"""
from __future__ import annotations

import torch

from datasets.patches import N_AUGMENT, batch_coords, check_patch_fits
from training import distributed


def pack_images(images: list, scale: int = 1) -> torch.Tensor:
    """uint8 CHW tensors -> one zero-padded uint8 N x Hmax x Wmax x 3 (NHWC) stack on their device."""
    h = max(im.shape[-2] for im in images)
    w = max(im.shape[-1] for im in images)
    stack = torch.zeros((len(images), h, w, images[0].shape[0]), dtype=torch.uint8, device=images[0].device)
    for n, im in enumerate(images):
        stack[n, : im.shape[-2], : im.shape[-1]] = im.permute(1, 2, 0)
    return stack


def index_maps(top: torch.Tensor, left: torch.Tensor, k: torch.Tensor, size: int):
    """(rows, cols) B x size x size int64 source pixels of each augmented patch (top/left/k: B int64)."""
    ar = torch.arange(size, device=top.device)
    y, x = ar.view(1, size, 1), ar.view(1, 1, size)
    transpose = (k & 4).bool().view(-1, 1, 1)
    a = torch.where(transpose, x, y)  # row index before the transpose
    b = torch.where(transpose, y, x)
    a = torch.where((k & 2).bool().view(-1, 1, 1), size - 1 - a, a)
    b = torch.where((k & 1).bool().view(-1, 1, 1), size - 1 - b, b)
    return top.view(-1, 1, 1) + a, left.view(-1, 1, 1) + b


def gather_patches(stack: torch.Tensor, coords: torch.Tensor, size: int, scale: int = 1) -> torch.Tensor:
    """Patches of side ``size`` at ``coords`` (B x 4: image, top, left, k in LR px; x ``scale``) of an NHWC
    uint8 stack, as float B x 3 x size x size in [0, 1] (contiguous NCHW)."""
    n, top, left, k = coords.to(stack.device).unbind(1)
    rows, cols = index_maps(top * scale, left * scale, k, size)
    patches = stack[n.view(-1, 1, 1), rows, cols]  # B x size x size x 3
    return patches.permute(0, 3, 1, 2).float().div_(255).contiguous()


class BatchSampler:
    """The packed training images of one run on its device and the batched crop of (LR, HR) patches."""

    def __init__(self, lr_list: list, hr_list: list, lr_patch: int, scale: int):
        check_patch_fits(lr_list, lr_patch)
        self.lr_list, self.lr_patch, self.scale = lr_list, lr_patch, scale
        self.lr_stack, self.hr_stack = pack_images(lr_list), pack_images(hr_list)
        device = self.lr_stack.device
        self.sizes = torch.tensor([list(im.shape[-2:]) for im in lr_list], dtype=torch.int64, device=device)

    def exact_coords(self, batch: int, generator: torch.Generator, augment: bool = True) -> torch.Tensor:
        """B x 4 int64 (image, top, left, k) drawn exactly as ``batch_coords`` does (same calls, same order)."""
        rows = batch_coords(self.lr_list, batch, self.lr_patch, generator, augment)
        return torch.tensor(rows, dtype=torch.int64)

    def vector_coords(self, batch: int, generator: torch.Generator, augment: bool = True) -> torch.Tensor:
        """B x 4 int64 (image, top, left, k) from one vectorised draw on ``generator``'s device (another stream)."""
        dev = generator.device
        n = torch.randint(0, len(self.lr_list), (batch,), generator=generator, device=dev)
        room = self.sizes.to(dev)[n] - self.lr_patch + 1  # B x 2 positions per axis
        pos = (torch.rand((batch, 2), generator=generator, device=dev) * room).long().minimum(room - 1)
        k = (torch.randint(0, N_AUGMENT, (batch,), generator=generator, device=dev) if augment
             else torch.zeros(batch, dtype=torch.int64, device=dev))
        return torch.stack([n, pos[:, 0], pos[:, 1], k], 1)

    def crop(self, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(lr B3pp, hr B3(pS)(pS)) float [0, 1] at this rank's share of the global ``coords`` (B x 4)."""
        share = distributed.shard(coords)
        share = torch.stack(share) if share else coords[:0]
        return (gather_patches(self.lr_stack, share, self.lr_patch),
                gather_patches(self.hr_stack, share, self.lr_patch * self.scale, self.scale))
