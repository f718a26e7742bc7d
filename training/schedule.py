"""Named learning-rate schedules: the lr (a float) for a 0-based epoch of a run of ``epochs`` epochs.

The lr is set once at the start of each epoch and held for all its iterations.
    "paper":    base lr for epochs 0 .. E//2 - 1, then linear from base (epoch E//2) to 1e-8 (epoch E-1)
                (Bicubic++ paper: 5e-4 constant for 500 of 1000 epochs, then linear decay to 1e-8)
    "public":   linear from base (epoch 0) to 5e-6 (epoch E-1) (the authors' released training code)
    "constant": base lr every epoch
"""
from __future__ import annotations

from core.errors import RtsrError

PAPER_FINAL_LR = 1e-8
PUBLIC_FINAL_LR = 5e-6
SCHEDULES = ("paper", "public", "constant")


class ScheduleError(RtsrError):
    """An unknown schedule name or an epoch outside the run; the message says which."""


def _linear(base: float, final: float, step: int, steps: int) -> float:
    """Linear interpolation from ``base`` (step 0) to ``final`` (step ``steps``); ``steps`` 0 -> final."""
    if steps <= 0:
        return final
    return base + (final - base) * step / steps


def lr_at(schedule: str, epoch: int, epochs: int, base_lr: float) -> float:
    """Learning rate of 0-based ``epoch`` in a run of ``epochs`` epochs under ``schedule``."""
    if schedule not in SCHEDULES:
        raise ScheduleError(f"unknown lr schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    if epochs < 1 or not 0 <= epoch < epochs:
        raise ScheduleError(f"epoch {epoch} is outside a run of {epochs} epochs")
    if schedule == "constant" or epochs == 1:
        return base_lr
    if schedule == "public":
        return _linear(base_lr, PUBLIC_FINAL_LR, epoch, epochs - 1)
    half = epochs // 2
    if epoch < half:
        return base_lr
    return _linear(base_lr, PAPER_FINAL_LR, epoch - half, epochs - 1 - half)
