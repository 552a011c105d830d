"""A search on the mock: where its CPU time goes, with and without one check session.

The random search of bench/bench_search.py (40 candidates of examples/self_refine.agent,
5 examples x 2 seeds, the mock model), profiled with cProfile: the share of its CPU time
in checks (`check_module`) and in runs (`run_agent`), as the evaluator is today — the
editor checks each candidate with its own memo, then the evaluator checks it again from
scratch for its IR, parsing its imports again — and as it is when both share one
`CheckSession` (compiler/incremental.py), the call sites the search's maintainer is asked
to adopt, patched in here for the measurement. Rounds alternate between the two.

    python bench/bench_edits_search.py
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import inspect
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_search import bare_runs  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.compiler.diagnostics import DiagnosticError  # noqa: E402

# (a tree from before incremental checking, on PYTHONPATH: only "as is" runs there)
INCREMENTAL = "session" in inspect.signature(rolegraph.editor).parameters
from rolegraph.compiler.printer import to_source  # noqa: E402
from rolegraph.compiler.source import Source  # noqa: E402
from rolegraph.search import (  # noqa: E402
    Evaluator,
    Example,
    Objective,
    SearchStore,
    contains,
    random_search,
)
from rolegraph.search.objective import ObjectiveError  # noqa: E402

SOURCE = HERE.parent / "examples" / "self_refine.agent"
CANDIDATES = 40


class SessionEvaluator(Evaluator):
    """The evaluator with one `CheckSession` shared by its editor and its own checks: what
    search/evaluate.py would do (see the report of issue 15 item 7)."""

    def __init__(self, *args: Any, **kwargs: Any):
        from rolegraph.compiler.incremental import CheckSession

        super().__init__(*args, **kwargs)
        self.session = CheckSession(self.filename, root=self.root)

    def editor(self, trust: Any = None) -> Any:
        return rolegraph.editor(self.filename, root=self.root, trust=trust, session=self.session)

    def _ir(self, module: Any, digest: str) -> Any:
        found = self._irs.get(digest)
        if found is not None:
            self._irs.move_to_end(digest)
            return found
        checked = self.session.check(module, explore=False)
        if checked.errors:
            raise DiagnosticError(checked.errors, Source(self.filename, to_source(module)))
        if not checked.irs:
            raise ObjectiveError("the candidate declares no agent")
        wanted = self.objective.agent
        found = checked.irs[wanted] if wanted is not None else list(checked.irs.values())[-1]
        self._irs[digest] = found
        if len(self._irs) > 256:
            self._irs.popitem(last=False)
        return found


def one_search(kind: type[Evaluator], directory: str, profile: bool) -> dict[str, float]:
    objective = Objective(
        [Example({"task": f"task {i}"}, "fjord") for i in range(5)], contains, seeds=(0, 1)
    )
    store = SearchStore(Path(directory) / f"{kind.__name__}-{time.monotonic_ns()}.db")
    evaluator = kind(objective, store=store, filename=str(SOURCE))
    module = rolegraph.parse_file(SOURCE)
    profiler = cProfile.Profile() if profile else None
    cpu = time.process_time()
    if profiler is not None:
        profiler.enable()
    asyncio.run(random_search(module, evaluator, evaluations=CANDIDATES, seed=0))
    if profiler is not None:
        profiler.disable()
    total = time.process_time() - cpu
    shares = {"cpu": total}
    if profiler is not None:
        stats = pstats.Stats(profiler)
        seen = stats.stats  # type: ignore[attr-defined]
        inside = {"check": 0.0}
        whole = max(v[3] for v in seen.values())
        for (filename, _, name), (_, _, _, cumulative, _) in seen.items():
            if name == "check_module" and filename.endswith("check.py"):
                inside["check"] += cumulative
        shares.update({k: v / whole for k, v in inside.items()})
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    kinds: dict[str, type[Evaluator]] = {"as is": Evaluator}
    if INCREMENTAL:
        kinds["one session"] = SessionEvaluator
    timed: dict[str, list[float]] = {name: [] for name in kinds}
    bare: list[float] = []
    profiled: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for name, kind in kinds.items():  # a warm-up, profiled
            profiled[name] = one_search(kind, directory, profile=True)
        for _ in range(args.rounds):
            for name, kind in kinds.items():
                timed[name].append(one_search(kind, directory, profile=False)["cpu"])
            bare.append(bare_runs(CANDIDATES * 10)[1])
    runs = statistics.median(bare)
    lines = [
        f"{CANDIDATES} candidates x 10 runs of `examples/self_refine.agent` on the mock, random "
        f"search, seed 0, a new store each time; CPU seconds, median (range) of {args.rounds} "
        "rounds alternating between the two (and the bare runs); the share in checks from one "
        "cProfile'd search each; the share in runs as bench/bench_search.py takes it: as many "
        f"bare runs of the start program, ten at a time ({runs:.2f} s CPU), over the search.",
        "",
        "| evaluator | search CPU | share in checks (cProfile) | share in runs |",
        "|---|---|---|---|",
    ]
    for name in kinds:
        values = sorted(timed[name])
        lines.append(
            f"| {name} | {statistics.median(values):.2f} s ({values[0]:.2f}-{values[-1]:.2f}) "
            f"| {profiled[name]['check']:.0%} | {runs / statistics.median(values):.0%} |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
