"""Human steps at run time: a firing asks a person, and the run pauses until the answer.

A human step's firing renders its prompt with its arguments and asks its `Desk` for the
answer — one question per replica. A desk answers at once (a stored answer, a
scripted one, one typed at the terminal), says the deadline passed (the firing fails:
`on error` routes it), or has no answer yet: then the firing is *parked*. The other
branches go on; when nothing is left in the whole run but parked firings and firings
that wait for them, the run ends with `Paused`, its questions and completed firings
in the store. Resuming the run replays its completed firings (no model call is made
again), finds the answers given meanwhile, and goes on.

The executor calls in at five places: `ask` (a human node's call), `answers` (after a
human firing's calls: park while any question waits), `holding` (a firing that waits
for earlier firings), `check_paused` (after a run settles) and `register_child` (a
called agent's run, whose parked firings count for its caller).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from rolegraph.compiler.types import Type

from . import questions as book
from .errors import RunError
from .prompts import render_prompt
from .questions import AnswerError, Question, question_id
from .store import Store
from .values import coerce, schema

if TYPE_CHECKING:
    from rolegraph.compiler.ir import IRNode

    from .scheduler import AgentRun
    from .scheduler import Inflight as _Inflight
    from .trace import FiringRecord


class _Pending:
    """What a question without an answer yet gives: the firing parks."""

    def __repr__(self) -> str:
        return "PENDING"


PENDING: Any = _Pending()


class DeadlineMissed(Exception):
    """No answer came by a human step's deadline: its firing fails."""

    def __init__(self, question: Question):
        self.question = question
        super().__init__(
            f"nobody answered question {question.id} (`{question.step}`) by its deadline"
        )


class Paused(RunError):
    """The run waits for answers from people: `questions` are pending. With a store, its
    state is there and it continues when resumed (`run_id`); without one it cannot."""

    def __init__(self, questions: list[Question], trace: Any = None, run_id: str | None = None):
        self.questions = questions
        self.run_id = run_id
        lines = "\n".join(f"  - {q.id} (`{q.step}`): {_one_line(q.text)}" for q in questions)
        super().__init__(f"the run waits for {_answers(len(questions))}:\n{lines}", trace)


def _answers(count: int) -> str:
    return "an answer" if count == 1 else f"{count} answers"


def _one_line(text: str, width: int = 100) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


# -- desks: where answers come from --------------------------------------------------------------


class Desk:
    """Where a run's human steps get their answers. This one has none: every question
    waits, and the run pauses (without a store it cannot be resumed: see `StoreDesk`)."""

    run_id = ""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.waiting: dict[str, Question] = {}  # the questions parked in this process
        self.asked_by: dict[str, tuple[tuple[str, ...], str]] = {}  # id → (path, firing key)
        self.parked = 0  # firings parked now, in every run (nested ones too)
        self.confirming = False  # a pause is being confirmed (`check_paused`)

    async def answer(self, question: Question, answer_type: Type) -> Any:
        """The answer, or PENDING (after `wait`); raises `DeadlineMissed`."""
        asked = self.waiting.get(question.id, question)  # (its deadline counts from then)
        if asked.expired(self.clock()):
            raise DeadlineMissed(asked)
        return self.wait(asked)

    def wait(self, question: Question) -> Any:
        """A question with no answer yet: it waits (as asked, or as stored before)."""
        self.waiting[question.id] = question
        return PENDING

    def withdraw(self, questions: list[Question]) -> None:
        """Questions of a firing that was cancelled (a return came first): not asked."""
        for question in questions:
            self.waiting.pop(question.id, None)


class StoreDesk(Desk):
    """Answers given to the run's questions in its store (`questions.answer`); a question
    without one is written there, at once, for whoever answers it."""

    def __init__(self, store: Store, run_id: str, clock: Callable[[], float] = time.time):
        super().__init__(clock)
        self.store, self.run_id = store, run_id

    async def answer(self, question: Question, answer_type: Type) -> Any:
        found = book.record(self.store, question, answer_type)
        if not found.pending:
            return found.answer
        if found.expired(self.clock()):
            raise DeadlineMissed(found)
        return self.wait(found)

    def withdraw(self, questions: list[Question]) -> None:
        super().withdraw(questions)
        for question in questions:
            self.store._execute(
                "DELETE FROM questions WHERE run = ? AND id = ? AND answered IS NULL",
                (self.run_id, question.id),
                "withdrawing a question",
            )


