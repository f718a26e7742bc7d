"""``python -m core.params [OVERRIDE ...]``: write params.yaml from conf/, as ``dvc exp run -S`` does.

params.yaml is generated, never edited. DVC composes it from the Hydra config in ``conf/`` when an
experiment runs (``dvc exp run -S profile=mirror``); this command does the same composition with
the same DVC function (``dvc.utils.hydra.compose_and_dump``) and the ``[hydra]`` settings of
``.dvc/config``, without creating an experiment:

    python -m core.params                   # the default composition (the committed params.yaml)
    python -m core.params profile=mirror    # what CI runs; `git checkout -- params.yaml` restores it

OVERRIDEs are Hydra override patterns, exactly as given to ``dvc exp run -S``.
"""
from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from functools import cache
from pathlib import Path

import yaml

from core.cli import cli_main, description
from core.errors import RtsrError
from core.io import atomic_path, check_output_file
from core.paths import REPO_ROOT

PARAMS_FILE = "params.yaml"


class ParamsError(RtsrError):
    """conf/ cannot be composed with the given overrides; the message says why."""


def hydra_settings(root: Path = REPO_ROOT) -> dict:
    """The ``[hydra]`` section of the workspace's DVC config (``config_dir`` etc.)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        return dict(repo.config.get("hydra", {}))


def compose_params(output: Path, overrides: list[str], root: Path = REPO_ROOT) -> Path:
    """Compose conf/ with ``overrides`` into ``output`` exactly as ``dvc exp run`` writes params.yaml."""
    from dvc.utils.hydra import compose_and_dump
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    hydra = hydra_settings(root)
    if not hydra.get("enabled", False):
        raise ParamsError(f"{root / '.dvc' / 'config'}: [hydra] is not enabled; params.yaml would not be composed")
    config_module = hydra.get("config_module")
    config_dir = None if config_module else str(root / hydra.get("config_dir", "conf"))
    check_output_file(output, "params file")
    try:
        with atomic_path(output, suffix=Path(output).suffix) as tmp:  # written whole or not at all
            compose_and_dump(tmp, config_dir, config_module, hydra.get("config_name", "config"),
                             str(root / hydra.get("plugins_path", "")), overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ParamsError(f"cannot compose {config_dir or config_module} with {overrides}: "
                          f"{str(exc).splitlines()[0]}") from None
    return output


@cache
def _composed(overrides: tuple[str, ...]) -> dict:
    """``composed_params``' mapping, composed once per process (callers get deep copies)."""
    with tempfile.TemporaryDirectory(prefix="rtsr-params-") as tmp:
        path = compose_params(Path(tmp) / PARAMS_FILE, list(overrides))
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def composed_params(overrides: list[str]) -> dict:
    """The params mapping conf/ composes with ``overrides``, without writing params.yaml (a copy)."""
    return copy.deepcopy(_composed(tuple(overrides)))


@cli_main
def main(argv: list[str] | None = None) -> None:
    """Entry point (``core.cli``: a bad override is one line on stderr, exit status 2)."""
    parser = argparse.ArgumentParser(prog="python -m core.params", description=description(__doc__))
    parser.add_argument("overrides", nargs="*", metavar="OVERRIDE",
                        help="Hydra overrides as for `dvc exp run -S`, e.g. profile=mirror train.base.seed=1")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / PARAMS_FILE,
                        help="file to write (default: <repo>/params.yaml)")
    args = parser.parse_args(argv)
    print(f"wrote {compose_params(args.out, args.overrides)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
