"""The one CLI harness every ``python -m ...`` entry point uses.

Exit status contract (README "Errors and exit status"):
    0  done
    1  the command ran and found a failure it reports: a regression (the gate), missing or
       unusable results (the leaderboard and the gate: ``core.errors.FailureError``)
    2  bad input: a ``core.errors.RtsrError`` (unknown name, bad value or option, missing/corrupt
       input file, a plug-in that fails)
For 1 and 2 from an error: one line ``error: <message>`` on stderr, nothing half-written.
Anything else is a bug: Python prints the traceback (exit status 1). argparse's own usage errors
keep argparse's behaviour (usage on stderr, exit status 2).
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Callable

from core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, RtsrError, one_line

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_OK", "cli_main"]


def cli_main(main: Callable[..., int | None]) -> Callable[..., int]:
    """Decorate ``main(argv=None)``: ``RtsrError`` -> one line on stderr and its ``exit_status`` (2, or 1)."""

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        try:
            status = main(argv)
        except RtsrError as exc:
            print(f"error: {one_line(exc)}", file=sys.stderr)
            return int(getattr(exc, "exit_status", EXIT_BAD_INPUT))
        return EXIT_OK if status is None else int(status)

    return wrapper


def description(doc: str | None) -> str:
    """A module docstring's first line as plain text for ``--help`` (reST ``literal`` markup removed)."""
    return (doc or "").strip().splitlines()[0].replace("``", "") if doc and doc.strip() else ""
