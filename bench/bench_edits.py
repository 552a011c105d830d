"""Validated edits per second on a 20-node agent, and the share of valid candidates.

Every candidate of every operator is applied and checked by the editor's check (names,
types, IR, graph analyses, the search for a returning run); an edit counts as validated
when the checker accepts it. The edits offered by the editor are then re-checked by the
full checker.

    python bench/bench_edits.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_frontend import record
from generate import large_program

import rolegraph
from rolegraph.compiler import check
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.edits.base import parse_decl, parse_statement

ROUNDS = 7


def one_round(module, candidates) -> tuple[float, int]:
    """Every candidate applied and checked once by a new editor (nothing remembered from
    an earlier round): the seconds it took, and how many checked."""
    parse_statement.cache_clear()
    parse_decl.cache_clear()
    shallow = getattr(check, "_SHALLOW", None)  # declarations measured shallow (issue 15)
    if shallow is not None:
        shallow.clear()
    editor = rolegraph.editor("edits.agent")
    valid = 0
    began = time.process_time()
    for edit in candidates:
        try:
            editor.apply(module, edit)
            valid += 1
        except EditError:
            pass
    return time.process_time() - began, valid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", help="record as `edits-LABEL` (another tree, by PYTHONPATH)")
    args = parser.parse_args()
    module = rolegraph.parse(large_program(roles=20, nodes=20), "edits.agent")
    editor = rolegraph.editor("edits.agent")
    candidates = [edit for operator in OPERATORS for edit in operator.sites(module)]
    rounds = [one_round(module, candidates) for _ in range(ROUNDS)]
    elapsed = statistics.median(seconds for seconds, _ in rounds)
    valid = rounds[0][1]
    rates = sorted(len(candidates) / seconds for seconds, _ in rounds)
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
            f"| candidates applied and checked per CPU second (median of {ROUNDS} "
            f"rounds, each with a new editor; range {rates[0]:,.0f} to {rates[-1]:,.0f}) | "
            f"{len(candidates) / elapsed:,.0f} | ≥ 1,000 |",
            f"| candidates that check | {valid} of {len(candidates)} "
            f"({valid / len(candidates):.0%}) | (the editor filters the rest) |",
            f"| edits offered by the editor that check clean | {checked_clean} of {len(offered)} "
            f"({checked_clean / max(1, len(offered)):.0%}) | 100% |",
        ]
    )
    print(report)
    command = "python bench/bench_edits.py"
    if args.label:
        command = f"PYTHONPATH=<{args.label}> {command} --label '{args.label}'"
    record(
        report,
        command,
        key=f"edits-{args.label.split()[0]}" if args.label else "edits",
        title="Edits: validated edits per second" + (f" ({args.label})" if args.label else ""),
    )


if __name__ == "__main__":
    main()
