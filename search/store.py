"""One SQLite file for a search: the runs of candidates, and the candidates themselves.

- `runs`: one row per (candidate fingerprint, agent, example inputs, seed, model): the
  run's result or error, and what it used. Runs are stored, not scores, so a new scoring
  function reuses every run; a killed search that starts again repeats none.
- `candidates`: each candidate's source (canonical `.agent` text), the candidate it was
  made from and the edit that made it, so the archive is readable and replayable. A
  candidate is written in the transaction of its evaluation's runs (`waiting`), not in
  one of its own: one commit an evaluation.
- `tests`: the verdicts of candidates' `test` blocks run on their mocks, by
  `sharing.test_fingerprint` (the test and what its run can reach): passed, or the first
  line of why not.

A damaged file, a row that does not read back, or a full disk is a `StoreError` saying
what was kept and what to do (runtime/store.py classifies SQLite's errors for both).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rolegraph.runtime.store import store_fault

KEPT = "every run and candidate saved before"  # (what a full store still holds)

# a run's result as stored: `json.dumps(result, default=str)`, with one encoder for every
# row (`json.dumps` given an option builds a new encoder each call)
_result_text = json.JSONEncoder(default=str).encode

_PUT_CANDIDATE = "INSERT OR IGNORE INTO candidates VALUES (?,?,?,?,?)"
_PUT_VERDICT = "INSERT OR REPLACE INTO tests VALUES (?,?,?,?)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    fingerprint TEXT NOT NULL, agent TEXT NOT NULL, example TEXT NOT NULL,
    seed INTEGER NOT NULL, model TEXT NOT NULL,
    result TEXT, error TEXT, calls INTEGER, tokens INTEGER, dollars REAL, created REAL,
    PRIMARY KEY (fingerprint, agent, example, seed, model));
CREATE TABLE IF NOT EXISTS candidates (
    fingerprint TEXT PRIMARY KEY, source TEXT NOT NULL, parent TEXT, edit TEXT,
    created REAL);
CREATE TABLE IF NOT EXISTS tests (
    fingerprint TEXT PRIMARY KEY, passed INTEGER NOT NULL, failure TEXT, created REAL);
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


@dataclass(frozen=True)
class TestVerdict:
    """What a candidate's `test` block gave, run on its mocks: passed, or why not (the
    first line of its first failure)."""

    __test__ = False  # (not a pytest class)

    passed: bool
    failure: str | None = None


class SearchStore:
    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # the candidate whose evaluation is under way (`waiting`): written with its runs
        self._waiting: Candidate | None = None
        # tests' verdicts to go with the next write (`put_test_verdicts(later=True)`)
        self._later: list[tuple[Any, ...]] = []
        with self._faults("opening it"):
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # a kill loses nothing committed
            self._db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _faults(self, doing: str, table: str = "") -> Iterator[None]:
        """SQLite's errors, and rows of `table` that do not read back, as `StoreError`s."""
        try:
            yield
        except sqlite3.Error as error:
            raise store_fault(self.path, error, doing, KEPT) from None
        except (ValueError, TypeError) as error:
            if not table:
                raise
            broken = ValueError(f"a row of `{table}` does not read back: {error}")
            raise store_fault(self.path, broken, doing, KEPT) from None

    def run(self, key: tuple[str, str, str, int, str]) -> RunRecord | None:
        doing = "reading a stored run"
        with self._lock, self._faults(doing):
            row = self._db.execute(
                "SELECT result, error, calls, tokens, dollars FROM runs WHERE fingerprint=? "
                "AND agent=? AND example=? AND seed=? AND model=?",
                key,
            ).fetchone()
        if row is None:
            return None
        with self._faults(doing, "runs"):
            return RunRecord(json.loads(row[0]), row[1], int(row[2]), int(row[3]), float(row[4]))

    def runs(
        self, fingerprint: str, agent: str, model: str, cases: Iterable[tuple[str, int]]
    ) -> dict[tuple[str, int], RunRecord]:
        """The stored runs of `cases` (example, seed) of one candidate's agent on one model,
        in one query: `run` of each key (fingerprint, agent, example, seed, model), those
        stored only (an evaluation's look-ups, one query, not one a run)."""
        wanted = set(cases)
        doing = "reading a stored run"
        with self._lock, self._faults(doing):
            rows = self._db.execute(
                "SELECT example, seed, result, error, calls, tokens, dollars FROM runs "
                "WHERE fingerprint=? AND agent=? AND model=?",
                (fingerprint, agent, model),
            ).fetchall()
        found = {}
        with self._faults(doing, "runs"):
            for example, seed, *row in rows:
                if (example, seed) in wanted:
                    found[example, seed] = RunRecord(
                        json.loads(row[0]), row[1], int(row[2]), int(row[3]), float(row[4])
                    )
        return found

    def put_run(self, key: tuple[str, str, str, int, str], record: RunRecord) -> None:
        self.put_runs([(key, record)])

    def put_runs(
        self,
        runs: Sequence[tuple[tuple[str, str, str, int, str], RunRecord]],
        *,
        waiting: bool = True,
    ) -> None:
        """Several runs in one transaction (an evaluation's: one commit, not one a run),
        with the candidate `waiting` for them when `waiting` (see `waiting`)."""
        if not runs:
            return
        now = time.time()
        rows = [
            (
                *key,
                _result_text(record.result),
                record.error,
                record.calls,
                record.tokens,
                record.dollars,
                now,
            )
            for key, record in runs
        ]
        candidate = self._waiting if waiting else None
        self._insert_all(
            "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
            "a run",
            [] if candidate is None else [self._candidate_row(candidate, now)],
        )
        if candidate is not None:
            self._waiting = None

    def _insert_all(
        self,
        sql: str,
        rows: Sequence[tuple[Any, ...]],
        what: str,
        candidates: Sequence[tuple[Any, ...]] = (),
    ) -> None:
        """`sql` for each row, `candidates`' rows and the tests' verdicts waiting
        (`put_test_verdicts(later=True)`), in one transaction: all or none."""
        with self._lock, self._faults(f"saving {what}"):
            self._db.execute("BEGIN")
            try:
                self._db.executemany(sql, rows)
                if candidates:
                    self._db.executemany(_PUT_CANDIDATE, candidates)
                if self._later:
                    self._db.executemany(_PUT_VERDICT, self._later)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._later = []

    def test_verdicts(self, fingerprints: Sequence[str]) -> dict[str, TestVerdict]:
        """The stored verdicts of tests run, by `sharing.test_fingerprint` (those stored)."""
        if not fingerprints:
            return {}
        self.flush()  # (verdicts waiting are read as stored)
        doing = "reading tests' verdicts"
        marks = ",".join("?" * len(fingerprints))
        with self._lock, self._faults(doing):
            rows = self._db.execute(
                f"SELECT fingerprint, passed, failure FROM tests WHERE fingerprint IN ({marks})",
                tuple(fingerprints),
            ).fetchall()
        with self._faults(doing, "tests"):
            return {
                str(key): TestVerdict(bool(passed), None if failure is None else str(failure))
                for key, passed, failure in rows
            }

    def put_test_verdicts(
        self, verdicts: Sequence[tuple[str, TestVerdict]], *, later: bool = False
    ) -> None:
        """Tests' verdicts, by `sharing.test_fingerprint`, in one transaction; `later`:
        in the store's next write (a candidate's runs, or the candidate), not one of
        their own, or at `flush`. (They are the store's own records: a verdict lost to a
        kill costs a test run on its mocks again, never a model call.)"""
        if not verdicts:
            return
        now = time.time()
        self._later.extend((key, int(v.passed), v.failure, now) for key, v in verdicts)
        if not later:
            self.flush()

    def flush(self) -> None:
        """The tests' verdicts waiting (`put_test_verdicts(later=True)`), written now."""
        if self._later:
            self._insert_all(_PUT_VERDICT, [], "tests' verdicts")

    def put_candidate(self, candidate: Candidate) -> None:
        row = self._candidate_row(candidate, time.time())
        if self._later:  # (with the verdicts waiting, in one transaction)
            self._insert_all(_PUT_CANDIDATE, [row], "a candidate")
            return
        with self._lock, self._faults("saving a candidate"):
            self._db.execute(_PUT_CANDIDATE, row)

    @staticmethod
    def _candidate_row(candidate: Candidate, now: float) -> tuple[Any, ...]:
        edit = None if candidate.edit is None else json.dumps(candidate.edit)
        return (candidate.fingerprint, candidate.source, candidate.parent, edit, now)

    @contextlib.contextmanager
    def waiting(self, candidate: Candidate) -> Iterator[None]:
        """`put_candidate(candidate)` once the block (its evaluation) ends without an
        error, written in the transaction of the runs that end its evaluation
        (`put_runs(waiting=True)`: `Evaluator.evaluate` says so once they are scored and
        not a rung of racing), if it stores any, not in one of its own. As before, a
        candidate whose evaluation failed is not written (what the resume guarantee
        needs is the runs: a search started again writes the candidate when it
        evaluates it, and an `INSERT OR IGNORE` keeps the first row)."""
        self._waiting = candidate
        try:
            yield
        except BaseException:
            self._waiting = None
            raise
        if self._waiting is candidate:  # (no runs stored: all were in the store)
            self._waiting = None
            self.put_candidate(candidate)

    def candidates(self) -> list[Candidate]:
        doing = "reading the candidates"
        with self._lock, self._faults(doing):
            rows = self._db.execute(
                "SELECT fingerprint, source, parent, edit FROM candidates ORDER BY rowid"
            ).fetchall()
        with self._faults(doing, "candidates"):
            return [Candidate(f, s, p, None if e is None else json.loads(e)) for f, s, p, e in rows]

    def count_runs(self) -> int:
        with self._lock, self._faults("counting runs"):
            return int(self._db.execute("SELECT count(*) FROM runs").fetchone()[0])

    def close(self) -> None:
        self._db.close()
