"""The memory a long-lived process holds after many edits (an editor in the LSP server, a
long search): a seeded walk of edits on the generated agent of bench_edits.py (back to the
start program every 25 edits, each program printed as a search fingerprints it), with
the traced memory (after a collection) and the size of each identity table every
`--every` edits. Run it with another tree first on PYTHONPATH to compare:

    python bench/bench_edit_memory.py --edits 20000
    PYTHONPATH=/tmp/s6-base/pkg python bench/bench_edit_memory.py --edits 20000

`--rounds N --nodes 100`: instead, N rounds of bench_edits.py's checked candidates, and
what the process keeps after each (run it from another directory for another tree).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent

TABLES = (
    ("compiler.ast", "_DECL_INDEX"),
    ("compiler.printer", "_INLINE"),
    ("compiler.printer", "_BLOCKS"),
    ("compiler.printer", "_PRINTED"),
    ("compiler.printer", "_PIECES"),
    ("compiler.queries", "_HEADS"),
    ("compiler.queries", "_NAMES"),
    ("compiler.queries", "_MENTIONED"),
    ("compiler.edits.base", "_POSITIONS"),
)


def sizes() -> dict[str, int]:
    """The entries of each table (a tree without a table: absent)."""
    import importlib

    found: dict[str, int] = {}
    for module, name in TABLES:
        table = getattr(importlib.import_module(f"rolegraph.{module}"), name, None)
        if table is not None:
            found[name] = len(table)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=2_500)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="instead: rounds of bench_edits.py (every candidate of the program checked by "
        "a new editor), the tracked objects and max RSS after each",
    )
    options = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if options.rounds:
        checked_rounds(options.nodes, options.rounds)
        return
    from generate import large_program

    import rolegraph
    from rolegraph.compiler.edits import OPERATORS, EditError
    from rolegraph.compiler.printer import fingerprint

    print(f"rolegraph from {Path(rolegraph.__file__).parent}")
    start = rolegraph.parse(large_program(roles=5, nodes=options.nodes), "edits.agent")
    rng = random.Random(3)
    module = start
    tracemalloc.start()
    began = time.process_time()
    for done in range(1, options.edits + 1):
        if done % 25 == 1:
            module = start
        listed = [site for operator in OPERATORS for site in operator.sites(module)]
        with contextlib.suppress(EditError, ValueError):  # (a site the program refuses)
            module = rng.choice(listed).apply(module)
        fingerprint(module)
        if done % options.every == 0:
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
            print(
                f"{done:>6} edits  {time.process_time() - began:5.0f} s CPU  traced "
                f"{current / 1e6:5.1f} MB (peak {peak / 1e6:5.1f})  max RSS {rss:4.0f} MB  "
                f"{sizes()}",
                flush=True,
            )


def checked_rounds(nodes: int, rounds: int) -> None:
    """What a process that checks edits keeps, round after round: the checker's, the IR's
    and the analyses' tables (the walk above applies edits without checking them)."""
    import bench_edits

    import rolegraph

    print(f"rolegraph from {Path(rolegraph.__file__).parent}")
    module = bench_edits._program(nodes)
    candidates = bench_edits._candidates(module)
    for done in range(1, rounds + 1):
        bench_edits.one_round(module, candidates)
        gc.collect()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        print(
            f"round {done:>3} ({len(candidates)} candidates): tracked objects "
            f"{len(gc.get_objects()):>9,}  max RSS {rss:4.0f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
