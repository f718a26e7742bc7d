"""``python -m eval.gpu_suite.step NAME --ctx CTX.json --record OUT.json``: run one suite step in this process.

Exit status (``core.cli``) 0 when the step finished, 1 when it raised (whatever it raised: the
one-line error and the traceback's last lines are saved in the record under ``error``/``traceback``,
so the suite reports it and goes on), 2 on a bad context file.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from core.cli import EXIT_FAILURE, EXIT_OK, cli_main, description
from core.errors import typed_one_line
from eval.gpu_suite.context import SuiteContext
from eval.gpu_suite.record import Record
from eval.gpu_suite.steps import LOCAL_STEP_FUNCTIONS


def step_reproduce(ctx: SuiteContext, rec: Record) -> None:
    """Step reproduce (``eval.gpu_suite.reproduce``), imported only when it runs: it loads torch."""
    from eval.gpu_suite.reproduce import step_reproduce as reproduce

    reproduce(ctx, rec)


FUNCTIONS = {"reproduce": step_reproduce, **LOCAL_STEP_FUNCTIONS}  # every name in steps.STEPS


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Run the named step; its record is saved as it goes."""
    p = argparse.ArgumentParser(prog="python -m eval.gpu_suite.step", description=description(__doc__))
    p.add_argument("name", choices=sorted(FUNCTIONS), help="the step to run")
    p.add_argument("--ctx", type=Path, required=True, help="the suite context JSON (required)")
    p.add_argument("--record", type=Path, required=True, help="where the step's record is saved (required)")
    args = p.parse_args(argv)
    ctx = SuiteContext.load(args.ctx)
    rec = Record(args.record)
    rec.save()
    try:
        FUNCTIONS[args.name](ctx, rec)
    except Exception as exc:  # noqa: BLE001  (recorded, never hidden: the suite goes on)
        rec.put("error", typed_one_line(exc))
        rec.put("traceback", traceback.format_exc().strip().splitlines()[-8:])
        print(f"step {args.name} failed: {typed_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
