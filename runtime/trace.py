"""Traces: every firing of a run, with its inputs, output, calls, tokens and timing.

`Trace.steps()` groups the completed firings by logical time (DESIGN §3, rule 5);
`Trace.events()` gives JSONL-ready events; `Trace.summary()` the totals of a run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rolegraph.compiler.ltl import failed_proposition

#: A condition of a formula, as traces are read against it: its proposition, a test of
#: an environment, and the nodes it reads (it is tested on their firings).
Condition = tuple[str, Callable[[Mapping[str, Any]], bool], Collection[str]]


#: A firing that happened: it succeeded or failed (cancelled and skipped ones did not).
FIRED = ("ok", "failed")


def ltl_steps(
    records: Iterable[FiringRecord], conditions: Sequence[Condition], env: Mapping[str, Any]
) -> dict[int, set[str]]:
    """Firings grouped by logical time (DESIGN §3 rule 5) — failed ones too: a node that
    fired and failed fired, as the checker counts it — each step with the propositions
    that held there: a condition holds at a step when its test is true on a
    firing there of a node it reads, with that firing's output beside `env`."""
    by_time: dict[int, set[str]] = {}
    for record in records:
        if record.status not in FIRED:
            continue
        step = by_time.setdefault(record.time, set())
        step.add(record.node)
        if record.status != "ok":  # a failed firing fired, and has no output to test
            step.add(failed_proposition(record.node))
            continue
        for proposition, test, nodes in conditions:
            if record.node in nodes and test({**env, record.node: record.output}):
                step.add(proposition)
    return by_time


@dataclass(slots=True, init=False)
class FiringRecord:
    node: str
    time: int
    key: str
    # ok, failed; cancelled (in flight when the run ended), skipped (not started: a return
    # came first), discarded (ended at or after the winning return's time: not in the run)
    status: str
    inputs: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    error: str | None = None
    calls: int = 0  # model requests sent (every attempt, timed-out and cancelled ones too)
    cached_calls: int = 0  # calls answered by the response cache: nothing sent
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    started: float = 0.0
    ended: float = 0.0
    # (these three are made at their first read: `_LazyList`)
    notes: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    children: list[Trace] = field(default_factory=list)

    def __init__(
        self,
        node: str,
        time: int,
        key: str,
        status: str,
        inputs: dict[str, Any] | None = None,
        output: Any = None,
        error: str | None = None,
        calls: int = 0,
        cached_calls: int = 0,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost: float = 0.0,
        started: float = 0.0,
        ended: float = 0.0,
        notes: list[str] | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        children: list[Trace] | None = None,
    ) -> None:
        """The dataclass's `__init__` (a list or dict left out is a new empty one), except
        that the three lists left out are made only when first read."""
        self.node, self.time, self.key, self.status = node, time, key, status
        self.inputs = {} if inputs is None else inputs
        self.output, self.error = output, error
        self.calls, self.cached_calls = calls, cached_calls
        self.input_tokens, self.output_tokens, self.cost = input_tokens, output_tokens, cost
        self.started, self.ended = started, ended
        if notes is not None:
            self.notes = notes
        if tool_calls is not None:
            self.tool_calls = tool_calls
        if children is not None:
            self.children = children

    @property
    def latency_ms(self) -> float:
        return max(0.0, (self.ended - self.started) * 1000) if self.ended else 0.0


class _LazyList:
    """A list attribute of a `FiringRecord` kept in its slot, made empty at its first
    read: most firings have no notes, tool calls or children, and three lists fewer a
    firing are three allocations and less for the garbage collector to walk. Reading,
    writing, `asdict`, equality, copies and pickles see what a plain field shows."""

    __slots__ = ("slot",)

    def __init__(self, slot: Any):
        self.slot = slot  # (the slot's own descriptor)

    def __get__(self, record: FiringRecord | None, owner: type | None = None) -> Any:
        if record is None:
            return self
        try:
            return self.slot.__get__(record, owner)
        except AttributeError:  # (not read nor given yet)
            value: list[Any] = []
            self.slot.__set__(record, value)
            return value

    def __set__(self, record: FiringRecord, value: Any) -> None:
        self.slot.__set__(record, value)

    def __delete__(self, record: FiringRecord) -> None:
        """`del record.notes`: the list goes (read again, a new `[]`); one never read nor
        given is there for the plain field too, so deleting it is no error either."""
        with contextlib.suppress(AttributeError):  # (not made yet)
            self.slot.__delete__(record)


