"""The questions human steps ask, kept in the run's store: what a paused run waits for.

A human step's firing asks one question per replica (`x N`, or per map item). Each
question has an id that is the same in every process that runs (or resumes) the run:
the node's name and a digest of the firing's key, its replica and, for a step inside a
called agent, the keys of the firings that enclose it. So a question asked before a
pause is found again on resume, with its answer.

    for question in pending(store):                    # every run's open questions
        print(question.run, question.id, question.text)
    answer(store, run_id, question.id, {"approved": True, "note": "ok"})

`answer` validates the value against the step's result type (stored with the question:
no `.agent` file is needed) and refuses, with an `AnswerError` carrying a diagnostic
code, an answer that does not fit, a question that is not pending, or one whose
deadline passed. A refused answer changes nothing: the run stays paused.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from rolegraph.compiler import codes
from rolegraph.compiler.types import (
    AnyType,
    DictT,
    EnumT,
    ListT,
    NoneType_,
    OptionalT,
    Prim,
    RecordT,
    Type,
)

from .errors import RunError
from .repair import explain
from .store import Store
from .values import coerce, schema


def ended(status: str) -> bool:
    """Whether a run with this status can take no more answers (it returned or failed)."""
    return status == "returned" or status.startswith("failed")


@dataclass(frozen=True)
class Question:
    """A question a human step asked: `text` is its prompt rendered with the firing's
    arguments, `schema` the JSON schema of the answer, `deadline` the wall-clock time
    (seconds since the epoch) after which the step fails, or None."""

    run: str  # the run's id ("" for a run without a store)
    id: str
    node: str
    step: str  # the `human` declaration
    text: str
    schema: dict[str, Any]
    asked: float
    deadline: float | None = None
    answer: Any = None
    answered: float | None = None

    @property
    def pending(self) -> bool:
        return self.answered is None

    def expired(self, now: float) -> bool:
        return self.pending and self.deadline is not None and now >= self.deadline

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class AnswerError(RunError):
    """An answer refused: `code` is its diagnostic code (E0421 it does not fit, E0422 no
    such pending question, E0423 the deadline passed). The run is unchanged."""

    def __init__(
        self, code: str, message: str, hints: tuple[str, ...] = (), *, waiting: bool = True
    ):
        self.code, self.hints, self.waiting = code, hints, waiting
        super().__init__(message)

    def render(self) -> str:
        """The error as the CLI prints it, in the style of the compiler's diagnostics."""
        lines = [f"error[{self.code}]: {self}"]
        lines += [f"  = help: {hint}" for hint in self.hints]
        if self.waiting:
            lines.append("  = note: the run is unchanged: it still waits for its answers")
        return "\n".join(lines)


def question_id(node: str, path: tuple[str, ...], key: str, replica: int) -> str:
    """The id of a firing's question: the same in every process that runs the run."""
    digest = hashlib.blake2b(repr((path, key, replica)).encode(), digest_size=4).hexdigest()
    return f"{node}-{digest}"


# -- the store ---------------------------------------------------------------------------------

_COLUMNS = "run, id, node, step, text, type, asked, deadline, answer, answered"


def record(store: Store, question: Question, answer_type: Type) -> Question:
    """Write a question (committed at once: a kill keeps it). A question asked before
    keeps its first asking time, which its deadline counts from; returns it as stored."""
    store._execute(
        f"INSERT OR IGNORE INTO questions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        (
            question.run,
            question.id,
            question.node,
            question.step,
            question.text,
            json.dumps(type_to_json(answer_type)),
            question.asked,
            question.deadline,
        ),
        "recording a question",
    )
    found = find(store, question.run, question.id)
    assert found is not None
    return found


def find(store: Store, run: str, question: str) -> Question | None:
    rows = store._execute(
        f"SELECT {_COLUMNS} FROM questions WHERE run = ? AND id = ?",
        (run, question),
        "reading a question",
    )
    return _question(store, rows[0]) if rows else None


