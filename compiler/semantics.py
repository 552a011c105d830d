"""The execution rules of DESIGN §3 that the executor and the explorer share, stated once.

The executor (runtime/executor.py) drives them with real outputs and guard values; the
explorer (compiler/paths.py) with every outcome a firing could have. Both call these
functions, so a rule changed here changes for runs and for proofs together; the
differential tests (tests/test_explorer_vs_runs.py) check that the two still agree.

- **Routing** (§3 rules 2c and 3). After a firing, the explicit edges out of its node are taken:
  those whose bound `max N` is spent are not live; a failed firing takes its live
  `on error` edges and nothing else; a successful one takes its live unconditional
  edges, its `when` edges whose guard holds, and its `else` edges when no `when` edge
  was taken. The edges are taken in source order.
- **Logical time** (§3 rule 5). A firing an edge starts, or a return an edge offers, is one
  step after the firing that took the edge; a join fires one step after the latest of
  the outputs it joins.
- **Joins** (§3 rule 2b). A consumer fires when each node it reads has an output it has
  not consumed, on the earliest of each by key (`join`); in a run, it waits while an
  output of one of them keyed before its head may still arrive (`may_still_arrive`,
  `may_lead_to`, `may_start`): of an earlier time, or of the head's own time when that
  node fires twice at one time. Reads and routes wait by the same rule, for the outputs
  of an earlier time (a bound `(time,)`).
- **Returns** (§3 rule 7). The earliest return wins (`winner`); it ends the run once no
  firing before it is in flight (`end_decided`); the firings at its time or after are
  not part of the run (`in_run`), and the explorer, which steps in logical time, stops
  at the first step that holds a return (`next_step`). A firing that fails the run (no
  `on error` edge) ends it by the same rule, ordered after every return of its time
  (`FAILS_THE_RUN`): which of a return and a failure ends a run does not depend on the
  latencies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, TypeVar


class Edge(Protocol):
    """What routing reads of an edge (an `IREdge`)."""

    @property
    def index(self) -> int: ...
    @property
    def condition(self) -> str: ...  # always, when, else, error
    @property
    def max(self) -> int | None: ...


E = TypeVar("E", bound=Edge)


def live(edges: Iterable[E], taken: Mapping[int, int]) -> list[E]:
    """The edges whose bound is not spent (`taken`: how often each edge was taken)."""
    return [e for e in edges if e.max is None or taken.get(e.index, 0) < e.max]


def route(live_edges: list[E], *, failed: bool, holds: Callable[[E], bool]) -> list[E]:
    """The edges a firing takes, in source order. `holds(edge)` says whether a `when`
    edge's guard is true (asked only of `when` edges, in source order, and only after a
    success)."""
    if failed:
        return [e for e in live_edges if e.condition == "error"]
    chosen: list[E] = []
    otherwise: list[E] = []
    when_taken = False
    for edge in live_edges:
        condition = edge.condition
        if condition == "when":
            if holds(edge):
                chosen.append(edge)
                when_taken = True
        elif condition == "always":
            chosen.append(edge)
        elif condition == "else":
            otherwise.append(edge)
    if not when_taken:
        chosen += otherwise
    if len(chosen) > 1:
        chosen.sort(key=_index)
    return chosen


def _index(edge: Edge) -> int:
    return edge.index


def after(time: int) -> int:
    """The logical time of what an edge taken at `time` starts (a firing, or a return)."""
    return time + 1


def join_time(head_times: Iterable[int]) -> int:
    """The logical time of a firing that joins outputs made at `head_times`: one step
    after the latest of them (`after`; a join of one head, `after` its time)."""
    return after(max(head_times))


# -- joins (§3 rule 2b) ------------------------------------------------------------------

Q = TypeVar("Q")  # a queued output


def join(queues: Mapping[str, list[Q]]) -> dict[str, Q] | None:
    """The AND-join. A consumer (a node, or a return statement) holds one queue per node
    it reads, each in the order of the outputs' keys (logical time first). When every
    queue holds an output, the consumer fires on the head of each and consumes them (they
    are taken out of `queues`): the i-th draft meets the i-th review. Otherwise nothing is
    consumed and the answer is None. A consumer that reads no node never joins."""
    if not queues:
        return None
    for queue in queues.values():
        if not queue:
            return None
    consumed = {}
    for dep, queue in queues.items():  # (a loop: a comprehension is a frame more per join)
        consumed[dep] = queue.pop(0)
    return consumed


class Firing(Protocol):
    """What the ordering rules read of a firing in flight."""

    @property
    def node(self) -> str: ...
    @property
    def time(self) -> int: ...
    @property
    def key(self) -> tuple: ...


# `before`, below: a bound on keys. An output's key (a join's head: the outputs keyed
# before it, its own time's included, since a node may fire twice at one time), or
# `(time,)` (what a read or a route sees: the outputs of an earlier time, every key of
# `time` being after it).


def may_lead_to(
    firing: Firing, producer: str, before: tuple, reaches: Callable[[str, str], bool]
) -> bool:
    """Whether `firing`, still in flight, may yet make an output of `producer` keyed before
    `before`: it is of an earlier time, and its node can lead to `producer` (what it
    starts is later than itself); or it is a firing of `producer` keyed before."""
    return (firing.time < before[0] and reaches(firing.node, producer)) or (
        firing.node == producer and firing.key < before
    )


def may_start(
    time: int, target: str, producer: str, before: tuple, reaches: Callable[[str, str], bool]
) -> bool:
    """Whether an edge to `target` taken at `time`, still to be taken, may lead to an output
    of `producer` keyed before `before`: `may_lead_to` of the firing it starts, one step
    later (`after`), whose key is not known yet — it is after `(after(time), target)`."""
    start = after(time)
    return (start < before[0] and reaches(target, producer)) or (
        target == producer and (start, target) < before
    )


def may_still_arrive(
    producer: str, before: tuple, inflight: Iterable[Firing], reaches: Callable[[str, str], bool]
) -> bool:
    """Whether an output of `producer` keyed before `before` may still arrive from a firing
    in flight. A join (or a read of an ancestor's latest output) waits while one may: what
    it consumes is then the same whatever the latencies (§3 rule 5)."""
    return any(may_lead_to(f, producer, before, reaches) for f in inflight)


# -- returns (§3 rule 7, refined: docs/semantics.md) ---------------------------------------


class Offer(Protocol):
    """A return offered: its logical time, its order among the returns (statements in
    declaration order, then return edges), and its key as the trace writes it (what
    orders two offers of one time and order). A firing that fails the run is offered as
    an end too, at its own logical time, with the order `FAILS_THE_RUN`."""

    @property
    def time(self) -> int: ...
    @property
    def order(self) -> int: ...
    @property
    def label(self) -> str: ...


R = TypeVar("R", bound=Offer)


# The order of a failure offered as the run's end: after every return of its logical
# time, since a return at time T leaves the firings at T out of the run (`in_run`), the
# failed one too. Two failures of one time are ordered by their keys.
FAILS_THE_RUN = 1 << 62


def winner(offers: Iterable[R]) -> R | None:
    """The end of the run: the earliest return, or failure that fails the run, by logical
    time, then by order (a return before a failure of the same time), then by key."""
    return min(offers, key=lambda o: (o.time, o.order, o.label), default=None)


def outside(end: Offer) -> int:
    """The earliest logical time outside a run that `end` ends. A return's own: the
    firings at its time are not part of the run. One after a failure's: the firings of its
    time are (they complete, so that which of them fails first by key, and what the others
    gave, does not depend on the latencies)."""
    return end.time + 1 if end.order == FAILS_THE_RUN else end.time


def in_run(time: int, outside_from: int | None) -> bool:
    """Whether a firing of logical time `time` is part of a run whose end (`outside`) leaves
    out the times from `outside_from` on: every firing before is, and none at that time or
    after, even one that ended before the end was known (it is then discarded)."""
    return outside_from is None or time < outside_from


def end_decided(outside_from: int, inflight_times: Iterable[int]) -> bool:
    """Whether the winning end (a return, or a failure that fails the run) ends the run
    now: no firing of the run is still in flight (those complete first, and may still
    offer an earlier end)."""
    return all(not in_run(t, outside_from) for t in inflight_times)


def next_step(pending: dict[int, list[str]], returns: str) -> tuple[int, list[str], bool]:
    """The run in logical time (the explorer's view): take the firings of the earliest time
    out of `pending` (node names, `returns` standing for a return). When a return is among
    them it wins, and no firing of that time is part of the run (`in_run`): the answer is
    (time, [], True). Otherwise (time, its firings in name order, False)."""
    time = min(pending)
    scheduled = sorted(pending.pop(time))
    if returns in scheduled:
        return time, [], True
    return time, scheduled, False
