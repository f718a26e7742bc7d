"""`dvc metrics show` after command 1: a row per leaderboard model, no warning, no row for the ablation grid.

The grid's metrics folder (``ablation/metrics/``, ``ablation/dvc.yaml``) holds only a ``.gitkeep``
that ``.dvcignore`` hides until an experiment writes ``variant.json``: a declared metrics *file*
that was never written made DVC print "failed to load some metrics" and an all-dash row.
"""
from __future__ import annotations

import json
import subprocess

from tests.pipeline.workspace import dvc_env, workspace_copy


def _metrics_show(ws) -> tuple[str, str]:
    """(stdout, stderr) of ``dvc metrics show`` in ``ws``."""
    proc = subprocess.run(["dvc", "metrics", "show"], cwd=ws, capture_output=True, text=True, env=dvc_env(),
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, proc.stderr


def _leaderboard_metric(ws, model: str, psnr: float) -> None:
    """One file of the leaderboard stage's metrics folder, as command 1 writes it."""
    path = ws / "leaderboard" / "metrics" / "demo_x3" / f"{model}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"psnr_rgb": psnr, "score": 0.0}))


def test_no_warning_and_no_ablation_row_before_the_grid_ran(tmp_path):
    ws = workspace_copy(tmp_path / "ws")
    assert sorted(p.name for p in (ws / "ablation" / "metrics").iterdir()) == [".gitkeep"]
    _leaderboard_metric(ws, "bicubic", 27.71618)
    out, err = _metrics_show(ws)
    assert "failed to load" not in out + err and err == ""
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert rows == [["leaderboard/metrics/demo_x3/bicubic.json", "27.71618", "0.0"]]  # no all-dash row


def test_a_variant_written_by_the_grid_is_listed(tmp_path):
    """The folder is still a DVC metric: what eval.report.ablation_metrics writes there shows (exp show lists it)."""
    ws = workspace_copy(tmp_path / "ws")
    _leaderboard_metric(ws, "bicubic", 27.71618)
    (ws / "ablation" / "metrics" / "variant.json").write_text(json.dumps({"params": 5412, "psnr_rgb": {"demo": 27.9}}))
    out, _ = _metrics_show(ws)
    row = next(line.split() for line in out.splitlines() if line.startswith("ablation/"))
    assert row[0] == "ablation/metrics/variant.json" and "5412" in row and "27.9" in row
