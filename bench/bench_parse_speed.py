"""Front-end throughput: lines per second (CPU) parsing an 11k-line generated program,
with and without a comment before every statement, against Lark's parse alone.

    python bench/bench_parse_speed.py                        # this checkout
    python bench/bench_parse_speed.py --baseline /tmp/base   # against another tree, A/B

Each sample is a new process (the grammar loaded and a small file parsed first, not
counted) that parses the file once; rounds interleave the trees. `--baseline`: as for
bench/bench_startup.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_startup import tree_env
from generate import large_program

_CHILD = """
import gc, json, sys, time
from rolegraph.grammar import parse_module
from rolegraph.grammar.parser import grammar_parser
text = open(sys.argv[1]).read()
parse_module(text[: text.index("agent Pipeline")])  # grammar, validators, lexer states
began = time.process_time()
result = parse_module(text)
parsed = time.process_time() - began
assert result.module is not None, result.diagnostics[:1]
gc.disable()
began = time.process_time()
grammar_parser().parse(text)
lark = time.process_time() - began
print(json.dumps([parsed, lark]))
"""


def sample(path: Path, pythonpath: str | None) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        env=tree_env(pythonpath),
        cwd="/tmp",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    parsed, lark = json.loads(out.strip().splitlines()[-1])
    return parsed, lark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--baseline-name", default="baseline")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    files = {}
    for comments in (False, True):
        text = large_program(args.roles, args.nodes, comments=comments)
        path = Path(f"/tmp/rolegraph-bench-{args.roles}-{args.nodes}-{int(comments)}.agent")
        path.write_text(text)
        files["a comment per statement" if comments else "no comments"] = (
            path,
            text.count("\n"),
        )
    trees: dict[str, str | None] = {"this tree": None}
    if args.baseline is not None:
        trees[args.baseline_name] = str(args.baseline.resolve())
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {
        (f, t): [] for f in files for t in trees
    }
    for round_ in range(args.rounds):
        order = list(trees.items())
        if round_ % 2:
            order.reverse()
        for name, (path, _) in files.items():
            for tree, pythonpath in order:
                samples[(name, tree)].append(sample(path, pythonpath))

    lines = [
        f"Program: bench/generate.py `large_program({args.roles}, {args.nodes})`, with and "
        f"without a `// note` line before every statement and declaration. Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"CPU time of one parse in a new process (grammar already loaded); median (min-max) "
        f"of {args.rounds} interleaved rounds.",
        "",
        "| file | tree | lines | parse, CPU ms | lines/s | Lark alone, lines/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, (_, count) in files.items():
        for tree in trees:
            runs = samples[(name, tree)]
            parse = [r[0] for r in runs]
            rate = [count / r[0] for r in runs]
            lark = statistics.median(count / r[1] for r in runs)
            lines.append(
                f"| {name} | {tree} | {count:,} | {statistics.median(parse) * 1000:,.0f} "
                f"({min(parse) * 1000:,.0f}-{max(parse) * 1000:,.0f}) | "
                f"{statistics.median(rate):,.0f} ({min(rate):,.0f}-{max(rate):,.0f}) | "
                f"{lark:,.0f} |"
            )
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        from bench_frontend import record

        command = "python bench/bench_parse_speed.py" + (
            f" --rounds {args.rounds}" if args.rounds != 7 else ""
        )
        if args.baseline is not None:
            command += f" --baseline {args.baseline} --baseline-name '{args.baseline_name}'"
        record(report, command, key="parse-speed", title="Front end: lines per second")


if __name__ == "__main__":
    main()
