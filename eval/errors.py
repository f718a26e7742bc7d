"""The evaluation layer's error: bad metric input, inconsistent options, a model that fails on an image."""
from __future__ import annotations

from core.errors import RtsrError


class EvalError(RtsrError):
    """An evaluation that cannot proceed; the message names the image/value and the fix."""
