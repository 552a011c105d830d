"""A node fired W times at one logical time, joined by another (tests/test_join_order.py
`fan_in`): the Python calls of a run and the `semantics.may_lead_to` calls, counted (not
timed, so independent of load), on this tree and on a baseline, at several widths.

    python bench/count_join_fan_in.py --baseline /tmp/s15-base/pkg --baseline-name main_a23e426
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (100, 200, 800)


def count(width: int) -> dict[str, int]:
    sys.path.append(str(ROOT))
    from rolegraph.compiler import semantics
    from tests.test_edge_reads import compiled
    from tests.test_join_order import counted_run, fan_in

    asked = [0]
    may_lead_to = semantics.may_lead_to

    def counting(*args):
        asked[0] += 1
        return may_lead_to(*args)

    semantics.may_lead_to = counting
    ending, _, calls = counted_run(compiled(fan_in(width)))
    return {"python_calls": calls, "may_lead_to": asked[0], "result": ending[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline")
    parser.add_argument("--baseline-name", default="baseline")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(count(args.one)))
        return
    trees = [("this tree", None)]
    if args.baseline:
        trees.append((args.baseline_name, args.baseline))
    print("| W | tree | Python calls | may_lead_to calls |\n|---|---|---|---|")
    for width in WIDTHS:
        for name, path in trees:
            env = dict(os.environ)
            if path:
                env["PYTHONPATH"] = path
            found = json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--one", str(width)],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            print(f"| {width} | {name} | {found['python_calls']:,} | {found['may_lead_to']:,} |")


if __name__ == "__main__":
    main()
