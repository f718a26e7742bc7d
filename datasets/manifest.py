"""Generated folders' ``manifest.json``: one hash that identifies the folder's content and recipe.

``manifest_sha256`` is the sha256 of the canonical JSON (sorted keys, no spaces) of the manifest
without the fields listed in its ``unhashed`` entry (e.g. the machine-specific source path) and
without itself. Two runs that produce the same pixels with the same parameters and library
versions give the same hash.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from core.io import write_atomic

NAME = "manifest.json"


def _canonical(obj) -> bytes:
    """Canonical JSON bytes: sorted keys, compact separators, ASCII."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def manifest_sha256(manifest: dict) -> str:
    """Hash of ``manifest`` minus ``manifest_sha256`` and the keys named in ``unhashed``."""
    skip = set(manifest.get("unhashed", ())) | {"manifest_sha256", "unhashed"}
    return hashlib.sha256(_canonical({k: v for k, v in manifest.items() if k not in skip})).hexdigest()


def write_manifest(folder: Path, manifest: dict) -> dict:
    """Add ``manifest_sha256`` and write ``folder/manifest.json`` atomically; returns the dict."""
    manifest = dict(manifest, manifest_sha256=manifest_sha256(manifest))
    write_atomic(Path(folder) / NAME, json.dumps(manifest, indent=1) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest, or None when absent, unreadable or its hash does not match."""
    path = Path(folder) / NAME
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("manifest_sha256") == manifest_sha256(manifest) else None

