"""Hunts latency-dependent runs among random agents whose two-input joins join nodes
fired twice at one logical time (tests/test_join_order.py `doubled_agents`): each agent
is run under every latency profile (`runs_agree_with_the_explorer`) and counted as valid
(it compiles), latency-dependent (its result or trace in logical time differs between
profiles), or otherwise failing (what the explorer says does not hold of a run).

    python bench/fuzz_join_order.py --examples 2000
    PYTHONPATH=/tmp/s15-base/pkg python bench/fuzz_join_order.py --examples 2000  # main

Seeded (`derandomize`): the same agents for the same count, on every tree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.append(str(Path(__file__).resolve().parent.parent))

import rolegraph
from tests.test_edge_reads import runs_agree_with_the_explorer, tools
from tests.test_join_order import ONE, doubled_agents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--show", type=int, default=2, help="latency-dependent agents to print")
    args = parser.parse_args()
    counts = {"generated": 0, "valid": 0, "latency-dependent": 0, "other failures": 0}
    shown: list[str] = []

    @settings(
        max_examples=args.examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(doubled_agents())
    def hunt(agent: str) -> None:
        counts["generated"] += 1
        if rolegraph.check_source(tools(*ONE) + agent, "reads.agent").errors:
            return
        counts["valid"] += 1
        try:
            runs_agree_with_the_explorer(agent, ONE, ("step", "th", "risky"), {"W0406"})
        except AssertionError as error:
            said = error.args[0] if error.args else None
            # (`runs_agree_with_the_explorer`'s first assertion says (agent, the runs))
            differs = isinstance(said, tuple) and isinstance(said[1], list)
            kind = "latency-dependent" if differs else "other failures"
            counts[kind] += 1
            if len(shown) < args.show:
                shown.append(f"{kind}:\n{agent}")
        if counts["generated"] % 100 == 0:  # (so far: what a run cut short still says)
            print(", ".join(f"{name}: {count}" for name, count in counts.items()), flush=True)

    hunt()
    print(f"rolegraph from {Path(rolegraph.__file__).parent}")
    print(", ".join(f"{name}: {count}" for name, count in counts.items()))
    for text in shown:
        print(text)


if __name__ == "__main__":
    main()
