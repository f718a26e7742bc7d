"""Where a result's weights came from, read from its result JSON: one of six kinds and the table text.

``eval.evaluate`` records a ``weights_origin`` block (``eval.weights_origin``, typed in
``eval.resultschema.WeightsOrigin``); a result written before that block existed is classified
from the fields it always had (``weights``, ``external``). The kinds and what the tables say:

    trained_here  a run this pipeline trained (weights under ``<data root>/train`` or the ablation
                  grid's ``<data root>/ablation/train``, ``TRAIN_DIRS``):
                  "trained here, CPU budget (demo)" or "trained here, paper budget"
    committed     committed weights (``models/trained/``, ``models.committed.TrainedRecord``):
                  "trained here, paper budget on NVIDIA H200"
    released      the authors' released checkpoint (``models.external``): "released by the authors"
    none          a fixed upscaler without weights (bicubic, ...): "no weights"
    random        a trainable model evaluated without weights: "random weights (untrained)"
    user          any other checkpoint: "user checkpoint"

A CPU budget (``CPU_BUDGETS``) is minutes of training on 2 cores, far from the paper's recipe: the
leaderboard adds ``CPU_BUDGET_NOTE`` under any table with such a row. Only core imports here, so
the reporting stages do not depend on torch or the model code.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.paths import REPO_ROOT, data_root

KINDS = ("trained_here", "committed", "released", "none", "random", "user")
FIXED_KINDS = ("committed", "released")  # fixed weights whose numbers must not move (eval.report.regress)
TRAIN_DIRS = ("train", "ablation/train")  # under the data root: where the pipelines' training stages write
CPU_BUDGETS = ("cpu", "demo")  # conf/budget/ names whose training runs on the CPU in minutes
CPU_BUDGET_NOTE = ("CPU budget: rows marked 'trained here, CPU budget' were trained for minutes on a "
                   "CPU (conf/budget cpu or demo), far short of the paper's 3 x 1000 epochs; a place "
                   "below bicubic says nothing about the architecture.")


@dataclass(frozen=True)
class Origin:
    """A result's weights origin: ``kind`` (``KINDS``), training budget and card when known."""

    kind: str
    budget: str | None = None
    card: str | None = None

    @property
    def cpu_budget(self) -> bool:
        """True for weights trained here at a CPU budget (``CPU_BUDGETS``), committed or not."""
        return self.kind in ("trained_here", "committed") and self.budget in CPU_BUDGETS


def origin_of(data: dict) -> Origin:
    """The ``Origin`` of a result dict: its ``weights_origin`` block, else inferred from older fields."""
    block = data.get("weights_origin")
    if isinstance(block, dict) and block.get("kind") in KINDS:
        return Origin(block["kind"], block.get("budget"), block.get("card"))
    if data.get("external"):
        return Origin("released")
    weights = data.get("weights")
    if not weights:
        return Origin("none")
    return Origin("trained_here") if under_train_dir(weights) else Origin("user")


def under_train_dir(weights: str | Path) -> bool:
    """True when a weights path (relative ones from the repository root) lies in a ``TRAIN_DIRS`` folder."""
    path = (Path(weights) if Path(weights).is_absolute() else REPO_ROOT / weights).resolve()
    return any(path.is_relative_to((data_root() / d).resolve()) for d in TRAIN_DIRS)


def budget_text(budget: str | None) -> str:
    """``CPU budget (demo)``, ``paper budget``, or ``budget not recorded``."""
    if budget is None:
        return "budget not recorded"
    return f"CPU budget ({budget})" if budget in CPU_BUDGETS else f"{budget} budget"


def origin_text(origin: Origin) -> str:
    """The leaderboard's provenance cell of an origin (see the module docstring)."""
    if origin.kind == "trained_here":
        return f"trained here, {budget_text(origin.budget)}"
    if origin.kind == "committed":
        return f"trained here, {budget_text(origin.budget)} on {origin.card or 'an unrecorded card'}"
    return {"released": "released by the authors", "none": "no weights",
            "random": "random weights (untrained)", "user": "user checkpoint"}[origin.kind]


def table_note(rows: list[dict]) -> str | None:
    """The line under a leaderboard table with a CPU-budget row (``CPU_BUDGET_NOTE``), else None."""
    return CPU_BUDGET_NOTE if any(r.get("cpu_budget") for r in rows) else None
