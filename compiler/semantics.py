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
    edge's guard is true (asked only of `when` edges, and only after a success)."""
    if failed:
        return [e for e in live_edges if e.condition == "error"]
    chosen = [e for e in live_edges if e.condition == "when" and holds(e)]
    when_taken = bool(chosen)
    chosen += [e for e in live_edges if e.condition == "always"]
    if not when_taken:
        chosen += [e for e in live_edges if e.condition == "else"]
    return sorted(chosen, key=lambda e: e.index)


def after(time: int) -> int:
    """The logical time of what an edge taken at `time` starts (a firing, or a return)."""
    return time + 1


def join_time(head_times: Iterable[int]) -> int:
    """The logical time of a firing that joins outputs made at `head_times`."""
    return 1 + max(head_times)
