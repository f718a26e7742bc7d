"""The one CLI harness: known errors are one line and exit 2, anything else keeps its traceback."""
from __future__ import annotations

import importlib

import pytest

from core.cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, cli_main
from core.errors import RtsrError
from datasets.registry import DatasetError

CLI_MODULES = ("datasets.fetch", "datasets.degrade", "datasets.checksums.generate", "eval.evaluate",
               "eval.leaderboard", "eval.regress", "eval.gpu_suite.sweep", "eval.gpu_suite.__main__",
               "eval.gpu_suite.step", "eval.gpu_suite.travel", "training.train", "training.prune", "core.params")


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


def test_failure_error_is_one_line_and_exit_1(capsys):
    from core.errors import FailureError

    @cli_main
    def main(argv=None):
        raise FailureError("results/x.json: psnr_rgb says 45.0 but ...\nmore")

    assert main([]) == EXIT_FAILURE == 1
    assert capsys.readouterr().err == "error: results/x.json: psnr_rgb says 45.0 but ...\n"


def test_readme_states_the_contract_the_harness_implements():
    """README's "Errors and exit status" table: 0 done, 1 regression or unusable results, 2 bad input."""
    from core.paths import REPO_ROOT

    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Errors and exit status", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(): line.split("|")[2] for line in section.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip().isdigit()}
    assert sorted(rows) == [str(EXIT_OK), str(EXIT_FAILURE), str(EXIT_INTERRUPTED), str(EXIT_BAD_INPUT)] \
        == ["0", "1", "130", "2"]
    assert "interrupted" in rows["130"]
    assert "done" in rows["0"]
    assert "regression" in rows["1"] and "unusable" in rows["1"]
    assert "bad input" in rows["2"] and "plug-in" in rows["2"]
    assert "one line `error: ...` on stderr" in section and "nothing half-written" in section


def test_ctrl_c_is_one_line_and_exit_130(capsys):
    @cli_main(kept="last.pt kept; run again to resume")
    def main(argv=None):
        raise KeyboardInterrupt

    assert main([]) == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "interrupted; last.pt kept; run again to resume\n"


def test_full_disk_is_one_line_naming_the_path_and_exit_2(tmp_path, capsys, monkeypatch):
    import errno
    import pathlib

    from core.io import write_atomic

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    main = cli_main(lambda argv=None: write_atomic(tmp_path / "out.json", b"{}"))
    assert main([]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'out.json'}: No space left on device") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # the temp file removed
