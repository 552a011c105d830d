"""Python lines per validated-edit candidate, by operator and by phase of the check, on
the agents of bench_edits.py (a warm round: every candidate once, after a first round
that fills the caches). Lines (`sys.settrace`) do not depend on the machine's load, so
two sizes compare where timings on a shared host do not: what grows with the agent.

    python bench/edits_lines.py --nodes 20 100          # every candidate at 20, 100 nodes
    python bench/edits_lines.py --nodes 100 --every 2   # every second candidate

A line of a phase called inside another phase counts for the inner one. Lines are not
time: a comprehension's line costs tens of nanoseconds, a call's many times that.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_edits import _candidates, _program, one_round

# (file name, function) → the phase whose lines its frames' lines count for
PHASES = {
    ("editor.py", "_applied"): "apply",
    ("trust.py", "untrusted"): "trust",
    ("resolve.py", "load_program"): "resolve",
    ("check.py", "_too_deep"): "depth",
    # (the editor's refusal before checking: it measures the agent's depth first)
    ("check.py", "refused_before_checking"): "early",
    ("typecheck.py", "check_program"): "types",
    ("check.py", "_agent_calls"): "calls",
    ("check.py", "_recursion"): "calls",
    ("check.py", "_nested_too_deeply"): "calls",
    ("check.py", "_checked_tests"): "tests",
    ("check.py", "_graph_shape"): "shape",
    ("lower.py", "build_ir"): "IR",
    ("analyses.py", "analyse"): "analyses",
    ("paths.py", "explore_agent"): "explore",
}
ORDER = [
    "types",
    "explore",
    "analyses",
    "IR",
    "apply",
    "depth",
    "early",
    "shape",
    "resolve",
    "calls",
    "tests",
    "trust",
    "other",
]


def counted(nodes: int, every: int) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """(candidates counted by operator, lines by operator and phase) for one warm round
    (the editor is new, as in `one_round`; every `every`-th candidate traced)."""
    import rolegraph
    from rolegraph.compiler.edits import EditError

    module = _program(nodes)
    candidates = _candidates(module)
    one_round(module, candidates)  # (the first round: imports, caches)
    one_round(module, [])  # (the caches a round starts without emptied, as bench_edits does)
    editor = rolegraph.editor("edits.agent")
    lines: dict[str, Counter[str]] = defaultdict(Counter)
    stack = ["other"]
    operator = [""]

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        phase = PHASES.get((code.co_filename.rsplit("/", 1)[-1], code.co_name))
        if event == "call":
            if phase is not None:
                stack.append(phase)
        elif event == "line":
            lines[operator[0]][stack[-1]] += 1
        elif event == "return" and phase is not None and stack[-1] == phase:
            stack.pop()
        return trace

    count: Counter[str] = Counter()
    previous = sys.gettrace()  # (a coverage tool's, put back after each candidate)
    for index, edit in enumerate(candidates):
        traced = index % every == 0
        if traced:
            count[edit.op] += 1
            operator[0] = edit.op
            sys.settrace(trace)
        try:
            editor.apply(module, edit)
        except EditError:
            pass
        finally:
            sys.settrace(previous)
            del stack[1:]
    return count, lines


def table(nodes: int, every: int) -> list[str]:
    count, lines = counted(nodes, every)
    rows = [
        "",
        f"{nodes} nodes, Python lines per candidate by phase"
        + (f" (one candidate in {every})" if every > 1 else "")
        + ":",
        "",
        "| operator | candidates | " + " | ".join(ORDER) + " | all |",
        "|---|---|" + "---|" * (len(ORDER) + 1),
    ]
    for op, n in [*count.items(), ("all", sum(count.values()))]:
        found = lines[op] if op != "all" else sum(lines.values(), Counter())
        cells = [f"{found[phase] / n:,.0f}" for phase in ORDER] + [f"{found.total() / n:,.0f}"]
        rows.append(f"| {op} | {n} | " + " | ".join(cells) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--every", type=int, default=1, help="trace every n-th candidate")
    args = parser.parse_args()
    for nodes in args.nodes:
        print("\n".join(table(nodes, args.every)))


if __name__ == "__main__":
    main()
