"""Start-up A/B in pairs: `check` and `run --model mock` of this checkout and of a
baseline tree, each round one process of each, the order alternating; or (`--phases`)
bench/profile_startup.py's phases, both trees round by round.

    python bench/ab_startup.py --baseline /tmp/base/pkg --rounds 31
    python bench/ab_startup.py --baseline /tmp/base/pkg --rounds 9 --phases

bench_startup.py times six commands a round on a shared host, where one command's two
medians may cross; here each round's difference (this tree less the baseline) is kept
too, and its median printed beside the medians. Prints only (bench_startup.py and
profile_startup.py write bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import profile_startup
from bench_startup import _CLI, EXAMPLE, tree_env

COMMANDS = {
    "rolegraph check self_refine.agent": ["check", str(EXAMPLE)],
    "rolegraph run self_refine.agent --model mock -q --no-store": [
        *("run", str(EXAMPLE), "--model", "mock", "-i", '{"task": "x"}', "-q", "--no-store")
    ],
    # (the summary printed, as a run without -q prints it when not drawn live)
    "rolegraph run self_refine.agent --model mock --no-store": [
        *("run", str(EXAMPLE), "--model", "mock", "-i", '{"task": "x"}', "--no-store")
    ],
}


def _process(arguments: list[str], pythonpath: str | None) -> tuple[float, str]:
    """(CPU ms, stdout) of one new process."""
    process = subprocess.Popen(
        [sys.executable, *arguments],
        env=tree_env(pythonpath),
        cwd="/tmp",
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{arguments} failed")
    return (usage.ru_utime + usage.ru_stime) * 1000, out


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--phases", action="store_true")
    args = parser.parse_args()
    trees = [None, args.baseline]
    if args.phases:
        phases: list[list[dict[str, float]]] = [[], []]
        for round_ in range(args.rounds + 1):  # (the first round writes the caches)
            for tree in (0, 1) if round_ % 2 else (1, 0):
                whole, out = _process(["-c", profile_startup._ROUND, str(EXAMPLE)], trees[tree])
                spent: dict[str, float] = json.loads(out)
                spent["the exit (the collector frozen)"] = whole - sum(spent.values())
                if round_:
                    phases[tree].append(spent)
        print("| phase | this tree, CPU ms | baseline, CPU ms |\n|---|---|---|")
        for name in phases[0][0]:
            mine, base = ([r[name] for r in rounds] for rounds in phases)
            print(f"| {name} | {_spread(mine)} | {_spread(base)} |")
        mine, base = ([sum(r.values()) for r in rounds] for rounds in phases)
        print(f"| all of them (the process's CPU) | {statistics.median(mine):.0f} | "
              f"{statistics.median(base):.0f} |")  # fmt: skip
        return
    times: dict[str, list[list[float]]] = {name: [[], []] for name in COMMANDS}
    for round_ in range(args.rounds + 1):
        for name, command in COMMANDS.items():
            for tree in (0, 1) if round_ % 2 else (1, 0):
                cpu, _ = _process(["-c", _CLI, json.dumps(command)], trees[tree])
                if round_:
                    times[name][tree].append(cpu)
    print("| command | this tree, CPU ms | baseline, CPU ms | ratio | each round's difference |")
    print("|---|---|---|---|---|")
    for name, (mine, base) in times.items():
        ratio = statistics.median(mine) / statistics.median(base)
        differences = [a - b for a, b in zip(mine, base, strict=True)]
        print(
            f"| {name} | {_spread(mine)} | {_spread(base)} | {ratio:.3f} | "
            f"{statistics.median(differences):+.1f} ms |"
        )


if __name__ == "__main__":
    main()
