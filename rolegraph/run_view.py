"""What `rolegraph run` shows on stderr: the run live while it works (on a terminal),
and a summary when it ends.

The live view follows the run's events (runtime/events.py): the firings of the
current logical time — running ones with the tail of the text their model is
writing, ended ones with their calls, tokens and latency — and the calls, tokens and
cost spent so far. It is redrawn a few times a second from the event loop itself (no
thread reads what the events change).
"""

from __future__ import annotations

import asyncio
import json
import time as clock
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from rolegraph.runtime.events import (
    Event,
    FiringDiscarded,
    FiringEnded,
    FiringStarted,
    QuestionAsked,
    RunEnded,
    RunFailed,
    RunPaused,
    RunStarted,
    Tokens,
)

REDRAWS_PER_SECOND = 8
TAIL = 48  # characters of a running firing's text shown
ROWS = 12  # firings shown at most (the running ones first)


@dataclass
class _Row:
    node: str  # with its enclosing firings' nodes, for a nested agent's firing
    time: int
    status: str = "running"
    began: float = field(default_factory=clock.monotonic)
    # the tail of what its model is writing, per replica (`x N`, a map's items), and the
    # replica that wrote last
    texts: dict[int, str] = field(default_factory=dict)
    writing: int = 0
    calls: int = 0
    cached: int = 0
    tokens: int = 0
    latency_ms: float = 0.0


class RunView:
    """The state of a run as its events tell it, drawn by rich (`__rich__`)."""

    def __init__(self) -> None:
        self.agent = ""
        self.began = clock.monotonic()
        self.rows: dict[tuple[tuple[str, ...], str], _Row] = {}
        # (path, key) of a firing → its node, to name the firings that enclose a nested one
        self.nodes: dict[tuple[tuple[str, ...], str], str] = {}
        self.time = 0  # the latest logical time a top-level firing started at
        self.ended: dict[str, int] = {}  # firings by status
        self.calls = self.cached = self.input_tokens = self.output_tokens = 0
        self.cost = 0.0
        self.spinner = Spinner("dots")

    def update(self, event: Event) -> None:
        if isinstance(event, RunStarted) and not event.path:
            self.agent = event.agent
        elif isinstance(event, FiringStarted):
            self.nodes[(event.path, event.key)] = event.node
            if not event.path:
                self.time = max(self.time, event.time)
            name = self._name(event.path, event.node)
            self.rows[(event.path, event.key)] = _Row(name, event.time)
        elif isinstance(event, Tokens):
            row = self.rows.get((event.path, event.key))
            if row is not None:
                row.texts[event.replica] = (row.texts.get(event.replica, "") + event.text)[-TAIL:]
                row.writing = event.replica
        elif isinstance(event, FiringEnded):
            self._ended(event)
        elif isinstance(event, QuestionAsked):  # a human step waits (docs/human.md)
            row = self.rows.get((event.path, event.key))
            if row is not None:
                row.status = "asking"
                row.texts[0] = f"asks: {event.text}"[-TAIL:]
        elif isinstance(event, FiringDiscarded):
            # (what it ended as, ok or failed, is no longer counted: it is not in the run)
            row = self.rows.get((event.path, event.key))
            was = "ok"
            if row is not None:
                was = row.status if row.status in ("ok", "failed") else was
                row.status = "discarded"
            self.ended[was] = self.ended.get(was, 0) - 1
            self.ended["discarded"] = self.ended.get("discarded", 0) + 1

    def _ended(self, event: FiringEnded) -> None:
        record = event.record
        self.ended[record.status] = self.ended.get(record.status, 0) + 1
        self.calls += record.calls
        self.cached += record.cached_calls
        self.input_tokens += record.input_tokens
        self.output_tokens += record.output_tokens
        self.cost += record.cost
        row = self.rows.get((event.path, record.key))
        if row is None:
            return  # (skipped: it never started)
        row.status, row.calls, row.cached = record.status, record.calls, record.cached_calls
        row.tokens = record.input_tokens + record.output_tokens
        row.latency_ms = record.latency_ms

    def _name(self, path: tuple[str, ...], node: str) -> str:
        enclosing = [self.nodes.get((path[:i], key), "?") for i, key in enumerate(path)]
        return " / ".join([*enclosing, node])

    def __rich__(self) -> RenderableType:
        elapsed = clock.monotonic() - self.began
        self.spinner.text = Text.assemble(
            (self.agent or "starting", "bold"), f"  {elapsed:.1f} s  logical time {self.time}"
        )
        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        for column in ("node", "t", "status", "calls", "tokens", "latency", "reply so far"):
            right = column in ("t", "calls", "tokens")
            table.add_column(column, justify="right" if right else "left")
        for row in self._shown():
            running = row.status == "running"
            latency = clock.monotonic() - row.began if running else row.latency_ms / 1000
            calls = f"{row.calls}" + (f" ({row.cached} cached)" if row.cached else "")
            table.add_row(
                row.node,
                str(row.time),
                Text(row.status, style=_STYLES.get(row.status, "")),
                "" if running else calls,
                "" if running else f"{row.tokens:,}",
                f"{latency:.1f} s",
                Text(_writing(row) if running else "", style="dim", no_wrap=True),
            )
        fired = self.ended.get("ok", 0)
        totals = Text(
            f"{fired} fired, {self.ended.get('failed', 0)} failed; "
            f"{self.calls} calls ({self.cached} cached); "
            f"{self.input_tokens:,} in / {self.output_tokens:,} out tokens; ${self.cost:.4f}",
            style="dim",
        )
        return Group(self.spinner, table, totals)

    def _shown(self) -> list[_Row]:
        """The running firings, then those of the current logical time (latest first)."""
        waiting = ("running", "asking")  # (a human step asking is still under way)
        running = [r for r in self.rows.values() if r.status in waiting]
        current = [r for r in self.rows.values() if r.status not in waiting and r.time == self.time]
        return (running + current[::-1])[:ROWS]


