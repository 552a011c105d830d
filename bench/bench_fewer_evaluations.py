"""How many runs racing and the surrogate save (search/racing.py, search/surrogate.py),
on a simulated landscape where a run costs nothing.

Simulated, and said so: each candidate's runs are drawn instead of made. A candidate's
quality q (the chance that one run is right) comes from its structure, like the
patterns on a real model: more model calls per run help with diminishing returns
(0.12 per doubling of the worst-case calls), a refinement loop helps (+0.1), and a
fixed part drawn from the fingerprint of what its runs depend on (uniform in ±0.15) stands for what
structure does not tell. A run of example i with seed s is right with probability q,
drawn from a generator seeded by (fingerprint, i, s): the same run always gives the
same answer, as a cached run does. Everything else is the real search: the edits, the
checker, the store, the trail, racing's rungs and the surrogate's fit.

For each search seed: random search over `--candidates` candidates on 20 search
examples, plain, with racing, with the surrogate, and with both; the best candidate
found is then judged on 200 held-out examples (by its q, exactly). Reported: the mean
(and spread) of the held-out score of the best, the runs made, and the runs saved.

    python bench/bench_fewer_evaluations.py --seeds 10 --candidates 30
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import rolegraph  # noqa: E402
from rolegraph.compiler.analyses import worst_case_firings  # noqa: E402
from rolegraph.search import (  # noqa: E402
    BudgetSpent,
    Evaluator,
    Example,
    LocalBackend,
    Objective,
    Racing,
    Ran,
    RunRecord,
    RunSettings,
    SearchStore,
    Surrogate,
    evolve,
    exact,
    mcts,
    meta_search,
    random_search,
    swarm,
)
from rolegraph.search.reflect import reflect_search  # noqa: E402
from rolegraph.search.run import RunJob  # noqa: E402

START = HERE.parent / "examples" / "self_refine.agent"


def quality(ir: Any, digest: str) -> float:
    calls = max(1, ir.worst_case_calls())
    looped = any(edge.loop for edge in ir.edges)
    noise = int(hashlib.blake2b(digest.encode(), digest_size=4).hexdigest(), 16) / 2**32
    firing = worst_case_firings(ir)
    returns = sum(1 for name in firing if firing[name]) > 0
    q = 0.25 + 0.12 * math.log2(calls) + (0.1 if looped else 0.0) + 0.3 * (noise - 0.5)
    return min(0.98, max(0.02, q if returns else 0.02))


class Drawn(LocalBackend):
    """Runs drawn from the candidate's quality (see above) instead of made."""

    async def run(self, job: RunJob, settings: RunSettings, budget: Any) -> Ran:
        rng = random.Random(f"{job.digest}/{Example(job.inputs).key}/{job.seed}")
        right = rng.random() < quality(job.ir, job.digest)
        calls = job.ir.worst_case_calls()
        return Ran(RunRecord("yes" if right else "no", None, calls, 0, 0.0), (calls, 0, 0.0))


class Simulated(Evaluator):
    """An evaluator whose runs are drawn (`Drawn`), with a budget of runs."""

    def __init__(self, objective: Objective, **options: Any):
        super().__init__(objective, backend=Drawn(), **options)

    limit: int | None = None  # runs this search may make (a budget of runs)

    def _reserve(self, ir: Any, digest: str, cases: list[Any]) -> Any:
        if self.limit is not None:
            pending = sum(
                1
                for _, example, seed in cases
                if self.store.run((digest, ir.name, example.key, seed, self.model_label)) is None
            )
            if self.runs_made + pending > self.limit:
                raise BudgetSpent(f"{pending} runs do not fit the {self.limit} runs left")
        return super()._reserve(ir, digest, cases)


