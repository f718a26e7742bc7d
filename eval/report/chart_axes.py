"""The axes of both PSNR-vs-runtime charts (``psnr_vs_runtime.png`` and the web page): one rule each.

PSNR (y): one clipping rule.
A model more than ``OUTLIER_DB`` below bicubic (random weights, a broken checkpoint; below the
median of the values without bicubic) is an outlier: it is drawn on the bottom edge with its value,
and the axis spans the other values and bicubic, padded by 12 % of their range (at least 0.1 dB).
The crop choice (``eval.report.crops``) uses the same cut to keep such a model out of it.

Runtime (x, log scale): ``log_ticks``, the data's two extremes (not the padded axis limits) and the
1-2-5 values between them, labelled by ``tick_text``.
"""
from __future__ import annotations

import math
import statistics

OUTLIER_DB = 3.0  # dB below bicubic (or the median): an outlier, drawn at the bottom edge


def outlier_cut(values: list[float], bicubic: float | None) -> float:
    """The PSNR (dB) below which a value is an outlier: ``OUTLIER_DB`` under bicubic, or under the median."""
    ref = bicubic if bicubic is not None else float(statistics.median(values))
    return ref - OUTLIER_DB


def psnr_limits(values: list[float], bicubic: float | None) -> tuple[float, float, float | None]:
    """(low, high, outlier cut) of the PSNR axis in dB; the cut is None when no value is below it."""
    cut = outlier_cut(values, bicubic)
    core = [v for v in values if v >= cut] or values
    lo, hi = min(core), max(core)
    if bicubic is not None:
        lo, hi = min(lo, bicubic), max(hi, bicubic)
    pad = max(0.1, 0.12 * (hi - lo))
    return lo - pad, hi + pad, cut if min(values) < cut else None


def log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks of a log axis from ``lo`` to ``hi`` (> 0): the data's two extremes, and the 1-2-5 values
    between them that are not crowded against an extreme (closer than a factor 1.3)."""
    ticks = {lo, hi}
    for exp in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** exp
            if lo * 1.3 <= v <= hi / 1.3:
                ticks.add(v)
    return sorted(ticks)


def tick_text(value: float) -> str:
    """A runtime tick's label: three significant digits (``0.447``, ``12.5``, ``420``)."""
    return f"{float(f'{value:.3g}'):g}"
