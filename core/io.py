"""Atomic writes: a file or folder appears whole under its final name, or not at all.

Everything is written to a temporary name in the destination's own folder (same file system) and
renamed into place with ``os.replace``; on any error the temporary file or folder is removed.
Temporary names are ``.tmp-<pid>-<final name>-<random>`` (``.old-...`` for a folder being
replaced); one left behind by a killed process (its pid no longer running) is removed the next time
the same destination is written. Files get mode ``0o666 & ~umask`` and folders ``0o777 & ~umask``,
as ``open()`` and ``mkdir()`` would give them (``tempfile`` alone makes them private).
``check_output_file`` / ``check_output_dir`` refuse a destination that cannot be written, before
the work that produces it.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import RtsrError

TEMP_KINDS = (".tmp-", ".old-")
_LEGACY_RANDOM = re.compile(r"[a-z0-9_]{8}")  # tempfile's suffix in names of earlier versions


class OutputPathError(RtsrError):
    """An output path that cannot be written (a folder where a file goes, a file in the way, read-only)."""


def current_umask() -> int:
    """The process umask (from /proc on Linux; elsewhere set and restored at once)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def honour_umask(path: str | os.PathLike, folder: bool = False) -> None:
    """Give a file ``0o666 & ~umask`` (a folder ``0o777 & ~umask``), as a plain open()/mkdir() would."""
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def _temp_prefix(kind: str, dest: Path) -> str:
    """``.tmp-<pid>-<name>-``: the temp name of this process for ``dest``."""
    return f"{kind}{os.getpid()}-{dest.name}-"


def _pid_running(pid: int) -> bool:
    """True when a process ``pid`` exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _is_stale(entry: Path, dest: Path) -> bool:
    """True for a temp entry of ``dest`` left by a process that no longer runs (or by an older version)."""
    name = entry.name
    for kind in TEMP_KINDS:
        if not name.startswith(kind):
            continue
        rest = name[len(kind):]
        pid, sep, tail = rest.partition("-")
        if sep and pid.isdigit() and tail.startswith(f"{dest.name}-"):
            return not _pid_running(int(pid))
        legacy = rest[len(dest.name) + 1:] if rest.startswith(f"{dest.name}-") else ""
        if entry.is_dir() and _LEGACY_RANDOM.fullmatch(legacy):  # .tmp-<name>-XXXXXXXX (no pid)
            return True
    return False


def remove_stale_temps(dest: str | os.PathLike) -> list[Path]:
    """Remove the temp files/folders of ``dest`` left in its folder by killed runs; returns them."""
    dest = Path(dest)
    if not dest.parent.is_dir():
        return []
    removed = []
    for entry in dest.parent.iterdir():
        if entry.name.startswith(TEMP_KINDS) and _is_stale(entry, dest):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temp path beside ``path``; after the block it is renamed to ``path`` (deleted on error)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(".tmp-", path), suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write here ({exc.strerror or exc}); choose another path") from None
    os.close(fd)
    try:
        yield Path(tmp)
        honour_umask(tmp)
        _replace_file(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        raise_disk_full(exc, path)
        raise


def raise_disk_full(exc: BaseException, path: Path) -> None:
    """A full disk (ENOSPC) or a file too large (EFBIG) while writing ``path``: one line naming it."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG):
        raise OutputPathError(f"{path}: {exc.strerror or exc}; nothing was written; free some space "
                              "(or choose another path) and run again") from None


def _replace_file(tmp: str | os.PathLike, path: Path) -> None:
    """``os.replace`` a finished temp file onto ``path``; a folder in the way is a one-line error."""
    try:
        os.replace(tmp, path)
    except IsADirectoryError:
        raise OutputPathError(f"{path}: is a folder; give a file path") from None


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Write bytes or text (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)


def _make_temp_dir(kind: str, dest: Path) -> Path:
    """A fresh temp folder beside ``dest`` with the umask's mode."""
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(kind, dest), dir=dest.parent))
    honour_umask(tmp, folder=True)
    return tmp


@contextmanager
def staging_dir(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder beside ``dest``; on success it replaces ``dest``, on error it is deleted."""
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(dest)
        tmp = _make_temp_dir(".tmp-", dest)
    except OSError as exc:
        raise OutputPathError(f"{dest}: cannot write here ({exc.strerror or exc}); choose another path") from None
    try:
        yield tmp
        replace_dir(tmp, dest)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise_disk_full(exc, dest)
        raise


def replace_dir(src: Path, dest: Path) -> None:
    """Move folder ``src`` to ``dest``, replacing an existing ``dest`` (old one moved aside first)."""
    old = None
    if dest.exists():
        old = _make_temp_dir(".old-", dest)
        os.replace(dest, old / dest.name)
    os.replace(src, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_files(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder inside ``folder``; on success each entry moves into ``folder`` (replacing
    one of the same name), on error nothing in ``folder`` changes. For a command's several outputs
    in a folder that also holds other files (``leaderboard/``): all are made before any is placed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "staged"
    remove_stale_temps(marker)
    tmp = _make_temp_dir(".tmp-", marker)
    try:
        yield tmp
        for entry in sorted(tmp.iterdir()):
            if entry.is_dir():
                replace_dir(entry, folder / entry.name)
            else:
                os.replace(entry, folder / entry.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_parent(path: Path, what: str) -> None:
    """The folders above ``path`` are folders (or can be made) and a file can be created in the first existing one."""
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise OutputPathError(f"{path}: cannot write {what}: {base} is a file, not a folder; "
                              "choose another path")
    try:  # a real probe: os.access says yes to root even on read-only file systems
        fd, probe = tempfile.mkstemp(prefix=_temp_prefix(".tmp-", Path("probe")), dir=base)
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write {what}: {base} is not writable "
                              f"({exc.strerror or exc}); choose another path") from None
    os.close(fd)
    os.unlink(probe)


def check_output_file(path: str | os.PathLike, what: str = "the output file") -> Path:
    """Refuse, before any work, a file destination that is a folder or cannot be created."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path}: is a folder; {what} needs a file path")
    _check_parent(path, what)
    return path


def check_output_dir(path: str | os.PathLike, what: str = "the output folder") -> Path:
    """Refuse, before any work, a folder destination that is a file or cannot be created."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{path}: is a file; {what} needs a folder path (new or a folder)")
    _check_parent(path, what)
    return path
