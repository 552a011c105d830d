"""The baseline table: the standard patterns (bench/tasks/agents/) on every task of
bench/tasks/, on the local model (SmolLM2-135M-Instruct served by llama.cpp on
loopback, one thread, as tests/llama_server.py starts it).

Each pattern runs on the first N examples of each task's held-out split (seed 0), one
run at a time, greedy where the pattern's model is (CoT-SC and Quality-Diversity sample
at their declared temperatures). Each row is appended to bench/tasks/baselines.jsonl as
it ends (a stopped bench keeps what it measured; runs are cached in the store, so it
resumes), and `--table` prints the Markdown table of what the file holds.

    python bench/bench_tasks.py --examples 10                       # every task, every pattern
    python bench/bench_tasks.py --tasks arithmetic --patterns cot react --examples 20
    python bench/bench_tasks.py --table
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import rolegraph  # noqa: E402
from bench.tasks import TASKS  # noqa: E402
from rolegraph.search import Evaluator, SearchStore  # noqa: E402

AGENTS = HERE / "tasks" / "agents"
PATTERNS = [
    "direct",
    "cot",
    "cot_sc",
    "self_refine",
    "debate",
    "step_back",
    "quality_diversity",
    "role_router",
    "react",
]
ROWS = HERE / "tasks" / "baselines.jsonl"
STORE = HERE / "tasks" / "store.sqlite"  # (ignored by git: runs, for resuming)
HELD_OUT = 30  # the held-out split of every task; the table uses its first N


def local_model(url: str, max_tokens: int) -> Any:
    """Every role sent to the server at `url`, its result type's JSON schema enforced by
    llama.cpp's grammar; each role's declared temperature kept."""
    from rolegraph.runtime.litellm_model import LiteLLMModel

    return LiteLLMModel(
        model="openai/smollm2",
        timeout=300.0,
        retries=1,
        concurrency=1,
        api_base=url,
        api_key="none",
        structured_output="schema_in_json_object",
        max_tokens=max_tokens,
    )


async def baseline(task_name: str, pattern: str, examples: int, model: Any) -> dict[str, Any]:
    task = TASKS[task_name]()
    search_set, held_out = task.split(search=20, held_out=HELD_OUT)
    del search_set
    path = AGENTS / f"{pattern}.agent"
    module = rolegraph.parse_file(path)
    evaluator = Evaluator(
        task.objective(held_out[:examples], agent="Baseline"),
        model=model,
        store=SearchStore(STORE),
        filename=str(path),
        concurrency=1,
    )
    began = time.perf_counter()
    evaluation = await evaluator.evaluate(module)
    return {
        "task": task_name,
        "pattern": pattern,
        "examples": examples,
        "score": round(evaluation.score, 3),
        "calls": evaluation.calls,
        "tokens": evaluation.tokens,
        "failures": evaluation.failures,
        "seconds": round(time.perf_counter() - began, 1),
        "fresh_calls": evaluation.fresh_calls,
        "errors": sorted({r.error.split(":")[0] for r in evaluation.runs if r.error}),
    }


def table(rows: list[dict[str, Any]]) -> str:
    """Score (calls per example) for each pattern and task: the latest row of each pair."""
    latest = {(r["task"], r["pattern"]): r for r in rows}
    tasks = [t for t in TASKS if any(k[0] == t for k in latest)]
    lines = [
        "| pattern | " + " | ".join(tasks) + " |",
        "|---|" + "---|" * len(tasks),
    ]
    for pattern in PATTERNS:
        cells = []
        for task in tasks:
            row = latest.get((task, pattern))
            if row is None:
                cells.append("not run")
                continue
            per = row["calls"] / row["examples"]
            failed = f", {row['failures']} failed" if row["failures"] else ""
            cells.append(f"{row['score']:.2f} (n={row['examples']}, {per:.1f} calls/ex{failed})")
        lines.append(f"| {pattern} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=["arithmetic", "capitals", "words"])
    parser.add_argument("--patterns", nargs="*", default=PATTERNS)
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--table", action="store_true", help="print the table and stop")
    args = parser.parse_args()
    rows = [json.loads(line) for line in ROWS.read_text().splitlines()] if ROWS.exists() else []
    if args.table:
        print(table(rows))
        return
    from tests.llama_server import LlamaServer

    with LlamaServer.start() as server:
        model = local_model(server.url, args.max_tokens)
        for task_name in args.tasks:
            for pattern in args.patterns:
                row = asyncio.run(baseline(task_name, pattern, args.examples, model))
                row["max_tokens"] = args.max_tokens
                print(json.dumps(row), flush=True)
                with ROWS.open("a") as out:
                    out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
