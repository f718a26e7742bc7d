"""Stage 3 of Bicubic++ training: drop every bias (nothing is folded; the biases are simply removed)."""
from __future__ import annotations

from torch import nn

from models.registry import ModelError, create_model, load_state_dict_strict


def without_biases(name: str, scale: int, arch_kwargs: dict, state_dict: dict) -> tuple[nn.Module, dict]:
    """A ``bias=False`` copy of model ``name`` with ``state_dict``'s weights (biases dropped) and its kwargs."""
    kwargs = {**arch_kwargs, "bias": False}
    model = create_model(name, scale, **kwargs)
    own = model.state_dict()
    dropped = sorted(set(state_dict) - set(own))
    not_bias = [k for k in dropped if not k.endswith(".bias")]
    if not_bias:
        raise ModelError(f"{name}: removing biases also removed {not_bias[:3]}; "
                         "this model's bias=False form is not the same network without biases")
    load_state_dict_strict(model, {k: v for k, v in state_dict.items() if k in own}, f"{name} without biases")
    return model, kwargs
