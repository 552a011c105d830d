"""Validated edits per second on agents of 20 and 100 nodes, before and after, interleaved.

Every candidate of every operator is applied and checked by the editor's check (names,
types, IR, graph analyses, the search for a returning run); an edit counts as validated
when the checker accepts it. A round is every candidate once, with a new editor (nothing
remembered from an earlier round). Each round runs in its own process, so that another
tree (`--baseline DIR`: a directory laid out as the installed package, on PYTHONPATH) can
run in the same rounds: after, before, after, before... The edits offered by the editor
are then re-checked by the full checker from scratch (no memo), and must all be clean.

    python bench/bench_edits.py --baseline /tmp/before-pkg          # 20 and 100 nodes
    python bench/bench_edits.py --quick                              # a small run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ROLES = 20


def _program(nodes: int):
    from generate import large_program

    import rolegraph

    return rolegraph.parse(large_program(roles=ROLES, nodes=nodes), "edits.agent")


def _candidates(module):
    from rolegraph.compiler.edits import OPERATORS

    return [edit for operator in OPERATORS for edit in operator.sites(module)]


def one_round(module, candidates) -> tuple[float, int, dict[str, float]]:
    """Every candidate applied and checked once by a new editor: the CPU seconds it took,
    how many checked, and the seconds per operator."""
    import rolegraph
    from rolegraph.compiler import check, depth
    from rolegraph.compiler.edits import EditError
    from rolegraph.compiler.edits.base import parse_decl, parse_statement

    parse_statement.cache_clear()
    parse_decl.cache_clear()
    shallow = getattr(check, "_SHALLOW", None)  # declarations measured shallow (issue 15)
    if shallow is not None:
        shallow.clear()
    clear_measured = getattr(depth, "clear_measured", None)  # (there since edits-s5c)
    if clear_measured is not None:
        clear_measured()
    editor = rolegraph.editor("edits.agent")
    valid = 0
    by_op: dict[str, float] = defaultdict(float)
    began = time.process_time()
    for edit in candidates:
        start = time.process_time()
        try:
            editor.apply(module, edit)
            valid += 1
        except EditError:
            pass
        by_op[edit.op] += time.process_time() - start
    return time.process_time() - began, valid, dict(by_op)


def child(nodes: int, rounds: int) -> None:
    """One process's rounds (the first, which pays for first imports, is not counted)."""
    module = _program(nodes)
    candidates = _candidates(module)
    one_round(module, candidates)
    results = [one_round(module, candidates) for _ in range(rounds)]
    count: dict[str, int] = defaultdict(int)
    for edit in candidates:
        count[edit.op] += 1
    print(json.dumps({"rounds": results, "candidates": len(candidates), "count": count}))


