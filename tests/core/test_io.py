"""Atomic writes: whole or nothing, the umask honoured, temps of killed runs removed, paths checked first."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.io import (
    OutputPathError,
    atomic_path,
    check_output_dir,
    check_output_file,
    remove_stale_temps,
    staged_files,
    staging_dir,
    write_atomic,
)
from core.paths import REPO_ROOT


@pytest.fixture
def umask():
    """Set the process umask for one test (restored after it)."""
    old = os.umask(0o022)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750),
                                                       (0o077, 0o600, 0o700)])
def test_files_and_folders_honour_the_umask(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    write_atomic(tmp_path / "a.json", "{}")
    with staging_dir(tmp_path / "set") as tmp:
        write_atomic(tmp / "img.png", b"x")
    with staged_files(tmp_path / "board") as tmp:
        (tmp / "b.md").write_text("b")
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == file_mode
    assert (tmp_path / "set").stat().st_mode & 0o777 == dir_mode
    assert (tmp_path / "set" / "img.png").stat().st_mode & 0o777 == file_mode
    assert (tmp_path / "board" / "b.md").stat().st_mode & 0o777 == file_mode


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    return int(proc.stdout)


def test_temps_of_dead_processes_and_older_versions_are_removed_live_ones_kept(tmp_path):
    dest = tmp_path / "set5"
    stale_dir = tmp_path / f".tmp-{dead_pid()}-set5-abcd1234"
    legacy_dir = tmp_path / ".tmp-set5-k2j4h5g6"  # mkdtemp name of earlier versions (no pid)
    stale_file = tmp_path / f".tmp-{dead_pid()}-set5-q1w2e3r4"
    old_dir = tmp_path / f".old-{dead_pid()}-set5-zzzz9999"
    live = tmp_path / f".tmp-{os.getpid()}-set5-live0000"
    other = tmp_path / f".tmp-{dead_pid()}-set14-abcd1234"  # another destination's temp
    for d in (stale_dir, legacy_dir, old_dir, live, other):
        d.mkdir()
    stale_file.write_text("half")
    removed = remove_stale_temps(dest)
    assert sorted(p.name for p in removed) == sorted(
        p.name for p in (stale_dir, legacy_dir, stale_file, old_dir))
    assert live.is_dir() and other.is_dir()


STAGE_AND_HANG = """
import sys, time
from pathlib import Path
from core.io import staging_dir
with staging_dir(Path(sys.argv[1])) as tmp:
    (tmp / "half.png").write_bytes(b"half")
    print(tmp, flush=True)
    time.sleep(600)
"""


def test_fetch_killed_by_sigkill_leaves_a_temp_that_the_next_fetch_removes(tmp_path):
    """Issue 13: `datasets.fetch` killed by SIGKILL left hr/.tmp-<set>-* forever."""
    images = tmp_path / "photos"
    images.mkdir()
    from PIL import Image

    Image.new("RGB", (30, 24), (10, 200, 30)).save(images / "a.png")
    root = tmp_path / "data"
    env = {**os.environ, "RTSR_DATA_ROOT": str(root)}
    from datasets.paths import hr_dir

    hr = root / "hr" / hr_dir(f"folder:{images}").name
    proc = subprocess.Popen([sys.executable, "-c", STAGE_AND_HANG, str(hr)], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    temp = Path(proc.stdout.readline().strip())  # the staging folder exists: kill now, like a SIGKILL'd fetch
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert temp.is_dir() and temp.name.startswith(f".tmp-{proc.pid}-{hr.name}-")
    done = subprocess.run([sys.executable, "-m", "datasets.fetch", f"folder:{images}"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert not temp.exists()
    assert sorted(p.name for p in (root / "hr").iterdir()) == [hr.name]
    assert sorted(p.name for p in hr.iterdir()) == ["a.png", "manifest.json"]


def test_atomic_write_onto_a_folder_is_one_line_and_leaves_no_temp(tmp_path):
    (tmp_path / "out.json").mkdir()
    with pytest.raises(OutputPathError, match=r"out\.json: is a folder; give a file path"):
        write_atomic(tmp_path / "out.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_failed_block_leaves_nothing(tmp_path):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "old.png").write_text("old")
    with pytest.raises(RuntimeError), staging_dir(tmp_path / "keep") as tmp:
        (tmp / "new.png").write_text("new")
        raise RuntimeError("stop")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]
    assert sorted(p.name for p in (tmp_path / "keep").iterdir()) == ["old.png"]


def test_staged_files_place_all_or_none(tmp_path):
    board = tmp_path / "board"
    board.mkdir()
    (board / "reference.json").write_text("ref")
    (board / "table.md").write_text("old")
    with pytest.raises(RuntimeError), staged_files(board) as tmp:
        (tmp / "table.md").write_text("new")
        raise RuntimeError("the figure failed")
    assert sorted(p.name for p in board.iterdir()) == ["reference.json", "table.md"]
    assert (board / "table.md").read_text() == "old"
    with staged_files(board) as tmp:
        (tmp / "table.md").write_text("new")
        (tmp / "site").mkdir()
        (tmp / "site" / "index.html").write_text("page")
    assert sorted(p.name for p in board.iterdir()) == ["reference.json", "site", "table.md"]
    assert (board / "table.md").read_text() == "new" and (board / "site" / "index.html").is_file()


def test_output_paths_are_checked_before_work(tmp_path):
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(OutputPathError, match=r"a_folder: is a folder; --json needs a file path"):
        check_output_file(tmp_path / "a_folder", "--json")
    with pytest.raises(OutputPathError, match=r"a_file: is a file; --save-sr needs a folder path"):
        check_output_dir(tmp_path / "a_file", "--save-sr")
    with pytest.raises(OutputPathError, match=r"cannot write --json: .*a_file is a file, not a folder"):
        check_output_file(tmp_path / "a_file" / "deeper" / "r.json", "--json")
    assert check_output_file(tmp_path / "new" / "r.json") == tmp_path / "new" / "r.json"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "a_folder"]


def test_unwritable_folder_is_refused(tmp_path, monkeypatch):
    """A real probe (os.access says yes to root on read-only mounts): creating a file there fails."""
    import core.io

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(core.io.tempfile, "mkstemp", refuse)
    with pytest.raises(OutputPathError, match=r"r\.json: cannot write --json: .* is not writable "
                                              r"\(Permission denied\)"):
        check_output_file(tmp_path / "r.json", "--json")


def test_a_pid_that_exits_is_not_running():
    from core.io import _pid_running

    pid = dead_pid()
    time.sleep(0.01)
    assert not _pid_running(pid) and _pid_running(os.getpid())
