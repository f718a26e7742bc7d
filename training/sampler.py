"""Device-side batch sampler: a whole batch of aligned LR/HR patches cut by one gather on the training device.

The training images (uint8 CHW tensors of any sizes) are packed once into two zero-padded NCHW
stacks on the device (LR ``N x 3 x Hmax x Wmax``, HR ``N x 3 x S*Hmax x S*Wmax``). A batch's
coordinates are a ``B x 4`` int64 tensor of (image index, top, left, k) rows. Each side is cut by
one gather of the stack's unfolded windows (a view, no copy), then the per-patch dihedral
augmentation k (``datasets.patches.dihedral``: bit 0 flips left-right, bit 1 top-bottom, bit 2
transposes) is three batched selects on the uint8 patches: no Python loop over patches. The result is bit-identical to
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


def pack_images(images: list) -> torch.Tensor:
    """uint8 CHW tensors -> one zero-padded uint8 N x C x Hmax x Wmax stack on their device."""
    h = max(im.shape[-2] for im in images)
    w = max(im.shape[-1] for im in images)
    stack = torch.zeros((len(images), images[0].shape[0], h, w), dtype=torch.uint8, device=images[0].device)
    for n, im in enumerate(images):
        stack[n, :, : im.shape[-2], : im.shape[-1]] = im
    return stack


def augment(patches: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Dihedral transform k[b] (0..7, ``datasets.patches.dihedral``) of each square patch of a B x C x p x p batch."""
    bit = lambda mask: (k & mask).bool().view(-1, 1, 1, 1)
    patches = torch.where(bit(1), patches.flip(-1), patches)
    patches = torch.where(bit(2), patches.flip(-2), patches)
    return torch.where(bit(4), patches.transpose(-1, -2), patches)


def gather_patches(stack: torch.Tensor, coords: torch.Tensor, size: int, scale: int = 1) -> torch.Tensor:
    """Patches of side ``size`` at ``coords`` (B x 4: image, top, left, k in LR px; x ``scale``) of an NCHW uint8
    stack: one gather of its unfolded windows, then ``augment``; float B x C x size x size in [0, 1], contiguous."""
    n, top, left, k = coords.to(stack.device).unbind(1)
    windows = stack.unfold(2, size, 1).unfold(3, size, 1)  # N x C x H' x W' x size x size, a view
    patches = windows[n, :, top * scale, left * scale]  # B x C x size x size
    return augment(patches, k).contiguous().float().div_(255)


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
