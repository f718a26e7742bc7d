"""Named lr schedules: exact values at the epochs where they change."""
import pytest

from training.schedule import PAPER_FINAL_LR, PUBLIC_FINAL_LR, ScheduleError, lr_at


def test_paper_schedule_constant_half_then_linear_to_1e_8():
    assert PAPER_FINAL_LR == 1e-8
    assert lr_at("paper", 0, 1000, 5e-4) == 5e-4
    assert lr_at("paper", 499, 1000, 5e-4) == 5e-4
    assert lr_at("paper", 500, 1000, 5e-4) == 5e-4  # decay starts from the base lr
    assert lr_at("paper", 999, 1000, 5e-4) == pytest.approx(1e-8, rel=1e-12)
    assert lr_at("paper", 750, 1000, 5e-4) == pytest.approx(5e-4 + (1e-8 - 5e-4) * 250 / 499, rel=1e-12)


def test_public_schedule_linear_to_5e_6():
    assert PUBLIC_FINAL_LR == 5e-6
    assert lr_at("public", 0, 1000, 5e-4) == 5e-4
    assert lr_at("public", 999, 1000, 5e-4) == pytest.approx(5e-6, rel=1e-12)
    assert lr_at("public", 333, 1000, 5e-4) == pytest.approx(5e-4 + (5e-6 - 5e-4) * 333 / 999, rel=1e-12)


def test_short_runs_and_constant():
    assert [lr_at("paper", e, 3, 1.0) for e in range(3)] == [1.0, 1.0, pytest.approx(1e-8)]
    assert lr_at("public", 0, 1, 2e-3) == 2e-3
    assert lr_at("constant", 7, 10, 3e-4) == 3e-4


@pytest.mark.parametrize("args", [("cosine", 0, 10, 1e-3), ("paper", 10, 10, 1e-3), ("paper", -1, 10, 1e-3)])
def test_bad_schedule_arguments(args):
    with pytest.raises(ScheduleError):
        lr_at(*args)
