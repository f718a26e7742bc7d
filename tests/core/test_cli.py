"""The one CLI harness: known errors are one line and exit 2, anything else keeps its traceback."""
from __future__ import annotations

import importlib

import pytest

from core.cli import EXIT_BAD_INPUT, cli_main
from core.errors import RtsrError
from datasets.registry import DatasetError

CLI_MODULES = ("datasets.fetch", "datasets.degrade", "datasets.checksums.generate", "eval.evaluate",
               "eval.leaderboard", "eval.regress", "eval.sweep", "eval.gpu_suite.__main__",
               "eval.gpu_suite.step", "training.train", "training.prune", "core.params")


def test_known_error_is_one_line_and_exit_2(capsys):
    @cli_main
    def main(argv=None):
        raise DatasetError(f"{argv[0]}: no such set\nsecond line is dropped")

    assert main(["set55"]) == EXIT_BAD_INPUT == 2
    assert capsys.readouterr().err == "error: set55: no such set\n"


def test_status_is_passed_through_and_none_is_0():
    assert cli_main(lambda argv=None: None)() == 0
    assert cli_main(lambda argv=None: 1)() == 1


def test_other_exceptions_are_bugs_and_propagate():
    @cli_main
    def main(argv=None):
        raise ValueError("a bug, not bad input")

    with pytest.raises(ValueError, match="a bug"):
        main([])


def test_empty_message_names_the_error_class(capsys):
    assert cli_main(lambda argv=None: (_ for _ in ()).throw(RtsrError()))() == 2
    assert capsys.readouterr().err == "error: RtsrError\n"


@pytest.mark.parametrize("module", CLI_MODULES)
def test_every_cli_uses_the_harness(module):
    main = importlib.import_module(module).main
    assert getattr(main, "__wrapped__", None) is not None, f"{module}.main is not @cli_main"