def questions(store: Store, run: str) -> list[Question]:
    """Every question of a run, answered or not, in the order they were asked."""
    rows = store._execute(
        f"SELECT {_COLUMNS} FROM questions WHERE run = ? ORDER BY asked, rowid",
        (run,),
        "reading the questions of a run",
    )
    return [_question(store, row) for row in rows]


def pending(store: Store, run: str | None = None) -> list[Question]:
    """The questions waiting for an answer: of one run, or of every run of the store that
    has not returned, oldest first."""
    where = (
        "q.answered IS NULL AND (r.status IS NULL OR "
        "(r.status != 'returned' AND r.status NOT LIKE 'failed%'))"
    )
    args: tuple[Any, ...] = ()
    if run is not None:
        where += " AND q.run = ?"
        args += (run,)
    rows = store._execute(
        f"SELECT {', '.join('q.' + c.strip() for c in _COLUMNS.split(','))} FROM questions q "
        f"LEFT JOIN runs r ON r.id = q.run WHERE {where} ORDER BY q.asked, q.rowid",
        args,
        "reading the pending questions",
    )
    return [_question(store, row) for row in rows]


def runs(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """The latest runs of a store (id, file, agent, status, created, updated), newest
    first, with the number of questions each waits for."""
    rows = store._execute(
        "SELECT r.id, r.file, r.agent, r.status, r.created, r.updated, "
        "(SELECT COUNT(*) FROM questions q WHERE q.run = r.id AND q.answered IS NULL) "
        "FROM runs r ORDER BY r.created DESC, r.rowid DESC LIMIT ?",
        (limit,),
        "listing the runs",
    )
    keys = ("id", "file", "agent", "status", "created", "updated", "waiting")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def answer(
    store: Store, run: str, question: str | None, value: Any, *, now: float | None = None
) -> Question:
    """Answer a pending question of `run` with `value` (plain JSON data). `question` may
    be None when the run waits for exactly one. Validated against the step's result
    type; raises `AnswerError` (and changes nothing) when refused. Returns the question
    answered. The run goes on when it is resumed (`rolegraph resume`, `rolegraph.resume`,
    or `run_agent(..., store=store, resume=run)`)."""
    info = store.run_info(run)
    if info is None:
        raise AnswerError(codes.NO_SUCH_QUESTION, f"no run {run!r} in {store.path}", waiting=False)
    if ended(info.status):
        raise AnswerError(
            codes.NO_SUCH_QUESTION, f"run {run} has {info.status}: it asks nothing", waiting=False
        )
    open_ = pending(store, run)
    if question is None:
        if len(open_) != 1:
            ids = ", ".join(q.id for q in open_) or "none"
            raise AnswerError(
                codes.NO_SUCH_QUESTION,
                f"run {run} waits for {len(open_)} answers (pending: {ids}): say which one",
                ("name it: `--question ID` (`rolegraph runs --pending` lists them)",),
            )
        question = open_[0].id
    found = find(store, run, question)
    if found is None or not found.pending:
        ids = ", ".join(q.id for q in open_) or "none"
        what = "was answered already" if found is not None else "was never asked"
        raise AnswerError(
            codes.NO_SUCH_QUESTION,
            f"question {question!r} of run {run} {what}; pending: {ids}",
            ("`rolegraph runs --pending` lists the questions that wait",),
        )
    moment = time.time() if now is None else now
    if found.expired(moment):
        raise AnswerError(
            codes.DEADLINE_PASSED,
            f"the deadline of question {question!r} passed "
            f"{_ago(moment - (found.deadline or moment))} ago",
            (f"resume the run: its step `{found.node}` fails, and its `on error` edge routes it",),
        )
    answer_type = _answer_type(store, run, question)
    try:
        value = coerce(answer_type, value)
    except (ValidationError, ValueError, TypeError) as error:
        raise AnswerError(
            codes.BAD_ANSWER,
            f"the answer to {question!r} does not fit `{answer_type}`: {explain(error)}",
            (f"an answer is JSON like {_example(answer_type)}",),
        ) from None
    with store._lock, store._faults("saving an answer"), store._transaction():
        changed = store._db.execute(
            "UPDATE questions SET answer = ?, answered = ? "
            "WHERE run = ? AND id = ? AND answered IS NULL",
            (json.dumps(value), moment, run, question),
        ).rowcount
    if not changed:  # (another process answered it between the read and the write)
        raise AnswerError(codes.NO_SUCH_QUESTION, f"question {question!r} was answered already")
    answered = find(store, run, question)
    assert answered is not None
    return answered


def _question(store: Store, row: tuple) -> Question:
    run, id_, node, step, text, type_text, asked, deadline, answer_text, answered = row
    with store._faults("reading a question", "questions"):
        answer_type = type_from_json(json.loads(type_text))
        return Question(
            run,
            id_,
            node,
            step,
            text,
            schema(answer_type),
            float(asked),
            None if deadline is None else float(deadline),
            None if answer_text is None else json.loads(answer_text),
            None if answered is None else float(answered),
        )


def _answer_type(store: Store, run: str, question: str) -> Type:
    rows = store._execute(
        "SELECT type FROM questions WHERE run = ? AND id = ?", (run, question), "reading a question"
    )
    with store._faults("reading a question", "questions"):
        return type_from_json(json.loads(rows[0][0]))


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _example(t: Type) -> str:
    return json.dumps(_sample(t, 0))


def _sample(t: Type, depth: int) -> Any:
    if isinstance(t, Prim):
        return {"str": "...", "int": 1, "float": 1.0, "bool": True}[t.name]
    if isinstance(t, EnumT):
        return t.members[0] if t.members else "..."
    if isinstance(t, OptionalT):
        return _sample(t.inner, depth)
    if depth > 3:
        return None
    if isinstance(t, ListT):
        return [_sample(t.item, depth + 1)]
    if isinstance(t, DictT):
        return {"key": _sample(t.value, depth + 1)}
    if isinstance(t, RecordT):
        return {name: _sample(field, depth + 1) for name, field in t.fields.items()}
    return None


# -- types as JSON (a question's answer is validated without the `.agent` file) ---------------


def type_to_json(t: Type) -> dict[str, Any]:
    """A semantic type as JSON data: `{"type": ..., "records": {name: ...}}`, records
    written once by name (they may refer to each other)."""
    records: dict[str, Any] = {}

    def write(t: Type) -> Any:
        if isinstance(t, Prim):
            return {"prim": t.name}
        if isinstance(t, NoneType_):
            return {"none": True}
        if isinstance(t, ListT):
            return {"list": write(t.item)}
        if isinstance(t, DictT):
            return {"dict": write(t.value)}
        if isinstance(t, OptionalT):
            return {"optional": write(t.inner)}
        if isinstance(t, EnumT):
            return {"enum": t.name, "members": list(t.members)}
        if isinstance(t, RecordT):
            if t.name not in records:
                records[t.name] = None  # (a record that refers to itself)
                records[t.name] = {
                    "fields": {name: write(f) for name, f in t.fields.items()},
                    "descriptions": dict(t.descriptions),
                    "defaults": sorted(t.defaults),
                    "default_values": dict(t.default_values),
                }
            return {"record": t.name}
        return {"any": True}

    return {"type": write(t), "records": records}


def type_from_json(data: dict[str, Any]) -> Type:
    """The type `type_to_json` wrote."""
    written = data["records"]
    records: dict[str, RecordT] = {
        name: RecordT(
            name,
            descriptions=dict(spec["descriptions"]),
            defaults=frozenset(spec["defaults"]),
            default_values=dict(spec["default_values"]),
        )
        for name, spec in written.items()
    }

    def read(item: dict[str, Any]) -> Type:
        if "prim" in item:
            return Prim(item["prim"])
        if "none" in item:
            return NoneType_()
        if "list" in item:
            return ListT(read(item["list"]))
        if "dict" in item:
            return DictT(read(item["dict"]))
        if "optional" in item:
            return OptionalT(read(item["optional"]))
        if "enum" in item:
            return EnumT(item["enum"], tuple(item["members"]))
        if "record" in item:
            return records[item["record"]]
        return AnyType()

    for name, spec in written.items():
        records[name].fields.update({n: read(f) for n, f in spec["fields"].items()})
    return read(data["type"])
