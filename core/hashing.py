"""The one file hash: sha256 of a file's bytes, read in blocks (checkpoints, archives, manifests)."""
from __future__ import annotations

import hashlib
import os

BLOCK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 hex of the bytes of ``path`` (FileNotFoundError when it does not exist)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()
