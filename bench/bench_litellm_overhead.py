"""What one model call costs the client on rolegraph's litellm path, against calling the
same server with the `openai` client directly.

The server is tests/fake_openai.py (fixed replies on loopback, in a process of its own),
so the model takes no time and the difference is the client's. In one process, in
interleaved rounds (each round runs every client, in a rotated order), each client makes
`--calls` sequential calls; the figures are medians over the rounds, per call, of wall
time and of this process's CPU time:

- `openai` direct: `AsyncOpenAI(...).chat.completions.create(...)`;
- `litellm.acompletion` with the arguments rolegraph sends;
- rolegraph `LiteLLMModel.complete(request)`: the model layer of the runtime;
- a run of a one-role agent with `LiteLLMModel`: the executor, the prompt, validation.

    python bench/bench_litellm_overhead.py            # print and record the figures
    python bench/bench_litellm_overhead.py --rounds 5 --calls 20 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # as the runtime does

from bench_frontend import record  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.runtime import ModelRequest, run_agent  # noqa: E402
from rolegraph.runtime.litellm_model import LiteLLMModel  # noqa: E402

REPLY = json.dumps({"text": "a draft", "confidence": 0.5})
SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["text", "confidence"],
}
MESSAGES = ({"role": "user", "content": "Write about tides.\n\nReply with one JSON value."},)
AGENT = """
model local = "openai/fake"
type Draft { text: str, confidence: float }
role Writer(task: str) -> Draft {
  model local
  prompt "Write about {{ task }}."
}
agent A(task: str) -> Draft {
  writer = Writer(task)
  return writer
}
"""
# A fake server in its own process, so that its work is not this process's CPU time.
SERVE = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from tests.fake_openai import FakeOpenAI
with FakeOpenAI(replies=[{REPLY!r}] * 1_000_000) as api:
    print(api.url, flush=True)
    sys.stdin.read()  # until the bench closes it
"""

Call = Callable[[], Awaitable[Any]]


def clients(url: str) -> dict[str, Call]:
    import litellm
    from openai import AsyncOpenAI

    litellm.suppress_debug_info = True  # it cannot price a fake model, and would say so
    direct = AsyncOpenAI(base_url=url, api_key="none", max_retries=0)
    model = LiteLLMModel(model="openai/fake", api_base=url, api_key="none", max_tokens=64)
    # (a request carries where it goes: the run resolves the model's provider into it)
    params = {"api_base": url, "api_key": "none", "max_tokens": 64}
    request = ModelRequest("Writer", "writer", "openai/fake", MESSAGES, SCHEMA, params=params)
    ir = rolegraph.load_agent("bench.agent", text=AGENT)
    arguments: dict[str, Any] = {
        "model": "fake",
        "messages": list(MESSAGES),
        "response_format": {"type": "json_object"},
        "max_tokens": 64,
        "timeout": 60.0,
    }

    async def openai_direct() -> Any:
        return await direct.chat.completions.create(**arguments)

    async def litellm_direct() -> Any:
        return await litellm.acompletion(
            **{**arguments, "model": "openai/fake"}, api_base=url, api_key="none", max_retries=0
        )

    async def rolegraph_model() -> Any:
        return await model.complete(request)

    async def rolegraph_run() -> Any:
        return await run_agent(ir, {"task": "tides"}, model=model)

    return {
        "`openai` client, direct": openai_direct,
        "`litellm.acompletion`, direct": litellm_direct,
        "rolegraph `LiteLLMModel.complete`": rolegraph_model,
        "rolegraph run of a one-role agent": rolegraph_run,
    }


async def measure(call: Call, calls: int) -> tuple[float, float]:
    """Per call: wall seconds, CPU seconds of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls


async def bench(url: str, rounds: int, calls: int) -> dict[str, tuple[list[float], list[float]]]:
    table = clients(url)
    names = list(table)
    for name in names:  # warm up: imports, connection pools, caches
        await measure(table[name], 5)
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in names}
    for index in range(rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            wall, cpu = await measure(table[name], calls)
            samples[name][0].append(wall)
            samples[name][1].append(cpu)
    return samples


def report(
    samples: dict[str, tuple[list[float], list[float]]], rounds: int, calls: int, load: str
) -> str:
    base = "`openai` client, direct"
    base_wall, base_cpu = samples[base]

    def median_ratio(values: list[float], reference: list[float]) -> float:
        """Paired by round, so that the machine's drift between rounds cancels out."""
        return statistics.median(v / r for v, r in zip(values, reference, strict=True))

    lines = [
        f"Server: tests/fake_openai.py in another process on 127.0.0.1 (fixed replies, a new "
        f"connection per request: it speaks HTTP/1.0). {rounds} interleaved rounds of {calls} "
        f"sequential calls per client; per call, the median over the rounds; ratios are to "
        f"the `openai` client in the same round, median over the rounds. Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average (1 min) before / after: {load}.",
        "",
        "| client | wall per call | CPU per call (this process) | wall / `openai` | "
        "CPU / `openai` | wall, range over rounds |",
        "|---|---|---|---|---|---|",
    ]
    for name, (walls, cpus) in samples.items():
        lines.append(
            f"| {name} | {statistics.median(walls) * 1000:.2f} ms | "
            f"{statistics.median(cpus) * 1000:.2f} ms | {median_ratio(walls, base_wall):.2f}x | "
            f"{median_ratio(cpus, base_cpu):.2f}x | {min(walls) * 1000:.2f} to "
            f"{max(walls) * 1000:.2f} ms |"
        )

    def extra(name: str, index: int) -> float:
        """Milliseconds per call over the `openai` client, median of the rounds' differences."""
        ours, theirs = samples[name][index], samples[base][index]
        return statistics.median(o - t for o, t in zip(ours, theirs, strict=True)) * 1000

    model, litellm_only = "rolegraph `LiteLLMModel.complete`", "`litellm.acompletion`, direct"
    lines += [
        "",
        f"Per call, rolegraph's litellm path costs {extra(model, 0):.2f} ms of wall time and "
        f"{extra(model, 1):.2f} ms of CPU more than the `openai` client (medians of the "
        f"rounds' differences); calling `litellm.acompletion` directly costs "
        f"{extra(litellm_only, 0):.2f} ms and {extra(litellm_only, 1):.2f} ms more: litellm's "
        f"share.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        samples = asyncio.run(bench(url, args.rounds, args.calls))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
    load = f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"
    text = report(samples, args.rounds, args.calls, load)
    print(text)
    if not args.no_write:
        record(
            text,
            f"python bench/bench_litellm_overhead.py --rounds {args.rounds} --calls {args.calls}",
            key="litellm-overhead",
            title="The litellm path: per-call overhead against the `openai` client",
        )


if __name__ == "__main__":
    main()