async def search(seed: int, candidates: int, racing: bool, surrogate: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        objective = Objective([Example({"task": f"t{i}"}, "yes") for i in range(20)], exact)
        evaluator = Simulated(
            objective,
            model="mock",
            store=SearchStore(Path(folder) / "s.sqlite"),
            filename=str(START),
        )
        race = Racing(threshold=0.1) if racing else None
        model = Surrogate(warmup=4) if surrogate else None
        curve: list[tuple[int, float]] = []  # (runs made so far, the best's q so far)

        complete: list[Any] = []

        def seen(done: int, total: int, scored: Any) -> None:
            """The held-out quality of what the search would return if it stopped here."""
            if not scored.evaluation.partial:
                complete.append(scored)
            best = max(complete, key=lambda s: s.rank)
            q = quality(evaluator.ir_of(best.module), evaluator.runs_key(best.module))
            curve.append((evaluator.runs_made, q))

        result = await random_search(
            rolegraph.parse_file(START),
            evaluator,
            evaluations=candidates,
            seed=seed,
            racing=race,
            surrogate=model,
            progress=seen,
        )
        best = result.best
        ir = evaluator.ir_of(best.module)
        return {
            "held_out": quality(ir, evaluator.runs_key(best.module)),
            "runs": result.runs,
            "dropped": race.dropped if race else 0,
            "curve": curve,
        }


def runs_to_reach(curve: list[tuple[int, float]], target: float) -> int | None:
    """Runs made when the best candidate so far first had quality `target` or more."""
    return next((runs for runs, q in curve if q >= target - 1e-12), None)


async def compare(optimizer: str, seed: int, runs: int, racing: bool) -> dict[str, Any]:
    """One optimizer under a budget of `runs` runs (as many candidates as fit)."""
    with tempfile.TemporaryDirectory() as folder:
        objective = Objective([Example({"task": f"t{i}"}, "yes") for i in range(20)], exact)
        evaluator = Simulated(
            objective,
            model="mock",
            store=SearchStore(Path(folder) / "s.sqlite"),
            filename=str(START),
        )
        curve: list[tuple[int, float]] = []
        complete: list[Any] = []

        def seen(done: int, total: int, scored: Any) -> None:
            if not scored.evaluation.partial:
                complete.append(scored)
            best = max(complete, key=lambda s: s.rank)
            curve.append(
                (
                    evaluator.runs_made,
                    quality(evaluator.ir_of(best.module), evaluator.runs_key(best.module)),
                )
            )

        race = Racing(threshold=0.1) if racing else None
        start = rolegraph.parse_file(START)
        budget_candidates = 10_000
        options: dict[str, Any] = {"progress": seen, "racing": race}
        if optimizer == "llm":
            search = meta_search(
                start,
                evaluator,
                proposer="mock",
                evaluations=budget_candidates,
                max_proposals=runs // 5,
                **options,
            )
        elif optimizer == "reflect":
            search = reflect_search(
                start,
                evaluator,
                critic="mock",
                evaluations=budget_candidates,
                max_rounds=runs // 5,
                **options,
            )
        else:
            chosen = {"random": random_search, "evolve": evolve, "swarm": swarm, "mcts": mcts}
            search = chosen[optimizer](
                start, evaluator, evaluations=budget_candidates, seed=seed, **options
            )
        evaluator.limit = runs
        await search
        within = [(r, q) for r, q in curve if r <= runs]
        return {"held_out": within[-1][1] if within else 0.0, "curve": within}


def comparison(seeds: int, runs: int) -> None:
    print(
        f"\n| optimizer | racing | best's held-out score within {runs} runs (mean ± sd, "
        f"{seeds} seeds) | runs to reach 95% of the best score any method found (median) |"
    )
    print("|---|---|---|---|")
    table = {}
    for optimizer in ("random", "evolve", "swarm", "mcts", "llm", "reflect"):
        for racing in (False, True):
            table[optimizer, racing] = [
                asyncio.run(compare(optimizer, seed, runs, racing)) for seed in range(seeds)
            ]
    top = [max(table[k][seed]["held_out"] for k in table) for seed in range(seeds)]
    for (optimizer, racing), rows in table.items():
        scores = [r["held_out"] for r in rows]
        reach = [
            runs_to_reach(row["curve"], 0.95 * best) for row, best in zip(rows, top, strict=True)
        ]
        got = [r for r in reach if r is not None]
        median = f"{statistics.median(got):.0f}" if got else "-"
        print(
            f"| {optimizer} | {'yes' if racing else 'no'} | {statistics.mean(scores):.3f} ± "
            f"{statistics.stdev(scores):.3f} | {median} "
            f"({len(reach) - len(got)} seeds never) |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--compare", type=int, default=0, help="runs: compare the optimizers")
    args = parser.parse_args()
    if args.compare:
        comparison(args.seeds, args.compare)
        return
    print(
        f"| configuration | best's held-out score (mean ± sd, {args.seeds} seeds) "
        "| runs made (mean ± sd) | candidates dropped | runs until the best was as good as "
        "plain search's final best (median; seeds that never got there) |"
    )
    print("|---|---|---|---|---|")
    plain: list[dict[str, Any]] = []
    for racing, surrogate in ((False, False), (True, False), (False, True), (True, True)):
        rows = [
            asyncio.run(search(seed, args.candidates, racing, surrogate))
            for seed in range(args.seeds)
        ]
        if not plain:
            plain = rows
        reached = [
            runs_to_reach(row["curve"], base["held_out"])
            for row, base in zip(rows, plain, strict=True)
        ]
        got = [r for r in reached if r is not None]
        to_reach = f"{statistics.median(got):.0f}" if got else "-"
        missed = len(reached) - len(got)
        name = " + ".join(n for n, on in (("racing", racing), ("surrogate", surrogate)) if on)
        scores = [r["held_out"] for r in rows]
        runs = [r["runs"] for r in rows]
        print(
            f"| {name or 'plain'} | {statistics.mean(scores):.3f} ± {statistics.stdev(scores):.3f} "
            f"| {statistics.mean(runs):.0f} ± {statistics.stdev(runs):.0f} "
            f"| {statistics.mean(r['dropped'] for r in rows):.1f} "
            f"| {to_reach} ({missed} never) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
