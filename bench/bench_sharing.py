"""How many runs and model calls sharing saves (search/sharing.py), at equal results.

Real runs on the mock model (no simulation): for each agent file, optimizer and seed,
the same search twice, with sharing off (`share=False`: runs stored by the whole
program's fingerprint, every call made) and on (runs stored by what the agent can
reach, replies shared by request). The two must evaluate the same candidates with the
same scores and costs (checked: the bench stops otherwise); the table gives what each
made. The examples are the inputs of the file's own `test` blocks, 2 seeds each.

    python bench/bench_sharing.py --seeds 3 --candidates 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import rolegraph  # noqa: E402
from rolegraph.runtime.testblocks import _constant  # noqa: E402
from rolegraph.search import (  # noqa: E402
    Evaluator,
    Example,
    Objective,
    SearchStore,
    contains,
    evolve,
    mcts,
    random_search,
)

FILES = ["self_refine", "reflexion", "role_router", "self_consistency", "refund_approval"]
OPTIMIZERS = {"random": random_search, "evolve": evolve, "mcts": mcts}


def objective(path: Path) -> Objective:
    module = rolegraph.parse_file(path)
    checked = rolegraph.check_source(path.read_text(), str(path))
    agent = module.tests[0].run.agent
    names = list(checked.irs[agent].param_types)
    examples = {}
    for test in module.tests:
        if test.run.agent == agent:
            inputs = {(a.name or names[i]): _constant(a.value) for i, a in enumerate(test.run.args)}
            examples[repr(sorted(inputs.items()))] = Example(inputs, "x")
    return Objective(list(examples.values()), contains, agent=agent, seeds=(0, 1))


def one(path: Path, optimizer: str, seed: int, candidates: int, share: bool) -> dict[str, Any]:
    ev = Evaluator(objective(path), filename=str(path), share=share, store=SearchStore())
    search = OPTIMIZERS[optimizer](
        rolegraph.parse_file(path), ev, evaluations=candidates, seed=seed
    )
    result = asyncio.run(search)
    return {
        "outcomes": [
            (s.evaluation.fingerprint, s.evaluation.score, s.evaluation.cost)
            for s in result.evaluated
        ],
        "best": result.best.evaluation.score,
        "runs": ev.runs_made,
        "calls": ev.calls_made,
        "hits": ev.settings.cache.hits if ev.settings.cache is not None else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=20)
    args = parser.parse_args()
    print(
        "| agent | optimizer | best score (off = on) | runs made: off → on | model calls "
        f"sent: off → on | calls saved (mean over {args.seeds} seeds) |"
    )
    print("|---|---|---|---|---|---|")
    totals = {"runs": [0, 0], "calls": [0, 0]}
    for name in FILES:
        path = HERE.parent / "examples" / f"{name}.agent"
        if not path.exists():
            path = HERE.parent / "stdlib" / f"{name}.agent"
        for optimizer in OPTIMIZERS:
            rows = []
            for seed in range(args.seeds):
                off = one(path, optimizer, seed, args.candidates, False)
                on = one(path, optimizer, seed, args.candidates, True)
                if off["outcomes"] != on["outcomes"]:
                    raise SystemExit(f"{name} {optimizer} seed {seed}: sharing changed a result")
                rows.append((off, on))
            for key in totals:
                totals[key][0] += sum(off[key] for off, _ in rows)
                totals[key][1] += sum(on[key] for _, on in rows)
            saved = [1 - on["calls"] / off["calls"] for off, on in rows if off["calls"]]
            print(
                f"| {name} | {optimizer} | {statistics.mean(off['best'] for off, _ in rows):.3f} "
                f"| {sum(off['runs'] for off, _ in rows)} → {sum(on['runs'] for _, on in rows)} "
                f"| {sum(off['calls'] for off, _ in rows)} → {sum(on['calls'] for _, on in rows)} "
                f"| {100 * statistics.mean(saved):.0f}% |",
                flush=True,
            )
    runs, calls = totals["runs"], totals["calls"]
    print(
        f"| all | | equal | {runs[0]} → {runs[1]} ({100 * (1 - runs[1] / runs[0]):.0f}% fewer) "
        f"| {calls[0]} → {calls[1]} ({100 * (1 - calls[1] / calls[0]):.0f}% fewer) | |"
    )


if __name__ == "__main__":
    main()
