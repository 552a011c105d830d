"""The cyclic collector and a search on the mock: what freezing or a larger young
generation would change (issue 15 item 7).

Two ways, both on bench/profile_search.py's search (random, 40 candidates of
examples/self_refine.agent, 5 examples x 2 seeds, `--model mock`, a new store):

- in this process (the default): the command as `main()` gives it (profile_search's
  `--main`), its CPU split as profile_search splits it (runs, test-block runs, checking,
  the rest, and where the collector ran), with a policy set for the search's duration
  only (around the optimizer's coroutine, restored after), the policies alternating
  round by round after one search that sets up what is set up once:
  - `none`: the collector as it is;
  - `freeze`: `gc.freeze()` when the search starts, `gc.unfreeze()` when it ends (only
    when nothing was frozen before);
  - `thrN`: the young generation's threshold N (`gc.set_threshold(N, ...)`);
  - `process`: as `python -m rolegraph` does (exits.py `keep_until_exit`: the collector
    paused during start-up, and what was made before the search frozen; unfrozen after
    the round here, where a process would end);
  - `freeze+thrN`: both.
- `--process`: `python -m rolegraph search ...` in a process of its own, with the young
  threshold set first (`thrN`) or not (`none`): its CPU time (user and system) and its
  peak memory (`ru_maxrss`, from `wait4`).

    python bench/bench_search_collector.py --rounds 10 none freeze thr10000 thr50000
    python bench/bench_search_collector.py --process --rounds 10 none thr10000 thr50000
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import profile_search  # noqa: E402

CANDIDATES = 40
POLICY = {"now": "none"}


def _threshold(policy: str) -> int | None:
    for part in policy.split("+"):
        if part.startswith("thr"):
            return int(part[3:])
    return None


async def _under_policy(search: Awaitable[Any]) -> Any:
    """`search` awaited with `POLICY`'s collector settings, restored after."""
    policy = POLICY["now"]
    before = gc.get_threshold()
    froze = "freeze" in policy.split("+") and gc.get_freeze_count() == 0
    if froze:
        gc.freeze()
    young = _threshold(policy)
    if young is not None:
        gc.set_threshold(young, before[1], before[2])
    try:
        return await search
    finally:
        gc.set_threshold(*before)
        if froze:
            gc.unfreeze()


def in_process(policies: list[str], rounds: int) -> dict[str, list[dict[str, float]]]:
    import rolegraph.cli.exits as exits
    import rolegraph.cli.searching as searching

    profile_search.WAY["main"] = True
    optimizer = searching.OPTIMIZERS["random"]

    def wrapped(given: Any) -> Awaitable[Any]:
        return _under_policy(optimizer(given))

    searching.OPTIMIZERS["random"] = wrapped  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:  # (imports, the grammar: not counted)
        profile_search.invoke(profile_search.search_command(Path(folder), CANDIDATES))
    found: dict[str, list[dict[str, float]]] = {p: [] for p in policies}
    for _ in range(rounds):
        for policy in policies:
            POLICY["now"] = policy
            # (`process`: keep_until_exit freezes in evaluation_setup, as in a process)
            exits._ONE_COMMAND["process"] = policy == "process"
            frozen = gc.get_freeze_count()
            try:
                spent = profile_search.split(CANDIDATES)
            finally:
                exits._ONE_COMMAND["process"] = False
                if policy == "process" and not frozen:
                    # (a process ends there: here the next rounds must not find this
                    # round's objects, its cyclic garbage included, frozen for good)
                    gc.unfreeze()
            spent["other"] = spent["whole"] - spent["runs"] - spent["tests"] - spent["checking"]
            found[policy].append(spent)
    return found


def in_process_table(found: dict[str, list[dict[str, float]]]) -> str:
    parts = profile_search.PARTS

    def collected(m: dict[str, float]) -> float:
        return sum(m["gc " + p] for p in parts)

    rows: list[tuple[str, Callable[[dict[str, float]], float], bool]] = [
        ("the whole command, s CPU", lambda m: m["whole"], False),
        ("runs and test-block runs, s CPU", lambda m: m["runs"] + m["tests"], False),
        ("outside runs, s CPU", lambda m: m["checking"] + m["other"], False),
        (
            "outside runs, the collector left out",
            lambda m: m["checking"] + m["other"] - m["gc checking"] - m["gc other"],
            False,
        ),
        ("the collector, in all", collected, False),
        (
            "share in runs, with the test-block runs",
            lambda m: (m["runs"] + m["tests"]) / m["whole"],
            True,
        ),
        (
            "the same, the collector left out of every part",
            lambda m: (
                (m["runs"] + m["tests"] - m["gc runs"] - m["gc tests"])
                / (m["whole"] - collected(m))
            ),
            True,
        ),
    ]
    return _table(found, rows)


def _table(
    found: dict[str, list[dict[str, float]]],
    rows: list[tuple[str, Callable[[dict[str, float]], float], bool]],
) -> str:
    def cell(values: list[float], percent: bool) -> str:
        values = sorted(values)
        if percent:
            return f"{statistics.median(values):.1%} ({values[0]:.1%}-{values[-1]:.1%})"
        return f"{statistics.median(values):.4f} ({values[0]:.4f}-{values[-1]:.4f})"

    lines = ["| figure | " + " | ".join(found) + " |", "|---" * (len(found) + 1) + "|"]
    for label, figure, percent in rows:
        cells = [cell([figure(m) for m in ms], percent) for ms in found.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def one_process(policy: str) -> dict[str, float]:
    """`python -m rolegraph search ...` with `policy`'s young threshold set first."""
    young = _threshold(policy)
    first = "" if young is None else f"import gc; gc.set_threshold({young}, 10, 10); "
    code = (
        first + "import runpy, sys; sys.argv[0] = 'rolegraph'; "
        "runpy.run_module('rolegraph', run_name='__main__', alter_sys=True)"
    )
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable,
            "-c",
            code,
            *profile_search.search_command(Path(folder), CANDIDATES),
        ]
        child = subprocess.Popen(
            command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, f"{policy}: exit {child.returncode}"
    return {"cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss / 1024}


def process_table(found: dict[str, list[dict[str, float]]]) -> str:
    return _table(
        found,
        [
            ("the command's process, s CPU", lambda m: m["cpu"], False),
            ("its peak memory (ru_maxrss), MiB", lambda m: m["peak"], False),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("policies", nargs="*", default=["none", "freeze", "thr10000"])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--process", action="store_true", help="a process per search")
    args = parser.parse_args()
    if args.process:
        found: dict[str, list[dict[str, float]]] = {p: [] for p in args.policies}
        for _ in range(args.rounds):
            for policy in args.policies:
                found[policy].append(one_process(policy))
        print(process_table(found))
        return
    print(in_process_table(in_process(args.policies, args.rounds)))


if __name__ == "__main__":
    main()
