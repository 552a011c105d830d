"""What the tests of `rolegraph serve` share: a reader of server-sent events written from
the specification (not sse-starlette's), the CLI's run of an agent as the oracle, and
the fields of a trace line that depend on timing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROLEGRAPH = Path(sys.executable).parent / "rolegraph"

#: the fields of a trace line that differ between two runs of a deterministic model
TIMING = ("started", "ended", "latency_ms")

#: the states in which a run is over
ENDED = ("returned", "failed")


def parse_sse(text: str) -> list[dict[str, Any]]:
    """Server-sent events as the HTML specification reads them: messages end at a blank
    line; `field: value` lines, one leading space of the value dropped; `data` lines
    joined by newlines; comment lines (`:`) ignored. Each message as {id, event, data}."""
    messages = []
    fields: dict[str, Any] = {}
    data: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            if data:
                messages.append({**fields, "data": "\n".join(data)})
            fields, data = {}, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name in ("id", "event"):
            fields[name] = value
    return messages


def sse_events(text: str) -> list[dict[str, Any]]:
    """The events of an SSE body, each checked to be named by its kind."""
    events = []
    for message in parse_sse(text):
        event = json.loads(message["data"])
        assert message["event"] == event["kind"], message
        events.append(event)
    return events


def fold_trace(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The top-level records the events tell: ended firings in the order told, discards
    applied (docs/streaming.md, "Order and the trace")."""
    records: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("path"):
            continue
        if event["kind"] in (
            "firing_finished",
            "firing_failed",
            "firing_cancelled",
            "firing_skipped",
        ):
            record = {k: v for k, v in event.items() if k not in ("kind", "agent", "depth", "path")}
            records[record["key"]] = record
        elif event["kind"] == "firing_discarded":
            records[event["key"]]["status"] = "discarded"
            records[event["key"]]["notes"] = [*records[event["key"]]["notes"], event["note"]]
    return list(records.values())


def untimed(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k not in TIMING}


def cli_run(file: Path, inputs: dict[str, Any], tmp: Path, model: str = "mock") -> tuple[Any, list]:
    """The result and the trace lines of `rolegraph run FILE --model mock` (no store)."""
    from typer.testing import CliRunner

    from rolegraph.cli import app

    trace = tmp / f"cli-{file.stem}-{abs(hash(json.dumps(inputs)))}.jsonl"
    ran = CliRunner().invoke(
        app,
        [
            "run",
            str(file),
            "--input",
            json.dumps(inputs),
            "--model",
            model,
            "--no-store",
            "-q",
            "--trace",
            str(trace),
        ],
    )
    assert ran.exit_code == 0, ran.output
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    return json.loads(ran.stdout), lines


def wait_for_end(get: Any, run: str, timeout: float = 60) -> dict[str, Any]:
    """Poll `GET /runs/{run}` (with `get`, a client's get) until the run is over."""
    deadline = time.monotonic() + timeout
    while True:
        data = get(f"/runs/{run}").json()
        if data["state"] in ENDED:
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.02)


@contextmanager
def server(folder: Path, store: Path, model: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`rolegraph serve FOLDER` on a free port, in a process of its own; (the process,
    its URL)."""
    import httpx

    log = store.with_suffix(".log").open("w+")  # (a file: a pipe nobody reads fills up)
    process = subprocess.Popen(
        [ROLEGRAPH, "serve", str(folder), "--port", "0", "--store", str(store), "--model", model],
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"on (http://\S+?)/ ", Path(log.name).read_text())):
            assert time.monotonic() < deadline and process.poll() is None, Path(
                log.name
            ).read_text()
            time.sleep(0.05)
        url = found.group(1)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/agents", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "no server"
            time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
