"""What the server accepted, kept in the store's SQLite file beside the store's own
tables (runtime/store.py holds the runs' inputs, checkpoints and replies).

- `serve_runs`: one row per run the server answered `202 Accepted` for, written (and
  committed) before that answer: the agent, its file, when, its state (`accepted`
  until it ends, then `returned` or `failed`; `interrupted` when the agent could not be
  found again after a restart; `waiting` when its attempt paused for answers from
  people), how many times it was started, and once it ended its
  error, its totals and its trace (the lines `rolegraph run --trace` writes).
- `serve_events`: the events of a run's last attempt (firings started and ended,
  results; the model's text as it streams is told live only), written when it ends.

A run whose row is not `returned` or `failed` is resumed when the server starts, but a
`waiting` one while any of its questions can still be answered (rolegraph/serve/runner.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS serve_runs (
    id TEXT PRIMARY KEY, agent TEXT NOT NULL, name TEXT NOT NULL, file TEXT NOT NULL,
    accepted REAL NOT NULL, state TEXT NOT NULL, attempts INTEGER DEFAULT 0,
    error TEXT, message TEXT, summary TEXT, trace TEXT, finished REAL);
CREATE INDEX IF NOT EXISTS serve_runs_accepted ON serve_runs (accepted);
CREATE TABLE IF NOT EXISTS serve_events (
    run TEXT NOT NULL, attempt INTEGER NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS serve_events_of_run ON serve_events (run, attempt, seq);
"""

#: the states in which a run is over; any other is resumed on start-up
ENDED = ("returned", "failed")


@dataclass
class Accepted:
    """A run as the journal keeps it."""

    id: str
    agent: str  # its name in URLs when it was accepted
    name: str  # the agent's declared name
    file: str
    accepted: float
    state: str
    attempts: int
    error: str | None
    message: str | None
    summary: dict[str, Any] | None
    finished: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agent": self.agent,
            "file": self.file,
            "accepted": self.accepted,
            "state": self.state,
            "attempts": self.attempts,
            "error": self.error,
            "message": self.message,
            "summary": self.summary,
            "finished": self.finished,
        }


_COLUMNS = "id, agent, name, file, accepted, state, attempts, error, message, summary, finished"


def _accepted(row: tuple) -> Accepted:
    id_, agent, name, file, accepted, state, attempts, error, message, summary, finished = row
    return Accepted(
        id_,
        agent,
        name,
        file,
        accepted,
        state,
        attempts or 0,
        error,
        message,
        json.loads(summary) if summary else None,
        finished,
    )


class Journal:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        # (a second connection to the store's file: WAL lets both write; each waits
        # its turn for up to 30 s)
        self._db = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def accept(self, run: str, agent: str, name: str, file: str) -> None:
        """Record a run as accepted (committed when this returns)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO serve_runs (id, agent, name, file, accepted, state) "
                "VALUES (?, ?, ?, ?, ?, 'accepted')",
                (run, agent, name, file, time.time()),
            )

    def started(self, run: str) -> int:
        """Count an attempt of the run; its number (from 1)."""
        with self._transaction() as db:
            db.execute("UPDATE serve_runs SET attempts = attempts + 1 WHERE id = ?", (run,))
            (attempts,) = db.execute(
                "SELECT attempts FROM serve_runs WHERE id = ?", (run,)
            ).fetchone()
        return int(attempts)

    def interrupted(self, run: str, message: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE serve_runs SET state = 'interrupted', message = ? WHERE id = ?",
                (message, run),
            )

    def resuming(self, run: str) -> None:
        """A waiting run goes on (its answers given): unfinished, as when accepted."""
        with self._transaction() as db:
            db.execute(
                "UPDATE serve_runs SET state = 'accepted', message = NULL, finished = NULL "
                "WHERE id = ?",
                (run,),
            )

    def ended(
        self,
        run: str,
        attempt: int,
        state: str,
        error: str | None,
        message: str | None,
        summary: dict[str, Any],
        trace: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> None:
        """How the run ended, its trace and its events, in one transaction."""
        with self._transaction() as db:
            db.execute("DELETE FROM serve_events WHERE run = ?", (run,))
            db.executemany(
                "INSERT INTO serve_events VALUES (?, ?, ?, ?)",
                [
                    (run, attempt, seq, json.dumps(event, default=str))
                    for seq, event in enumerate(events, 1)
                ],
            )
            db.execute(
                "UPDATE serve_runs SET state = ?, error = ?, message = ?, summary = ?, "
                "trace = ?, finished = ? WHERE id = ?",
                (
                    state,
                    error,
                    message,
                    json.dumps(summary, default=str),
                    json.dumps(trace, default=str),
                    time.time(),
                    run,
                ),
            )

    def get(self, run: str) -> Accepted | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM serve_runs WHERE id = ?", (run,))
        return _accepted(rows[0]) if rows else None

    def runs(self, agent: str | None = None, limit: int = 100) -> list[Accepted]:
        """The runs accepted, the newest first."""
        if agent is None:
            rows = self._query(
                f"SELECT {_COLUMNS} FROM serve_runs ORDER BY accepted DESC LIMIT ?", (limit,)
            )
        else:
            rows = self._query(
                f"SELECT {_COLUMNS} FROM serve_runs WHERE agent = ? ORDER BY accepted DESC LIMIT ?",
                (agent, limit),
            )
        return [_accepted(row) for row in rows]

    def unfinished(self) -> list[Accepted]:
        """The runs to resume, the oldest first."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM serve_runs WHERE state NOT IN (?, ?) ORDER BY accepted",
            ENDED,
        )
        return [_accepted(row) for row in rows]

    def trace(self, run: str) -> list[dict[str, Any]] | None:
        rows = self._query("SELECT trace FROM serve_runs WHERE id = ?", (run,))
        return json.loads(rows[0][0]) if rows and rows[0][0] else None

    def events(self, run: str) -> tuple[int, list[dict[str, Any]]]:
        """(attempt, events) of the run's last attempt that ended."""
        rows = self._query(
            "SELECT attempt, event FROM serve_events WHERE run = ? ORDER BY seq", (run,)
        )
        if not rows:
            return 0, []
        return rows[0][0], [json.loads(event) for _attempt, event in rows]
