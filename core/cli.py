"""The one CLI harness every ``python -m ...`` entry point uses.

Exit status contract (README "Errors and exit status"):
    0  done
    1  the command ran and found a failure it reports: a regression (the gate), missing or
       unusable results (the leaderboard and the gate: ``core.errors.FailureError``)
    2  bad input: a ``core.errors.RtsrError`` (unknown name, bad value or option, missing/corrupt
       input file, a plug-in that fails)
  130 interrupted (Ctrl-C): one line ``interrupted; <what was kept, how to resume>``, no traceback
For 1 and 2 from an error: one line ``error: <message>`` on stderr, nothing half-written. A full
disk (``ENOSPC``/``EFBIG``) is bad input too: one line naming the path, exit 2 (``core.io`` has
already removed its temp files).
Anything else is a bug: Python prints the traceback (exit status 1). argparse's own usage errors
keep argparse's behaviour (usage on stderr, exit status 2).
"""
from __future__ import annotations

import errno
import functools
import sys
from collections.abc import Callable

from core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, RtsrError, one_line

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "cli_main"]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
KEPT = ("nothing half-written was kept (every output is written whole or not at all); "
        "run the same command again")
DISK_FULL = (errno.ENOSPC, errno.EFBIG)


def disk_full_line(exc: OSError) -> str:
    """``<path>: <strerror>; free space ...`` for a full disk or a file too large."""
    where = exc.filename if exc.filename is not None else "an output file"
    return f"{where}: {exc.strerror or exc}; free some space (or choose another path) and run again"


def cli_main(main: Callable[..., int | None] | None = None, *, kept: str = KEPT):
    """Decorate ``main(argv=None)``: ``RtsrError`` -> one line on stderr and its ``exit_status`` (2, or 1).

    Ctrl-C -> ``interrupted; <kept>`` and 130; a full disk -> one line naming the path and 2.
    ``@cli_main(kept=...)`` states what an interrupted command keeps and how to resume it.
    """
    if main is None:
        return functools.partial(cli_main, kept=kept)

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        try:
            status = main(argv)
        except RtsrError as exc:
            print(f"error: {one_line(exc)}", file=sys.stderr)
            return int(getattr(exc, "exit_status", EXIT_BAD_INPUT))
        except KeyboardInterrupt:
            print(f"interrupted; {kept}", file=sys.stderr)
            return EXIT_INTERRUPTED
        except OSError as exc:
            if exc.errno not in DISK_FULL:
                raise
            print(f"error: {disk_full_line(exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return EXIT_OK if status is None else int(status)

    return wrapper


def description(doc: str | None) -> str:
    """A module docstring's first line as plain text for ``--help`` (reST ``literal`` markup removed)."""
    return (doc or "").strip().splitlines()[0].replace("``", "") if doc and doc.strip() else ""
