"""Firing keys: each firing's deterministic name — its logical time, its node, and a
digest of its cause. Decisions that depend on order use keys, never wall-clock arrival,
and resuming a run matches checkpoints by key, so keys are the same across processes."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any, Protocol

from rolegraph.compiler import semantics


class Keyed(Protocol):
    """An output as a join reads it: its logical time, its firing's key, and that key as
    the trace writes it (`label`, which is `repr(key)`)."""

    @property
    def time(self) -> int: ...
    @property
    def key(self) -> tuple: ...
    @property
    def label(self) -> str: ...


def firing_key(time: int, node: str, *cause: Any) -> tuple:
    """A firing's key: its logical time, its node, and a fixed-size digest of its cause.

    Deterministic across processes (resuming matches keys), and small whatever the
    length of the run."""
    digest = hashlib.blake2b(repr(cause).encode(), digest_size=8).hexdigest()
    return (time, node, digest)


def edge_key(time: int, target: str, index: int, label: str) -> tuple:
    """`firing_key(time, target, "edge", index, key)` for the firing an edge starts, given
    the source firing's key as the trace writes it (`label`, which is `repr(key)`): the
    digest's text is written around the label instead of writing the key out again."""
    cause = f"('edge', {index!r}, {label})"  # (what `repr(("edge", index, key))` writes)
    digest = hashlib.blake2b(cause.encode(), digest_size=8).hexdigest()
    return (time, target, digest)


def label(key: tuple, quoted: str) -> str:
    """`repr(key)`: a firing's key as the trace writes it, given its node's name as `repr`
    writes it (`quoted`, made once per node: `Plan.quoted`). The time is an int and the
    digest hex (every key here is made so), so only the name needs `repr`'s escaping, and
    that is done once per node rather than once per firing."""
    return f"({key[0]}, {quoted}, '{key[2]}')"


def join_key(consumer: str, heads: Collection[Keyed]) -> tuple:
    """The key of a firing that joins `heads`, one after the latest of them. With one
    head, the head's digest serves: it is unique for this consumer at this time already
    (the head's node is the consumer's only dependency, its time the one before), and
    chains and fan-outs, the common joins, need no hashing.

    With more, the key is `firing_key(time, consumer, "join", *keys)`, its digest's text
    written around the heads' labels (what `repr` of the cause writes) rather than
    writing each key out again, as `edge_key` does."""
    if len(heads) == 1:
        (head,) = heads
        # (`join_time` of one head is `after` its time: no tuple made for `max` to read,
        # ~1,000 machine instructions a firing of a chain or of a fan-out's branch)
        return (semantics.after(head.time), consumer, head.key[2])
    times, labels = [], []  # (one pass over the heads: no generator, no comprehension)
    for head in heads:
        times.append(head.time)
        labels.append(head.label)
    time = semantics.join_time(times)
    cause = f"('join', {', '.join(labels)})"
    digest = hashlib.blake2b(cause.encode(), digest_size=8).hexdigest()
    return (time, consumer, digest)
