"""Every run of an agent, abstractly: stalls and temporal constraints, checked statically.

The explorer follows the execution semantics of DESIGN §3 in logical time, with every
guard outcome, every failure that an `on error` edge handles, and every output
condition a formula mentions taken as a free choice (loop bounds respected). It walks
the *product* of that abstract machine with a progression monitor per constraint, and
remembers the states it has seen, so runs that reach the same situation are explored
once — at the beginning of a logical time, and between two firings of one
(`met_within`: k firings of a node at one time meet in about k + 1 places, not 2^k
orders). Two canonicalisations make states meet: times are relative to the current
step, and the counter of a loop edge whose source can never fire again is forgotten.

`explore_agent` reports, per agent:
- each `ensure` / `enforce` constraint proven (it holds on every returning run), or a
  counterexample trace in source terms (W0501 / W0505);
- a run that stalls, with what each waiting node waits for (W0406);
- nodes that fire in no run (W0404), and the absence of any returning run (E0407);
- what is certain is an error, what is possible a warning: a constraint that every
  returning run violates is E0506 (W0501 when some run satisfies it).

Exploration is bounded (`MAX_STATES` states, and `MAX_PLACES` places within a time; a
firing's outcomes are drawn one at a time); past a bound a constraint is reported as
not proven (W0504), never as proven — unless the errors-only search below proves that every
returning run violates it (E0506).

The editor's errors-only check (`errors_only`) explores only until what is certain is
decided, and skips what cannot change its answer: the search is not run at all when the
run it follows first returns with every `ensure` satisfied (`first_run_satisfies`), and
runs on which no open `ensure` can end satisfied are cut (`hopeless`, with the monitor's
over-approximation `Monitor.may_accept`). docs/semantics.md, "Errors-only exploration",
gives the argument that neither changes an answer; `prune=False` turns both off (the
tests' oracle, tests/test_explorer_pruning.py).

The search never recurses: each branching firing is a generator on an explicit stack,
and the firings between two branchings run in a loop. Its cost per state is that of the
state (what is pending, what waits, the live loop counters), not of the whole graph, so
a chain of n nodes is explored in time linear in n.

Longer than ~500 lines: one idea, the explorer, with the diagnostics it reports; the
rules it runs are compiler/semantics.py's, reachability compiler/reach.py's.
"""

from __future__ import annotations

import gc
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, compress, islice, product
from operator import is_, is_not

from . import ast, codes, semantics
from .dataflow import ref_heads
from .diagnostics import Diagnostic, DiagnosticSink
from .explorer_tables import Tables, tables_of
from .ir import GUARD, RETURN, AgentIR, ErrorRead, IREdge
from .ltl import Monitor, failed_proposition, proposition
from .printer import to_source
from .reach import ancestor_masks
from .source import Span
from .types import NONE, assignable

MAX_STATES = 20_000
# places remembered within logical times (`met_within`): a bound of its own, well above
# what an agent whose states fit `MAX_STATES` meets, so that merging changes the answer
# of no search that would end within the states' bound unmerged in reasonable time
MAX_PLACES = 5 * MAX_STATES


@dataclass
class Run:
    """A path of the exploration: its trace, and the same in words, step by step."""

    trace: list[frozenset[str]]
    story: list[str]
    returned: bool
    waiting: list[str] = field(default_factory=list)


@dataclass
class _State:
    time: int = 0
    pending: dict[int, list[str]] = field(default_factory=dict)
    # the queues of the consumers that hold an output (the others hold none): one queue
    # per dependency, and how many of those are not empty (a count: a join of many
    # nodes hears from each in turn, and need not look at every queue each time)
    queues: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    taken: dict[int, int] = field(default_factory=dict)  # bounded edges: times taken
    monitors: list[Monitor] = field(default_factory=list)
    # whose latest firing failed, of the nodes whose `x.error` is read (None: none is)
    failures: _Failures | None = None

    def copy(self) -> _State:
        return _State(
            self.time,
            {t: list(ns) for t, ns in self.pending.items()},
            {n: {d: list(q) for d, q in qs.items()} for n, qs in self.queues.items()},
            dict(self.filled),
            dict(self.taken),
            [m.copy() for m in self.monitors],
            None if self.failures is None else self.failures.copy(),
        )

    def schedule(self, node: str, time: int) -> None:
        self.pending.setdefault(time, []).append(node)


@dataclass
class _Failures:
    """Per node whose `x.error` must be a `str` somewhere (a bit each: `_Explorer.bits`),
    whether its latest firing failed: `latest` now, `before` at the beginning of this
    logical time (what a firing of this time reads: firings before its time), `fired`
    those fired so far in this time, `now` those this time fires (docs/semantics.md,
    "Reading `x.error`"). Only `latest` is part of a state's key: the others are set
    from it when a step begins."""

    latest: int = 0
    before: int = 0
    fired: int = 0
    now: int = 0

    def copy(self) -> _Failures:
        return _Failures(self.latest, self.before, self.fired, self.now)


class _Path:
    """The steps of a run so far, as a linked list: a branch extends its parent's path in
    constant time, and only a run that is reported is spelled out (`unwind`)."""

    __slots__ = ("length", "line", "parent", "step")

    def __init__(self, step: frozenset[str], line: str, parent: _Path | None):
        self.step, self.line, self.parent = step, line, parent
        self.length: int = 1 + (parent.length if parent is not None else 0)


def _length(path: _Path | None) -> int:
    return path.length if path is not None else 0


def _unwind(path: _Path | None) -> tuple[list[frozenset[str]], list[str]]:
    """The trace and the story of a path, first step first."""
    steps: list[_Path] = []
    while path is not None:
        steps.append(path)
        path = path.parent
    steps.reverse()
    return [p.step for p in steps], [p.line for p in steps]


@dataclass(frozen=True)
class _Outcome:
    failed: bool
    edges: list[IREdge]
    props: frozenset[str]
    notes: list[str]


_PLAIN = _Outcome(False, [], frozenset(), [])  # a firing that takes no edge and sets nothing


