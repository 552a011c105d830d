"""The store's checkpoint batches are encoded by one encoder with no cycle table
(`runtime/store.py`, `_rows_json`): the same text as `json.dumps(rows, default=str)`, the
general path, for any rows, and the same error for a batch that does not encode."""

import datetime
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.runtime.store import _rows_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # (nan and infinities: json writes NaN, Infinity)
    | st.text()
    | st.decimals(allow_nan=False).map(Decimal)  # (`default=str` writes these)
    | st.just(datetime.date(2026, 12, 6))
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)
rows = st.lists(
    st.tuples(st.text(), st.text(), st.integers(), st.just("ok"), values, st.none() | st.text()),
    max_size=6,
)


@settings(derandomize=True, max_examples=300)
@given(rows)
def test_same_text_as_the_general_encoder(batch: list) -> None:
    assert _rows_json(batch) == json.dumps(batch, default=str)


def test_a_cycle_fails_as_it_did() -> None:
    looped: list = []
    looped.append(looped)
    batch = [["k", "n", 1, "ok", {"x": looped}, None]]
    with pytest.raises(ValueError) as general:
        json.dumps(batch, default=str)
    with pytest.raises(ValueError) as fast:
        _rows_json(batch)
    assert str(fast.value) == str(general.value) == "Circular reference detected"


def test_a_key_that_does_not_encode_fails_as_it_did() -> None:
    batch = [["k", "n", 1, "ok", {(1, 2): 3}, None]]
    with pytest.raises(TypeError) as general:
        json.dumps(batch, default=str)
    with pytest.raises(TypeError) as fast:
        _rows_json(batch)
    assert str(fast.value) == str(general.value)