def run_child(nodes: int, rounds: int, pythonpath: str | None, mode: str = "--child") -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run(
        [sys.executable, __file__, mode, str(nodes), "--rounds", str(rounds)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def offered_clean(nodes: int) -> tuple[int, int]:
    """The edits the editor accepts, each re-checked from scratch by the full checker."""
    import rolegraph
    from rolegraph.compiler.check import check_module
    from rolegraph.compiler.edits import EditError
    from rolegraph.grammar import parse_module

    def parse(source: str, name: str):
        result = parse_module(source, name)
        return result.module, result.diagnostics

    module = _program(nodes)
    editor = rolegraph.editor("edits.agent")
    offered = clean = 0
    for edit in _candidates(module):
        try:
            edited = editor.apply(module, edit)
        except EditError:
            continue
        offered += 1
        checked = check_module(edited, "edits.agent", parse, "", errors_only=True)
        clean += not checked.errors
    return clean, offered


# where a validated edit's time goes: (label, file suffix, function), cumulative times
PHASES = (
    ("applying the edit (`Edit.apply`)", "edits/editor.py", "_applied"),
    ("the trust boundary", "edits/trust.py", "untrusted"),
    ("resolving names and imports", "compiler/resolve.py", "load_program"),
    ("nesting depth", "compiler/check.py", "_too_deep"),
    ("type checking", "compiler/typecheck.py", "check_program"),
    ("building the IR", "compiler/lower.py", "build_ir"),
    ("graph analyses", "compiler/analyses.py", "analyse"),
    ("exploring runs", "compiler/paths.py", "explore_agent"),
)


def profile(nodes: int) -> list[str]:
    """One round under cProfile: the share of each phase of a validated edit."""
    import cProfile
    import pstats

    module = _program(nodes)
    candidates = _candidates(module)
    one_round(module, candidates)
    profiler = cProfile.Profile()
    profiler.enable()
    one_round(module, candidates)
    profiler.disable()
    seen = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    whole = sum(
        v[3] for (f, _, name), v in seen.items() if name == "apply" and f.endswith("editor.py")
    )
    lines = [
        "",
        f"{nodes} nodes, where the time of `Editor.apply` goes (one round under cProfile, "
        "cumulative time per phase):",
        "",
        "| phase | share |",
        "|---|---|",
    ]
    for label, suffix, function in PHASES:
        spent = sum(
            v[3] for (f, _, name), v in seen.items() if name == function and f.endswith(suffix)
        )
        lines.append(f"| {label} | {spent / whole:.0%} |")
    return lines


# the phases timed by `--phases` (module of `rolegraph.compiler`, function, label)
TIMED = (
    ("check", "check_program", "type checking"),
    ("check", "explore_agent", "exploring runs"),
    ("check", "analyse", "graph analyses"),
    ("check", "build_ir", "building the IR"),
    ("edits.editor", "_applied", "applying the edit"),
    ("check", "_too_deep", "nesting depth"),
    ("check", "_graph_shape", "the graph's shape key"),
    ("edits.editor", "untrusted", "the trust boundary"),
    ("check", "load_program", "resolving names"),
)


def phases_child(nodes: int, rounds: int) -> None:
    """One process's rounds with each phase timed (`time.process_time` around it: no
    profiler, whose overhead inflates the phases made of many small calls)."""
    import importlib

    spent: dict[str, float] = defaultdict(float)

    def timed(function, label):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start

        return wrapper

    for module_name, function, label in TIMED:
        module = importlib.import_module(f"rolegraph.compiler.{module_name}")
        setattr(module, function, timed(getattr(module, function), label))
    module = _program(nodes)
    candidates = _candidates(module)
    one_round(module, candidates)
    spent.clear()
    whole = sum(one_round(module, candidates)[0] for _ in range(rounds))
    print(json.dumps({"whole": whole / rounds, **{k: v / rounds for k, v in spent.items()}}))


def phases(nodes: int, processes: int, rounds: int, baseline: str | None) -> list[str]:
    """CPU seconds per round by phase, this tree and the baseline, process by process."""
    found: dict[str, list[dict]] = {"after": [], "before": []}
    for _ in range(processes):
        for name, path in (("after", None), ("before", baseline)):
            if name == "before" and not baseline:
                continue
            found[name].append(run_child(nodes, rounds, path, "--phases-child"))
    lines = [
        "",
        f"{nodes} nodes, CPU seconds per round by phase (medians of {processes} processes x "
        f"{rounds} rounds; each phase timed around its call):",
        "",
        "| phase | before | after |",
        "|---|---|---|",
    ]
    for label in ["whole", *(label for _, _, label in TIMED)]:
        cells = []
        for name in ("before", "after"):
            values = [r.get(label, 0.0) for r in found[name]]
            cells.append(f"{statistics.median(values):.3f}" if values else "-")
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return lines


def _rate(results: list[dict], candidates: int) -> tuple[float, float, float]:
    rates = sorted(candidates / seconds for r in results for seconds, _, _ in r["rounds"])
    return statistics.median(rates), rates[0], rates[-1]


def _per_op(results: list[dict]) -> dict[str, float]:
    """Median milliseconds per edit, by operator."""
    found: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for _, _, by_op in r["rounds"]:
            for op, seconds in by_op.items():
                found[op].append(1000 * seconds / r["count"][op])
    return {op: statistics.median(values) for op, values in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--phases-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--phases", action="store_true", help="CPU seconds per phase, A/B, printed only"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds per process")
    parser.add_argument("--processes", type=int, default=3, help="processes per tree and size")
    parser.add_argument("--nodes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--baseline", help="a directory laid out as the installed package")
    parser.add_argument("--baseline-name", default="", help="what the baseline is, for the table")
    parser.add_argument("--quick", action="store_true", help="20 nodes, one process each")
    parser.add_argument("--profile", action="store_true", help="where the time goes, by phase")
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.rounds)
        return
    if args.phases_child is not None:
        phases_child(args.phases_child, args.rounds)
        return
    if args.phases:
        for nodes in args.nodes:
            print("\n".join(phases(nodes, args.processes, args.rounds, args.baseline)))
        return
    if args.quick:
        args.nodes, args.processes, args.rounds = [20], 1, 1
    before_name = f" ({args.baseline_name})" if args.baseline_name else ""
    load_before = os.getloadavg()
    lines = [
        f"Programs: {ROLES} roles and one agent of N nodes (bench/generate.py, stages of ten "
        "with replication, a map, a merge and a bounded revision loop, two `ensure`s); every "
        "candidate of every operator applied and checked once per round by a new editor. "
        f"CPU time; {args.processes} processes x {args.rounds} rounds per tree and size, the "
        "trees alternating process by process.",
        "",
        f"| nodes | candidates | checked | before{before_name}: edits/s (range) "
        "| after: edits/s (range) "
        "| after ÷ before | offered edits clean under the full checker |",
        "|---|---|---|---|---|---|---|",
    ]
    detail = []
    for nodes in args.nodes:
        after: list[dict] = []
        before: list[dict] = []
        for _ in range(args.processes):
            after.append(run_child(nodes, args.rounds, None))
            if args.baseline:
                before.append(run_child(nodes, args.rounds, args.baseline))
        candidates = after[0]["candidates"]
        valid = after[0]["rounds"][0][1]
        a = _rate(after, candidates)
        b = _rate(before, candidates) if before else None
        clean, offered = offered_clean(nodes)
        lines.append(
            f"| {nodes} | {candidates} | {valid} | "
            + (f"{b[0]:,.0f} ({b[1]:,.0f}-{b[2]:,.0f})" if b else "-")
            + f" | {a[0]:,.0f} ({a[1]:,.0f}-{a[2]:,.0f}) | "
            + (f"{a[0] / b[0]:.2f}x" if b else "-")
            + f" | {clean} of {offered} ({clean / max(1, offered):.0%}) |"
        )
        ops_after, ops_before = _per_op(after), _per_op(before) if before else {}
        detail += [
            "",
            f"{nodes} nodes, median ms per candidate by operator:",
            "",
            "| operator | candidates | before | after |",
            "|---|---|---|---|",
        ]
        for op, ms in ops_after.items():
            was = ops_before.get(op)
            detail.append(
                f"| {op} | {after[0]['count'][op]} | "
                + (f"{was:.2f}" if was is not None else "-")
                + f" | {ms:.2f} |"
            )
    if args.profile:
        for nodes in args.nodes:
            detail += profile(nodes)
    load_after = os.getloadavg()
    detail += [
        "",
        f"Load average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in load_before)} at the "
        f"start, {', '.join(f'{x:.1f}' for x in load_after)} at the end.",
    ]
    report = "\n".join(lines + detail)
    print(report)
    if not args.quick:
        from bench_frontend import record

        command = (
            "python bench/bench_edits.py"
            + (f" --baseline {args.baseline}" if args.baseline else "")
            + (f" --baseline-name '{args.baseline_name}'" if args.baseline_name else "")
            + (" --profile" if args.profile else "")
        )
        record(report, command, key="edits", title="Edits: validated edits per second")


if __name__ == "__main__":
    main()
