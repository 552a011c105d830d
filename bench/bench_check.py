"""Checker speed: `check` on the generated 200-node agent, stage by stage, and the time
of the static temporal-constraint check of every example. Writes bench/RESULTS.md.

    python bench/bench_check.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_frontend import median_seconds, record
from generate import large_program

from rolegraph import check_source, parse
from rolegraph.compiler.analyses import analyse
from rolegraph.compiler.lower import build_ir
from rolegraph.compiler.paths import explore_agent
from rolegraph.compiler.resolve import load_program
from rolegraph.compiler.typecheck import check_program
from rolegraph.grammar import parse_module

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn, repeat: int) -> float:
    return median_seconds(fn, repeat) * 1000


def parse_import(text: str, name: str):
    result = parse_module(text, name)
    return result.module, result.diagnostics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    text = large_program(200, 200)
    module = parse(text, "generated.agent")
    program = load_program(module, "generated.agent", parse_import, text)
    checked = check_program(program)
    agent = checked.agents["Pipeline"]
    ir = build_ir(checked, agent)

    def resolve_and_type() -> None:
        check_program(load_program(module, "generated.agent", parse_import, text))

    result = check_source(text, "generated.agent")
    states = max((c.states for c in result.constraints), default=0)
    statuses = ", ".join(sorted({c.status for c in result.constraints}))
    rows = [
        ("parse", median_ms(lambda: parse_module(text), args.repeat)),
        (
            "resolve + type check (roles, prompts, tools, agent)",
            median_ms(resolve_and_type, args.repeat),
        ),
        ("build the IR", median_ms(lambda: build_ir(checked, agent), args.repeat)),
        (
            "graph analyses (cycles, races, unused, cost)",
            median_ms(lambda: analyse(ir), args.repeat),
        ),
        (
            f"explore runs: stalls, reachability, 2 constraints ({states} states, {statuses})",
            median_ms(lambda: explore_agent(ir), args.repeat),
        ),
        (
            "whole `check` (all of the above)",
            median_ms(lambda: check_source(text, "generated.agent"), args.repeat),
        ),
    ]
    lines = [
        "Generated program: 200 roles and one agent of 200 nodes in 20 stages (each with a "
        "replicated node, a map, a merge and a bounded revision loop).",
        f"Median of {args.repeat} runs.",
        "",
        "| stage | median |",
        "|---|---|",
        *[f"| {name} | {ms:.0f} ms |" for name, ms in rows],
        "",
        "Static temporal-constraint check per example (exploration of every run; median of "
        f"{args.repeat * 4} runs):",
        "",
        "| example | constraints | states | verdict | time |",
        "|---|---|---|---|---|",
    ]
    for path in sorted((ROOT / "examples").glob("*.agent")):
        example = check_source(path.read_text(), str(path))
        for name, example_ir in example.irs.items():
            if not example_ir.constraints:
                continue
            ms = median_ms(lambda example_ir=example_ir: explore_agent(example_ir), args.repeat * 4)
            found = [c for c in example.constraints if c.agent == name]
            lines.append(
                f"| {path.name} ({name}) | {len(found)} | {found[0].states} | "
                f"{', '.join(c.status for c in found)} | {ms:.2f} ms |"
            )
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        record(
            report,
            f"python bench/bench_check.py --repeat {args.repeat}",
            key="check",
            title="Checker: resolve, types, IR, analyses, constraints",
        )


if __name__ == "__main__":
    main()
