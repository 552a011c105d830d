"""The specialised coercers of a run say what `coerce` says, on any plain data."""

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rolegraph.compiler.types import ANY, BOOL, FLOAT, INT, STR, DictT, ListT, OptionalT
from rolegraph.runtime.values import coerce, coercer, plain, result_coercer

TYPES = [
    ANY,
    INT,
    FLOAT,
    STR,
    BOOL,
    ListT(INT),
    ListT(FLOAT),
    DictT(STR),
    OptionalT(INT),
    ListT(OptionalT(FLOAT)),
    DictT(ListT(BOOL)),
]

plain_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


def outcome(function, value):
    try:
        return ("value", repr(function(value)))  # repr: 1 and 1.0 differ
    except ValidationError:
        return ("invalid", None)


@given(st.sampled_from(TYPES), plain_data)
def test_coercer_agrees_with_coerce(t, value):
    expected = outcome(lambda v: coerce(t, v), value)
    assert outcome(coercer(t), value) == expected
    assert outcome(result_coercer(t), value) == outcome(lambda v: coerce(t, plain(v)), value)


def test_coercer_converts_what_must_be_converted():
    assert coercer(ListT(FLOAT))([1, 2.5]) == [1.0, 2.5]
    assert type(coercer(ListT(FLOAT))([1])[0]) is float
    assert coercer(OptionalT(INT))(None) is None
    assert result_coercer(ListT(INT))((1, 2)) == [1, 2]  # a tuple from a tool: a list
