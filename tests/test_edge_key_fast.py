"""`edge_key` (the key of a firing an edge starts, its digest written around the source
firing's label) against the general path, `firing_key` on the source's key: the same key,
so checkpoints of runs keyed either way match on resume."""

from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.runtime.keys import edge_key, firing_key

names = st.text(min_size=1, max_size=12)  # (quotes, backslashes, non-ASCII: repr's cases)
digests = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)
keys = st.tuples(st.integers(0, 10**6), names, digests)


@settings(derandomize=True, max_examples=300)
@given(keys, st.integers(0, 10**4), names, st.integers(0, 10**6))
def test_edge_key_is_firing_key(source: tuple, index: int, target: str, time: int) -> None:
    assert edge_key(time, target, index, repr(source)) == firing_key(
        time, target, "edge", index, source
    )


def test_edge_key_of_a_nested_cause() -> None:
    # a key whose digest part is itself any text (the label is whatever `repr` wrote)
    source = (3, "n'\"\\é", "0123456789abcdef")
    assert edge_key(4, "m", 7, repr(source)) == firing_key(4, "m", "edge", 7, source)
