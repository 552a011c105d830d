"""Validated edits per second on a 20-node agent, and the share of valid candidates.

Every candidate of every operator is applied and checked by the full checker (names,
types, IR, graph analyses); an edit counts as validated when the checker accepts it.

    python bench/bench_edits.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_frontend import record
from generate import large_program

import rolegraph
from rolegraph.compiler.edits import OPERATORS, EditError


def main() -> None:
    module = rolegraph.parse(large_program(roles=20, nodes=20), "edits.agent")
    editor = rolegraph.editor("edits.agent")
    candidates = [edit for operator in OPERATORS for edit in operator.sites(module)]
    valid = 0
    began = time.perf_counter()
    for edit in candidates:
        try:
            editor.apply(module, edit)
            valid += 1
        except EditError:
            pass
    elapsed = time.perf_counter() - began
    offered = list(editor.applicable(module))
    checked_clean = sum(
        1
        for edit in offered
        if not [d for d in editor.check(editor.apply(module, edit)) if d.is_error]
    )
    report = "\n".join(
        [
            f"Program: 20 roles and one agent of 20 nodes; {len(candidates)} candidate edits "
            f"from {len(OPERATORS)} operators.",
            "",
            "| figure | value | target |",
            "|---|---|---|",
            f"| candidates applied and checked per second (one core) | "
            f"{len(candidates) / elapsed:,.0f} | ≥ 1,000 |",
            f"| candidates that check | {valid} of {len(candidates)} "
            f"({valid / len(candidates):.0%}) | (the editor filters the rest) |",
            f"| edits offered by the editor that check clean | {checked_clean} of {len(offered)} "
            f"({checked_clean / max(1, len(offered)):.0%}) | 100% |",
        ]
    )
    print(report)
    record(
        report,
        "python bench/bench_edits.py",
        key="edits",
        title="Edits: validated edits per second",
    )


if __name__ == "__main__":
    main()
