"""The reproduce step's LR training patch: the paper's 108 px where it fits, else the released code's 96.

A set trains at a patch only when every one of its LR images fits it (the trainer draws from every
image of every named set); at x3 BSD200's 481x321 HR images give LR 160x107: 96 fits, 108 does not.
The largest patch that at least one set fits wholly is chosen, with the sets that fit it.
"""
from __future__ import annotations

from pathlib import Path

from eval.errors import EvalError
from training.throughput import RELEASED_LR_PATCH  # noqa: F401  (the released code's 96: HR 288 at x3)

PAPER_LR_PATCH = 108  # the paper's LR patch (HR 324 at x3); a test checks conf/budget/paper.yaml says the same


def lr_sides(folder: Path) -> dict[str, int]:
    """{image stem: its smaller side in px} of the LR PNGs in ``folder``."""
    from PIL import Image

    sides = {}
    for png in sorted(Path(folder).glob("*.png")):
        with Image.open(png) as im:
            sides[png.stem] = min(im.size)
    return sides


def choose_patch(sides: dict[str, dict[str, int]], patches: list[int]) -> dict:
    """{"lr_patch", "sets", "dropped"}: the first of ``patches`` (px, largest first) that a set fits wholly.

    ``sides``: {set name: {image stem: smaller LR side px}}; ``dropped``: {set: why it is not used}.
    """
    for patch in patches:
        fit = [name for name, images in sides.items() if images and min(images.values()) >= patch]
        if fit:
            dropped = {name: f"{sum(v < patch for v in images.values())} of {len(images)} LR images are "
                             f"smaller than {patch} px" for name, images in sides.items() if name not in fit}
            return {"lr_patch": patch, "sets": fit, "dropped": dropped}
    smallest = {name: min(images.values(), default=0) for name, images in sides.items()}
    raise EvalError(f"no training set fits an LR patch of {' or '.join(map(str, patches))} px "
                    f"(smallest LR sides: {smallest}); add a set of larger images")
