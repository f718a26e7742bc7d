"""The NTIRE 2023 RTSR score: ``0 if P <= P_bic else 2 * 2**(P - P_bic) / (0.1 * sqrt(t_ms))``.

P and P_bic are the RGB PSNRs (dB, ``eval.metrics.psnr_rgb``) of the model and of bicubic on the
same images in the same run; ``t_ms`` is the protocol GPU runtime in milliseconds. Precedence:
``2 * 2**diff``, not ``2**(2*diff)``. A score from a CPU runtime ranks models within its own
table only; the leaderboard labels such tables as not comparable with the challenge's.
"""
from __future__ import annotations

import math

from eval.errors import EvalError


def score(psnr: float, psnr_bicubic: float, runtime_ms: float) -> float:
    """Challenge score (unitless) from RGB PSNRs in dB and the runtime in ms (> 0)."""
    if not (math.isfinite(psnr) and math.isfinite(psnr_bicubic)):
        raise EvalError(f"score: PSNRs must be finite, got {psnr} and {psnr_bicubic}")
    if not (math.isfinite(runtime_ms) and runtime_ms > 0):
        raise EvalError(f"score: runtime must be a positive number of ms, got {runtime_ms}")
    if psnr <= psnr_bicubic:
        return 0.0
    return 2.0 * 2.0 ** (psnr - psnr_bicubic) / (0.1 * math.sqrt(runtime_ms))
