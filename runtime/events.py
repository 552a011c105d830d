"""Events: what a run says while it runs, in the order it happens.

    async for event in rolegraph.stream("examples/self_refine.agent", {"task": "..."},
                                        model="mock"):
        print(event.kind, event.to_json())

- `run_started`: an agent's run begins (a nested agent's too), with its inputs;
- `firing_started`: a firing has its inputs and begins its work (node, logical time,
  key, inputs);
- `firing_finished`, `firing_failed`, `firing_cancelled`, `firing_skipped`: a firing
  ended, with its `FiringRecord` (output or error, calls, cached calls, tokens, cost,
  latency, notes);
- `firing_discarded`: a firing that ended is not part of the run after all (a return
  at an earlier logical time won), with the note its record got;
- `tokens`: a piece of a model's reply, as it arrived;
- `partial`: a structured reply as far as it has arrived: the fields parsed so far
  (best effort);
- `question`: a human step asked a person (docs/human.md): the question's id, its
  text, the JSON schema of the answer and its deadline; the run goes on with what does
  not need the answer;
- `paused`: the run waits for answers and stopped (its state is in the store), with
  the questions; it is the last event, in place of `result` or `error`;
- `result` / `error`: the run returned (the result, the totals, the trace) or failed
  (the error, the totals).

Every event of a run says where it happened: the agent, its `depth` (0 for the agent
run, 1 for an agent it calls as a node, ...) and its `path` (the keys of the firings
whose sub-agent runs enclose it; `()` at the top). The ended-firing events replay the
trace: `trace_of(events)` rebuilds the `Trace` the run returns, record for record (a
property test holds the executor to it). Events are frozen dataclasses; `to_json()` gives
plain data with the `kind` (nested traces are left out: their firings are events too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .models import ModelRequest
from .sink import EventSink as EventSink  # (where it is named: runtime/sink.py)
from .trace import FiringRecord, Trace

#: the kind of the event that ends a firing, by the status it ended with
ENDED_KINDS = {
    "ok": "firing_finished",
    "failed": "firing_failed",
    "cancelled": "firing_cancelled",
    "skipped": "firing_skipped",
}


@dataclass(frozen=True, slots=True)
class _InRun:
    agent: str
    depth: int
    path: tuple[str, ...]

    kind: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for item in dataclasses.fields(self):
            data[item.name] = getattr(self, item.name)
        data["path"] = list(self.path)
        return data


@dataclass(frozen=True, slots=True)
class RunStarted(_InRun):
    inputs: dict[str, Any]

    kind: ClassVar[str] = "run_started"


@dataclass(frozen=True, slots=True)
class FiringStarted(_InRun):
    node: str
    time: int  # logical time
    key: str
    inputs: dict[str, Any]

    kind: ClassVar[str] = "firing_started"


@dataclass(frozen=True, slots=True)
class FiringEnded(_InRun):
    """A firing ended: `record` is its record as it ended (a copy: the trace's own may
    still be discarded later, which a `FiringDiscarded` event says)."""

    record: FiringRecord

    @property
    def kind(self) -> str:  # type: ignore[override]
        return ENDED_KINDS.get(self.record.status, f"firing_{self.record.status}")

    @property
    def node(self) -> str:
        return self.record.node

    @property
    def time(self) -> int:
        return self.record.time

    @property
    def key(self) -> str:
        return self.record.key

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "agent": self.agent,
            "depth": self.depth,
            "path": list(self.path),
            **record_json(self.record),
        }


@dataclass(frozen=True, slots=True)
class FiringDiscarded(_InRun):
    """A firing that ended at or after the logical time of the return that won: it is
    not part of the run, and its record's status is now `discarded`."""

    node: str
    time: int
    key: str
    note: str

    kind: ClassVar[str] = "firing_discarded"


@dataclass(frozen=True, slots=True)
class Tokens(_InRun):
    """A piece of a model's reply, as it arrived. The pieces of one call (`key`,
    `replica`, `call`) in order make its reply; a retried attempt (`attempt`) starts
    again from the beginning. A reply from the response cache comes in one piece."""

    node: str
    key: str  # the firing's
    replica: int  # which of `x N`, or which map item
    call: int  # the call's number in its firing's replica (repairs and tool steps count)
    attempt: int  # from 1; a retry streams the reply again
    text: str

    kind: ClassVar[str] = "tokens"


