"""Every command's --help: each option says what it does and its default; no raw markup, no paths
that only exist on the project's own machines, examples that exist."""
from __future__ import annotations

import argparse
import importlib
import re

import pytest
import yaml

from core.paths import REPO_ROOT

COMMANDS = ("core.params", "datasets.fetch", "datasets.degrade", "datasets.fingerprint",
            "training.train", "training.prune", "eval.evaluate", "eval.leaderboard", "eval.regress",
            "eval.gpu_suite.sweep", "eval.gpu_suite.__main__", "eval.gpu_suite.step", "eval.gpu_suite.travel")


class Parsed(Exception):
    """Raised instead of parsing: carries the command's parser out of its main()."""


def parser_of(module: str) -> argparse.ArgumentParser:
    """The argparse parser ``module``'s main() builds (caught at parse_args, nothing runs)."""
    main = importlib.import_module(module).main
    original = argparse.ArgumentParser.parse_args

    def capture(self, *args, **kwargs):
        raise Parsed(self)

    argparse.ArgumentParser.parse_args = capture
    try:
        main([])
    except Parsed as caught:
        return caught.args[0]
    finally:
        argparse.ArgumentParser.parse_args = original
    raise AssertionError(f"{module}.main() built no parser")


def texts(parser: argparse.ArgumentParser) -> list[str]:
    """Description, epilog and every option's help."""
    return [parser.description or "", parser.epilog or ""] + [a.help or "" for a in parser._actions]


@pytest.mark.parametrize("module", COMMANDS)
def test_every_option_has_help_with_its_default(module):
    parser = parser_of(module)
    assert parser.description, module
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help != argparse.SUPPRESS, f"{module} {name}: no help"
        if action.option_strings:
            assert re.search(r"\b(default|required)\b", action.help), f"{module} {name}: no default: {action.help!r}"


@pytest.mark.parametrize("module", COMMANDS)
def test_help_has_no_markup_and_no_project_internal_paths(module):
    for text in texts(parser_of(module)):
        assert "``" not in text, f"{module}: raw reST markup in {text!r}"
        assert "../shared" not in text, f"{module}: a path only the project's machines have: {text!r}"


def test_section_examples_exist_in_params_yaml():
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    found = set()
    for module in COMMANDS:
        for text in texts(parser_of(module)):
            found.update(re.findall(r"\btrain\.[a-z0-9_.]+[a-z0-9_]", text))
    assert found
    for dotted in found:
        node = params
        for key in dotted.split("."):
            assert isinstance(node, dict) and key in node, f"help example {dotted} is not in params.yaml"
            node = node[key]
