"""Every run of an agent, abstractly: stalls and temporal constraints, checked statically.

`runs(ir)` follows the execution semantics of DESIGN §3 in logical time, with every
guard outcome and every output condition a formula mentions taken as a free choice
(loop bounds respected), and yields each possible run: its trace, the choices that led
to it, and how it ended (returned, or stalled). `explore_agent` uses them to

- prove each `ensure` / `enforce` constraint (it holds on the trace of every returning
  run) or show a counterexample trace in source terms (W0501 / W0505);
- find a run that stalls, and say what each waiting node waits for (W0406).

Exploration is bounded (`MAX_RUNS`, `MAX_FIRINGS`); past the bound a constraint is
reported as not proven (W0504), never as proven.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product

from . import ast, codes
from .diagnostics import Diagnostic, Severity
from .ir import RETURN, AgentIR, IREdge
from .ltl import evaluate, proposition
from .printer import to_source

MAX_RUNS = 5_000
MAX_FIRINGS = 200_000


@dataclass(frozen=True)
class Firing:
    node: str  # a node name, or RETURN
    time: int


@dataclass
class Run:
    trace: list[frozenset[str]]
    story: list[str]  # one line per step, in source terms
    returned: bool
    waiting: list[str] = field(default_factory=list)


@dataclass
class _State:
    time: int = 0
    pending: dict[int, list[str]] = field(default_factory=dict)
    queues: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    taken: dict[int, int] = field(default_factory=dict)
    trace: list[frozenset[str]] = field(default_factory=list)
    story: list[str] = field(default_factory=list)

    def copy(self) -> _State:
        return _State(
            self.time,
            {t: list(ns) for t, ns in self.pending.items()},
            {n: {d: list(q) for d, q in qs.items()} for n, qs in self.queues.items()},
            dict(self.taken),
            list(self.trace),
            list(self.story),
        )

    def schedule(self, node: str, time: int) -> None:
        self.pending.setdefault(time, []).append(node)


class _Explorer:
    def __init__(self, ir: AgentIR, conditions: dict[str, tuple[str, ...]]):
        self.ir = ir
        self.conditions = conditions  # proposition → the nodes it reads
        self.firings = 0
        self.runs = 0
        self.exhausted = False
        self.out: dict[str, list[IREdge]] = {name: [] for name in ir.nodes}
        for edge in ir.edges:
            if edge.kind != "data" and edge.source in self.out:
                self.out[edge.source].append(edge)
        self.return_deps = [tuple(r.deps) for r in ir.returns_]
        self.dependents: dict[str, list[str]] = {name: [] for name in ir.nodes}
        for name, node in ir.nodes.items():
            for dep in node.deps:
                self.dependents[dep].append(name)
        self.return_of_dep: dict[str, list[int]] = {name: [] for name in ir.nodes}
        for index, deps in enumerate(self.return_deps):
            for dep in deps:
                self.return_of_dep[dep].append(index)

    def initial(self) -> _State:
        state = _State()
        for name in sorted(self.ir.nodes):
            state.queues[name] = {d: [] for d in self.ir.nodes[name].deps}
        for index, deps in enumerate(self.return_deps):
            state.queues[f"{RETURN}{index}"] = {d: [] for d in deps}
            if not deps:
                state.schedule(RETURN, 1)
        for name, node in self.ir.nodes.items():
            if node.entry:
                state.schedule(name, 1)
        return state

    def runs_from(self, state: _State) -> Iterator[Run]:
        if self.runs >= MAX_RUNS or self.firings >= MAX_FIRINGS:
            self.exhausted = True
            return
        if not state.pending:
            self.runs += 1
            yield Run(state.trace, state.story, False, self.waiting(state))
            return
        time = min(state.pending)
        scheduled = state.pending.pop(time)
        state.time = time
        if RETURN in scheduled:
            state.trace.append(frozenset({"return"}))
            state.story.append(f"step {len(state.trace)}: return")
            self.runs += 1
            yield Run(state.trace, state.story, True)
            return
        yield from self.fire_all(state, sorted(scheduled), 0, set(), [])

    def fire_all(
        self, state: _State, scheduled: list[str], index: int, props: set[str], notes: list[str]
    ) -> Iterator[Run]:
        """Fire the firings of one logical time one by one, branching on each's choices."""
        if index == len(scheduled):
            state.trace.append(frozenset(props))
            fired = ", ".join(dict.fromkeys(scheduled))
            state.story.append(
                f"step {len(state.trace)}: {fired}" + (f"  ({'; '.join(notes)})" if notes else "")
            )
            yield from self.runs_from(state)
            return
        node = scheduled[index]
        self.firings += 1
        for outcome in self.outcomes(state, node):
            branch = state.copy()
            new_props = set(props) | {node} | outcome.props
            self.apply(branch, node, outcome)
            yield from self.fire_all(branch, scheduled, index + 1, new_props, notes + outcome.notes)
            if self.exhausted:
                return

    def outcomes(self, state: _State, node: str) -> Iterator[_Outcome]:
        edges = self.out[node]
        live = [e for e in edges if e.max is None or state.taken.get(e.index, 0) < e.max]
        when = [e for e in live if e.condition == "when"]
        error_edges = [e for e in edges if e.condition == "error"]
        for taken_when in product((False, True), repeat=len(when)):
            chosen = [e for e, t in zip(when, taken_when, strict=True) if t]
            base = [e for e in live if e.condition == "always"]
            if not chosen:
                base += [e for e in live if e.condition == "else"]
            guards = {_guard_key(e): t for e, t in zip(when, taken_when, strict=True)}
            for props, notes in self.condition_choices(node, guards):
                edge_notes = [
                    f"{node} -> {_target(e)} {e.label()}: {'taken' if e in chosen else 'not taken'}"
                    for e in when
                ]
                yield _Outcome(False, chosen + base, props, notes + edge_notes)
        if error_edges:
            live_errors = [
                e for e in error_edges if e.max is None or state.taken.get(e.index, 0) < e.max
            ]
            yield _Outcome(True, live_errors, frozenset(), [f"{node} fails"])

    def condition_choices(
        self, node: str, guards: dict[tuple[str, bool] | None, bool]
    ) -> Iterator[tuple[frozenset[str], list[str]]]:
        free: list[str] = []
        fixed: set[str] = set()
        for prop, nodes in self.conditions.items():
            if node not in nodes:
                continue
            linked = [
                (key, taken) for key, taken in guards.items() if key is not None and key[0] == prop
            ]
            if linked:
                (_, negated), taken = linked[0]
                if taken != negated:
                    fixed.add(prop)
            else:
                free.append(prop)
        for values in product((False, True), repeat=len(free)):
            props = fixed | {p for p, v in zip(free, values, strict=True) if v}
            notes = [
                f"{p.removeprefix('cond:')} is {'true' if v else 'false'}"
                for p, v in zip(free, values, strict=True)
            ]
            yield frozenset(props), notes

    def apply(self, state: _State, node: str, outcome: _Outcome) -> None:
        time = state.time
        for edge in outcome.edges:
            state.taken[edge.index] = state.taken.get(edge.index, 0) + 1
            state.schedule(RETURN if edge.kind == "return" else edge.target, time + 1)
        if outcome.failed:
            return
        for dependent in self.dependents[node]:
            self.deliver(state, dependent, node, time)
        for index in self.return_of_dep[node]:
            self.deliver(state, f"{RETURN}{index}", node, time)

    def deliver(self, state: _State, consumer: str, producer: str, time: int) -> None:
        queues = state.queues[consumer]
        queues[producer].append(time)
        while all(queues.values()):
            heads = [q.pop(0) for q in queues.values()]
            target = RETURN if consumer.startswith(RETURN) else consumer
            state.schedule(target, max(time + 1, 1 + max(heads)))

    def waiting(self, state: _State) -> list[str]:
        """Why nothing can fire: from the returns, what each waits for, down the chain."""
        fired = set().union(*state.trace) if state.trace else set()
        lines: list[str] = []
        todo = [(f"{RETURN}{i}", "the return") for i in range(len(self.return_deps))]
        seen: set[str] = set()
        while todo:
            consumer, label = todo.pop(0)
            if consumer in seen:
                continue
            seen.add(consumer)
            queues = state.queues.get(consumer, {})
            missing = [d for d, q in queues.items() if not q]
            if missing:
                lines.append(f"{label} waits for {', '.join(f'`{d}`' for d in missing)}")
                todo += [(d, f"`{d}`") for d in missing if d not in fired]
            elif consumer in self.ir.nodes and consumer not in fired:
                edges = [e for e in self.ir.edges if e.kind == "control" and e.target == consumer]
                if edges:
                    taken = " or ".join(
                        f"`{e.source} -> {consumer} {e.label()}`".replace(" `", "`") for e in edges
                    )
                    lines.append(f"`{consumer}` fires only through {taken}, not taken in this run")
        return lines


