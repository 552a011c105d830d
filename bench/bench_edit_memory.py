"""The memory a long-lived process holds after many edits (an editor in the LSP server, a
long search): a seeded walk of edits on the generated agent of bench_edits.py (back to the
start program every 25 edits, each program printed as a search fingerprints it), with
the traced memory (after a collection) and the size of each identity table every
`--every` edits. Run it with another tree first on PYTHONPATH to compare:

    python bench/bench_edit_memory.py --edits 20000
    PYTHONPATH=/tmp/s6-base/pkg python bench/bench_edit_memory.py --edits 20000
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
    options = parser.parse_args()
    sys.path.insert(0, str(HERE))
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


if __name__ == "__main__":
    main()
