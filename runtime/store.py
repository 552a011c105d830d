"""One SQLite file for the response cache, the checkpoints and the runs.

- `responses`: replies keyed by a hash of the full request (model, messages, schema,
  parameters, tools, replica, attempt) and of its place in the run (the firing's key
  and the call's number in it). So a node that fires again with the same inputs makes
  a new call — it samples, as a model does — while a resumed run finds exactly its own
  completed calls, and an identical fresh run finds the calls of the one before. A
  reply is committed as soon as it arrives, so a killed run never pays for a completed
  call twice.
- `checkpoints`: the completed firings of a run, each under its deterministic key,
  written as one row per batch (every `BATCH` firings or `FLUSH_SECONDS`, and when the
  run ends): one insert per batch, not per firing, of text (format 3): each firing's key
  as the trace writes it (its label), one a line, in the order they completed, then a
  last line, the JSON list of their outputs in that order (`_row`; the rows of formats
  0 to 2, JSON lists of whole records or a JSON object from key to output, still read:
  they are JSON, which holds no line break). Resuming a run replays them
  instead of firing again. A firing whose checkpoint was lost to a kill runs again on
  resume, and its model calls are answered by the cache, which is committed at once.
- `runs`: what a run was (file, fingerprint, agent, inputs, model), how it ended, and
  what it spent (calls, tokens, dollars: a resumed run's budget goes on from there).
- `questions`: what human steps asked, and their answers (runtime/questions.py).
- `calls`: one row per real model call (cache hits excluded), for accounting and tests;
  written in the same transaction as the call's reply, so a kill keeps both or neither.

The file records its format (`PRAGMA user_version`, `FORMAT`), and each run the format
it was written in (`runs.format`). A store of an older format is brought up to this one
when opened, in one transaction, where the change is a pure addition (`MIGRATIONS`:
nothing already written is rewritten); a run this version cannot resume — its
checkpoints keyed by firing keys this version no longer computes (`RESUMES_FROM`) — is
refused when resumed, and a store of a newer format is refused when opened: each a
`StoreError` saying so.

A fault of the store — a damaged file, a row that is not what was written, a full disk —
is a `StoreError` (runtime/errors.py) saying what was kept and what to do: a run that
meets one ends with it, never as a node's failure, and a write that failed is rolled
back, so the store holds exactly what was committed before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .errors import RUN_STORE_KEEPS, StoreError
from .models import ModelReply, ModelRequest, ToolCall

BATCH = 256
#: The store's format, written in the file as SQLite's `user_version`:
#: 0. (none written: a store made before the store kept its format) every table but
#:    `runs.format`; a batch of checkpoints is a JSON list of `[key, node, time, status,
#:    output, error]` rows;
#: 1. each run records the format it was written in (`runs.format`; a run of format 0
#:    has none);
#: 2. a batch of checkpoints is a JSON object, each completed firing's key → its output
#:    (what resuming reads of it; the records' other fields were written and never read):
#:    rows of the formats before are read beside these, so a store of format 0 or 1 is
#:    migrated by recording the format alone;
#: 3. a batch of checkpoints is text: its firings' keys, each as the trace writes it (its
#:    label, `repr` of the key, which never holds a line break), one a line in the order
#:    they completed, then a last line, the JSON list of their outputs in that order
#:    (`_row`): the keys joined rather than JSON-encoded one by one, ~8% fewer bytes.
#:    A row says its own encoding: one of format 3 holds a line break, and the JSON of
#:    the formats before never does (`json.dumps` writes one inside a string as `\n`),
#:    so their rows are read beside these (a run of format 2 resumed here holds both) and
#:    a store of format 0, 1 or 2 is migrated by recording the format alone: nothing
#:    written is rewritten.
FORMAT = 3
#: The oldest format whose runs this version resumes: the first whose firing keys
#: (runtime/keys.py) are the ones this version computes. A run of an older format would
#: match none of its checkpoints, so it is refused rather than silently run again.
RESUMES_FROM = 0
#: How a request's identity is written for its key: what `json.dumps(..., sort_keys=True,
#: default=str)` writes, with one encoder made once rather than one per call.
_KEY_JSON = json.JSONEncoder(sort_keys=True, default=str)
FLUSH_SECONDS = 0.05
#: `Saves.due` of a run's list that is not listed in its store (`Store._saves`): made, or
#: written by a flush since. Any firing's end is after it, so the next one listed it again.
UNLISTED = float("-inf")
#: How a batch's outputs are written (`_row`): what `json.dumps(outputs, default=str)`
#: writes, by one encoder made once, which does not keep a table of the lists and dicts it
#: is inside (`check_circular`): a batch is checked for cycles only when encoding it fails
#: (`_rows_json`), so that one fails as before.
_ROWS_JSON = json.JSONEncoder(default=str, check_circular=False)

_INSERT_RUN = (
    "INSERT INTO runs (id, file, fingerprint, agent, inputs, model, status, result, created, "
    "updated, budget, format) VALUES (?, ?, ?, ?, ?, ?, 'running', NULL, ?, ?, ?, ?)"
)
_INSERT_BATCH = "INSERT INTO checkpoints VALUES (?, ?)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, reply TEXT NOT NULL, created REAL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, file TEXT, fingerprint TEXT, agent TEXT, inputs TEXT, model TEXT,
    status TEXT, result TEXT, created REAL, updated REAL,
    spent_calls INTEGER DEFAULT 0, spent_tokens INTEGER DEFAULT 0, spent_cost REAL DEFAULT 0,
    budget TEXT, format INTEGER);
CREATE TABLE IF NOT EXISTS checkpoints (run TEXT NOT NULL, firings TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS checkpoints_of_run ON checkpoints (run);
CREATE TABLE IF NOT EXISTS calls (run TEXT, node TEXT, request TEXT, created REAL);
CREATE TABLE IF NOT EXISTS questions (
    run TEXT NOT NULL, id TEXT NOT NULL, node TEXT, step TEXT, text TEXT, type TEXT,
    asked REAL, deadline REAL, answer TEXT, answered REAL, PRIMARY KEY (run, id));
"""

