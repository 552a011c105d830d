"""Start-up: the CPU time, wall time and memory of short commands, each a new process.

    python bench/bench_startup.py                        # this checkout
    python bench/bench_startup.py --baseline /tmp/base   # against another tree, A/B

`--baseline` names a folder that holds a `rolegraph` package laid out as installed
(`rolegraph/compiler`, `rolegraph/grammar`, ...: an older commit's folders copied in);
it is put first on PYTHONPATH for the baseline's runs. Rounds interleave the two trees
and the commands (the order alternating), so load on the machine falls on both alike.
Every process runs with the bytecode cache (as an installed package does): one run of
each command first writes it, and is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "self_refine.agent"

# `main()` as the `rolegraph` script calls it; the arguments come as JSON
_CLI = "import json, sys; sys.argv = ['rolegraph', *json.loads(sys.argv[1])]; " + (
    "from rolegraph.cli import main; sys.exit(main())"
)

COMMANDS: dict[str, list[str]] = {
    "python -c pass (the interpreter alone)": ["-c", "pass"],
    "import rolegraph": ["-c", "import rolegraph"],
    "import rolegraph.runtime": ["-c", "import rolegraph.runtime"],
    "rolegraph --help": ["-c", _CLI, json.dumps(["--help"])],
    "rolegraph check self_refine.agent": ["-c", _CLI, json.dumps(["check", str(EXAMPLE)])],
    "rolegraph run self_refine.agent --model mock": [
        "-c",
        _CLI,
        json.dumps(
            ["run", str(EXAMPLE), "--model", "mock", "-i", '{"task": "x"}', "-q", "--no-store"]
        ),
    ],
}


def tree_env(pythonpath: str | None) -> dict[str, str]:
    """The environment of a process that times a tree: this one's, reading the bytecode
    cache (both trees compiled), with `pythonpath` first when given (a baseline laid out
    as installed). Every start-up bench runs its processes so."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return env


def sample(arguments: list[str], pythonpath: str | None) -> tuple[float, float, float]:
    """(CPU seconds, wall seconds, peak RSS in MiB) of one process."""
    env = tree_env(pythonpath)
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *arguments],
        env=env,
        cwd="/tmp",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{arguments} exited with {process.returncode}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def spread(values: list[float], scale: float, digits: int = 0) -> str:
    return (
        f"{statistics.median(values) * scale:.{digits}f} "
        f"({min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline", type=Path, help="a tree holding an older `rolegraph`")
    parser.add_argument("--baseline-name", default="baseline")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    trees: dict[str, str | None] = {"this tree": None}
    if args.baseline is not None:
        trees[args.baseline_name] = str(args.baseline.resolve())
    samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for name, arguments in COMMANDS.items():
        for tree, path in trees.items():
            sample(arguments, path)  # writes the bytecode cache
            samples[(name, tree)] = []
    for round_ in range(args.rounds):
        order = list(trees.items())
        if round_ % 2:
            order.reverse()
        for name, arguments in COMMANDS.items():
            for tree, path in order:
                samples[(name, tree)].append(sample(arguments, path))

    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.rounds} interleaved rounds; median (min-max). "
        "CPU = user + system time of the process; each a new process with the bytecode cache.",
        "",
        "| command | tree | CPU ms | wall ms | peak RSS MiB |",
        "|---|---|---|---|---|",
    ]
    for name in COMMANDS:
        for tree in trees:
            runs = samples[(name, tree)]
            cpu, wall = spread([r[0] for r in runs], 1000), spread([r[1] for r in runs], 1000)
            rss = statistics.median(r[2] for r in runs)
            lines.append(f"| {name} | {tree} | {cpu} | {wall} | {rss:.0f} |")
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_frontend import record

        command = "python bench/bench_startup.py" + (
            f" --rounds {args.rounds}" if args.rounds != 15 else ""
        )
        if args.baseline is not None:
            command += f" --baseline {args.baseline} --baseline-name '{args.baseline_name}'"
        record(report, command, key="startup", title="Start-up: short commands, each a new process")


if __name__ == "__main__":
    main()