@dataclass(frozen=True, slots=True)
class Partial(_InRun):
    """A structured reply as far as it has arrived: the fields parsed from the JSON text
    received so far. Best effort: the last field may be cut short (half a string) or
    shown empty, and the value need not fit the type yet. The firing's ended event
    carries the validated output."""

    node: str
    key: str
    replica: int
    call: int
    attempt: int
    value: Any

    kind: ClassVar[str] = "partial"


@dataclass(frozen=True, slots=True)
class QuestionAsked(_InRun):
    """A human step's firing asked a question, and waits for its answer (which may come
    in another process, after the run paused)."""

    node: str
    key: str  # the firing's
    question: str  # its id: answer with it
    step: str  # the `human` declaration
    text: str
    schema: dict[str, Any]
    deadline: float | None  # seconds since the epoch

    kind: ClassVar[str] = "question"


@dataclass(frozen=True, slots=True)
class RunPaused:
    """The run stopped to wait for answers: `questions` (plain data: id, node, step,
    text, schema, asked, deadline) are pending, and the run continues when it is
    resumed with their answers."""

    agent: str
    run_id: str | None
    questions: list[dict[str, Any]]
    summary: dict[str, Any]
    exception: BaseException = field(repr=False, compare=False)

    kind: ClassVar[str] = "paused"

    @classmethod
    def of(cls, agent: str, error: Any, run_id: str | None = None) -> RunPaused:
        """The event of a `Paused` error (runtime/human.py)."""
        trace = getattr(error, "trace", None)
        summary = trace.summary() if isinstance(trace, Trace) else {}
        questions = [q.to_json() for q in error.questions]
        return cls(agent, run_id, questions, summary, error)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "agent": self.agent,
            "run_id": self.run_id,
            "questions": self.questions,
            **self.summary,
        }


@dataclass(frozen=True, slots=True)
class RunEnded:
    """The run returned. `trace` (not in `to_json`) is the run's whole trace."""

    agent: str
    result: Any
    returned_at: int | None
    summary: dict[str, Any]
    run_id: str | None
    trace: Trace = field(repr=False, compare=False)

    kind: ClassVar[str] = "result"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "agent": self.agent,
            "result": self.result,
            "returned_at": self.returned_at,
            "run_id": self.run_id,
            **self.summary,
        }


@dataclass(frozen=True, slots=True)
class RunFailed:
    """The run failed with `exception` (a `RunError`, not in `to_json`)."""

    agent: str
    error: str  # the error's class: Stalled, FiringFailed, BudgetExceeded, ...
    message: str
    summary: dict[str, Any]
    run_id: str | None
    exception: BaseException = field(repr=False, compare=False)

    kind: ClassVar[str] = "error"

    @classmethod
    def of(cls, agent: str, error: BaseException, run_id: str | None = None) -> RunFailed:
        trace = getattr(error, "trace", None)
        summary = trace.summary() if isinstance(trace, Trace) else {}
        return cls(agent, type(error).__name__, str(error), summary, run_id, error)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "agent": self.agent,
            "error": self.error,
            "message": self.message,
            "run_id": self.run_id,
            **self.summary,
        }


Event = (
    RunStarted
    | FiringStarted
    | FiringEnded
    | FiringDiscarded
    | Tokens
    | Partial
    | QuestionAsked
    | RunEnded
    | RunFailed
    | RunPaused
)


def record_json(record: FiringRecord) -> dict[str, Any]:
    """A record as plain data, as the trace's JSONL writes it (nested traces left out)."""
    data = {
        item.name: getattr(record, item.name)
        for item in dataclasses.fields(record)
        if item.name != "children"
    }
    data["latency_ms"] = round(record.latency_ms, 3)
    return data


def snapshot(record: FiringRecord) -> FiringRecord:
    """A copy of a record as it is now; what it holds that may change later (its notes
    and status, when it is discarded) is copied, its values are shared."""
    return dataclasses.replace(
        record,
        inputs=dict(record.inputs),
        notes=list(record.notes),
        tool_calls=list(record.tool_calls),
        children=list(record.children),
    )


