"""What one run's SQLite writes cost alone, and what the store's file settings would change
(issue 15 item 3): the statements a 100-firing run writes — its row, one batch of 100
checkpoints (the row a run of `bench_store_parts.py` writes), its end — with no
run around them, CPU µs per run, interleaved rounds, each variant on its own file.

    python bench/bench_store_sql.py --rounds 7

Variants:
- `two transactions`: the row by its own statement at the start, then the batch and the
  end in one transaction (what the store does);
- `one transaction`: the row, the batch and the end's `UPDATE` in one;
- `one, no UPDATE`: the row written as the run ended, and the batch (a store that writes
  a run's row with its first write: measured in bench/RESULTS.md `store-s6`, not taken);
- `page 8 KiB`, `page 16 KiB`: `one, no UPDATE` on a file of larger pages;
- `runs WITHOUT ROWID`: the runs table keyed by its id alone (one b-tree, not two);
- `autocheckpoint 10000`: the WAL checkpointed every 10,000 pages, not 1,000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable

from rolegraph.runtime.store import _INSERT_RUN, SCHEMA

BATCH = "\n".join(  # (store format 3: the keys a line each, then the outputs' JSON list)
    [*(f"({i + 1}, 'n{i}', '09563734abc40c21')" for i in range(100)), json.dumps([*range(1, 101)])]
)
UPDATE = "UPDATE runs SET status = ?, result = ?, updated = ? WHERE id = ?"
INSERT_ENDED = _INSERT_RUN.replace("'running', NULL", "?, ?")


def open_db(
    page: int | None = None, without_rowid: bool = False, autocheckpoint: int | None = None
) -> sqlite3.Connection:
    db = sqlite3.connect(tempfile.mkdtemp() + "/s.sqlite", isolation_level=None)
    if page:
        db.execute(f"PRAGMA page_size={page}")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if autocheckpoint is not None:
        db.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
    schema = SCHEMA
    if without_rowid:
        schema = schema.replace("format INTEGER);", "format INTEGER) WITHOUT ROWID;")
    db.executescript(schema)
    return db


def one_run(db: sqlite3.Connection, mode: str) -> None:
    run, now = os.urandom(6).hex(), time.time()
    row = (run, "f", "fp", "Chain", '{"seed": 0}', None, now, now, None, 2)
    if mode == "two":
        db.execute(_INSERT_RUN, row)
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO checkpoints VALUES (?, ?)", (run, BATCH))
        db.execute(UPDATE, ("returned", "100", now, run))
        db.execute("COMMIT")
    elif mode == "one":
        db.execute("BEGIN IMMEDIATE")
        db.execute(_INSERT_RUN, row)
        db.execute("INSERT INTO checkpoints VALUES (?, ?)", (run, BATCH))
        db.execute(UPDATE, ("returned", "100", now, run))
        db.execute("COMMIT")
    else:
        db.execute("BEGIN IMMEDIATE")
        db.execute(INSERT_ENDED, (*row[:6], "returned", "100", *row[6:]))
        db.execute("INSERT INTO checkpoints VALUES (?, ?)", (run, BATCH))
        db.execute("COMMIT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=400, help="runs per sample")
    args = parser.parse_args()
    variants: dict[str, tuple[Callable[[], sqlite3.Connection], str]] = {
        "two transactions": (open_db, "two"),
        "one transaction": (open_db, "one"),
        "one, no UPDATE": (open_db, "ended"),
        "page 8 KiB": (lambda: open_db(page=8192), "ended"),
        "page 16 KiB": (lambda: open_db(page=16384), "ended"),
        "runs WITHOUT ROWID": (lambda: open_db(without_rowid=True), "ended"),
        "autocheckpoint 10000": (lambda: open_db(autocheckpoint=10000), "ended"),
    }
    dbs = {name: (make(), mode) for name, (make, mode) in variants.items()}
    for db, mode in dbs.values():  # warm-up: the files, the WAL
        for _ in range(300):
            one_run(db, mode)
    samples: dict[str, list[float]] = {name: [] for name in dbs}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, (db, mode) in dbs.items():
            began = time.process_time()
            for _ in range(args.runs):
                one_run(db, mode)
            samples[name].append((time.process_time() - began) / args.runs * 1e6)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; {args.rounds} "
        f"interleaved rounds of {args.runs} runs each; CPU µs per run, median (min-max). "
        f"Load average (1 min) {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.\n"
    )
    print("| variant | µs per run |\n|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f}) |")


if __name__ == "__main__":
    main()
