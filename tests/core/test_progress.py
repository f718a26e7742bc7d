"""core.progress: the per-epoch line, its clock, and that every line leaves the process at once."""
from __future__ import annotations

import io

import pytest

from core import progress
from core.progress import EpochProgress, PlainLines, epoch_line, hms, say


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00:00"), (59.4, "0:00:59"), (59.6, "0:01:00"),
                                               (3725, "1:02:05"), (-3, "0:00:00")])
def test_hms(seconds, text):
    assert hms(seconds) == text


def test_epoch_line_states_loss_val_best_elapsed_and_eta():
    line = epoch_line("bicubic_pp_stage1", 3, 20, 0.0012345678, 27.81234, 27.9, 83.2, 430.4)
    assert line == ("bicubic_pp_stage1 epoch 3/20: loss 0.001235, val PSNR 27.812 dB (best 27.900), "
                    "elapsed 0:01:23, ETA 0:07:10")
    assert epoch_line("espcn", 1, 5, 0.5, None, None, 1, 4) == (
        "espcn epoch 1/5: loss 0.500000, val PSNR -, elapsed 0:00:01, ETA 0:00:04")


class Recorder(io.StringIO):
    """A non-terminal stream that records whether each write was followed by a flush."""

    def __init__(self):
        super().__init__()
        self.events = []

    def write(self, text):
        self.events.append("write")
        return super().write(text)

    def flush(self):
        self.events.append("flush")


def test_say_flushes_every_line(monkeypatch):
    """A pipe (DVC's log, `dvc repro > log`) gets each line when printed, not at process exit."""
    stream = Recorder()
    monkeypatch.setattr("sys.stderr", stream)
    say("one")
    assert stream.getvalue() == "one\n" and stream.events[-1] == "flush"


def test_epochs_print_plain_lines_without_a_terminal(monkeypatch):
    stream = Recorder()
    monkeypatch.setattr("sys.stderr", stream)
    with EpochProgress("run", first=4, epochs=5, steps_per_epoch=10) as bar:
        assert bar._bar is None  # no terminal: no rich bar
        bar.epoch(4, 0.25, None, 27.5)
        bar.epoch(5, 0.125, 28.0, 28.0)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["run epoch 4/5", "run epoch 5/5"]
    assert lines[1].startswith("run epoch 5/5: loss 0.125000, val PSNR 28.000 dB (best 28.000), elapsed ")
    assert lines[1].endswith("ETA 0:00:00")


def test_a_process_that_does_not_report_prints_nothing(monkeypatch):
    """The one switch for distributed runs (only rank 0 reports): ``core.progress.reporting``."""
    stream = Recorder()
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.setattr(progress, "reporting", lambda: False)
    say("hidden")
    with EpochProgress("run", 1, 1, 1) as bar:
        bar.epoch(1, 0.1, 30.0, 30.0)
    assert stream.getvalue() == ""


def test_plain_lines_are_rare_and_the_last_one_always_comes(monkeypatch):
    stream = Recorder()
    monkeypatch.setattr("sys.stderr", stream)
    lines = PlainLines("bicubic on demo x3", 3, "images", every_s=3600)
    for n in (1, 2, 3):
        lines.done(n)
    assert stream.getvalue().splitlines() == [
        "bicubic on demo x3: 3/3 images, elapsed 0:00:00, ETA 0:00:00"]
    lines = PlainLines("espcn on set5 x3", 5, "images", every_s=0)
    lines.done(1)
    assert stream.getvalue().splitlines()[-1].startswith("espcn on set5 x3: 1/5 images, elapsed ")