def _writing(row: _Row) -> str:
    """The tail of the text the firing's model is writing (which replica, when several)."""
    text = row.texts.get(row.writing, "").replace("\n", " ")
    return f"[{row.writing}] {text}" if len(row.texts) > 1 else text


_STYLES = {
    "running": "yellow",
    "ok": "green",
    "failed": "red",
    "cancelled": "dim",
    "asking": "magenta",
    "paused": "magenta",
}


async def watch(
    events: AsyncIterator[Event], *, live: bool, lines: TextIO | None = None
) -> RunEnded | RunFailed | RunPaused:
    """Follow a run's events to its last (returned): drawn live on stderr, and/or written
    to `lines` as JSON, one a line, as they come."""
    view = RunView() if live else None
    last: Event | None = None
    screen = (
        Live(view, console=Console(stderr=True), auto_refresh=False, transient=True)
        if view is not None
        else None
    )
    redraw = None
    if screen is not None:
        screen.start(refresh=True)
        redraw = asyncio.get_running_loop().create_task(_redraw(screen))
    try:
        async for event in events:
            if lines is not None:
                lines.write(json.dumps(event.to_json(), default=str, ensure_ascii=False) + "\n")
                lines.flush()  # a reader of the pipe sees each event as it happens
            if view is not None:
                view.update(event)
            last = event
    finally:
        if redraw is not None:
            redraw.cancel()
        if screen is not None:
            screen.stop()
    assert isinstance(last, RunEnded | RunFailed | RunPaused), "a run's events end with its outcome"
    return last


async def _redraw(screen: Live) -> None:
    while True:
        await asyncio.sleep(1 / REDRAWS_PER_SECOND)
        screen.refresh()


def result_of(last: RunEnded | RunFailed | RunPaused) -> Any:
    """The run's outcome as `run_agent` gives it: a `RunResult`, or its `RunError` raised
    (`Paused`, when it waits for answers)."""
    from rolegraph.runtime import RunResult

    if isinstance(last, RunFailed | RunPaused):
        raise last.exception
    return RunResult(last.result, last.trace, last.run_id)
