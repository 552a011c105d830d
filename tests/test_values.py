"""The specialised coercers of a run say what `coerce` says, on any plain data."""

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rolegraph.compiler.types import ANY, BOOL, FLOAT, INT, STR, DictT, ListT, OptionalT
from rolegraph.runtime.values import as_is, coerce, coercer, plain, result_coercer

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


@settings(derandomize=True, max_examples=400)
@given(st.sampled_from(TYPES), st.booleans() | st.integers() | st.floats() | plain_data)
def test_a_value_of_the_type_taken_as_it_is_is_what_the_coercers_return(t, value):
    """`as_is(t)`: a value of exactly that type is returned as it is by `coercer(t)` and
    `result_coercer(t)` (the runtime then does not call them, runtime/scheduler.py
    `fire_inline`); the test first, the coercer after, says what `coerce` says."""
    kind = as_is(t)
    if type(value) is kind:
        assert coercer(t)(value) is value and result_coercer(t)(value) is value
    tested = outcome(lambda v: v if type(v) is kind else coercer(t)(v), value)
    assert tested == outcome(lambda v: coerce(t, v), value)
    tested = outcome(lambda v: v if type(v) is kind else result_coercer(t)(v), value)
    assert tested == outcome(lambda v: coerce(t, plain(v)), value)


def test_coercer_converts_what_must_be_converted():
    assert coercer(ListT(FLOAT))([1, 2.5]) == [1.0, 2.5]
    assert type(coercer(ListT(FLOAT))([1])[0]) is float
    assert coercer(OptionalT(INT))(None) is None
    assert result_coercer(ListT(INT))((1, 2)) == [1, 2]  # a tuple from a tool: a list