@dataclass(frozen=True)
class _Outcome:
    failed: bool
    edges: list[IREdge]
    props: frozenset[str]
    notes: list[str]


def _target(edge: IREdge) -> str:
    return "return" if edge.kind == "return" else edge.target


def _guard_key(edge: IREdge) -> tuple[str, bool] | None:
    """The proposition a guard decides, and whether the guard negates it."""
    guard = edge.guard
    negated = False
    if isinstance(guard, ast.Not):
        guard, negated = guard.operand, True
    if isinstance(guard, ast.Ref | ast.Compare | ast.Call):
        return "cond:" + to_source(guard), negated
    return None


def conditions_of(ir: AgentIR) -> dict[str, tuple[str, ...]]:
    """The output conditions the constraints mention, and the nodes each reads."""
    found: dict[str, tuple[str, ...]] = {}
    for constraint in ir.constraints:
        for atom in constraint.formula.walk():
            if isinstance(atom, ast.LtlHolds):
                heads = tuple(
                    dict.fromkeys(r.head for r in atom.expr.find_all(ast.Ref) if r.head in ir.nodes)
                )
                found[proposition(atom)] = heads
    return found


def runs(ir: AgentIR) -> tuple[list[Run], bool]:
    """Every run of the agent (up to the exploration bound), and whether all were seen."""
    explorer = _Explorer(ir, conditions_of(ir))
    found = list(explorer.runs_from(explorer.initial()))
    return found, not explorer.exhausted


