"""The three Bicubic++ stages in a row, shared by the suite's ``training`` and ``reproduce`` steps.

Stage 1 trains the 34-channel network with biases; stage 2 prunes it to the conf/ ``prune.target``
channels (``training.prune``) and finetunes; stage 3 removes every bias and finetunes. Each stage
starts from the previous stage's ``best.pt``; the final run folder is ``<root>/bicubic_pp``.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from eval.gpu_suite.record import Record

STAGES = ("bicubic_pp_stage1", "bicubic_pp_stage2", "bicubic_pp_stage3")  # conf/ train.<section> names
KEYS = ("stage1", "stage2", "stage3")  # record keys of the stages' summaries
RUN_DIRS = {"stage1": "bicubic_pp_stage1", "stage2": "bicubic_pp_stage2", "stage3": "bicubic_pp"}

# plan(stage key, summaries of the stages done so far) -> (epochs, val_every) of that stage
StagePlan = Callable[[str, dict], tuple[int, int]]
# config(conf section, **run overrides) -> TrainConfig
ConfigFor = Callable[..., object]


def final_run(root: Path) -> Path:
    """The run folder of stage 3 (the final, bias-free 32-channel network)."""
    return Path(root) / RUN_DIRS["stage3"]


def run_stages(config_for: ConfigFor, root: Path, plan: StagePlan, target: int, rec: Record,
               pairs_per_epoch: int | None = None) -> dict:
    """Train stage 1, prune + finetune stage 2 to ``target`` channels, finetune stage 3 without biases.

    Each stage's epochs come from ``plan`` just before it starts (so a planner can use the measured
    seconds of the stages before it); each summary is saved in ``rec`` under stage1/stage2/stage3.
    ``pairs_per_epoch``: the patch pairs per epoch (None: the config's own).
    """
    from training.loop import train
    from training.prune import prune_stage

    root, summaries, init = Path(root), {}, None
    for key, section in zip(KEYS, STAGES):
        epochs, val_every = plan(key, summaries)
        run = {"out": str(root / RUN_DIRS[key]), "epochs": epochs, "val_every": val_every}
        if pairs_per_epoch is not None:
            run["pairs_per_epoch"] = pairs_per_epoch
        if init is not None:
            run["init"] = str(init)
        if key == "stage3":
            run["drop_bias"] = True
        cfg = config_for(section, **run)
        summaries[key] = prune_stage(cfg, target=target) if key == "stage2" else train(cfg)
        rec.put(key, summaries[key])
        init = root / RUN_DIRS[key] / "best.pt"
    return summaries