class _Explorer:
    # merge the runs that meet within a logical time (`met_within`); off, every order of
    # a time's outcomes is followed: the same answers (the tests' oracle)
    merge = True

    def __init__(
        self,
        ir: AgentIR,
        *,
        until_return: bool = False,
        until_certain: bool = False,
        prune: bool = True,
    ):
        self.ir = ir
        self.until_return = until_return  # stop at the first returning run
        # stop once a run returns and every `ensure` holds on some returning run: what is
        # certain (no run returns, every run violates an `ensure`) is then decided
        self.until_certain = until_certain
        self.prune = prune and until_certain  # cut hopeless runs (`hopeless`)
        self.ensures = {i for i, c in enumerate(ir.constraints) if c.mode == "ensure"}
        # the conditions formulas mention only matter to the monitors, which a search for
        # one returning run does without
        self.conditions = {} if until_return else _conditions(ir)
        self.conditioned = {node for nodes in self.conditions.values() for node in nodes}
        self.visited: set[tuple] = set()
        self.within: set[tuple] = set()  # the places met within a logical time (`met_within`)
        self.exhausted = False
        self.fired: set[str] = set()
        self.returned = False
        self.stall: Run | None = None
        self.counterexamples: dict[int, Run] = {}
        self.satisfied: set[int] = set()  # constraints some returning run satisfies
        # the graph's tables, derived from the last agent's (compiler/explorer_tables.py)
        graph = self.graph = tables_of(ir)
        self.out, self.dependents, self.deps_of = graph.out, graph.dependents, graph.deps_of
        self.return_deps, self.return_of_dep = graph.return_deps, graph.return_of_dep
        self.delivers = graph.delivers
        self.notes_of: dict[tuple[int, bool], str] = {}  # a guard's outcome, in words
        # the run the first run resumed, and its nodes that read otherwise here (`resumed`)
        self.resumed_from: _Followed | None = None
        self.differs: set[str] | None = None
        self.error_reads()

    def error_reads(self) -> None:
        """The `x.error` reads whose value must be a `str` (`ErrorRead`: not where none is
        defined, compared or a built-in's argument taking none, and not passed as it is
        to a parameter, port or return type that admits none), and a bit per node they
        read (`_Failures`). For most agents: none, and nothing more to do at any firing."""
        ir, graph = self.ir, self.graph
        nodes = ir.nodes
        self.bits: dict[str, int] = {}
        self.arg_reads: dict[str, list[ErrorRead]] = {}
        self.edge_reads: dict[int, list[ErrorRead]] = {}
        self.guard_reads: dict[str, list[ErrorRead]] = {}
        self.demands: list[ErrorRead] = []
        self.unproven: dict[Span, ErrorRead] = {}  # those some run reads with x not failed
        returns = [r for r in ir.returns_ if r.error_reads]
        if not (graph.reading or graph.reading_edges or returns):
            return
        returns_none = assignable(NONE, ir.return_type) if ir.return_type is not None else False
        reading = graph.reading
        for name in [name for name in nodes if name in reading]:  # (in the IR's order:
            node = nodes[name]  # a set's would follow the process's hash seed)
            found = [
                read
                for read in node.error_reads
                if read.node in nodes and (read.via is None or read.via not in node.none_params)
            ]
            if found:
                self.arg_reads[name] = found
                self.demands += found
        for edge in graph.reading_edges:
            target = nodes.get(edge.target)
            admits = target.none_params if target is not None else frozenset()
            for read in edge.error_reads:
                if read.node not in nodes:
                    continue
                if read.via == GUARD:
                    self.guard_reads.setdefault(edge.source, []).append(read)
                elif read.via is None or not (
                    returns_none if read.via == RETURN else read.via in admits
                ):
                    self.edge_reads.setdefault(edge.index, []).append(read)
                else:
                    continue
                self.demands.append(read)
        for ret in returns:
            for read in ret.error_reads:
                # a return statement reads the outputs it joins and the parameters only:
                # no failure, ever (runtime/scheduler.py `join`)
                if read.node in nodes and not (read.via == RETURN and returns_none):
                    self.demands.append(read)
                    self.unproven.setdefault(read.span, read)
        watched = dict.fromkeys(read.node for read in self.demands)
        self.bits = {name: 1 << i for i, name in enumerate(watched)}
        if self.bits:
            # (its firings check those reads: `_ReadingExplorer`; any other agent's
            # explorer runs as before, with no test per firing or state)
            self.__class__ = _ReadingExplorer

    def reachability(self) -> None:
        """What the search asks of the graph in every state, as bitsets (`explore` sets
        it up; following one run needs none of it)."""
        ir = self.ir
        # successors in the full graph (data, control and loop edges): who can fire after
        self.successors: dict[str, set[str]] = {name: set() for name in ir.nodes}
        for edge in ir.edges:
            if edge.source in self.successors and edge.target in ir.nodes:
                self.successors[edge.source].add(edge.target)
        # a loop edge's counter lives while some node that leads to its source can fire:
        # each node's bit, and per bounded edge the bits of the nodes that lead to its source
        counted = [e for edges in self.out.values() for e in edges if e.max is not None]
        # an errors-only search cuts a run on which no open `ensure` can hold any more: per
        # `ensure`, each proposition it reads and the nodes whose firing can make it hold
        atoms = {i: self.atom_nodes(ir.constraints[i]) for i in self.ensures} if self.prune else {}
        atom_nodes = [n for found in atoms.values() for ns in found.values() for n in ns]
        targets = [e.source for e in counted] + atom_nodes
        self.bit, leads_to = ancestor_masks(self.successors, targets)
        self.leads_to_source = {e.index: leads_to[e.source] for e in counted}
        self.leads_to_atom = {
            i: [(p, _union(leads_to[n] for n in ns)) for p, ns in found.items()]
            for i, found in atoms.items()
        }

    # -- the search --------------------------------------------------------------------------

    def explore(self) -> None:
        """Every run, depth first, without recursion: the generator on top of the stack
        follows one run and hands over a generator for each branch it meets."""
        self.reachability()
        stack: list[Iterator[Iterator]] = [self.runs(self.start(), None)]
        while stack:
            branch = next(stack[-1], None)
            if branch is None:
                stack.pop()
            else:
                stack.append(branch)

    def start(self) -> _State:
        monitors = [] if self.until_return else [Monitor(c.formula) for c in self.ir.constraints]
        state = _State(monitors=monitors, failures=_Failures() if self.bits else None)
        for deps in self.return_deps:
            if not deps:
                state.schedule(RETURN, 1)
        for name, node in self.ir.nodes.items():
            if node.entry:
                state.schedule(name, 1)
        return state

    def first_run_returns(self) -> bool:
        """Whether the run the search follows first returns: each firing takes its first
        outcome (every guard false, so `else` edges; no failure). A quick proof that some
        run returns, without remembering states; runs are finite (every cycle is bounded),
        and a run longer than `MAX_STATES` steps counts as not proven."""
        state = self.start()
        for _ in range(MAX_STATES):
            if not state.pending:
                return False
            state.time, scheduled, returned = semantics.next_step(state.pending, RETURN)
            if returned:
                return True
            for node in scheduled:
                self.apply(state, node, self.first_outcome(state, node))
        return False

    def first_run_satisfies(self, resume: bool = True) -> bool:
        """Whether the run the search follows first (each firing's first outcome) returns
        with every `ensure` satisfied: then an errors-only search, which follows it first
        and stops there, is decided, and what it would report is nothing. Followed without
        remembering states: the search meets no state twice on it (its continuation
        from a state is the same at each meeting, so a run that did would never end),
        and it is shorter than half the bound, so the search would not reach the
        states' bound on it either (were it to reach the places', `MAX_PLACES`, on it,
        what it reported would be nothing too: an errors-only search past a bound
        reports nothing).

        `resume`: start from the state of a first run followed before (`_FOLLOWED`) at
        the beginning of a step before which every firing read nothing that differs
        here (`_Followed`; docs/semantics.md, "Resuming the first run"); the run, and
        so the answer, is the same as when followed from the start (`resume=False`,
        the tests' oracle)."""
        common = self.common()
        begun = self.resumed(common) if resume else _Resumed()
        if begun.known is not None:
            return begun.known
        state = self.start() if begun.state is None else begun.state
        first, snapshots, steps = begun.first, begun.snapshots, begun.done
        fired = begun.fired
        source = begun.source
        self.resumed_from, self.differs = source, begun.differs
        states_of = dict(source.snapshots) if source is not None else {}
        views: dict[str, bool] = {}
        answer = False
        while steps < MAX_STATES // 2:
            if steps % _STRIDE == 0 and steps > begun.done:
                again = states_of.get(steps)
                if (
                    source is not None
                    and again is not None
                    and _same_state(state, again)
                    and self.reads_tail(source, steps, views)
                ):
                    # the run is back in the state the followed run was in here, and from
                    # here on that run fired only nodes that read the same here: the rest
                    # of this run is the rest of that one (docs/semantics.md, "Rejoining")
                    answer = source.answer
                    for later in range(steps, len(source.fired)):
                        for node in source.fired[later]:
                            first.setdefault(node, later)
                    fired += source.fired[steps:]
                    snapshots += [kept_at for kept_at in source.snapshots if kept_at[0] >= steps]
                    break
                snapshots.append((steps, state.copy()))
            if not state.pending:
                break
            state.time, scheduled, returned = semantics.next_step(state.pending, RETURN)
            if returned:
                end = frozenset({"return"})
                for monitor in state.monitors:
                    monitor.step(end)
                answer = all(state.monitors[index].accepts() for index in self.ensures)
                break
            props: set[str] = set()
            fired.append(tuple(scheduled))
            for node in scheduled:
                if node not in first:
                    first[node] = steps
                outcome = self.first_outcome(state, node)
                self.apply(state, node, outcome)
                props.add(node)
                if outcome.props:
                    props |= outcome.props
            step = frozenset(props)
            for monitor in state.monitors:
                monitor.step(step)
            steps += 1
        if resume:
            global _FOLLOWED
            kept = [f for f in _FOLLOWED if f is not begun.source]
            if begun.source is not None:  # (the run resumed from first: it served)
                kept.insert(0, begun.source)
            followed = _Followed(common, self.tables(), first, fired, snapshots, answer)
            _FOLLOWED = (followed, *kept[: _KEPT - 1])
        return answer

    # -- resuming the first run (docs/semantics.md, "Resuming the first run") ----------------

    def common(self) -> tuple:
        """What every step of the first run may read besides what its firings read: the
        constraints (the monitors, which `ensure`s), the conditions formulas mention,
        and the start (the returns that wait for nothing, the nodes that start the run);
        and the bound, past half of which a run counts as not returning."""
        ir = self.ir
        return (
            MAX_STATES,
            tuple((c.mode, c.formula) for c in ir.constraints),
            self.conditions,
            tuple(i for i, deps in enumerate(self.return_deps) if not deps),
            self.graph.entries,
        )

    def tables(self) -> Tables:
        """The tables that firing a node reads (`outcomes`, `apply`, `deliver`) besides
        `common` (`reads_as` compares a node's part of them)."""
        return self.graph

    def reads_as(self, node: str, tables: Tables) -> bool:
        """Whether firing `node` reads here what it read in the agent of `tables` (a node
        of that agent): its *view* — its control and return edges (their targets,
        conditions, bounds, guards and indexes), each consumer of its output with that
        consumer's inputs, and each return that reads it with what that return reads.
        (Which conditions it decides is in `common`: the conditions, with the nodes each
        reads.) The tables of two agents share the entries that did not change
        (`tables_of`), which are compared by identity first."""
        edges = self.out.get(node)
        if edges is None:
            return False
        theirs = tables.out[node]
        if edges is not theirs and not _same_edges(edges, theirs):
            if node in self.conditioned:
                return False
            # (a node that decides no condition takes no `when` edge in the first run:
            # its first outcome reads its other edges only)
            if not _same_edges(_taken_first(edges), _taken_first(theirs)):
                return False
        consumers = self.dependents[node]
        if consumers is not tables.dependents[node] and consumers != tables.dependents[node]:
            return False
        deps_of = tables.deps_of
        if self.deps_of is not deps_of:
            for consumer in consumers:
                if self.deps_of[consumer] != deps_of[consumer]:
                    return False
        returns = self.return_of_dep[node]
        if returns != tables.return_of_dep[node]:
            return False
        return all(self.return_deps[index] == tables.return_deps[index] for index in returns)

    def may_read_otherwise(self, tables: Tables) -> set[str] | None:
        """A set that holds every node whose view (`reads_as`) may differ here from the
        agent of `tables`: the nodes whose entries are not the same objects (`tables_of`
        shares the others), and what each node whose inputs' entry is not the same reads
        here and read there. None when the two agents' node names (in order) or returns
        differ: then any node's may."""
        mine = self.graph
        if tables.names != mine.names or tables.return_deps != mine.return_deps:
            return None
        names = mine.names
        found = set(compress(names, map(is_not, mine.out.values(), tables.out.values())))
        found.update(
            compress(names, map(is_not, mine.dependents.values(), tables.dependents.values()))
        )
        if mine.return_of_dep is not tables.return_of_dep:
            found.update(
                compress(
                    names, map(is_not, mine.return_of_dep.values(), tables.return_of_dep.values())
                )
            )
        if mine.deps_of is not tables.deps_of:
            for consumer in compress(
                mine.deps_of, map(is_not, mine.deps_of.values(), tables.deps_of.values())
            ):
                found.update(mine.deps_of[consumer], tables.deps_of[consumer])
        return found

    def resumed(self, common: tuple) -> _Resumed:
        """Where to resume the first run: a copy of the latest state remembered by a run
        followed before (`_FOLLOWED`, the one whose firings read the same here longest)
        at the beginning of a step before which every firing it made reads here what it
        read there, with the first firings and states that run shares with this one; or its
        answer, when every firing of it reads the same here (the same run to its end)."""
        best: tuple[int, _Followed, set[str] | None] | None = None
        for followed in _FOLLOWED:
            if followed.common != common:
                continue
            diverges = _NEVER
            suspects = self.may_read_otherwise(followed.tables)
            differs: set[str] | None = None
            if suspects is None:
                for node, step in followed.first.items():
                    if not self.reads_as(node, followed.tables):
                        diverges = step
                        break
            else:  # (only those may differ: each node of the run that does, and its step)
                first = followed.first
                differs = {
                    node
                    for node in suspects
                    if node in first and not self.reads_as(node, followed.tables)
                }
                diverges = min(map(first.__getitem__, differs), default=_NEVER)
            if diverges == _NEVER:
                return _Resumed(known=followed.answer)
            if best is None or diverges > best[0]:
                best = (diverges, followed, differs)
        if best is None:
            return _Resumed()
        diverges, followed, differs = best
        begun = _Resumed(source=followed, differs=differs)
        for steps, snapshot in followed.snapshots:
            if steps > diverges:
                break
            begun.done, begun.state = steps, snapshot
            begun.snapshots.append((steps, snapshot))
        if begun.state is None:
            return _Resumed(source=followed, differs=differs)
        begun.state = begun.state.copy()  # (a snapshot is never changed)
        # (`first` is in the order of the steps: those before `done` come first)
        before = bisect_left(list(followed.first.values()), begun.done)
        begun.first = dict(islice(followed.first.items(), before))
        begun.fired = followed.fired[: begun.done]
        return begun

    def reads_tail(self, followed: _Followed, start: int, views: dict[str, bool]) -> bool:
        """Whether every node the run `followed` fired from step `start` on reads here what
        it read there (`reads_as`; `views` remembers the answers for one run). When the
        nodes of `followed` that read otherwise here are known (`_Resumed.differs`, for
        the run resumed), whether none of them fires from `start` on."""
        if followed is self.resumed_from and self.differs is not None:
            return self.differs.isdisjoint(chain.from_iterable(islice(followed.fired, start, None)))
        for step in followed.fired[start:]:
            for node in step:
                same = views.get(node)
                if same is None:
                    same = views[node] = self.reads_as(node, followed.tables)
                if not same:
                    return False
        return True

    def runs(
        self,
        state: _State,
        path: _Path | None,
        scheduled: list[str] | None = None,
        index: int = 0,
        props: set[str] | None = None,
        notes: list[str] | None = None,
    ) -> Iterator[Iterator]:
        """Follow the run from `state`, firing `scheduled[index:]` (this logical time's
        firings not yet fired; None: the step is to begin) and the steps after them, until
        it ends. At a firing with several outcomes, yield a generator for each in turn
        (the last one continues on `state` itself): `explore` runs it to the end before
        asking for the next."""
        props = set() if props is None else props
        notes = [] if notes is None else notes
        while True:
            if scheduled is None or index == len(scheduled):
                if scheduled is not None and not self.until_return:
                    path = self.end_step(state, scheduled, props, notes, path)
                scheduled = self.begin_step(state, path)
                if scheduled is None:
                    return
                index, props, notes = 0, set(), []
                continue
            node = scheduled[index]
            self.fired.add(node)
            # (drawn one at a time: a node with g guards has 2^g outcomes, and the bound
            # stops the search long before the last of 2^30)
            outcomes = self.outcomes(state, node)
            first: _Outcome = next(outcomes)
            following = next(outcomes, None)
            if following is None:  # no choice: go on in this loop
                self.apply(state, node, first)
                if not self.until_return:  # what held and why matter to monitors and stories
                    props |= {node} | first.props
                    notes += first.notes
                index += 1
                continue
            within = self.merge and index + 1 < len(scheduled)  # (more to fire at this time)
            outcome: _Outcome | None = first
            while outcome is not None:
                branch = state if following is None else state.copy()
                self.apply(branch, node, outcome)
                more = props if self.until_return else props | {node} | outcome.props
                if not (within and self.met_within(branch, scheduled, index + 1, more)):
                    if self.until_return:
                        yield self.runs(branch, path, scheduled, index + 1, props, notes)
                    else:
                        more_notes = notes + outcome.notes
                        yield self.runs(branch, path, scheduled, index + 1, more, more_notes)
                if self.exhausted or (self.until_return and self.returned) or self.decided:
                    return
                outcome, following = following, None if following is None else next(outcomes, None)
            return

    def met_within(self, state: _State, scheduled: list[str], index: int, props: set[str]) -> bool:
        """Whether a run has been, within a logical time, where this one is: the same
        state, the same firings of this time still to fire (`scheduled[index:]`), and
        the same propositions held so far in it. Its rest is then that run's, explored
        already (depth first): the k firings of one node at one time branch into 2^k
        orders of their outcomes, which meet in about k + 1 such places each (how many
        took each edge). They have a bound of their own (`MAX_PLACES`), which ends the
        search as the states' does (`exhausted`): past it, unmerged, the orders of a
        time's outcomes could be exponential in number."""
        key = (self.key(state), tuple(scheduled[index:]), frozenset(props), self.now(state))
        if key in self.within:
            return True
        if len(self.within) >= MAX_PLACES:
            self.exhausted = True
            return True
        self.within.add(key)
        return False

    def now(self, state: _State) -> tuple:
        """What a state holds of this logical time's firings besides its key: nothing
        (`_ReadingExplorer`: which nodes failed before it, fired in it, fire in it)."""
        return ()

    def end_step(
        self, state: _State, scheduled: list[str], props: set[str], notes: list[str], path
    ) -> _Path:
        """Step the monitors over the logical time just fired; the path one step longer."""
        step = frozenset(props)
        for monitor in state.monitors:
            monitor.step(step)
        fired = ", ".join(dict.fromkeys(scheduled))
        line = f"step {_length(path) + 1}: {fired}" + (f"  ({'; '.join(notes)})" if notes else "")
        return _Path(step, line, path)

    def begin_step(self, state: _State, path: _Path | None) -> list[str] | None:
        """The firings of the next logical time, taken out of `state`; None when the run
        ends here (it returns, stalls, or meets a state already explored)."""
        if self.exhausted or (self.until_return and self.returned) or self.decided:
            return None
        self.forget_dead_counters(state)
        key = self.key(state)
        if key in self.visited:
            return None
        if len(self.visited) >= MAX_STATES:
            self.exhausted = True
            return None
        self.visited.add(key)
        if not state.pending:
            if self.stall is None and not self.until_return:
                trace, story = _unwind(path)
                self.stall = Run(trace, story, False, self.waiting(state, trace))
            return None
        if self.prune and self.returned and self.hopeless(state):
            return None
        state.time, scheduled, returned = semantics.next_step(state.pending, RETURN)
        if returned:  # the earliest return wins: nothing else at its time is in the run
            if self.until_return:  # no monitor to step, no run to tell
                self.returned = True
                return None
            line = f"step {_length(path) + 1}: return"
            self.finish(state, _Path(frozenset({"return"}), line, path))
            return None
        return scheduled

    @property
    def decided(self) -> bool:
        return self.until_certain and self.returned and self.ensures <= self.satisfied

    def hopeless(self, state: _State) -> bool:
        """Whether no run from `state` can change what an errors-only search reports: a run
        has returned, each `ensure` that no returning run has satisfied yet has its
        counterexample, and on no run from here can it end satisfied, its monitor says,
        told which of its propositions can never hold again (those of nodes that no node
        pending or waiting here leads to). docs/semantics.md, "Errors-only exploration",
        gives the argument that cutting such runs changes no verdict and no diagnostic."""
        open_ = self.ensures - self.satisfied
        if not open_ or not open_ <= self.counterexamples.keys():
            return False
        frontier = self.frontier(state)
        for index in open_:
            dead = frozenset(p for p, mask in self.leads_to_atom[index] if not frontier & mask)
            if state.monitors[index].may_accept(dead):
                return False
        return True

    def atom_nodes(self, constraint) -> dict[str, tuple[str, ...]]:
        """The propositions a constraint reads that only nodes' firings make hold, and
        those nodes: a node's name or `failed(node)`, that node; a condition, the nodes it
        reads (none: it never holds). (`return` and names of no node are left out: they
        are never taken to be impossible.)"""
        found: dict[str, tuple[str, ...]] = {}
        for atom in constraint.formula.walk():
            if isinstance(atom, ast.LtlFired) and atom.node in self.ir.nodes:
                found[proposition(atom)] = (atom.node,)
            elif isinstance(atom, ast.LtlHolds):
                prop = proposition(atom)
                found[prop] = self.conditions.get(prop, ())
        return found

    def frontier(self, state: _State) -> int:
        """The bits of the nodes pending or waiting for inputs in `state`: every node that
        fires later in the run is one of them or follows one of them."""
        bit = self.bit  # (a return, and a return's queue, have none: 0)
        frontier = 0
        for nodes in state.pending.values():
            for node in nodes:
                frontier |= bit.get(node, 0)
        for consumer in state.queues:
            frontier |= bit.get(consumer, 0)
        return frontier

    def finish(self, state: _State, path: _Path) -> None:
        self.returned = True
        for index, monitor in enumerate(state.monitors):
            monitor.step(path.step)
            if monitor.accepts():
                self.satisfied.add(index)
            elif index not in self.counterexamples:
                trace, story = _unwind(path)
                self.counterexamples[index] = Run(trace, story, True)

    # -- one firing ----------------------------------------------------------------------------

    def outcomes(self, state: _State, node: str):
        edges = self.out[node]
        if not edges and node not in self.conditioned:  # no choice to make
            yield _PLAIN
            return
        live = semantics.live(edges, state.taken)
        when = [e for e in live if e.condition == "when"]
        for taken_when in product((False, True), repeat=len(when)):
            true = {e.index for e, t in zip(when, taken_when, strict=True) if t}
            chosen = semantics.route(live, failed=False, holds=partial(_in, true))
            guards = {_guard_key(e): t for e, t in zip(when, taken_when, strict=True)}
            edge_notes = (
                []
                if self.until_return
                else [self.guard_note(node, e, t) for e, t in zip(when, taken_when, strict=True)]
            )
            for props, notes in self.condition_choices(node, guards):
                yield _Outcome(False, chosen, props, notes + edge_notes)
        errors = semantics.route(live, failed=True, holds=partial(_in, set()))
        if errors:
            yield _Outcome(True, errors, frozenset({failed_proposition(node)}), [f"{node} fails"])

    def first_outcome(self, state: _State, node: str) -> _Outcome:
        """`next(self.outcomes(state, node))` but for its notes (none here): every guard
        false, no failure, each condition the firing decides false unless a negated guard
        makes it hold. What the first run takes at each firing; its notes are for the
        stories of reported runs, which the first run never tells."""
        edges = self.out[node]
        if not edges and node not in self.conditioned:
            return _PLAIN
        live = semantics.live(edges, state.taken)
        chosen = semantics.route(live, failed=False, holds=_never)
        fixed: set[str] = set()
        if node in self.conditioned:
            negated: dict[str, bool] = {}
            for edge in live:
                if edge.condition == "when":
                    key = _guard_key(edge)
                    if key is not None:
                        negated.setdefault(key[0], key[1])  # (the first guard of each)
            for prop, nodes in self.conditions.items():
                if node in nodes and negated.get(prop, False):
                    fixed.add(prop)
        return _Outcome(False, chosen, frozenset(fixed), [])

    def guard_note(self, node: str, edge: IREdge, taken: bool) -> str:
        """`node -> target when guard: taken` (printed once per edge and outcome)."""
        note = self.notes_of.get((edge.index, taken))
        if note is None:
            outcome = "taken" if taken else "not taken"
            note = f"{node} -> {_target(edge)} {edge.label()}: {outcome}"
            self.notes_of[edge.index, taken] = note
        return note

    def condition_choices(self, node: str, guards: dict):
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
        pending = state.pending
        for edge in outcome.edges:
            if edge.max is not None:  # (an unbounded edge's count changes nothing)
                state.taken[edge.index] = state.taken.get(edge.index, 0) + 1
            target = RETURN if edge.kind == "return" else edge.target
            pending.setdefault(semantics.after(time), []).append(target)  # (`schedule`)
        if outcome.failed:
            return
        for consumer, fires, alone in self.delivers[node]:
            if alone:  # (`deliver`, for a consumer of this output only: a join at once)
                pending.setdefault(semantics.join_time((time,)), []).append(fires)
            else:
                self.deliver(state, consumer, node, time)

    def deliver(self, state: _State, consumer: str, producer: str, time: int) -> None:
        queues = state.queues.get(consumer)
        if queues is None:
            queues = state.queues[consumer] = {d: [] for d in self.deps_of[consumer]}
            state.filled[consumer] = 0
        queue = queues[producer]
        if not queue:
            state.filled[consumer] += 1
        queue.append(time)
        target = RETURN if consumer.startswith(RETURN) else consumer
        while state.filled[consumer] == len(queues):  # (else semantics.join would not join)
            heads = semantics.join(queues)
            assert heads is not None
            state.filled[consumer] -= sum(1 for q in queues.values() if not q)
            state.schedule(target, semantics.join_time(heads.values()))
        if not state.filled[consumer]:
            del state.queues[consumer], state.filled[consumer]

    # -- canonical states -------------------------------------------------------------------

    def key(self, state: _State) -> tuple:
        now = state.time
        return (
            tuple(sorted((t - now, n) for t, ns in state.pending.items() for n in ns)),
            tuple(
                (
                    consumer,
                    tuple(
                        (d, tuple(t - now for t in q)) for d, q in state.queues[consumer].items()
                    ),
                )
                for consumer in sorted(state.queues)
            ),
            tuple(sorted(state.taken.items())),
            tuple(m.state() for m in state.monitors),
        )

    def forget_dead_counters(self, state: _State) -> None:
        """Drop the counters of loop edges whose source can never fire again: no future
        reads them, and states that differ only in them then meet."""
        if not state.taken:
            return
        frontier = self.frontier(state)
        for index in list(state.taken):
            if not frontier & self.leads_to_source[index]:
                del state.taken[index]

    def waiting(self, state: _State, trace: list[frozenset[str]]) -> list[str]:
        """Why nothing can fire: from the returns, what each waits for, down the chain."""
        fired = set().union(*trace) if trace else set()
        lines: list[str] = []
        todo = [(f"{RETURN}{i}", "the return") for i in range(len(self.return_deps))]
        seen: set[str] = set()
        while todo:
            consumer, label = todo.pop(0)
            if consumer in seen:
                continue
            seen.add(consumer)
            queues = state.queues.get(consumer) or {d: [] for d in self.deps_of.get(consumer, ())}
            missing = [d for d, q in queues.items() if not q]
            if missing:
                lines.append(f"{label} waits for {', '.join(f'`{d}`' for d in missing)}")
                todo += [(d, f"`{d}`") for d in missing if d not in fired]
            elif consumer in self.ir.nodes and consumer not in fired:
                edges = [e for e in self.ir.edges if e.kind == "control" and e.target == consumer]
                if edges:
                    routes = " or ".join(f"`{e.source} -> {consumer} {e.label()}`" for e in edges)
                    lines.append(f"`{consumer}` fires only through {routes}, not taken in this run")
        return lines


