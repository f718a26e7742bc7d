"""Typed-config building blocks (pydantic v2) shared by ``TrainConfig`` and ``EvalOptions``.

Strict on purpose: a YAML ``true`` is not the integer 1, ``2.7`` is not an integer, a string is not
a list of names, ``inf``/``nan`` are not learning rates. One exception, for values read from YAML
only (``Yaml*``): YAML 1.1 (PyYAML) reads ``5e-3`` (no dot) as a string, so there a string that is a
float literal is accepted as that float; JSON files (results, references) get no such leniency.
``error_line`` turns a ``ValidationError`` into the one-line message of the CLI contract: the
file or source, the key, the value given and what is allowed.
"""
from __future__ import annotations

import numbers
from typing import Annotated

from pydantic import (
    AllowInfNan,
    BeforeValidator,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)


def float_literal(value):
    """``"5e-3"`` -> 0.005 (PyYAML reads exponent floats without a dot as strings); anything else as is."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


Float = Annotated[float, Strict(), AllowInfNan(False)]  # a finite number (an int is fine, a string not)
PositiveFloat = Annotated[Float, Field(gt=0)]
NonNegativeFloat = Annotated[Float, Field(ge=0)]
YamlFloat = Annotated[Float, BeforeValidator(float_literal)]  # also "5e-3", as PyYAML reads it
YamlPositiveFloat = Annotated[YamlFloat, Field(gt=0)]
YamlUnitInterval = Annotated[YamlFloat, Field(ge=0, lt=1)]  # [0, 1): Adam betas
PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
MIN_SCALE, MAX_SCALE = 2, 16  # the one scale rule: an integer upscaling factor in this range
SCALE_RULE = f"an integer from {MIN_SCALE} to {MAX_SCALE}"  # how every scale error states it
Scale = Annotated[StrictInt, Field(ge=MIN_SCALE, le=MAX_SCALE)]  # integer upscaling factor


def valid_scale(value) -> bool:
    """True for an int (not a bool) in [MIN_SCALE, MAX_SCALE]: the rule every scale check applies."""
    return bool(isinstance(value, numbers.Integral) and not isinstance(value, bool) and MIN_SCALE <= value <= MAX_SCALE)
# Counts with an upper bound, so that a typo such as 1e20 is an error, not a run that never ends:
Passes = Annotated[StrictInt, Field(ge=1, le=100_000)]  # timed runtime passes
Warmup = Annotated[StrictInt, Field(ge=0, le=100_000)]  # warm-up runtime passes
Seed = Annotated[StrictInt, Field(ge=0, le=2**32 - 1)]  # a 32-bit seed, as numpy and torch take
Threads = Annotated[StrictInt, Field(ge=0, le=1024)]  # CPU threads (0: the library's choice)
Epochs = Annotated[StrictInt, Field(ge=1, le=1_000_000)]
Batch = Annotated[StrictInt, Field(ge=1, le=65_536)]  # patch pairs per step
PairsPerEpoch = Annotated[StrictInt, Field(ge=1, le=10**9)]
PatchSide = Annotated[StrictInt, Field(ge=1, le=4096)]  # px
JpegQuality = Annotated[StrictInt, Field(ge=1, le=100)]
Bool = StrictBool
Name = Annotated[StrictStr, Field(min_length=1)]  # a model, dataset or file name: a non-empty string
Names = Annotated[list[Name], Field(min_length=1)]  # a list (never a string) of at least one name

MAX_VALUE_CHARS = 60


def short_repr(value) -> str:
    """``repr(value)`` cut to ``MAX_VALUE_CHARS`` characters."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def error_line(exc: ValidationError, source: str, key_style=None) -> str:
    """``<source>: <key>=<value>: <what is allowed>`` for the first error of ``exc`` (one line).

    ``key_style(dotted_key) -> str`` renames the key (e.g. ``passes`` -> ``--passes`` for a CLI).
    """
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if key_style is not None:
        key = key_style(key)
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    if err["type"] == "missing":
        return f"{source}: {key} is missing: give a value{tail}"
    if err["type"] == "extra_forbidden":
        return f"{source}: unknown key {key}={short_repr(err.get('input'))}; check its spelling{tail}"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{source}: {key}={short_repr(err.get('input'))}: {msg}{tail}"
