"""`edge_key` (the key of a firing an edge starts, its digest written around the source
firing's label) against the general path, `firing_key` on the source's key: the same key,
so checkpoints of runs keyed either way match on resume. `join_key` of many heads, its
digest written around the heads' labels, against `firing_key` of their keys."""

from typing import NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.compiler import semantics
from rolegraph.runtime.keys import edge_key, firing_key, join_key

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


class _Head(NamedTuple):
    time: int
    key: tuple
    label: str


@settings(derandomize=True, max_examples=300)
@given(st.lists(keys, min_size=2, max_size=20), names)
def test_join_key_is_firing_key(heads: list[tuple], consumer: str) -> None:
    # a join of many heads: its digest written around their labels, against the general
    # path that writes each key out again
    joined = [_Head(key[0], key, repr(key)) for key in heads]
    time = semantics.join_time(key[0] for key in heads)
    assert join_key(consumer, joined) == firing_key(time, consumer, "join", *heads)


def test_join_key_of_one_head_is_its_digest() -> None:
    key = (3, "a", "0123456789abcdef")
    assert join_key("b", [_Head(3, key, repr(key))]) == (4, "b", key[2])


@settings(derandomize=True, max_examples=100)
@given(keys, names)
def test_join_key_of_one_head_is_at_the_join_time_of_its_head(head: tuple, consumer: str) -> None:
    # (`join_key` asks `semantics.after` for one head, not `join_time`: the same time)
    key = join_key(consumer, [_Head(head[0], head, repr(head))])
    assert key == (semantics.join_time([head[0]]), consumer, head[2])