class _ReadingExplorer(_Explorer):
    """The explorer of an agent with an `x.error` read whose value must be a `str`
    (`_Explorer.error_reads` makes one): its states hold whose latest firing failed
    (`_Failures`, part of the key), and its firings check the reads (docs/semantics.md,
    "Reading `x.error`")."""

    def outcomes(self, state: _State, node: str):
        if node in self.arg_reads:
            self.read_arguments(state, node)
        return super().outcomes(state, node)

    def apply(self, state: _State, node: str, outcome: _Outcome) -> None:
        self.read_edges(state, node, outcome)
        super().apply(state, node, outcome)

    def begin_step(self, state: _State, path: _Path | None) -> list[str] | None:
        scheduled = super().begin_step(state, path)
        if scheduled is not None:
            failures = state.failures
            assert failures is not None
            failures.before, failures.fired = failures.latest, 0
            failures.now = _union(self.bits.get(node, 0) for node in scheduled)
        return scheduled

    def key(self, state: _State) -> tuple:
        assert state.failures is not None
        return (*super().key(state), state.failures.latest)

    def now(self, state: _State) -> tuple:
        failures = state.failures
        assert failures is not None
        return (failures.before, failures.fired, failures.now)

    def read_arguments(self, state: _State, node: str) -> None:
        """A firing of `node` reads `x.error` in its arguments: x's latest firing before
        its time (runtime/firing.py `environment`) — or, when it joins x, the output it
        consumes (no failure). Proven where that firing failed."""
        failures = state.failures
        assert failures is not None
        joined = self.ir.nodes[node].deps
        for read in self.arg_reads[node]:
            if not failures.before & self.bits[read.node] or read.node in joined:
                self.unproven.setdefault(read.span, read)

    def read_edges(self, state: _State, node: str, outcome: _Outcome) -> None:
        """The end of a firing of `node` evaluates the guards of its `when` edges (when it
        succeeded) and the ports or value of the edges it takes, which read `node`'s own
        firing, and the latest firing of each other node (runtime/scheduler.py
        `latest_env`): proven when `node`'s firing failed, or when the other node's
        latest firing before this time failed and it fires at no firing of this time (a
        firing of this time may end before this one, or after). Then `node`'s bit: a
        failure sets it, unless a firing of the same time succeeded (which of the two
        is latest is up to their keys), a success clears it."""
        failures = state.failures
        assert failures is not None
        bits = self.bits
        failed = outcome.failed

        def proven(read: ErrorRead) -> bool:
            if read.node == node:
                return failed
            bit = bits[read.node]
            return bool(failures.before & bit) and not failures.now & bit

        if not failed:
            for read in self.guard_reads.get(node, ()):
                if not proven(read):
                    self.unproven.setdefault(read.span, read)
        if self.edge_reads:
            for edge in outcome.edges:
                for read in self.edge_reads.get(edge.index, ()):
                    if not proven(read):
                        self.unproven.setdefault(read.span, read)
        bit = bits.get(node)
        if bit is not None:
            if not failed:
                failures.latest &= ~bit
            elif not failures.fired & bit:
                failures.latest |= bit
            failures.fired |= bit


