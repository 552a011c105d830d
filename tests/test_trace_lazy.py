"""`FiringRecord`'s lists made at their first read (runtime/trace.py `_LazyList`), held to
the plain dataclass they replace: the same fields, repr, `asdict`, equality, copies and
pickles, and the same trace events, on seeded random records."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.runtime.trace import FiringRecord, Trace, running_record


@dataclass(slots=True)
class PlainRecord:  # (the definition before: every list made by `__init__`)
    node: str
    time: int
    key: str
    status: str
    inputs: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    error: str | None = None
    calls: int = 0
    cached_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    started: float = 0.0
    ended: float = 0.0
    notes: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    children: list[Any] = field(default_factory=list)

    latency_ms = FiringRecord.latency_ms


_OPTIONAL = {
    "inputs": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    "output": st.none() | st.integers() | st.text(max_size=4),
    "error": st.none() | st.text(max_size=4),
    "calls": st.integers(0, 3),
    "cost": st.floats(0, 1),
    "started": st.floats(0, 10),
    "ended": st.floats(0, 10),
    "notes": st.lists(st.text(max_size=4), max_size=2),
    "tool_calls": st.lists(st.dictionaries(st.text(max_size=3), st.integers()), max_size=2),
}

records = st.tuples(
    st.text(min_size=1, max_size=4),
    st.integers(0, 9),
    st.text(max_size=6),
    st.sampled_from(["ok", "failed", "cancelled", "skipped", "running"]),
    st.fixed_dictionaries({}, optional=_OPTIONAL),
    st.lists(st.sampled_from(["notes", "tool_calls", "children"]), max_size=4),
)


def _both(args: Any) -> tuple[FiringRecord, PlainRecord, list[str]]:
    node, time, key, status, given_fields, appended = args
    fresh = {k: copy.deepcopy(v) for k, v in given_fields.items()}
    return (
        FiringRecord(node, time, key, status, **fresh),
        PlainRecord(node, time, key, status, **copy.deepcopy(given_fields)),
        appended,
    )


def test_the_fields_are_the_dataclass_fields():
    names = [(f.name, f.default) for f in dataclasses.fields(FiringRecord)]
    assert names == [(f.name, f.default) for f in dataclasses.fields(PlainRecord)]


@settings(derandomize=True, max_examples=150)
@given(records)
def test_a_record_shows_what_the_plain_dataclass_shows(args):
    lazy, plain, appended = _both(args)
    for name in appended:  # (a list appended to before or after its first read)
        item: Any = Trace("child") if name == "children" else {"n": 1}
        getattr(lazy, name).append(item)
        getattr(plain, name).append(item)
    assert dataclasses.asdict(lazy) == dataclasses.asdict(plain)
    assert repr(lazy) == repr(plain).replace("PlainRecord", "FiringRecord")
    assert copy.deepcopy(lazy) == lazy
    assert pickle.loads(pickle.dumps(lazy)) == lazy
    assert dataclasses.replace(lazy) == lazy
    trace = Trace("a", firings=[lazy])
    plain_trace = Trace("a", firings=[plain])  # type: ignore[list-item]
    assert json.dumps(trace.events(), default=str) == json.dumps(plain_trace.events(), default=str)
    assert trace.summary() == plain_trace.summary()


def test_a_list_read_once_is_the_same_list_after():
    record = FiringRecord("a", 1, "k", "ok")
    notes = record.notes
    notes.append("x")
    assert record.notes is notes and record.notes == ["x"]
    other = FiringRecord("a", 1, "k", "ok")
    assert other.notes == [] and other.notes is not notes  # (no list is shared)
    given_list: list[str] = []
    assert FiringRecord("a", 1, "k", "ok", notes=given_list).notes is given_list
    record.tool_calls = [{"tool": "t"}]
    assert record.tool_calls == [{"tool": "t"}]


def test_a_list_can_be_deleted_as_a_plain_slot():
    lazy, plain = FiringRecord("a", 1, "k", "ok", notes=["x"]), PlainRecord("a", 1, "k", "ok")
    del lazy.notes, plain.notes  # (a plain slot: `del` works; it raised AttributeError)
    lazy.notes = ["y"]
    assert lazy.notes == ["y"]
    unread = FiringRecord("a", 1, "k", "ok")
    del unread.tool_calls  # (never read: nothing in the slot yet, as the slot says)
    assert unread.tool_calls == []


@settings(max_examples=150, derandomize=True)
@given(
    st.text(min_size=1, max_size=4),
    st.integers(0, 9),
    st.text(max_size=6),
    st.none() | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.floats(0, 10),
)
def test_a_running_record_is_the_record_init_makes(node, time, key, inputs, started):
    # (`running_record`, what every firing makes as it begins, sets each slot itself)
    fast = running_record(node, time, key, inputs, started)
    made = FiringRecord(node, time, key, "running", inputs, started=started)
    plain = PlainRecord(node, time, key, "running", {} if inputs is None else inputs)
    plain.started = started
    for slot in FiringRecord.__slots__:  # (every slot, the lists' too, reads alike)
        assert getattr(fast, slot) == getattr(made, slot), slot
    assert fast == made and repr(fast) == repr(made)
    assert dataclasses.asdict(fast) == dataclasses.asdict(made) == dataclasses.asdict(plain)
    assert pickle.loads(pickle.dumps(fast)) == made
    if inputs is not None:
        assert fast.inputs is inputs  # (the arguments' own dict, as `__init__` keeps it)
    else:
        assert fast.inputs == {} and fast.inputs is not running_record("n", 0, "", None, 0).inputs
