"""The explorer on the agents that were exponential: CPU seconds of `check_source`, this
tree against a baseline, interleaved, one process a check (explorer-within-s16).

    python bench/bench_explorer_fan_in.py --baseline /tmp/s16-base/pkg --baseline-name main_ef1055f

The agents are tests/test_explorer_within_step.py's: `fan_in(k)` (k firings of one node
at one logical time, each taking a guarded edge or not) and `guarded(g)` (one node with g
guarded edges). A check that runs past `--timeout` seconds is printed as such.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_CHECK = """
import sys, time
sys.path.append({root!r})
from tests.test_explorer_within_step import fan_in, guarded
import rolegraph
text = {kind}({size})
start = time.process_time()
rolegraph.check_source(text, "bench.agent")
print(time.process_time() - start)
"""


def one_check(kind: str, size: int, pythonpath: str | None, timeout: float) -> str:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    code = ONE_CHECK.format(root=str(ROOT), kind=kind, size=size)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd="/tmp",  # (not the checkout: `rolegraph` is the tree's that PYTHONPATH names)
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f}"
    if done.returncode:
        return "failed: " + done.stderr.strip().splitlines()[-1]
    return f"{float(done.stdout):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a tree laid out as a package (PYTHONPATH)")
    parser.add_argument("--baseline-name", default="baseline")
    parser.add_argument("--k", type=int, nargs="*", default=[8, 12, 14, 16, 18])
    parser.add_argument("--g", type=int, nargs="*", default=[12, 16, 18, 20])
    parser.add_argument("--timeout", type=float, default=120)
    options = parser.parse_args()
    trees = [("this tree", None)]
    if options.baseline:
        trees.insert(0, (options.baseline_name, options.baseline))
    print("| agent | " + " | ".join(name for name, _ in trees) + " |")
    print("|---|" + "---|" * len(trees))
    cases = [("fan_in", k) for k in options.k] + [("guarded", g) for g in options.g]
    for kind, size in cases:
        seconds = [one_check(kind, size, path, options.timeout) for _, path in trees]
        label = f"fan-in, k = {size}" if kind == "fan_in" else f"guards, g = {size}"
        print(f"| {label} | " + " | ".join(seconds) + " |", flush=True)


if __name__ == "__main__":
    main()