@dataclass(frozen=True)
class _Followed:
    """A first run followed (`first_run_satisfies`): what every step read (`common`),
    what each firing read (`tables`, `_Explorer.reads_as`; a node's firings all read the
    same), each node it fired with the step of its first firing, its state at the
    beginning of every `_STRIDE`-th step (never changed: a resumed run copies it), and
    its answer. Holds no part of the program but its IR's nodes, edges
    and formulas (no modules: nothing in a cycle)."""

    common: tuple
    tables: Tables
    first: dict[str, int]
    fired: list[tuple[str, ...]]  # the nodes each step fired
    snapshots: list[tuple[int, _State]]
    answer: bool


@dataclass
class _Resumed:
    """Where a first run begins (`_Explorer.resumed`): the state (None: the start), the
    steps done, the first firings and snapshots shared with the run it resumes (`source`), or
    that run's answer when it is this run to its end (`known`)."""

    state: _State | None = None
    done: int = 0
    first: dict[str, int] = field(default_factory=dict)
    snapshots: list[tuple[int, _State]] = field(default_factory=list)
    source: _Followed | None = None
    known: bool | None = None
    fired: list[tuple[str, ...]] = field(default_factory=list)
    # the nodes `source` fired that read otherwise here (None: not known)
    differs: set[str] | None = None


