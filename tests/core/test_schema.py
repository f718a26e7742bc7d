"""core.schema's one scale rule, as every scale check applies it (degrade, result files, suite, options)."""
from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from core.schema import MAX_SCALE, MIN_SCALE, SCALE_RULE, Scale, valid_scale
from datasets.degrade import check_scale
from datasets.registry import DatasetError


@pytest.mark.parametrize("value, ok", [(2, True), (3, True), (16, True), (np.int64(4), True), (1, False),
                                       (17, False), (True, False), (3.0, False), ("3", False), (None, False)])
def test_valid_scale_is_the_typed_scale(value, ok):
    assert valid_scale(value) is ok
    try:
        TypeAdapter(Scale).validate_python(value)
        typed = True
    except ValidationError:
        typed = False
    assert typed is (ok and type(value) is int)  # the strict type takes Python ints; the check numpy ints too


def test_every_check_states_the_same_rule():
    assert (MIN_SCALE, MAX_SCALE, SCALE_RULE) == (2, 16, "an integer from 2 to 16")
    assert check_scale(np.int64(3)) == 3
    with pytest.raises(DatasetError, match=f"scale 17 is not supported; use {SCALE_RULE}"):
        check_scale(17)
