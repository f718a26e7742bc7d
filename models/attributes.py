"""A plug-in's or team folder's contract attributes, typed: a wrong type or value names the attribute.

``scales`` is a tuple (or list) of integer factors >= 2 (empty: any; a bare int or a string is
refused, not read digit by digit); ``multiple`` and ``min_size`` are integers >= 1;
``channel_order`` and ``value_range`` are one of ``models.contract``'s names; ``layouts`` a tuple or
list; ``load_weights`` callable. The one-line ``ModelError`` names the plug-in, the attribute, the
value and what is allowed, before the factory or the forward pass runs.
"""
from __future__ import annotations

from models.contract import CHANNEL_ORDERS, VALUE_RANGES
from models.errors import ModelError


def _is_int(value) -> bool:
    """True for an int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(name: str, attr: str, value, want: str) -> ModelError:
    """The one-line error of one attribute."""
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return ModelError(f"plug-in {name!r}: attribute {attr}={text} ({type(value).__name__}) is not valid: "
                      f"expected {want}")


def scales(name: str, value) -> tuple[int, ...]:
    """``scales`` as a tuple of ints >= 2."""
    if not isinstance(value, (tuple, list)) or not all(_is_int(s) and s >= 2 for s in value):
        raise _bad(name, "scales", value, "a tuple of integer factors >= 2, e.g. (2, 3, 4)")
    return tuple(value)


def count(name: str, attr: str, value) -> int:
    """``multiple`` / ``min_size`` as an int >= 1."""
    if not _is_int(value) or value < 1:
        raise _bad(name, attr, value, "an integer >= 1")
    return value


def choice(name: str, attr: str, value, allowed) -> str:
    """``channel_order`` / ``value_range`` as one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise _bad(name, attr, value, f"one of {', '.join(map(repr, allowed))}")
    return value


def read_attributes(name: str, factory) -> dict:
    """The typed contract attributes of ``factory`` (defaults for absent ones)."""
    get = lambda attr, default: getattr(factory, attr, default)
    layouts = get("layouts", ())
    if not isinstance(layouts, (tuple, list)):
        raise _bad(name, "layouts", layouts, "a tuple of models.layouts.Layout")
    load_weights = get("load_weights", None)
    if load_weights is not None and not callable(load_weights):
        raise _bad(name, "load_weights", load_weights, "a callable or None")
    return {"scales": scales(name, get("scales", ())), "multiple": count(name, "multiple", get("multiple", 1)),
            "min_size": count(name, "min_size", get("min_size", 1)),
            "channel_order": choice(name, "channel_order", get("channel_order", "rgb"), CHANNEL_ORDERS),
            "value_range": choice(name, "value_range", get("value_range", "unit"), tuple(VALUE_RANGES)),
            "layouts": tuple(layouts), "load_weights": load_weights}
