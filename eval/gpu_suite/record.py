"""A step's result, saved to disk after every change so that a killed step keeps what it measured."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from core.io import write_atomic


def json_safe(value):
    """``value`` with numpy scalars made Python ones and NaN/Inf floats None (strict JSON), recursively."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


class Record:
    """Key/value result of one step, rewritten atomically to ``path`` on every ``put``/``append``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.data: dict = {}

    def put(self, key: str, value) -> None:
        """Set ``key`` and save."""
        self.data[key] = json_safe(value)
        self.save()

    def append(self, key: str, value) -> None:
        """Append ``value`` to the list at ``key`` and save."""
        self.data.setdefault(key, []).append(json_safe(value))
        self.save()

    def save(self) -> None:
        """Write the whole record as JSON."""
        write_atomic(self.path, json.dumps(self.data, indent=2, allow_nan=False) + "\n")


def load_step_record(path: Path) -> dict:
    """The last saved state of a step's record ({} when it never saved or the file is unreadable)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