class ScriptedDesk(Desk):
    """Answers scripted per human step (by its name, qualified or not), given in order:
    what `mock Step [...]` in a `test` block, or `answers=` of a run, says. A step whose
    answers ran out asks `inner` (by default: nobody, and the run pauses)."""

    def __init__(self, script: dict[str, list[Any]], inner: Desk | None = None):
        inner = inner if inner is not None else Desk()
        super().__init__(inner.clock)
        self.script = {name: list(answers) for name, answers in script.items()}
        self.inner = inner
        self.run_id = inner.run_id

    async def answer(self, question: Question, answer_type: Type) -> Any:
        for name in (question.step, question.step.rsplit(".", 1)[-1]):
            answers = self.script.get(name)
            if answers:
                return answers.pop(0)
        found = await self.inner.answer(question, answer_type)
        if found is PENDING:
            return self.wait(self.inner.waiting.get(question.id, question))
        return found

    def withdraw(self, questions: list[Question]) -> None:
        super().withdraw(questions)
        self.inner.withdraw(questions)


class MockDesk(Desk):
    """Answers every question at once with a value of the step's type chosen by a hash
    of the question (its step and text), as the mock model replies: for dry runs of
    agents with human steps (`answers="mock"`)."""

    async def answer(self, question: Question, answer_type: Type) -> Any:
        return mock_answer(question.step, question.text, schema(answer_type))


def mock_answer(step: str, text: str, answer_schema: dict[str, Any]) -> Any:
    """The mock's answer to a question: the same wherever the same question is asked."""
    from .mock import generate

    seed = int.from_bytes(hashlib.sha256(f"{step}\n{text}".encode()).digest()[:8], "big")
    return generate(answer_schema, seed)


class TerminalDesk(StoreDesk):
    """A person at a terminal: a question without a stored answer is shown, and the
    answer typed (JSON, one line) is validated and stored like any answer — a bad one
    is refused with the reason, and asked again. An empty line or the end of input
    leaves the question pending: the run pauses. One question at a time."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        read_line: Callable[[], str | None],
        out: TextIO,
        clock: Callable[[], float] = time.time,
    ):
        super().__init__(store, run_id, clock)
        self.read_line, self.out = read_line, out
        self.lock = asyncio.Lock()

    async def answer(self, question: Question, answer_type: Type) -> Any:
        found = await super().answer(question, answer_type)
        if found is not PENDING:
            return found
        async with self.lock:
            stored = book.find(self.store, self.run_id, question.id)
            if stored is not None and not stored.pending:  # (answered while we waited)
                return stored.answer
            while True:
                self._show(question)
                line = await asyncio.to_thread(self.read_line)
                if line is None or not line.strip():
                    return self.wait(question)
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as error:
                    self.out.write(f"error: the answer is not JSON: {error}\n")
                    continue
                try:
                    return book.answer(self.store, self.run_id, question.id, value).answer
                except AnswerError as error:
                    self.out.write(error.render() + "\n")

    def _show(self, question: Question) -> None:
        self.out.write(f"\n? {question.step} ({question.id})\n{question.text}\n")
        if question.deadline is not None:
            left = max(0.0, question.deadline - self.clock())
            self.out.write(f"  (deadline in {left / 60:.0f} min)\n")
        self.out.write(
            f"answer as JSON, schema {json.dumps(question.schema)}\n"
            "(an empty line leaves it for later) > "
        )
        self.out.flush()


def desk_of(run: AgentRun) -> Desk:
    """The run's desk; a run given none has the one that never answers."""
    if run.context.human is None:
        run.context.human = Desk()
    desk: Desk = run.context.human
    return desk


# -- asking --------------------------------------------------------------------------------------


async def ask(
    run: AgentRun, node: IRNode, args: dict[str, Any], replica: int, record: FiringRecord
) -> Any:
    """One question of a human step's firing: its answer (validated against the step's
    type), or PENDING. Raises `DeadlineMissed` when its deadline passed unanswered."""
    desk = desk_of(run)
    template = node.prompt if node.prompt is not None else _default_prompt(node, args)
    text = render_prompt(template, args, node.callee)
    asked = desk.clock()
    question = Question(
        run=desk.run_id,
        id=question_id(node.name, run.path, record.key, replica),
        node=node.name,
        step=node.callee,
        text=text,
        schema=schema(node.result),
        asked=asked,
        deadline=asked + node.deadline if node.deadline is not None else None,
    )
    known = question.id in desk.waiting
    value = await desk.answer(question, node.result)
    if value is PENDING:
        desk.asked_by[question.id] = (run.path, record.key)
        if not known:
            question = desk.waiting.get(question.id, question)
            record.notes.append(f"asked question {question.id}")
            if run.events is not None:
                from .events import QuestionAsked  # (a run told as events: its module)

                events = run.events
                events.emit(
                    QuestionAsked(
                        events.agent,
                        events.depth,
                        events.path,
                        node.name,
                        record.key,
                        question.id,
                        question.step,
                        question.text,
                        question.schema,
                        question.deadline,
                    )
                )
        return PENDING
    desk.waiting.pop(question.id, None)
    return coerce(node.result, value)


