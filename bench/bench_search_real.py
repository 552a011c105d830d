"""The optimizers compared on real tasks with the local model (issue 19, item 5).

Every search starts from bench/tasks/agents/direct.agent (one call per question: the best
baseline on this model, see the baseline table) and runs on SmolLM2-135M-Instruct served
by llama.cpp on loopback (tests/llama_server.py, one thread), each role at its declared
temperature, its result type's JSON schema enforced. For each task, search seed and
optimizer (random, evolve, swarm, mcts, the LLM meta-optimizer and the reflective one,
with the same local model as proposer and critic), two configurations:

- **plain**: no racing, no surrogate, no sharing of calls between candidates;
- **fewer** (item 4): racing (threshold 0.1), the surrogate where the optimizer takes one
  (random, evolve), and the response cache shared by the search's candidates.

Each search has the same hard budget of model calls (`--calls`, search/budget.py: the
proposer's and critic's calls come out of it too), scores candidates on `--search`
examples of the task's search split, and its best candidate is then scored on `--held-out`
examples of the held-out split (calls not charged to the search).

Model calls are memoised across searches by their full request (model, role, messages,
schema, parameters, and the call's place in the run: firing, call, replica, attempt), in
`bench/tasks/memo.sqlite` (ignored by git): two searches that send the same request get
the same reply, as from a served model with a fixed seed; a sampled request (temperature
above 0: the proposer, the critic, a role given a temperature) is memoised per search
seed, so each seed draws its own samples. The memo sits *under* the
search: a request it answers still counts as a call the search sent (the budget is
charged, `calls` counts it), and the seconds it saves are added back (`model_s`, the
time as if every call were made: the search's own wall time plus the measured latency
of each memoised call). So the figures are those of independent searches; only this
machine's time is saved.

Rows (one per search) are appended to `bench/tasks/search_real.jsonl` as each search
ends; a stopped run resumes where it stopped. `--table` prints the tables for
bench/RESULTS.md, writes the curves of best search score against calls as SVG
(`bench/tasks/curves/<task>-<budget>.svg`), and writes each task's best agent to
`bench/tasks/found/<task>.agent` with its diff from the baseline.

    python bench/bench_search_real.py --seeds 2 --calls 56 --search 8 --held-out 12
    python bench/bench_search_real.py --table
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import difflib
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import rolegraph  # noqa: E402
from bench.tasks import TASKS  # noqa: E402
from rolegraph.runtime import ModelReply, ModelRequest  # noqa: E402
from rolegraph.runtime.store import Store  # noqa: E402
from rolegraph.search import (  # noqa: E402
    Evaluator,
    Racing,
    SearchBudget,
    SearchStore,
    Surrogate,
    evolve,
    mcts,
    meta_search,
    random_search,
    swarm,
)
from rolegraph.search.reflect import reflect_search  # noqa: E402

START = HERE / "tasks" / "agents" / "direct.agent"
ROWS = HERE / "tasks" / "search_real.jsonl"
MEMO = HERE / "tasks" / "memo.sqlite"
CURVES = HERE / "tasks" / "curves"
FOUND = HERE / "tasks" / "found"
OPTIMIZERS = ("random", "evolve", "swarm", "mcts", "llm", "reflect")
HELD_OUT = 30  # the held-out split (as bench/bench_tasks.py), of which --held-out are used


class Memo:
    """Replies by request key, with the seconds each took when it was made."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS memo (key TEXT PRIMARY KEY, reply TEXT, seconds REAL)"
        )

    def get(self, key: str) -> tuple[ModelReply, float] | None:
        row = self.db.execute("SELECT reply, seconds FROM memo WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return ModelReply(**data), float(row[1])

    def put(self, key: str, reply: ModelReply, seconds: float) -> None:
        if reply.tool_calls:  # (not memoised: the tasks' agents call no tools)
            return
        data = {
            "content": reply.content,
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cost": reply.cost,
        }
        self.db.execute(
            "INSERT OR REPLACE INTO memo VALUES (?, ?, ?)", (key, json.dumps(data), seconds)
        )
        self.db.commit()


class Meter:
    """What one search sent to the model, through every `MemoModel` it uses."""

    calls = 0  # every call sent (memoised or not)
    fresh = 0  # calls the server answered
    saved_s = 0.0  # seconds the memo saved (the latency recorded for each hit)


class MemoModel:
    """The local model behind the memo, counting on a search's `meter`."""

    def __init__(self, inner: Any, memo: Memo, meter: Meter, seed: int = 0):
        self.inner, self.memo, self.meter, self.seed = inner, memo, meter, seed

    async def complete(self, request: ModelRequest) -> ModelReply:
        meter = self.meter
        meter.calls += 1
        # (where the server listens is no part of the request: each run starts its own)
        where = {k: v for k, v in request.params.items() if k not in ("api_base", "api_key")}
        key = Store.request_key(dataclasses.replace(request, params=where))
        if self.seed and float(request.params.get("temperature", 1.0)) > 0:
            key += f"/seed {self.seed}"  # (a sampled reply: each search seed draws its own)
        found = self.memo.get(key)
        if found is not None:
            reply, seconds = found
            meter.saved_s += seconds
            return reply
        began = time.perf_counter()
        reply = await self.inner.complete(request)
        self.memo.put(key, reply, time.perf_counter() - began)
        meter.fresh += 1
        return reply

    def __getattr__(self, name: str) -> Any:  # price, params: the inner model's
        return getattr(self.inner, name)


def local_model(url: str, max_tokens: int) -> Any:
    from bench.bench_tasks import local_model as served

    return served(url, max_tokens)


async def one_search(
    task_name: str,
    optimizer: str,
    fewer: bool,
    seed: int,
    args: Any,
    models: tuple[Any, Any],
    memo: Memo,
) -> dict[str, Any]:
    """One search; `models`: the served model for the roles, and for the proposer (more
    output tokens: an edit's fields)."""
    task = TASKS[task_name]()
    search_set, held_out = task.split(search=20, held_out=HELD_OUT)
    meter = Meter()
    model = MemoModel(models[0], memo, meter, seed)
    proposer = MemoModel(models[1], memo, meter, seed)
    start = rolegraph.parse_file(START)
    curve: list[tuple[int, float, float]] = []  # (calls sent, seconds as if made, best)
    began = time.perf_counter()
    complete: list[Any] = []
    with tempfile.TemporaryDirectory() as folder:
        evaluator = Evaluator(
            task.objective(search_set[: args.search], agent="Baseline"),
            model=model,
            store=SearchStore(Path(folder) / "s.sqlite"),
            filename=str(START),
            concurrency=1,
            budget=SearchBudget(calls=args.calls),
            share=fewer,
        )

        def seen(done: int, total: int, scored: Any) -> None:
            if not scored.evaluation.partial:
                complete.append(scored)
            best = max(complete, key=lambda s: s.rank).evaluation.score if complete else 0.0
            elapsed = time.perf_counter() - began + meter.saved_s
            curve.append((meter.calls, round(elapsed, 2), best))

        options: dict[str, Any] = {"progress": seen, "racing": Racing() if fewer else None}
        many = 10_000  # candidates: the budget of calls is what ends a search
        if optimizer == "llm":
            search = meta_search(
                start,
                evaluator,
                proposer=proposer,
                evaluations=many,
                max_proposals=args.llm_proposals,
                **options,
            )
        elif optimizer == "reflect":
            search = reflect_search(start, evaluator, critic=proposer, evaluations=many, **options)
        else:
            chosen = {"random": random_search, "evolve": evolve, "swarm": swarm, "mcts": mcts}
            if fewer and optimizer in ("random", "evolve"):
                options["surrogate"] = Surrogate(warmup=4)
            search = chosen[optimizer](start, evaluator, evaluations=many, seed=seed, **options)
        cpu = time.process_time()
        result = await search
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - began
        searched, fresh_in_search = meter.calls, meter.fresh
        best = result.best
        source = rolegraph.to_source(best.module)
        # the best, judged on the held-out examples (memoised too; not charged to the search)
        judge = Evaluator(
            task.objective(held_out[: args.held_out], agent="Baseline"),
            model=model,
            store=SearchStore(Path(folder) / "h.sqlite"),
            filename=str(START),
            concurrency=1,
        )
        judged = await judge.evaluate(best.module)
    return {
        "task": task_name,
        "optimizer": optimizer,
        "fewer": fewer,
        "seed": seed,
        "budget_calls": args.calls,
        "search_examples": args.search,
        "held_out_examples": args.held_out,
        "max_tokens": args.max_tokens,
        "proposer_max_tokens": args.proposer_max_tokens,
        "llm_proposals": args.llm_proposals if optimizer == "llm" else None,
        "candidates": len(result.evaluated),
        "calls": searched,
        "proposer_calls": result.proposer_calls,
        "runs": result.runs,
        "refused": len(result.refused),
        "stopped": result.stopped,
        "refusals": [f"{text[:200]} => {why[:200]}" for text, why in result.refused[:6]],
        "best_search_score": round(best.evaluation.score, 4),
        "start_search_score": round(result.start.evaluation.score, 4),
        "held_out": round(judged.score, 4),
        "best_calls_per_example": round(judged.calls / max(1, args.held_out), 2),
        "best_source": source,
        "curve": curve,
        "wall_s": round(wall, 1),
        "model_s": round(wall + meter.saved_s, 1),
        "cpu_s": round(cpu, 2),
        "fresh_calls": fresh_in_search,  # (the server's share of `calls`; the rest: memo)
    }


def done_keys(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(r["task"], r["optimizer"], r["fewer"], r["seed"], r["budget_calls"]) for r in rows}


def read_rows() -> list[dict[str, Any]]:
    if not ROWS.exists():
        return []
    return [json.loads(line) for line in ROWS.read_text().splitlines() if line.strip()]


def reach(curve: list[list[Any]], target: float) -> tuple[int, float] | None:
    """(calls, seconds) when the search's best first scored `target` or more."""
    for calls, seconds, best in curve:
        if best >= target - 1e-12:
            return calls, seconds
    return None


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def tables(rows: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for task, budget in sorted({(r["task"], r["budget_calls"]) for r in rows}):
        mine = [r for r in rows if r["task"] == task and r["budget_calls"] == budget]
        seeds = sorted({r["seed"] for r in mine})
        # the target: 95% of the best search score any method found, per seed
        top = {s: max(r["best_search_score"] for r in mine if r["seed"] == s) for s in seeds}
        start = mine[0]["start_search_score"]
        out += [
            f"\n**{task}** ({mine[0]['search_examples']} search examples, "
            f"{mine[0]['held_out_examples']} held-out, budget {mine[0]['budget_calls']} calls, "
            f"seeds {', '.join(map(str, seeds))}; the start, direct, scores {start:.2f} "
            "on the search examples)\n",
            "| optimizer | item 4 | best's held-out score | best's search score | candidates "
            "| calls (proposer's) | calls to 95% of the best found (median) "
            "| seconds to 95% (median) | model s / CPU s of the search (mean) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for optimizer in OPTIMIZERS:
            for fewer in (False, True):
                group = [r for r in mine if r["optimizer"] == optimizer and r["fewer"] == fewer]
                if not group:
                    continue
                reached = [reach(r["curve"], 0.95 * top[r["seed"]]) for r in group]
                got = [x for x in reached if x is not None]
                never = len(reached) - len(got)
                calls95 = f"{statistics.median(c for c, _ in got):.0f}" if got else "-"
                secs95 = f"{statistics.median(s for _, s in got):.0f}" if got else "-"
                if never:
                    calls95 += f" ({never} never)"
                out.append(
                    f"| {optimizer} | {'yes' if fewer else 'no'} "
                    f"| {spread([r['held_out'] for r in group])} "
                    f"| {spread([r['best_search_score'] for r in group])} "
                    f"| {statistics.mean(r['candidates'] for r in group):.1f} "
                    f"| {statistics.mean(r['calls'] for r in group):.0f} "
                    f"({statistics.mean(r['proposer_calls'] for r in group):.0f}) "
                    f"| {calls95} | {secs95} "
                    f"| {statistics.mean(r['model_s'] for r in group):.0f} / "
                    f"{statistics.mean(r['cpu_s'] for r in group):.1f} |"
                )
    return "\n".join(out)


def curves_svg(task: str, rows: list[dict[str, Any]]) -> str:
    """Best search score against calls, one polyline per search (colour: optimizer; dashed:
    item 4 on)."""
    width, height, pad = 640, 360, 48
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
    colours = dict(zip(OPTIMIZERS, palette, strict=True))
    budget = max(r["budget_calls"] for r in rows)

    def x(calls: float) -> float:
        return pad + (width - 2 * pad) * min(calls, budget) / budget

    def y(score: float) -> float:
        return height - pad - (height - 2 * pad) * score

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{pad}" y="18">{task}: best search score against model calls '
        "(dashed: racing, surrogate, shared calls)</text>",
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="black"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">model calls</text>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{pad - 6}" y="{y(tick) + 4}" text-anchor="end">{tick:g}</text>')
    for tick in range(0, budget + 1, max(1, budget // 6)):
        parts.append(
            f'<text x="{x(tick)}" y="{height - pad + 14}" text-anchor="middle">{tick}</text>'
        )
    for r in rows:
        points: list[str] = []
        last = None
        for calls, _, best in r["curve"]:
            if last is not None:
                points.append(f"{x(calls):.1f},{y(last):.1f}")
            points.append(f"{x(calls):.1f},{y(best):.1f}")
            last = best
        if last is not None:
            points.append(f"{x(r['calls']):.1f},{y(last):.1f}")
        dash = ' stroke-dasharray="5,3"' if r["fewer"] else ""
        parts.append(
            f'<polyline fill="none" stroke="{colours[r["optimizer"]]}" stroke-width="1.5"'
            f'{dash} points="{" ".join(points)}"/>'
        )
    for i, name in enumerate(OPTIMIZERS):
        parts.append(
            f'<text x="{width - pad - 60}" y="{pad + 14 * i}" fill="{colours[name]}">{name}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def write_found(rows: list[dict[str, Any]]) -> list[str]:
    """Each task's best agent (by held-out score, then fewer calls per example) as an
    .agent file, with its diff from the start (both in canonical form: `to_source`, which
    keeps no comments)."""
    start = rolegraph.to_source(rolegraph.parse_file(START))  # (canonical, as the rows are)
    FOUND.mkdir(parents=True, exist_ok=True)
    lines = []
    for task in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == task]
        best = max(mine, key=lambda r: (r["held_out"], -r["best_calls_per_example"]))
        (FOUND / f"{task}.agent").write_text(best["best_source"])
        diff = "".join(
            difflib.unified_diff(
                start.splitlines(keepends=True),
                best["best_source"].splitlines(keepends=True),
                "direct.agent",
                f"{task}.agent",
            )
        )
        (FOUND / f"{task}.diff").write_text(diff)
        lines.append(
            f"- {task}: {best['optimizer']}{' with item 4' if best['fewer'] else ''}, seed "
            f"{best['seed']}: held-out {best['held_out']:.2f}, "
            f"{best['best_calls_per_example']} calls per example "
            f"(`bench/tasks/found/{task}.agent`, diff `bench/tasks/found/{task}.diff`)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=["arithmetic", "capitals", "words"])
    parser.add_argument("--optimizers", nargs="*", default=list(OPTIMIZERS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=56, help="each search's budget of calls")
    parser.add_argument("--search", type=int, default=8, help="search examples")
    parser.add_argument("--held-out", type=int, default=12, help="held-out examples")
    parser.add_argument("--max-tokens", type=int, default=48, help="per call of a role")
    parser.add_argument("--proposer-max-tokens", type=int, default=256)
    parser.add_argument(
        "--llm-proposals", type=int, default=6, help="the LLM meta-optimizer's proposals at most"
    )
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    rows = read_rows()
    if args.table:
        print(tables(rows))
        CURVES.mkdir(parents=True, exist_ok=True)
        for task, budget in sorted({(r["task"], r["budget_calls"]) for r in rows}):
            chosen = [r for r in rows if r["task"] == task and r["budget_calls"] == budget]
            (CURVES / f"{task}-{budget}.svg").write_text(curves_svg(task, chosen))
        print("\n" + "\n".join(write_found(rows)))
        return
    from tests.llama_server import LlamaServer

    done = done_keys(rows)
    memo = Memo(MEMO)
    with LlamaServer.start() as server:
        models = (
            local_model(server.url, args.max_tokens),
            local_model(server.url, args.proposer_max_tokens),
        )
        # seed by seed; the LLM meta-optimizer (its proposals take the longest) after the
        # others of the same seed
        quick = [o for o in args.optimizers if o != "llm"]
        slow = [o for o in args.optimizers if o == "llm"]
        order = [
            (seed, task_name, optimizer, fewer)
            for seed in range(args.seeds)
            for group in (quick, slow)
            for task_name in args.tasks
            for optimizer in group
            for fewer in (False, True)
        ]
        for seed, task_name, optimizer, fewer in order:
            if (task_name, optimizer, fewer, seed, args.calls) in done:
                continue
            row = asyncio.run(one_search(task_name, optimizer, fewer, seed, args, models, memo))
            brief = {k: v for k, v in row.items() if k not in ("curve", "best_source")}
            print(json.dumps(brief), flush=True)
            with ROWS.open("a") as out:
                out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