#: The columns each format added to a table of the one before, for `_migrate`: (table,
#: column, its declaration). Every change so far is an addition; a later one that is not
#: (a table rewritten) would migrate here too, in the same transaction.
MIGRATIONS = (
    # (before formats: runs kept what they spent, then their budget)
    ("runs", "spent_calls", "INTEGER DEFAULT 0"),
    ("runs", "spent_tokens", "INTEGER DEFAULT 0"),
    ("runs", "spent_cost", "REAL DEFAULT 0"),
    ("runs", "budget", "TEXT"),
    ("runs", "format", "INTEGER"),  # 1
    # (2, 3: nothing added — a batch's encoding changed, and each row says its own)
)


@dataclass
class RunInfo:
    id: str
    file: str
    fingerprint: str
    agent: str
    inputs: dict[str, Any]
    model: str | None
    status: str
    result: Any
    spent_calls: int = 0
    spent_tokens: int = 0
    spent_cost: float = 0.0
    budget: str | None = None  # the run's limits, as `--budget` writes them
    format: int = FORMAT  # the store's format when the run was written (0: before any)


def store_fault(
    path: str | Path, error: Exception, doing: str, kept: str = RUN_STORE_KEEPS
) -> StoreError:
    """The `StoreError` for what SQLite (or reading a row back) raised; `kept` says what
    a store that is still whole holds."""
    reason = str(error) or type(error).__name__
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL or "full" in reason:
            kind = "full"
        elif code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or any(
            word in reason for word in ("malformed", "not a database", "corrupt")
        ):
            kind = "damaged"
        else:
            kind = "failed"
    else:  # a row read back is not what was written
        kind = "damaged"
    return StoreError(str(path), kind, reason, doing, kept)


def _rows_json(rows: Any) -> str:
    """`json.dumps(rows, default=str)`, the same text; the general encoder again for a
    batch that does not encode (a cycle, with no table of what it is inside, overflows the
    stack instead of being named), so its error is the one it always was."""
    try:
        return _ROWS_JSON.encode(rows)
    except (RecursionError, ValueError, TypeError):
        return json.dumps(rows, default=str)


class _Firing(NamedTuple):
    """What a checkpoint keeps of a firing given field by field (`Store.checkpoint`)."""

    key: str
    output: Any
    status: str = "ok"


