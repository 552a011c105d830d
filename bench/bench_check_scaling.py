"""How `check` scales: chains and stage graphs of 100, 1,000, 3,000 and 10,000 nodes, CPU
time and memory per node (issue 15, item 5).

    python bench/bench_check_scaling.py            # the four sizes, recorded in RESULTS.md
    python bench/bench_check_scaling.py --quick    # small sizes only, nothing recorded

Each size is checked in a new process (parse + the whole check: types, IR, analyses,
the exploration of every run for stalls and constraints), with a time limit; the process
reports the CPU time of the check and how far it raised the peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import large_program  # noqa: E402

from tests.hostile import chain_agent  # noqa: E402

SHAPES = {
    "chain (each node reads the one before)": chain_agent,
    # stages of ten nodes: a replicated node, a map, a merge, a bounded revision loop
    "stage graph (bench/generate.py, 20 roles)": lambda nodes: large_program(20, nodes),
}

_CHECK = """
import json, resource, sys, time
import rolegraph
text = open(sys.argv[1]).read()
rolegraph.check_source(open(sys.argv[2]).read(), "warm.agent")  # imports, validators
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.process_time()
checked = rolegraph.check_source(text, "scaled.agent")
seconds = time.process_time() - began
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
errors = [d.code for d in checked.errors]
print(json.dumps([seconds, (after - before) / 1024, errors]))
"""


def measure(text: str, warm: str, limit: float) -> tuple[float, float] | None:
    """(CPU seconds, MiB the peak memory rose) of one check, or None past `limit`."""
    with tempfile.TemporaryDirectory() as folder:
        path, warm_path = Path(folder, "scaled.agent"), Path(folder, "warm.agent")
        path.write_text(text)
        warm_path.write_text(warm)
        try:
            out = subprocess.run(
                [sys.executable, "-c", _CHECK, str(path), str(warm_path)],
                capture_output=True,
                text=True,
                timeout=limit,
                cwd=tempfile.gettempdir(),
                check=True,
            ).stdout
        except subprocess.TimeoutExpired:
            return None
    seconds, mib, errors = json.loads(out.strip().splitlines()[-1])
    if errors:
        raise SystemExit(f"the generated program has errors: {errors[:5]}")
    return seconds, mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 20 and 100; no record")
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per check")
    parser.add_argument(
        "--label", help="record as `check-scaling-LABEL` (another tree, by PYTHONPATH)"
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sizes = args.sizes or ([20, 100] if args.quick else [100, 1000, 3000, 10000])

    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}. One check per size, each in a new process (imports "
        "and a small check first, not counted); memory: how far the check raised the "
        "process's peak resident set.",
        "",
        "| shape | nodes | check, CPU s | µs per node | peak memory +MiB | KiB per node |",
        "|---|---|---|---|---|---|",
    ]
    for shape, build in SHAPES.items():
        per_node: list[float] = []
        for nodes in sizes:
            outcome = measure(build(nodes), build(10), args.limit)
            if outcome is None:
                lines.append(f"| {shape} | {nodes:,} | over {args.limit:.0f} s | | | |")
                print(lines[-1], flush=True)
                break
            seconds, mib = outcome
            per_node.append(seconds / nodes)
            lines.append(
                f"| {shape} | {nodes:,} | {seconds:.3f} | {seconds / nodes * 1e6:,.0f} | "
                f"{mib:.1f} | {mib * 1024 / nodes:.1f} |"
            )
            print(lines[-1], flush=True)
        if len(per_node) > 1:
            lines.append(
                f"| {shape}: largest ÷ smallest time per node | | "
                f"{max(per_node) / min(per_node):.2f} times | | | |"
            )
    report = "\n".join(lines)
    print(report)
    if not args.no_write and not args.quick:
        from bench_frontend import record

        command = f"python bench/bench_check_scaling.py --limit {args.limit:g}"
        title = "Checker: time and memory per node, 100 to 10,000 nodes"
        if args.label:
            command = f"PYTHONPATH=<{args.label}> {command} --label '{args.label}'"
        record(
            report,
            command,
            key=f"check-scaling-{args.label.split()[0]}" if args.label else "check-scaling",
            title=f"{title} ({args.label})" if args.label else title,
        )


if __name__ == "__main__":
    main()
