"""What long stages print while they work: one plain line per epoch, a rich bar on a terminal.

Under ``dvc repro`` a stage's stdout and stderr are the user's terminal when one is attached, and a
pipe or a log file otherwise (``dvc repro > log``). Every progress message goes to **stderr** and is
flushed at once, so a log shows each epoch when it ends, never all of them when the process exits.
On a terminal a rich progress bar of the steps runs below the lines; without one, or with
``bar=False`` (``--no-progress``), only the lines are printed.

One process reports: ``reporting()`` is the single place that decides it (under DDP, rank 0 only).
"""
from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11


def reporting() -> bool:
    """Whether this process prints progress: every process, except the ranks > 0 of a torchrun job ($RANK)."""
    return os.environ.get("RANK", "0") == "0"


def say(message: str) -> None:
    """Print one progress line on stderr, flushed at once (nothing when this process does not report)."""
    if reporting():
        print(message, file=sys.stderr, flush=True)


def hms(seconds: float) -> str:
    """Seconds as ``H:MM:SS`` (``0:01:05``), rounded to the second."""
    total = round(max(0.0, seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def on_terminal() -> bool:
    """True when stderr is an interactive terminal (rich bar); False for pipes, files and DVC logs."""
    return sys.stderr.isatty()


def epoch_line(name: str, epoch: int, epochs: int, loss: float, val: float | None,
               best: float | None, elapsed: float, eta: float) -> str:
    """The line printed after each epoch: loss, validation RGB PSNR (dB; "-" when not validated), times."""
    val_text = "-" if val is None else f"{val:.3f} dB"
    best_text = "" if best is None else f" (best {best:.3f})"
    return (f"{name} epoch {epoch}/{epochs}: loss {loss:.6f}, val PSNR {val_text}{best_text}, "
            f"elapsed {hms(elapsed)}, ETA {hms(eta)}")


class EpochProgress:
    """Progress of one training run: a line per epoch, plus a rich bar of the steps on a terminal.

    ``name`` names the run (its output folder's name, e.g. ``bicubic_pp_stage1``); epochs are
    numbered from 1; ``first`` is the first epoch this process trains (> 1 when resumed).
    Elapsed time and ETA count this process's epochs only (a resumed run does not inherit the
    killed run's clock).
    """

    def __init__(self, name: str, first: int, epochs: int, steps_per_epoch: int, bar: bool = True):
        self.name, self.first, self.epochs, self.steps = name, first, epochs, steps_per_epoch
        self.start = time.perf_counter()
        self._bar = None
        self._task = None
        if bar and reporting() and on_terminal():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(),
                                 TimeRemainingColumn(), console=Console(stderr=True), transient=True)

    def __enter__(self) -> Self:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.name, total=self.steps * (self.epochs - self.first + 1),
                                            loss="-")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def step(self, loss) -> None:
        """One optimisation step done (advances the bar; ``loss`` is read only on the CPU, never synced on CUDA)."""
        if self._bar is not None:
            text = f"{loss.item():.5f}" if loss.device.type == "cpu" else "..."
            self._bar.update(self._task, advance=1, loss=text)

    def epoch(self, epoch: int, loss: float, val: float | None, best: float | None) -> None:
        """Epoch ``epoch`` (1-based) finished: print its line (above the bar on a terminal)."""
        elapsed = time.perf_counter() - self.start
        done = epoch - self.first + 1
        eta = elapsed / done * (self.epochs - epoch) if done > 0 else 0.0
        line = epoch_line(self.name, epoch, self.epochs, loss, val, best, elapsed, eta)
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            say(line)


class PlainLines:
    """Occasional plain lines for a long loop without a terminal: ``<what>: 40/100 images, elapsed,
    ETA``, at most one every ``every_s`` seconds, and always one when the last item is done."""

    def __init__(self, what: str, total: int, unit: str, every_s: float = 30.0):
        self.what, self.total, self.unit, self.every_s = what, total, unit, every_s
        self.start = self.last = time.perf_counter()

    def done(self, count: int) -> None:
        """``count`` items are done: print a line when it is time (or when all are)."""
        now = time.perf_counter()
        if count < self.total and now - self.last < self.every_s:
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / count * (self.total - count) if count else 0.0
        say(f"{self.what}: {count}/{self.total} {self.unit}, elapsed {hms(elapsed)}, ETA {hms(eta)}")