class Saves(list[Any]):
    """The completed firings of one run not yet written, in the order they completed: the
    run's checkpointer (`Store.checkpointer`). A run whose store alone listens to its
    records appends each firing that succeeded here itself (runtime/scheduler.py
    `_succeeded`: no call per firing), and calls `check` when its end is past `due` or
    `batch` firings wait; anyone else calls the list with each record (`__call__`). The
    store writes every list's firings at its flush, each run's as one row (`_row`: their
    keys, one a line, then the JSON list of their outputs).

    So the rule is the one a checkpoint per call kept: at each firing that completes, its
    run's firings are written if `BATCH` wait or `FLUSH_SECONDS` have passed since the
    store's last flush (`due`, on `time.perf_counter`'s clock, which a firing's `ended`
    reads), whether or not the run ever yields to its loop."""

    __slots__ = ("batch", "due", "run", "store")

    def __init__(self, store: Store, run: str):
        super().__init__()
        self.store, self.run = store, run
        self.due = UNLISTED  # (listed in the store at its first firing: `check`)
        self.batch = BATCH

    def __call__(self, record: Any) -> None:
        """A firing's record: kept if it completed (a firing that failed is not replayed:
        it runs again on resume), and written now if it must be."""
        if record.status == "ok":
            self.append(record)
            if time.perf_counter() > self.due or len(self) >= self.batch:
                self.check()

    def check(self) -> None:
        """After a firing whose end is past `due`, or with `batch` firings waiting: listed
        again in the store if a flush wrote the list since, and written if `FLUSH_SECONDS`
        have passed since the store's last flush, or `batch` firings wait."""
        store = self.store
        if self.due == UNLISTED:
            store._saves[id(self)] = self
        self.due = store._due
        if len(self) >= self.batch or time.perf_counter() > self.due:
            store.flush()


def _row(records: list[Any]) -> str:
    """A batch of checkpoints as written (format 3): the firings' keys, one a line, then the
    JSON list of their outputs. A key is its firing's label, `repr` of a tuple (runtime/
    keys.py `label`), which writes a line break in a string as `\\n`: no key holds one
    (tests/test_store_format.py), so the lines are the keys."""
    keys = "\n".join([record.key for record in records])
    return f"{keys}\n{_rows_json([record.output for record in records])}"


def _read_row(row: str) -> Iterator[tuple[str, Any]]:
    """A batch of checkpoints read back, each completed firing's key and its output, in the
    order written: a row of format 3 (`_row`: it holds a line break) or of a format before
    (JSON, which holds none: an object from key to output, or a list of whole records)."""
    if "\n" in row:
        *keys, last = row.split("\n")
        outputs = json.loads(last)
        if not isinstance(outputs, list) or len(outputs) != len(keys):
            raise ValueError("its keys and its outputs are not as many")
        return zip(keys, outputs, strict=True)
    batch = json.loads(row)
    if isinstance(batch, dict):  # (format 2: key → output)
        return iter(batch.items())
    return (  # (formats 0, 1: `[key, node, time, status, output, error]` records)
        (key, output) for key, _node, _time, status, output, _error in batch if status == "ok"
    )


