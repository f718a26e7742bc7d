"""The ablation grid end to end with DVC's own engine: `dvc exp run --queue` with the grid syntax,
`dvc queue start`, `dvc exp show`, then `python -m eval.report.ablations`, in a copy of the workspace.

Toy sizes (embedded photos, 1 epoch of 32 patch pairs, 4 and 8 channels); the variants' parameter
counts are checked against the model factory, so a worker that trained another architecture
(params not reaching the temp copy) fails the test.
"""
from __future__ import annotations

import itertools
import json
import shlex
import sys

import pytest

from core.params import composed_params
from core.paths import REPO_ROOT
from models.cost import count_params
from models.registry import create_model
from tests.pipeline.workspace import git, run, wait_for_queue, workspace_copy

GRID = {"ablation.channels": (4, 8), "ablation.blocks": (1, 2)}
TOY = ["train.ablation.epochs=1", "train.base.pairs_per_epoch=32", "train.base.batch=8",
       "train.base.val_crop=32", "evaluate.warmup=0", "evaluate.passes=1"]


@pytest.mark.slow
def test_queued_grid_is_listed_by_dvc_and_tabled_by_eval_ablations(tmp_path):
    """~2.5 min on 2 idle cores (4 queued experiments, 2 workers); the data stages run once first."""
    repo = workspace_copy(tmp_path / "ws")
    # the data stages once in the workspace, committed: the queued experiments check them out of the cache
    run(["dvc", "repro", "degrade"], repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data stages")

    grid = [arg for key, values in GRID.items() for arg in ("-S", f"{key}={','.join(map(str, values))}")]
    toy = [arg for override in TOY for arg in ("-S", override)]
    queued = run(["dvc", "exp", "run", "--queue", "ablation/dvc.yaml", *grid, *toy], repo)
    assert queued.count("Queued experiment") == 4, queued  # the cartesian product of the grid
    run(["dvc", "queue", "start", "--jobs", "2"], repo)
    assert wait_for_queue(repo) == 4

    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo))
    experiments = [rev["data"] for e in shown for x in e.get("experiments") or [] for rev in x["revs"]]
    assert len(experiments) == 4
    variants = {}
    for data in experiments:
        ablation = data["params"]["params.yaml"]["data"]["ablation"]
        metrics = data["metrics"]["ablation/metrics/variant.json"]["data"]
        variants[(ablation["channels"], ablation["blocks"])] = metrics
    assert sorted(variants) == sorted(itertools.product(*GRID.values()))
    for (channels, blocks), metrics in variants.items():
        model = create_model("bicubic_pp", scale=3, channels=channels, blocks=blocks)
        assert metrics["params"] == count_params(model)
        assert metrics["runtime_protocol"] == "cpu-fp32" and metrics["runtime_ms"] > 0
        assert set(metrics["psnr_rgb"]) == {"demo"}
    names = [x["name"] for e in shown for x in e.get("experiments") or []]
    listed = run(["dvc", "exp", "show", "--csv"], repo)  # what a user reads (the table, untruncated)
    assert all(name in listed for name in names) and "psnr_rgb.demo" in listed

    out = run([sys.executable, "-m", "eval.report.ablations"], repo)
    assert "4 variants" in out
    table = [line for line in (repo / "leaderboard" / "ablations.md").read_text().splitlines()
             if line.startswith("| ") and not line.startswith("| experiment")]
    assert [row.split(" | ")[1] for row in table] == ["ch4", "ch4 R2", "ch8", "ch8 R2"]
    params_column = [int(row.split(" | ")[8]) for row in table]
    assert params_column == [variants[(c, b)]["params"] for c in (4, 8) for b in (1, 2)]
    assert (repo / "leaderboard" / "ablations.png").is_file()


def documented_commands(text: str) -> list[str]:
    """The `dvc exp run --queue ablation/dvc.yaml ...` command lines of a document (comments stripped)."""
    lines = (line.strip().lstrip("#").strip() for line in text.splitlines())
    return [line for line in lines if line.startswith("dvc exp run --queue ablation/dvc.yaml")]


def test_the_documented_default_grid_is_eight_buildable_variants():
    """README and ablation/dvc.yaml give the same command; its grid is 2 x 2 x 2 real Bicubic++ variants."""
    readme = documented_commands((REPO_ROOT / "README.md").read_text())
    header = documented_commands((REPO_ROOT / "ablation" / "dvc.yaml").read_text())
    assert len(readme) == 1 and readme == header
    args = shlex.split(readme[0])
    overrides = [args[i + 1] for i, a in enumerate(args) if a == "-S"]
    fixed = [o for o in overrides if "," not in o]
    axes = {k: v.split(",") for k, v in (o.split("=", 1) for o in overrides if "," in o)}
    assert fixed == ["profile=mirror"] and len(list(itertools.product(*axes.values()))) == 8
    params = composed_params(fixed)
    for combo in itertools.product(*axes.values()):
        variant = dict(params["ablation"])
        for key, value in zip(axes, combo):
            section, name = key.split(".")
            assert section == "ablation" and name in variant, key
            variant[name] = type(variant[name])(value)
        create_model("bicubic_pp", scale=params["scale"], **variant)
