"""Resumable HTTP download (``.part`` + ``Range``) with sha256 check, and safe archive extraction.

``download``: bytes go to ``<dest>.part``; a later call resumes it with ``Range: bytes=N-``
(a server that answers 200 instead of 206 restarts it); only a complete file whose sha256
matches (when one is known) is renamed to ``dest``.
``extract``: zip or tar; every member is checked first (no absolute path, no ``..``, no
symlink/hardlink/device), then extracted into a temp folder that is renamed into place.
"""
from __future__ import annotations

import os
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from core.hashing import file_sha256
from core.io import staging_dir
from datasets.registry import DatasetError

CHUNK = 1 << 16


class DownloadError(DatasetError):
    """A download that failed or did not verify; the message says how to resume or what to do."""


def download(url: str, dest: Path, sha256: str | None = None, *, progress: bool = True,
             timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify ``sha256`` if given."""
    dest = Path(dest)
    if dest.is_file() and (sha256 is None or file_sha256(dest) == sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            if have and resp.status != 206:
                have = 0  # server ignored Range: start over
            total = _total_size(resp, have)
            _stream(resp, part, have, total, url, progress)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # .part already complete
            pass
        else:
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}; check the URL or use --mirror DIR") from None
    except (urllib.error.URLError, OSError) as exc:
        got = part.stat().st_size if part.exists() else 0
        reason = getattr(exc, "reason", exc)
        if got == 0:
            raise DownloadError(
                f"{url}: cannot download ({reason}); offline? pass --mirror DIR "
                "(or set $RTSR_DATA_MIRROR) pointing at a local copy") from None
        raise DownloadError(
            f"{url}: download failed after {got} bytes ({reason}); run the same command again to "
            f"resume from {part.name}, or use --mirror DIR (or $RTSR_DATA_MIRROR) offline") from None
    _verify_and_publish(part, dest, sha256, url)
    return dest


def _total_size(resp, have: int) -> int | None:
    """Full file size from Content-Range (206) or Content-Length (200); None if unknown."""
    rng = resp.headers.get("Content-Range")
    if rng and "/" in rng and not rng.endswith("/*"):
        return int(rng.rsplit("/", 1)[1])
    length = resp.headers.get("Content-Length")
    return int(length) + have if length is not None else None


def _stream(resp, part: Path, have: int, total: int | None, url: str, progress: bool) -> None:
    """Append the response body to ``part`` with a rich progress bar; error on a short body."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with open(part, "ab" if have else "wb") as fh, Progress(*columns, disable=not progress) as bar:
        task = bar.add_task(url.rsplit("/", 1)[-1], total=total, completed=have)
        for block in iter(lambda: resp.read(CHUNK), b""):
            fh.write(block)
            bar.update(task, advance=len(block))
    got = part.stat().st_size
    if total is not None and got < total:
        raise OSError(f"connection closed at {got} of {total} bytes")


def _verify_and_publish(part: Path, dest: Path, sha256: str | None, url: str) -> None:
    """Rename a complete ``part`` to ``dest`` if its sha256 matches; else delete it and raise."""
    if sha256 is not None:
        got = file_sha256(part)
        if got != sha256:
            part.unlink()
            raise DownloadError(
                f"{url}: checksum mismatch (sha256 {got}, expected {sha256}); the corrupt download "
                "was deleted: run again, or use --mirror DIR")
    os.replace(part, dest)


def _check_member(name: str, archive: Path, is_link: bool, is_special: bool) -> None:
    """Reject archive members that could write outside the target or create links/devices."""
    p = PurePosixPath(name.replace("\\", "/"))
    if is_link:
        raise DatasetError(f"{archive}: member {name!r} is a link; refusing to extract this archive")
    if is_special:
        raise DatasetError(f"{archive}: member {name!r} is a device/fifo; refusing to extract")
    if p.is_absolute() or name.startswith(("/", "\\")) or (p.parts and ":" in p.parts[0]):
        raise DatasetError(f"{archive}: member {name!r} has an absolute path; refusing to extract")
    if ".." in p.parts:
        raise DatasetError(f"{archive}: member {name!r} escapes the target with '..'; refusing to extract")


def extract(archive: Path, dest: Path) -> Path:
    """Safely extract a zip/tar ``archive`` into ``dest`` (temp folder, then rename); returns dest."""
    archive, dest = Path(archive), Path(dest)
    with staging_dir(dest) as tmp:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, tmp)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, tmp)
        else:
            raise DatasetError(f"{archive}: not a zip or tar archive; delete it and download again")
    return dest


def _extract_zip(archive: Path, out: Path) -> None:
    """Check every zip member, then extract them all."""
    import stat

    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            for info in infos:
                mode = info.external_attr >> 16
                kind = stat.S_IFMT(mode)  # 0 when the archiver stored no file type
                _check_member(info.filename, archive, stat.S_ISLNK(mode),
                              kind not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK))
            zf.extractall(out)
    except zipfile.BadZipFile as exc:
        raise DatasetError(f"{archive}: corrupt zip ({exc}); delete it and download again") from None


def _extract_tar(archive: Path, out: Path) -> None:
    """Check every tar member, then extract regular files and folders only."""
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                _check_member(m.name, archive, m.issym() or m.islnk(),
                              not (m.isfile() or m.isdir()))
            tf.extractall(out, members=members, filter="data")
    except tarfile.TarError as exc:
        raise DatasetError(f"{archive}: corrupt tar ({exc}); delete it and download again") from None