for _name in ("notes", "tool_calls", "children"):
    setattr(FiringRecord, _name, _LazyList(FiringRecord.__dict__[_name]))

_new = object.__new__


def running_record(
    node: str, time: int, key: str, inputs: dict[str, Any] | None, started: float
) -> FiringRecord:
    """`FiringRecord(node, time, key, "running", inputs, started=started)`, the record
    of every firing as it begins, made without `__init__`'s seventeen parameters: each
    slot set as that sets it (tests/test_trace_lazy.py holds the two alike)."""
    record: FiringRecord = _new(FiringRecord)
    # (a statement per slot: a chained or a tuple assignment costs more than a slot's store)
    record.node = node
    record.time = time
    record.key = key
    record.status = "running"
    record.inputs = {} if inputs is None else inputs
    record.output = None
    record.error = None
    record.calls = 0
    record.cached_calls = 0
    record.input_tokens = 0
    record.output_tokens = 0
    record.cost = 0.0
    record.ended = 0.0
    record.started = started
    return record


@dataclass
class Trace:
    agent: str
    inputs: dict[str, Any] = field(default_factory=dict)
    firings: list[FiringRecord] = field(default_factory=list)
    result: Any = None
    returned_at: int | None = None

    def steps(self) -> list[tuple[int, list[str]]]:
        """Firings (succeeded or failed) grouped by logical time: [(time, sorted names)]."""
        by_time: dict[int, list[str]] = {}
        for record in self.firings:
            if record.status in FIRED:
                by_time.setdefault(record.time, []).append(record.node)
        return [(t, sorted(by_time[t])) for t in sorted(by_time)]

    def shape(self) -> list[tuple[int, str, str, str]]:
        """What must be identical between two runs with deterministic models: every
        firing's time, node, status and output, in a canonical order."""
        return sorted(
            (r.time, r.node, r.status, json.dumps(r.output, sort_keys=True, default=str))
            for r in self.firings
            if r.status in ("ok", "failed")
        )

    def all_records(self) -> list[FiringRecord]:
        found = []
        for record in self.firings:
            found.append(record)
            for child in record.children:
                found += child.all_records()
        return found

    def summary(self) -> dict[str, Any]:
        records = self.all_records()
        return {
            "firings": sum(1 for r in records if r.status == "ok"),
            "failed": sum(1 for r in records if r.status == "failed"),
            "cancelled": sum(
                1 for r in records if r.status in ("cancelled", "skipped", "discarded")
            ),
            "calls": sum(r.calls for r in records),
            "cached_calls": sum(r.cached_calls for r in records),
            "input_tokens": sum(r.input_tokens for r in records),
            "output_tokens": sum(r.output_tokens for r in records),
            "cost": round(sum(r.cost for r in records), 6),
        }

    def events(self, depth: int = 0) -> list[dict[str, Any]]:
        out = []
        for record in self.firings:
            event = {k: v for k, v in asdict(record).items() if k != "children"}
            event.update(agent=self.agent, depth=depth, latency_ms=round(record.latency_ms, 3))
            out.append(event)
            for child in record.children:
                out += child.events(depth + 1)
        return out

    def write_jsonl(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            for event in self.events():
                handle.write(json.dumps(event, default=str) + "\n")
            handle.write(
                json.dumps(
                    {
                        "event": "end",
                        "agent": self.agent,
                        "result": self.result,
                        "returned_at": self.returned_at,
                        **self.summary(),
                    },
                    default=str,
                )
                + "\n"
            )