_STRIDE = 4  # a followed run's state is kept at the beginning of every fourth step
_KEPT = 2  # the first runs followed last, resumed from
_NEVER = MAX_STATES  # (no firing of the run followed reads anything that differs)
# the first runs followed last, the latest first (replaced, never changed in place)
_FOLLOWED: tuple[_Followed, ...] = ()


# what an edge is but for where it is written (the explorer reads no span)
_EDGE_FIELDS = tuple(name for name in IREdge.model_fields if name not in ("span", "error_reads"))


def _same_edges(these: list[IREdge], those: list[IREdge]) -> bool:
    """Whether two nodes' edges are the same but for their spans (trivia, as in the AST's
    equality): an agent written lower in its file, or below an edit, reads the same."""
    if len(these) != len(those):
        return False
    if all(map(is_, these, those)):  # (the same objects, mostly: lower.py remembers edges)
        return True
    return all(
        a is b or all(getattr(a, f) == getattr(b, f) for f in _EDGE_FIELDS)
        for a, b in zip(these, those, strict=True)
    )


def _taken_first(edges: list[IREdge]) -> list[IREdge]:
    """The edges a first outcome may take (`_Explorer.first_outcome`) of a node that
    decides no condition: every guard is false there, so no `when` edge."""
    return [e for e in edges if e.condition != "when"]