def _default_prompt(node: IRNode, args: dict[str, Any]) -> str:
    lines = [f"{node.callee}: give a `{node.output_type}`."]
    lines += [f"{name}: {{{{ {name} }}}}" for name in args]
    return "\n".join(lines)


def _waiting(output: Any) -> bool:
    if output is PENDING:
        return True
    return isinstance(output, list) and any(item is PENDING for item in output)


async def answers(
    run: AgentRun,
    flight: _Inflight,
    node: IRNode,
    args: dict[str, Any],
    env: Any,
    record: FiringRecord,
    output: Any,
) -> Any:
    """A human firing's output once every question it asked has its answer: while one
    waits, the firing is parked (until its earliest deadline, when it asks again, or
    until the run pauses and cancels it)."""
    desk = desk_of(run)
    while _waiting(output):
        firing = (run.path, record.key)
        mine = [q for q in desk.waiting.values() if desk.asked_by.get(q.id) == firing]
        deadlines = [q.deadline for q in mine if q.deadline is not None]
        flight.parked = True
        desk.parked += 1
        try:
            check_paused(run)
            if deadlines:
                await asyncio.sleep(max(0.0, min(deadlines) - desk.clock()))
            else:
                await asyncio.Event().wait()  # (only the end of the run wakes it)
        except asyncio.CancelledError:
            desk.parked -= 1
            root = root_of(run)
            if not isinstance(root.failure, Paused) and not root.interrupted:
                # a return came first: the question is withdrawn (not when the run pauses,
                # or is cancelled from outside: it may be resumed, and asks again)
                flight.parked = False
                desk.withdraw(mine)
            raise
        desk.parked -= 1
        flight.parked = False
        output = await run.call(node, args, env, record)
        late = [q for q in mine if q.expired(desk.clock()) and q.id in desk.waiting]
        if _waiting(output) and late:  # (a desk that keeps no deadlines: the step fails)
            raise DeadlineMissed(late[0])
    return output


# -- pausing -------------------------------------------------------------------------------------


def root_of(run: AgentRun) -> AgentRun:
    while run.parent is not None:
        run = run.parent
    return run


def check_paused(run: AgentRun) -> None:
    """End the whole run with `Paused` when all that is left of it waits for answers:
    each firing in flight is parked, waits for earlier firings that all do, or runs an
    agent whose run is in that state."""
    desk = run.context.human
    if desk is None or not desk.parked or desk.confirming:
        return
    root = root_of(run)
    if root.finished.is_set() or not _blocked(root):
        return
    # Confirmed after the loop has run what is ready: a task just created (a replica of
    # a called agent) has not yet registered its run, and would look blocked.
    desk.confirming = True
    asyncio.get_running_loop().call_soon(_confirm, root, desk, CONFIRMATIONS)


CONFIRMATIONS = 3  # loop iterations the run must stay blocked before it pauses


def _confirm(root: AgentRun, desk: Desk, left: int) -> None:
    if root.finished.is_set() or not desk.parked or not _blocked(root):
        desk.confirming = False
        return
    if left > 1:
        asyncio.get_running_loop().call_soon(_confirm, root, desk, left - 1)
        return
    desk.confirming = False
    waiting = sorted(desk.waiting.values(), key=lambda q: (q.asked, q.id))
    root.fail(Paused(waiting, root.trace, desk.run_id or None))


def _blocked(run: AgentRun) -> bool:
    if run.finished.is_set() or not run.inflight:
        return False
    tasks = {flight.task: flight for flight in run.inflight.values()}
    return all(_flight_blocked(run, flight, tasks) for flight in run.inflight.values())


def _flight_blocked(run: AgentRun, flight: _Inflight, tasks: dict[Any, _Inflight]) -> bool:
    if flight.parked:
        return True
    awaited = run.held.get(flight.task)
    if awaited is not None:  # waits for earlier firings: blocked if they all are
        return all(task in tasks and _flight_blocked(run, tasks[task], tasks) for task in awaited)
    children = run.children.get(flight.label)  # (one per replica or item)
    if not children:
        return False
    going = [child for child in children if not child.finished.is_set()]
    return bool(going) and all(_blocked(child) for child in going)


@contextlib.contextmanager
def holding(run: AgentRun, awaited: list[asyncio.Task]) -> Iterator[None]:
    """While the current firing waits for `awaited` (earlier firings in flight)."""
    me = asyncio.current_task()
    run.held[me] = awaited
    try:
        check_paused(run)
        yield
    finally:
        run.held.pop(me, None)


@contextlib.contextmanager
def register_child(run: AgentRun, child: AgentRun, key: str, replica: int) -> Iterator[None]:
    """While the firing `key` runs the agent `child` (for its replica or map item)."""
    child.parent, child.path = run, (*run.path, f"{key}/{replica}")
    children = run.children.setdefault(key, [])
    children.append(child)
    try:
        yield
    finally:
        children.remove(child)
        if not children:
            run.children.pop(key, None)
