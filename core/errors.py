"""The one error base class of the project.

``RtsrError`` is what a user can fix: a bad name, value, file or folder, missing or corrupt data,
unusable results. Its message is one line that names the offending thing and what to do. Every
package derives its own errors from it (``DatasetError``, ``ModelError``, ``EvalError``,
``TrainError``, ...); ``core.cli`` prints them as one line with exit status 2. Any other exception
is a bug and keeps its traceback.
"""
from __future__ import annotations


class RtsrError(Exception):
    """A problem the user can fix; the one-line message says which input and what to do."""


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when the message is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
