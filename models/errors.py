"""``ModelError``: a model name, scale, checkpoint, contract or plug-in that cannot be used."""
from __future__ import annotations

from core.errors import RtsrError


class ModelError(RtsrError):
    """A model name, scale, checkpoint or plug-in that cannot be used; the message says why."""