def trace_of(events: Iterable[Event]) -> Trace:
    """The trace of the (top-level) run the events tell: its records in the order they
    ended, with the discards applied, and the result."""
    trace = Trace(agent="")
    ended: dict[str, FiringRecord] = {}
    for event in events:
        if isinstance(event, RunStarted) and not event.path:
            trace.agent, trace.inputs = event.agent, dict(event.inputs)
        elif isinstance(event, FiringEnded) and not event.path:
            record = snapshot(event.record)
            trace.firings.append(record)
            ended[record.key] = record
        elif isinstance(event, FiringDiscarded) and not event.path:
            record = ended[event.key]
            record.status = "discarded"
            record.notes.append(event.note)
        elif isinstance(event, RunEnded):
            trace.result, trace.returned_at = event.result, event.returned_at
    return trace


class RunEvents:
    """What one run (a nested agent's run has its own) tells `emit`. The executor calls
    it where records begin and end; calls.py hands it the text of replies."""

    # A partial value is parsed again once this many more characters arrived (or a
    # quarter more): the parse reads the whole prefix, so parsing at every piece would
    # cost the square of the reply's length.
    REPARSE_CHARS = 16
    PARTIAL_LIMIT = 256_000  # past this many characters, no more partial values

    def __init__(self, emit: EventSink, agent: str, depth: int, path: tuple[str, ...]):
        self.emit, self.agent, self.depth, self.path = emit, agent, depth, path
        self.replies: dict[tuple[str, int, int], _PartialReply] = {}

    def nested(self, agent: str, key: str) -> RunEvents:
        """The events of an agent run by the firing `key` of this run."""
        return RunEvents(self.emit, agent, self.depth + 1, (*self.path, key))

    def run_started(self, inputs: Mapping[str, Any]) -> None:
        self.emit(RunStarted(self.agent, self.depth, self.path, dict(inputs)))

    def firing_started(self, record: FiringRecord) -> None:
        self.emit(
            FiringStarted(
                self.agent,
                self.depth,
                self.path,
                record.node,
                record.time,
                record.key,
                dict(record.inputs),
            )
        )

    def firing_ended(self, record: FiringRecord) -> None:
        for identity in [i for i in self.replies if i[0] == record.key]:
            del self.replies[identity]
        self.emit(FiringEnded(self.agent, self.depth, self.path, snapshot(record)))

    def firing_discarded(self, record: FiringRecord, note: str) -> None:
        self.emit(
            FiringDiscarded(
                self.agent, self.depth, self.path, record.node, record.time, record.key, note
            )
        )

    def text(self, request: ModelRequest, attempt: int, piece: str) -> None:
        where = (self.agent, self.depth, self.path, request.node, request.firing)
        self.emit(Tokens(*where, request.replica, request.call, attempt, piece))
        shape = request.schema.get("type")
        if shape not in ("object", "array"):
            return
        identity = (request.firing, request.replica, request.call)
        reply = self.replies.get(identity)
        if reply is None or reply.attempt != attempt:  # a retry starts the text again
            reply = self.replies[identity] = _PartialReply(attempt)
        value = reply.add(piece, dict if shape == "object" else list)
        if value is not None:
            self.emit(Partial(*where, request.replica, request.call, attempt, value))


class _PartialReply:
    """The text of one reply so far, and the last value parsed from it."""

    def __init__(self, attempt: int):
        self.attempt = attempt
        self.pieces: list[str] = []
        self.length = 0
        self.parsed_at = 0  # the length when it was last parsed
        self.value: Any = None

    def add(self, piece: str, shape: type) -> Any:
        """A new partial value when this piece makes one worth telling, else None."""
        self.pieces.append(piece)
        self.length += len(piece)
        if self.length > RunEvents.PARTIAL_LIMIT:
            return None
        if self.length - self.parsed_at < max(RunEvents.REPARSE_CHARS, self.parsed_at // 4):
            return None
        self.parsed_at = self.length
        value = _parse_prefix("".join(self.pieces))
        if not isinstance(value, shape) or not value or value == self.value:
            return None
        self.value = value
        return value


def _parse_prefix(text: str) -> Any:
    """The JSON value a prefix of a reply begins, its open strings and brackets closed
    (json_repair); None when it begins none."""
    import json_repair

    try:
        return json_repair.loads(text)
    except Exception:  # a prefix it cannot mend: there is no partial value yet
        return None
