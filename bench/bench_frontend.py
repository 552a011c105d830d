"""Front-end speed: parse, print and format a generated program of 200 roles and one
200-node agent. Writes its table into bench/RESULTS.md.

    python bench/bench_frontend.py            # print and record the figures
    python bench/bench_frontend.py --repeat 5 # fewer repetitions
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import large_program

import rolegraph
from rolegraph.compiler.printer import fingerprint, to_source
from rolegraph.grammar import parse_module

RESULTS = Path(__file__).with_name("RESULTS.md")


def median_seconds(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def cold_parse_seconds(path: Path) -> float:
    """A fresh process: grammar load (from Lark's cache) plus one parse."""
    code = (
        "import time; t = time.perf_counter(); "
        "from rolegraph.grammar import parse_module; "
        f"parse_module(open({str(path)!r}).read()); print(time.perf_counter() - t)"
    )
    runs = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(3)]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    text = large_program(200, 200)
    lines = text.count("\n")
    path = Path("/tmp/rolegraph-bench-large.agent")
    path.write_text(text)
    module = parse_module(text).module
    assert module is not None

    rows = []
    parse_s = median_seconds(lambda: parse_module(text), args.repeat)
    rows.append(("parse (text → AST, comments attached)", parse_s))
    print_s = median_seconds(lambda: to_source(module), args.repeat)
    rows.append(("print (AST → canonical text)", print_s))
    fmt_s = median_seconds(lambda: rolegraph.format_source(text), args.repeat)
    rows.append(("fmt (parse + print with comments)", fmt_s))
    fp_s = median_seconds(lambda: fingerprint(module), args.repeat)
    rows.append(("fingerprint", fp_s))
    cold_s = cold_parse_seconds(path)

    table = [
        f"Generated program: 200 roles, one agent of 200 nodes; {lines} lines, "
        f"{len(text) // 1024} KiB.",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; median of "
        f"{args.repeat} runs.",
        "",
        "| step | median | lines per second |",
        "|---|---|---|",
    ]
    for name, seconds in rows:
        table.append(f"| {name} | {seconds * 1000:.1f} ms | {lines / seconds:,.0f} |")
    table.append(f"| cold start: new process, grammar load + parse | {cold_s * 1000:.0f} ms | |")
    report = "\n".join(table)
    print(report)
    if not args.no_write:
        record(report, f"python bench/bench_frontend.py --repeat {args.repeat}")


def record(
    report: str, command: str, key: str = "frontend", title: str = "Front end: parse and print"
) -> None:
    """Write (or replace) the section `key` of bench/RESULTS.md."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    section = f"{start}\n## {title}\n\nCommand: `{command}`\n\n{report}\n{end}"
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if start in current:
        head, rest = current.split(start, 1)
        tail = rest.split(end, 1)[1]
        current = head + section + tail
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(current)


if __name__ == "__main__":
    main()
