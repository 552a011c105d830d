"""`rolegraph serve` throughput: mock runs per second with N concurrent clients.

A real server process (`rolegraph serve examples --model mock`, uvicorn) and N clients
(httpx, asyncio) in this process. Each client, in a loop: `POST /agents/AGENT/runs`
with inputs no run had before (so no reply comes from the response cache), then follows
the run's events (SSE) until its `result`. Reported: runs finished per second over the
measured window, and the latency from the POST to the result (p50, p95). For scale, the
same runs without HTTP: `run_agent` in this process on a store, N at a time.

    pip install -e ".[serve,browser]"
    python bench/bench_serve.py --clients 16 --seconds 20 --agent SelfRefine
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ROLEGRAPH = Path(sys.executable).parent / "rolegraph"
INPUT_NAME = {"SelfRefine": "task", "PlanAndExecute": "task", "Debate": "question"}


def start_server(store: Path, model: str, log: Path) -> tuple[subprocess.Popen, str]:
    handle = log.open("w")
    process = subprocess.Popen(
        [
            ROLEGRAPH,
            "serve",
            str(ROOT / "examples"),
            "--port",
            "0",
            "--store",
            str(store),
            "--model",
            model,
        ],
        stderr=handle,
    )
    deadline = time.monotonic() + 60
    while not (found := re.search(r"on (http://\S+?)/ ", log.read_text())):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"the server did not start: {log.read_text()}")
        time.sleep(0.05)
    url = found.group(1)
    while True:
        try:
            if httpx.get(f"{url}/agents", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)


async def one_run(client: httpx.AsyncClient, agent: str, value: str) -> float:
    began = time.perf_counter()
    answer = await client.post(f"/agents/{agent}/runs", json={INPUT_NAME[agent]: value})
    answer.raise_for_status()
    run = answer.json()["id"]
    async with client.stream("GET", f"/runs/{run}/events") as stream:
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event in ("result", "error"):
                if event == "error":
                    raise RuntimeError(json.loads(line[6:])["message"])
                break
    return time.perf_counter() - began


async def clients(url: str, agent: str, count: int, seconds: float, warmup: float) -> dict:
    latencies: list[float] = []
    counter = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + seconds

    async def client_loop(client: httpx.AsyncClient, index: int) -> None:
        nonlocal counter
        while time.perf_counter() < stop:
            counter += 1
            took = await one_run(client, agent, f"client {index}, run {counter}")
            if time.perf_counter() >= measure_from and time.perf_counter() <= stop:
                latencies.append(took)

    limits = httpx.Limits(max_connections=count * 2, max_keepalive_connections=count * 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        await asyncio.gather(*(client_loop(client, i) for i in range(count)))
    latencies.sort()
    return {
        "runs": len(latencies),
        "runs_per_second": len(latencies) / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


async def in_process(agent: str, count: int, seconds: float, model: str) -> float:
    """Runs per second of `run_agent` with a store, `count` at a time, no server."""
    import rolegraph
    from rolegraph.runtime import Store, run_agent

    files = {"SelfRefine": "self_refine", "PlanAndExecute": "plan_execute", "Debate": "debate"}
    ir = rolegraph.load_agent(ROOT / "examples" / f"{files[agent]}.agent")
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "store.sqlite")
        done = 0
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            await asyncio.gather(
                *(
                    run_agent(ir, {INPUT_NAME[agent]: f"raw {done + i}"}, model=model, store=store)
                    for i in range(count)
                )
            )
            done += count
        took = time.perf_counter() - began
        store.close()
    return done / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--agent", default="SelfRefine", choices=sorted(INPUT_NAME))
    parser.add_argument("--model", default="mock")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store.sqlite"
        process, url = start_server(store, args.model, Path(folder) / "serve.log")
        try:
            found = asyncio.run(clients(url, args.agent, args.clients, args.seconds, args.warmup))
        finally:
            process.terminate()
            process.wait(30)
    raw = asyncio.run(in_process(args.agent, args.clients, min(args.seconds, 10), args.model))
    print(
        f"{args.agent} on {args.model}, {args.clients} clients, {args.seconds:.0f} s: "
        f"{found['runs']} runs, {found['runs_per_second']:.1f} runs/s, "
        f"latency p50 {found['p50_ms']:.0f} ms, p95 {found['p95_ms']:.0f} ms; "
        f"without HTTP (run_agent, {args.clients} at a time): {raw:.0f} runs/s"
    )


if __name__ == "__main__":
    main()
