"""One SQLite file for a search: the runs of candidates, and the candidates themselves.

- `runs`: one row per (candidate fingerprint, agent, example inputs, seed, model): the
  run's result or error, and what it used. Runs are stored, not scores, so a new scoring
  function reuses every run; a killed search that starts again repeats none.
- `candidates`: each candidate's source (canonical `.agent` text), the candidate it was
  made from and the edit that made it, so the archive is readable and replayable.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    fingerprint TEXT NOT NULL, agent TEXT NOT NULL, example TEXT NOT NULL,
    seed INTEGER NOT NULL, model TEXT NOT NULL,
    result TEXT, error TEXT, calls INTEGER, tokens INTEGER, dollars REAL, created REAL,
    PRIMARY KEY (fingerprint, agent, example, seed, model));
CREATE TABLE IF NOT EXISTS candidates (
    fingerprint TEXT PRIMARY KEY, source TEXT NOT NULL, parent TEXT, edit TEXT,
    created REAL);
"""


@dataclass(frozen=True)
class RunRecord:
    """What one run of a candidate on one example gave (`error` set when it failed)."""

    result: Any
    error: str | None
    calls: int
    tokens: int
    dollars: float


@dataclass(frozen=True)
class Candidate:
    fingerprint: str
    source: str
    parent: str | None
    edit: Any  # the edit as JSON data, None for a search's starting point


class SearchStore:
    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a kill loses nothing committed
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def run(self, key: tuple[str, str, str, int, str]) -> RunRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT result, error, calls, tokens, dollars FROM runs WHERE fingerprint=? "
                "AND agent=? AND example=? AND seed=? AND model=?",
                key,
            ).fetchone()
        if row is None:
            return None
        return RunRecord(json.loads(row[0]), row[1], row[2], row[3], row[4])

    def put_run(self, key: tuple[str, str, str, int, str], record: RunRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    *key,
                    json.dumps(record.result, default=str),
                    record.error,
                    record.calls,
                    record.tokens,
                    record.dollars,
                    time.time(),
                ),
            )

    def put_candidate(self, candidate: Candidate) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO candidates VALUES (?,?,?,?,?)",
                (
                    candidate.fingerprint,
                    candidate.source,
                    candidate.parent,
                    None if candidate.edit is None else json.dumps(candidate.edit),
                    time.time(),
                ),
            )

    def candidates(self) -> list[Candidate]:
        with self._lock:
            rows = self._db.execute(
                "SELECT fingerprint, source, parent, edit FROM candidates ORDER BY rowid"
            ).fetchall()
        return [Candidate(f, s, p, None if e is None else json.loads(e)) for f, s, p, e in rows]

    def count_runs(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM runs").fetchone()[0])

    def close(self) -> None:
        self._db.close()