def _batches(lists: Iterator[Saves] | Any) -> list[tuple[str, str]]:
    """The rows of a flush: each run's firings not yet written, as one row (`_row`), runs in
    the order they were listed."""
    batches: dict[str, list[Any]] = {}
    for saves in lists:
        if saves:
            batch = batches.get(saves.run)
            if batch is None:
                batches[saves.run] = saves
            else:  # (two lists of one run: a run's checkpointer asked for twice)
                batches[saves.run] = [*batch, *saves]
    return [(run, _row(batch)) for run, batch in batches.items()]


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._faults("opening it"):
            self._db = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None
            )
            if self._format() > FORMAT:  # (read before anything is written to it)
                raise self._newer(self._format())
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if self._format() < FORMAT:
                self._db.executescript(SCHEMA)
                self._migrate()
        # the runs' lists of firings not yet written (`Saves`), by id, in the order they
        # were listed since the last flush (a flush unlists them; their next firing lists
        # them again), and the statements for the next flush
        self._saves: dict[int, Saves] = {}
        self._updates: list[tuple[str, tuple]] = []
        self._flushed = time.perf_counter()
        self._due = self._flushed + FLUSH_SECONDS  # (`Saves.due` of a listed run)

    @contextlib.contextmanager
    def _faults(self, doing: str, table: str = "") -> Iterator[None]:
        """SQLite's errors, and rows of `table` that do not read back, as `StoreError`s."""
        try:
            yield
        except sqlite3.Error as error:
            raise store_fault(self.path, error, doing) from None
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            if not table:
                raise
            raise store_fault(
                self.path, ValueError(f"a row of `{table}` does not read back: {error}"), doing
            ) from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT; on any failure, ROLLBACK: a failed write leaves no trace and
        no transaction open."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # (SQLite may have rolled back already)
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            raise

    def _format(self) -> int:
        """The format the file records (0 for a new file, or one written before any)."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _newer(self, found: int) -> StoreError:
        return StoreError(
            str(self.path),
            "newer",
            f"it was written by a newer rolegraph, in store format {found}, and this "
            f"version reads formats up to {FORMAT}",
            "opening it",
        )

    def _migrate(self) -> None:
        """A store of an older format (or a new file) brought up to `FORMAT`: the columns
        each format added, then the format, in one transaction — a kill leaves the store as
        it was, and two processes opening one store migrate it once."""
        with self._transaction():
            found = self._format()  # (again: another process may have migrated it)
            if found > FORMAT:
                raise self._newer(found)
            if found == FORMAT:
                return
            for table in dict.fromkeys(table for table, _, _ in MIGRATIONS):
                columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                for name, kind in (m[1:] for m in MIGRATIONS if m[0] == table):
                    if name not in columns:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            self._db.execute(f"PRAGMA user_version = {FORMAT}")

    def close(self) -> None:
        self.flush()
        self._db.close()

    def flush(self) -> None:
        """Write the checkpoints not yet written, with the statements waiting for them
        (a run's end), in one transaction: one statement, itself a transaction, when they
        are one run's batch alone."""
        with self._lock:
            listed, updates = self._saves, self._updates
            if listed or updates:
                rows = _batches(listed.values())
                try:  # (`_faults`, without its generator: this is once a run, or more)
                    if len(rows) == 1 and not updates:
                        self._db.execute(_INSERT_BATCH, rows[0])
                    else:
                        self._write(rows, updates)
                except sqlite3.Error as error:
                    raise store_fault(self.path, error, "saving checkpoints") from None
                for saves in listed.values():  # (written: unlisted until their next firing)
                    del saves[:]
                    saves.due = UNLISTED
                listed.clear()
                updates.clear()
            self._flushed = flushed = time.perf_counter()
            self._due = flushed + FLUSH_SECONDS

    def _write(self, rows: list[tuple[str, str]], updates: list[tuple[str, tuple]]) -> None:
        """Batches and statements in one transaction (`_transaction`, inline)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if len(rows) == 1:
                db.execute(_INSERT_BATCH, rows[0])
            elif rows:
                db.executemany(_INSERT_BATCH, rows)
            for sql, args in updates:
                db.execute(sql, args)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # (SQLite may have rolled back already)
                if db.in_transaction:
                    db.execute("ROLLBACK")
            raise

    def _execute(self, sql: str, args: tuple = (), doing: str = "reading it") -> list[tuple]:
        with self._lock, self._faults(doing):
            return self._db.execute(sql, args).fetchall()

    # -- responses ---------------------------------------------------------------------------

    @staticmethod
    def request_key(request: ModelRequest) -> str:
        identity = _KEY_JSON.encode(
            [
                request.model,
                request.role,
                request.messages,
                request.schema,
                request.params,
                request.tools,
                request.replica,
                request.attempt,
                request.firing,
                request.call,
            ]
        )
        return hashlib.sha256(identity.encode()).hexdigest()

    def cached_reply(self, request: ModelRequest) -> ModelReply | None:
        doing = "reading a cached reply"
        rows = self._execute(
            "SELECT reply FROM responses WHERE key = ?", (self.request_key(request),), doing
        )
        if not rows:
            return None
        with self._faults(doing, "responses"):
            data = json.loads(rows[0][0])
            if not isinstance(data, dict):
                raise ValueError("a reply is a JSON object")
            calls = tuple(ToolCall(**c) for c in data.pop("tool_calls", ()))
            data.pop("cached", None)
            return ModelReply(tool_calls=calls, cached=True, **data)

    def save_reply(self, run: str, request: ModelRequest, reply: ModelReply) -> None:
        """A call's reply and its row in `calls`, in one transaction: a kill between the
        two can lose neither alone (a reply cached with no call counted would be
        answered from the cache on resume, and its call never counted)."""
        key = self.request_key(request)
        now = time.time()
        with self._lock, self._faults("saving a model reply"), self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?)",
                (key, json.dumps(asdict(reply)), now),
            )
            self._db.execute("INSERT INTO calls VALUES (?, ?, ?, ?)", (run, request.node, key, now))

    def calls(self, run: str | None = None) -> int:
        if run is None:
            return self._execute("SELECT COUNT(*) FROM calls")[0][0]
        return self._execute("SELECT COUNT(*) FROM calls WHERE run = ?", (run,))[0][0]

    # -- runs and checkpoints ------------------------------------------------------------

    def new_run(
        self,
        file: str,
        fingerprint: str,
        agent: str,
        inputs: dict[str, Any],
        model: str | None,
        budget: str | None = None,
    ) -> str:
        run = os.urandom(6).hex()  # (`uuid4().hex[:12]`: 12 random hex digits, as before)
        now = time.time()
        row = (run, file, fingerprint, agent, json.dumps(inputs), model, now, now, budget, FORMAT)
        with self._lock:
            try:  # (`_faults`, without its generator: once a run)
                self._db.execute(_INSERT_RUN, row)
            except sqlite3.Error as error:
                raise store_fault(self.path, error, "recording a new run") from None
        return run

    def run_info(self, run: str) -> RunInfo | None:
        doing = f"reading run {run}"
        rows = self._execute(
            "SELECT id, file, fingerprint, agent, inputs, model, status, result, "
            "spent_calls, spent_tokens, spent_cost, budget, format FROM runs WHERE id = ?",
            (run,),
            doing,
        )
        if not rows:
            return None
        id_, file, fingerprint, agent, inputs, model, status, result, *spent = rows[0]
        with self._faults(doing, "runs"):
            info = RunInfo(
                id_,
                file,
                fingerprint,
                agent,
                json.loads(inputs),
                model,
                status,
                json.loads(result) if result else None,
                int(spent[0] or 0),
                int(spent[1] or 0),
                float(spent[2] or 0.0),
                spent[3],
                int(spent[4] or 0),
            )
            if not isinstance(info.inputs, dict) or not isinstance(info.agent, str):
                raise ValueError("its inputs are not an object, or its agent not a name")
        return info

    def save_spent(self, run: str, calls: int, tokens: int, cost: float) -> None:
        """What a run has spent so far (written at once: a kill loses none of it)."""
        self._execute(
            "UPDATE runs SET spent_calls = ?, spent_tokens = ?, spent_cost = ? WHERE id = ?",
            (calls, tokens, cost, run),
            "saving what the run spent",
        )

    def finish_run(self, run: str, status: str, result: Any = None) -> None:
        """How a run ended, written with its last checkpoints (one transaction)."""
        self._updates.append(
            (
                "UPDATE runs SET status = ?, result = ?, updated = ? WHERE id = ?",
                (status, _rows_json(result), time.time(), run),  # (`json.dumps`'s text)
            )
        )
        self.flush()

    def checkpoint(
        self, run: str, key: str, node: str, time_: int, status: str, output: Any, error: str | None
    ) -> None:
        """A firing, written with its batch (`flush`) if it completed: a firing that
        failed is not replayed (it runs again on resume), so it is not written."""
        if status == "ok":
            self._saves_of(run)(_Firing(key, output))
        elif time.perf_counter() > self._due:
            self.flush()

    def _saves_of(self, run: str) -> Saves:
        """The run's listed `Saves`, or a new one."""
        for saves in self._saves.values():
            if saves.run == run:
                return saves
        return Saves(self, run)

    def checkpointer(self, run: str) -> Saves:
        """The list of the run's firings not yet written, to which a run gives each
        completed firing's record (`Context.checkpoint`): `Saves`."""
        return Saves(self, run)

    def checkpoints(self, run: str) -> dict[str, Any]:
        """Completed firings of a run: key → output. A run of a format older than
        `RESUMES_FROM` is refused: its keys are not the ones this version computes."""
        self.flush()
        doing = f"reading the checkpoints of run {run}"
        written = self._execute("SELECT format FROM runs WHERE id = ?", (run,), doing)
        with self._faults(doing, "runs"):
            format_ = int(written[0][0] or 0) if written else FORMAT
        if format_ < RESUMES_FROM:
            raise StoreError(
                str(self.path),
                "older",
                f"run {run} was written by an older rolegraph, in store format {format_}, "
                f"whose firing keys this version (format {FORMAT}) does not compute, so "
                "none of its checkpoints would be found",
                f"resuming run {run}",
            )
        rows = self._execute(
            "SELECT firings FROM checkpoints WHERE run = ? ORDER BY rowid", (run,), doing
        )
        found: dict[str, Any] = {}
        with self._faults(doing, "checkpoints"):
            for (firings,) in rows:  # (a later firing of one key wins, in the first's place)
                found.update(_read_row(firings))
        return found


class RunCache:
    """The response cache as one run sees it: replies are saved with the run's id."""

    def __init__(self, store: Store, run: str):
        self.store = store
        self.run = run

    def cached_reply(self, request: ModelRequest) -> ModelReply | None:
        return self.store.cached_reply(request)

    def save_reply(self, request: ModelRequest, reply: ModelReply) -> None:
        self.store.save_reply(self.run, request, reply)
