"""Data-parallel training under ``torchrun``: the process group, the rank-0 predicate, each rank's share.

``torchrun --nproc-per-node N -m training.train ...`` starts N copies of the unchanged trainer; the
environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ...) says which one each is.
Without torchrun (no ``WORLD_SIZE``, or 1) every function here is the single-process identity.

- ``batch`` is the **global** batch: each of the N processes trains on ``batch / N`` of the same
  patches one process would draw. Every rank draws the whole batch's coordinates from the same
  seeded generator and crops only its contiguous share (``shard``), so the patches, the gradient
  (DDP averages it over ranks) and the generator state do not depend on N; a run resumes from its
  ``last.pt`` with another N. Loss curves of N and 1 processes agree to floating-point tolerance
  (the gradient all-reduce sums in another order).
- ``is_main()`` is the one predicate for side effects: only rank 0 prints, validates and writes
  checkpoints and logs; the others wait at ``barrier()``.
- Backend: NCCL on CUDA (one GPU per process, ``cuda:LOCAL_RANK``), gloo on the CPU.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.distributed as dist
from torch import nn

from training.config import TrainError


def launched_world_size() -> int:
    """``WORLD_SIZE`` as set by torchrun (1 when not launched by it)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def active() -> bool:
    """True when a process group with more than one process is up."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank in the group (0 without one)."""
    return dist.get_rank() if active() else 0


def world_size() -> int:
    """Number of processes in the group (1 without one)."""
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """True in the one process that prints, validates and writes files (rank 0, or the only process)."""
    return rank() == 0


def barrier() -> None:
    """Wait until every rank gets here (nothing without a group)."""
    if active():
        dist.barrier()


@contextmanager
def process_group(device: str = "auto") -> Iterator[None]:
    """Join torchrun's process group for the block when ``WORLD_SIZE`` > 1 (NCCL for CUDA, gloo for the
    CPU), and leave it after; a no-op for a single process or when a group is already up."""
    if launched_world_size() <= 1 or dist.is_initialized():
        yield
        return
    cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def local_device(device: torch.device) -> torch.device:
    """The rank's device: ``cuda:LOCAL_RANK`` for an unindexed CUDA device in a group, else ``device``."""
    if active() and device.type == "cuda" and device.index is None:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def check_global_batch(batch: int) -> None:
    """TrainError unless the global ``batch`` splits evenly over the processes."""
    if batch % world_size():
        raise TrainError(f"batch={batch} is the global batch and must be divisible by the {world_size()} "
                         "processes; change --batch or --nproc-per-node")


def check_same_on_all_ranks(value: int, what: str) -> None:
    """TrainError unless every rank holds the same integer ``value`` (e.g. the epoch it resumes from)."""
    if not active():
        return
    cuda = dist.get_backend() == "nccl"
    device = torch.device("cuda", torch.cuda.current_device()) if cuda else torch.device("cpu")
    bounds = torch.tensor([value, -value], dtype=torch.int64, device=device)
    dist.all_reduce(bounds, op=dist.ReduceOp.MAX)  # (max, -min) over the ranks
    if int(bounds[0]) != -int(bounds[1]):
        raise TrainError(f"the ranks disagree on {what} ({-int(bounds[1])} to {int(bounds[0])}): every node must "
                         "see the same run folder; put --out (and data/) on a filesystem shared by all nodes")


def shard(items: Sequence) -> list:
    """This rank's contiguous share of a global batch (``len(items) / world_size()`` items)."""
    per_rank = len(items) // world_size()
    return list(items[rank() * per_rank:(rank() + 1) * per_rank])


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` under DistributedDataParallel (gradients all-reduced, averaged) in a group, else itself."""
    if not active():
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def mean_over_ranks(value: torch.Tensor) -> float:
    """The mean of a scalar tensor over the ranks (the value itself without a group)."""
    if not active():
        return float(value)
    total = value.detach().clone().float()
    dist.all_reduce(total)
    return float(total) / world_size()


@contextmanager
def main_first() -> Iterator[None]:
    """Run the block in rank 0 first, then in the others (rank 0 makes missing files, the others read them)."""
    if not is_main():
        barrier()
    yield
    if is_main():
        barrier()