def _same_state(a: _State, b: _State) -> bool:
    """Whether two states of first runs are the same: the same time, pending firings,
    queues, loop counts and monitor states (a monitor's state is all its future reads)."""
    return (
        a.time == b.time
        and a.pending == b.pending
        and a.filled == b.filled
        and a.queues == b.queues
        and a.taken == b.taken
        and a.failures == b.failures
        and all(m.state() == n.state() for m, n in zip(a.monitors, b.monitors, strict=True))
    )


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


def _union(masks: Iterator[int]) -> int:
    found = 0
    for mask in masks:
        found |= mask
    return found


def _never(_: IREdge) -> bool:
    return False


def _in(indexes: set[int], edge: IREdge) -> bool:
    return edge.index in indexes


# the conditions found last: the agent's formulas and node names, and the conditions
_CONDITIONS: list[tuple[list, tuple[str, ...], dict[str, tuple[str, ...]]]] = []


def _conditions(ir: AgentIR) -> dict[str, tuple[str, ...]]:
    """`conditions_of(ir)`: the last agent's when its constraints' formulas are the same
    objects and its node names the same (all the conditions read of the agent). Never
    changed in place."""
    names = tuple(ir.nodes)
    formulas = [c.formula for c in ir.constraints]
    if _CONDITIONS:
        known_formulas, known_names, found = _CONDITIONS[0]
        if (
            known_names == names
            and len(known_formulas) == len(formulas)
            and all(map(is_, known_formulas, formulas))
        ):
            return found
    found = conditions_of(ir)
    _CONDITIONS[:] = [(formulas, names, found)]
    return found


