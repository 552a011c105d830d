"""The editor's explorer alone, A/B: the agents one round of bench_edits.py hands it, replayed.

One round of every candidate at N nodes is run once in this tree, and the agents (IRs)
that reach the explorer's errors-only check (`paths._errors_only`) are kept, in order
(pickled: the node and edge objects they share stay shared). Each replay empties the
kept first runs and checks them all in order; CPU medians of 5 replays per process, in
processes alternating between this tree and the baseline. `--check` also compares every
answer with the run followed from the start (`resume=False`). Prints only.

    python bench/bench_explore_replay.py --nodes 100 --baseline /tmp/before-pkg
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def capture(nodes: int, out: str) -> None:
    sys.path.insert(0, str(HERE))
    import bench_edits

    from rolegraph.compiler import paths

    module = bench_edits._program(nodes)
    candidates = bench_edits._candidates(module)
    bench_edits.one_round(module, candidates)  # (first imports, caches warm)
    seen = []
    errors_only = paths._errors_only

    def kept(ir, prune=True, resume=True):
        seen.append(ir)
        return errors_only(ir, prune, resume)

    paths._errors_only = kept
    paths._FOLLOWED = ()
    bench_edits.one_round(module, candidates)
    sys.setrecursionlimit(100_000)
    with open(out, "wb") as file:
        pickle.dump(seen, file)


def replay(path: str, check: bool) -> None:
    sys.setrecursionlimit(100_000)
    from rolegraph.compiler import paths

    with open(path, "rb") as file:
        irs = pickle.load(file)

    def answers(resume: bool = True) -> list:
        paths._FOLLOWED = ()
        return [[d.code for d in paths._errors_only(ir, True, resume)] for ir in irs]

    if check:
        assert answers() == answers(resume=False), "an answer differs from the start's"
    times = []
    for _ in range(5):
        began = time.process_time()
        answers()
        times.append(time.process_time() - began)
    print(f"{statistics.median(times) * 1000:.1f} {len(irs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--baseline", help="a directory laid out as the installed package")
    parser.add_argument("--processes", type=int, default=3, help="processes per tree")
    parser.add_argument("--check", action="store_true", help="answers against resume=False")
    parser.add_argument("--capture", help=argparse.SUPPRESS)
    parser.add_argument("--replay", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.capture:
        capture(args.nodes, args.capture)
        return
    if args.replay:
        replay(args.replay, args.check)
        return
    with tempfile.TemporaryDirectory() as folder:
        kept = os.path.join(folder, "irs.pickle")
        me = [sys.executable, __file__, "--nodes", str(args.nodes)]
        subprocess.run([*me, "--capture", kept], check=True)
        found: dict[str, list[float]] = {"after": [], "before": []}
        for _ in range(args.processes):
            for name, path in (("after", None), ("before", args.baseline)):
                if name == "before" and not path:
                    continue
                env = dict(os.environ)
                if path:
                    env["PYTHONPATH"] = path
                flags = ["--check"] if args.check else []
                done = subprocess.run(
                    [*me, "--replay", kept, *flags],
                    env=env,
                    cwd=folder,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                milliseconds, count = done.stdout.split()
                found[name].append(float(milliseconds))
        print(f"{count} agents explored, ms per replay (median of 5), per process:")
        for name, values in found.items():
            if values:
                print(f"  {name}: " + " / ".join(f"{v:.1f}" for v in values))
        if found["before"]:
            ratio = statistics.median(found["after"]) / statistics.median(found["before"])
            print(f"  after ÷ before: {ratio:.2f}x")


if __name__ == "__main__":
    main()
