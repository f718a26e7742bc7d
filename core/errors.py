"""The error base classes of the project, and the exit status each one means.

``RtsrError`` is what a user can fix: a bad name, value, file or folder, missing or corrupt data.
Its message is one line that names the offending thing and what to do. Every package derives its
own errors from it (``DatasetError``, ``ModelError``, ``EvalError``, ``TrainError``, ...);
``core.cli`` prints them as one line with the class's ``exit_status``: 2 (bad input) for
``RtsrError``, 1 for ``FailureError``, the command ran and what it checks failed (results that are
missing or unusable for the leaderboard and the regression gate). Any other exception is a bug and
keeps its traceback.
"""
from __future__ import annotations

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class RtsrError(Exception):
    """A problem the user can fix (bad input, exit status 2); the one-line message says which and what to do."""

    exit_status = EXIT_BAD_INPUT


class FailureError(RtsrError):
    """The command ran and the thing it checks failed: missing or unusable results (exit status 1)."""

    exit_status = EXIT_FAILURE


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when the message is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def typed_one_line(exc: BaseException) -> str:
    """``Type: first line`` of an exception (``Type`` alone when it has no message), for records of failures."""
    return f"{type(exc).__name__}: {one_line(exc)}" if str(exc).strip() else type(exc).__name__