def conditions_of(ir: AgentIR) -> dict[str, tuple[str, ...]]:
    """The output conditions the constraints mention, and the nodes each reads."""
    found: dict[str, tuple[str, ...]] = {}
    for constraint in ir.constraints:
        for atom in constraint.formula.walk():
            if isinstance(atom, ast.LtlHolds):
                found[proposition(atom)] = ref_heads(atom.expr, ir.nodes)
    return found


@dataclass
class ConstraintResult:
    agent: str
    mode: str
    text: str
    status: str  # proven, violated, unknown
    states: int
    counterexample: Run | None = None


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection inside (as it was found after). The explorer
    allocates a tuple or two per state and keeps them, and makes no cycles; the cyclic
    collector would walk the whole AST and IR again at each of its passes, which made
    exploring large agents superlinear (bench/RESULTS.md). (The editor too: edits.editor.)"""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def explore_agent(
    ir: AgentIR, *, errors_only: bool = False, prune: bool = True, resume: bool = True
) -> tuple[list[Diagnostic], list[ConstraintResult]]:
    """Stall, reachability and constraint diagnostics for one agent, and each verdict.

    `errors_only` (for the editor) explores only until what is certain is decided: it
    reports only errors (E0407, E0506), and no verdicts. `prune=False` turns off the
    cutting of hopeless runs (`_Explorer.hopeless`): the same answers, more states (the
    tests' oracle). `resume=False`: the first run followed from the start, not resumed
    from one followed before (`_Explorer.first_run_satisfies`; the tests' oracle)."""
    if errors_only:
        return _errors_only(ir, prune, resume), []
    explorer = _Explorer(ir)
    with no_cycle_collection():
        explorer.explore()
    complete = not explorer.exhausted
    states = len(explorer.visited)
    met = len(explorer.within)  # (and the places met within times, where any was)
    places = f", and {met} places within logical times" if met else ""
    # past the bound, the errors-only search (which cuts hopeless runs) may still settle
    # that every run violates an `ensure`: the editor's check and this one then agree
    always, witnesses = (
        _certain_violations(ir, prune) if not complete else (set(), explorer.counterexamples)
    )
    sink = DiagnosticSink(ir.filename)
    results: list[ConstraintResult] = []
    for index, constraint in enumerate(ir.constraints):
        run = explorer.counterexamples.get(index) or witnesses.get(index)
        if run is not None:
            status = "violated"
            certain = (
                complete and index not in explorer.satisfied and explorer.returned
            ) or index in always
            code = (
                codes.SHIELD_WILL_BLOCK
                if constraint.mode != "ensure"
                else codes.ALWAYS_VIOLATED
                if certain
                else codes.CONSTRAINT_COUNTEREXAMPLE
            )
            how = "is violated by every run" if certain else "can be violated"
            sink.report(
                code,
                f"`{constraint.mode} {constraint.text}` {how}",
                constraint.span,
                label="counterexample below",
                notes=("a run that violates it:", *run.story),
            )
        elif complete:
            status = "proven"
        else:
            status = "unknown"
            sink.report(
                codes.CONSTRAINT_UNDECIDED,
                f"`{constraint.mode} {constraint.text}` not proven: the agent has more states "
                f"than the checker explores ({states} explored{places})",
                constraint.span,
            )
        results.append(
            ConstraintResult(ir.name, constraint.mode, constraint.text, status, states, run)
        )
    _unproven_reads(sink, explorer, complete)
    if complete:
        for name, node in ir.nodes.items():
            if name not in explorer.fired:
                sink.report(
                    codes.UNREACHABLE_NODE,
                    f"node `{name}` fires in no run",
                    node.span,
                    label="never fires",
                    notes=("every run returns, or stalls, before it can fire",),
                    hints=("make the return wait for it, or remove it",),
                )
        if not explorer.returned:
            _no_return(sink, ir)
    stall = explorer.stall
    if stall is not None:
        sink.report(
            codes.POSSIBLE_STALL,
            f"agent `{ir.name}` can stall: a run ends with nothing to fire and no return",
            ir.returns_[0].span if ir.returns_ else ir.span,
            notes=(
                "a run that stalls:",
                *stall.story,
                *(
                    stall.waiting
                    or ["no node waits: every branch that was taken ended without a return"]
                ),
            ),
        )
    return sink.found, results


def _unproven_reads(sink: DiagnosticSink, explorer: _Explorer, complete: bool) -> None:
    """E0414 at each `x.error` read whose value must be a `str` and that some run reads
    where x's latest firing did not fail; past the bound, at every such read that no
    run explored reads so: not proven is not proven (docs/semantics.md)."""
    if not explorer.demands:
        return
    unproven = explorer.unproven
    reported: set[Span] = set()
    for read in sorted(explorer.demands, key=_in_source_order):
        if read.span in reported:
            continue
        if read.span in unproven:
            why = (
                f"a run reads it where `{read.node}` has not failed (its latest firing "
                "succeeded, or it has not fired)"
            )
        elif not complete:
            why = (
                "the agent has more states than the checker explores: not proven to be "
                f"read only after `{read.node}` failed"
            )
        else:
            continue
        reported.add(read.span)
        sink.report(
            codes.ERROR_READ_NOT_FAILED,
            f"`{read.node}.error` may be none here, where a `str` is needed",
            read.span,
            label="may be none",
            notes=(why,),
            hints=(
                f"read it on the target of `{read.node} -> ... on error` (or an edge out of "
                "that target), or make the parameter `str?`",
            ),
        )


def _in_source_order(read: ErrorRead) -> tuple[int, int]:
    span = read.span  # (none for the Python front end's: they stay in the IR's order)
    return (span.line, span.column) if span is not None else (0, 0)


def _certain_violations(ir: AgentIR, prune: bool) -> tuple[set[int], dict[int, Run]]:
    """The `ensure`s that every returning run violates, each with a run that does, as
    the errors-only search decides them (nothing when it reaches the bound too)."""
    if not any(c.mode == "ensure" for c in ir.constraints):
        return set(), {}
    explorer = _Explorer(ir, until_certain=True, prune=prune)
    with no_cycle_collection():
        explorer.explore()
    if explorer.exhausted or not explorer.returned:
        return set(), {}
    always = explorer.ensures - explorer.satisfied
    return always, {index: explorer.counterexamples[index] for index in always}


def _errors_only(ir: AgentIR, prune: bool = True, resume: bool = True) -> list[Diagnostic]:
    """What is certain, and so an error: no run returns (E0407), or every returning run
    violates an `ensure` (E0506). Explores only until both are decided — for most agents,
    the first run that returns."""
    sink = DiagnosticSink(ir.filename)
    if not any(c.mode == "ensure" for c in ir.constraints):
        quick = _Explorer(ir, until_return=True)
        if quick.demands:
            return _errors_of_full(ir)
        if quick.first_run_returns():
            return []
        with no_cycle_collection():
            quick.explore()
        if not (quick.returned or quick.exhausted):
            _no_return(sink, ir)
        return sink.found
    explorer = _Explorer(ir, until_certain=True, prune=prune)
    if explorer.demands:
        return _errors_of_full(ir)
    if prune and explorer.first_run_satisfies(resume):
        return []  # (what the search finds on the run it follows first, and stops at)
    with no_cycle_collection():
        explorer.explore()
    if explorer.exhausted:
        return []
    if not explorer.returned:
        _no_return(sink, ir)
        return sink.found
    for index in sorted(explorer.ensures - explorer.satisfied):
        _always_violated(sink, ir, index, explorer.counterexamples[index])
    return sink.found


def _errors_of_full(ir: AgentIR) -> list[Diagnostic]:
    """The errors of the full check, for an agent with an `x.error` read to prove: a run
    that reads it where x has not failed is found only by exploring every run, which
    the errors-only search's shortcuts (the first run, hopeless runs, stopping once
    decided) would skip. Its other errors are the errors-only search's (E0407 when no
    run returns, E0506 as `_certain_violations` decides past the bound)."""
    found, _ = explore_agent(ir)
    return [d for d in found if d.is_error]


def _always_violated(sink: DiagnosticSink, ir: AgentIR, index: int, run: Run) -> None:
    constraint = ir.constraints[index]
    sink.report(
        codes.ALWAYS_VIOLATED,
        f"`{constraint.mode} {constraint.text}` is violated by every run",
        constraint.span,
        label="counterexample below",
        notes=("a run that violates it:", *run.story),
    )


def _no_return(sink: DiagnosticSink, ir: AgentIR) -> None:
    sink.report(
        codes.NO_RETURN,
        f"no run of agent `{ir.name}` reaches a return",
        ir.span,
        label="in this agent",
    )
