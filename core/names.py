"""The one place a name read from a file (dataset, label, model) becomes part of a path.

``file_name`` maps any text to a safe file name (letters, digits, ``.``, ``_``, ``-``; anything else
``_``; never ``.`` or ``..``). ``path_component`` keeps a name that already is one plain path
component (so existing folders of SR images keep their names) and sanitises anything else: a
separator, an absolute path, ``..``, a NUL or a newline can never lead a write or read out of
its folder.
"""
from __future__ import annotations

import os

_UNSAFE = ("/", "\\", "\0", "\n", "\r")


def file_name(text: str) -> str:
    """``text`` as a file name: letters, digits, ``.``, ``_`` and ``-`` kept, anything else ``_``."""
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in str(text)) or "_"
    return "_" * len(name) if set(name) == {"."} else name


def path_component(text: str) -> str:
    """``text`` itself when it is one plain path component, else ``file_name(text)``."""
    text = str(text)
    plain = text not in ("", ".", "..") and not any(c in text for c in _UNSAFE)
    return text if plain and os.path.basename(text) == text else file_name(text)