def _never_fired(ir: AgentIR, fired: set[str], returned: bool) -> list[Diagnostic]:
    found = []
    for name, node in ir.nodes.items():
        if name not in fired:
            found.append(
                Diagnostic(
                    code=codes.UNREACHABLE_NODE,
                    severity=Severity.WARNING,
                    file=ir.filename,
                    span=node.span,
                    message=f"node `{name}` fires in no run",
                    label="never fires",
                    notes=("every run returns, or stalls, before it can fire",),
                    hints=("make the return wait for it, or remove it",),
                )
            )
    if not returned:
        found.append(
            Diagnostic(
                code=codes.NO_RETURN,
                severity=Severity.ERROR,
                file=ir.filename,
                span=ir.span,
                message=f"no run of agent `{ir.name}` reaches a return",
                label="in this agent",
            )
        )
    return found


@dataclass
class ConstraintResult:
    agent: str
    mode: str
    text: str
    status: str  # proven, violated, unknown
    runs: int
    counterexample: Run | None = None


def explore_agent(ir: AgentIR) -> tuple[list[Diagnostic], list[ConstraintResult]]:
    """Stall and constraint diagnostics for one agent, and each constraint's verdict."""
    explorer = _Explorer(ir, conditions_of(ir))
    counterexamples: dict[int, Run] = {}
    stall: Run | None = None
    count = 0
    fired: set[str] = set()
    returned = False
    for run in explorer.runs_from(explorer.initial()):
        count += 1
        fired.update(*run.trace)
        returned = returned or run.returned
        if not run.returned:
            stall = stall or run
            continue
        for index, constraint in enumerate(ir.constraints):
            if index not in counterexamples and not evaluate(constraint.formula, run.trace):
                counterexamples[index] = run
    complete = not explorer.exhausted
    diagnostics: list[Diagnostic] = []
    results: list[ConstraintResult] = []
    for index, constraint in enumerate(ir.constraints):
        run = counterexamples.get(index)
        if run is not None:
            status = "violated"
            code = (
                codes.CONSTRAINT_COUNTEREXAMPLE
                if constraint.mode == "ensure"
                else (codes.SHIELD_WILL_BLOCK)
            )
            diagnostics.append(
                Diagnostic(
                    code=code,
                    severity=Severity.WARNING,
                    file=ir.filename,
                    span=constraint.span,
                    message=f"`{constraint.mode} {constraint.text}` can be violated",
                    label="counterexample below",
                    notes=("a run that violates it:", *run.story),
                )
            )
        elif complete:
            status = "proven"
        else:
            status = "unknown"
            diagnostics.append(
                Diagnostic(
                    code=codes.CONSTRAINT_UNDECIDED,
                    severity=Severity.WARNING,
                    file=ir.filename,
                    span=constraint.span,
                    message=f"`{constraint.mode} {constraint.text}` not proven: the agent has more "
                    f"runs than the checker explores ({count} explored)",
                )
            )
        results.append(
            ConstraintResult(ir.name, constraint.mode, constraint.text, status, count, run)
        )
    if complete:
        diagnostics += _never_fired(ir, fired, returned)
    if stall is not None:
        diagnostics.append(
            Diagnostic(
                code=codes.POSSIBLE_STALL,
                severity=Severity.WARNING,
                file=ir.filename,
                span=ir.returns_[0].span if ir.returns_ else None,
                message=f"agent `{ir.name}` can stall: a run ends with nothing to fire "
                "and no return",
                notes=(
                    "a run that stalls:",
                    *stall.story,
                    *(
                        stall.waiting
                        or ["no node waits: every branch that was taken ended without a return"]
                    ),
                ),
            )
        )
    return diagnostics, results
