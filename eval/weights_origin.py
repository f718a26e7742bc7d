"""The result JSON's ``weights_origin`` block: where the evaluated weights came from, decided at evaluation.

``{"kind", "budget", "card", "name", "sha256"}`` (kinds: ``eval.origin.KINDS``): committed weights
(``models/trained/<name>.pt`` with its record: sha256-checked, budget and card from the record),
a released checkpoint (``models.external.identify``, by sha256), a run trained here (under
``<data root>/train``: the budget is the one of the workspace's params.yaml profile), a registered
model without weights (``none`` when it is a fixed upscaler, ``random`` when trainable), or a
user checkpoint (any other file, a plug-in or a team folder). ``eval.origin`` reads it back.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from core.hashing import file_sha256
from core.params import PARAMS_FILE
from core.paths import REPO_ROOT
from core.yamlload import load_yaml
from eval.origin import under_train_dir
from models.committed import TRAINED_DIR, checked_weights, record_path
from models.external import identify
from models.registry import model_info


def workspace_budget(root: Path = REPO_ROOT) -> str | None:
    """The conf/budget name of params.yaml's profile (``conf/profile/<p>.yaml``'s ``/budget``), None if unknown."""
    try:
        profile = (load_yaml((root / PARAMS_FILE).read_text(encoding="utf-8")) or {}).get("profile")
        conf = load_yaml((root / "conf" / "profile" / f"{profile}.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return None
    for item in conf.get("defaults") or []:
        if isinstance(item, dict) and "/budget" in item:
            return str(item["/budget"])
    return None


def committed_name(weights: Path, root: Path = TRAINED_DIR) -> str | None:
    """The committed name of a weights file ``root/<name>.pt`` with its record, else None."""
    path = Path(weights).resolve()
    if path.parent != Path(root).resolve() or path.suffix != ".pt":
        return None
    return path.stem if record_path(path.stem, root).is_file() else None


def without_weights(model: str) -> str:
    """The kind of a model evaluated without ``--weights``: none, random (trainable) or user (plug-in)."""
    if ":" in model:
        return "user"  # a plug-in factory or a team folder brings its own weights
    return "random" if model_info(model).trainable else "none"


def weights_origin(model: str, weights: Path | None, root: Path = TRAINED_DIR) -> dict:
    """The ``weights_origin`` block of evaluating ``model`` with ``weights`` (ModelError on a bad record or sha256)."""
    block = {"kind": None, "budget": None, "card": None, "name": None, "sha256": None}
    if weights is None:
        return {**block, "kind": without_weights(model)}
    block["sha256"] = file_sha256(weights) if Path(weights).is_file() else None
    name = committed_name(Path(weights), root)
    if name is not None:
        _, record = checked_weights(name, root)
        return {**block, "kind": "committed", "budget": record.budget, "card": record.card, "name": name}
    entry = identify(weights)
    if entry is not None:
        return {**block, "kind": "released", "name": entry.name}
    if under_train_dir(weights):
        return {**block, "kind": "trained_here", "budget": workspace_budget()}
    return {**block, "kind": "user"}
