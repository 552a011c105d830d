"""Two steps of a validated edit on the 100-node agent of bench_edits.py, before and after,
interleaved: rebuilding the edited agent (`with_body`: a new body, the other fields kept)
and the nesting-depth check of a program with one new statement (`_too_deep`).

    python bench/bench_edit_rebuild.py --baseline DIR

CPU microseconds per call (the collector off while timed), the median of the processes,
with the range.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(nodes: int, repeat: int) -> dict[str, float]:
    sys.path.insert(0, str(HERE))
    from bench_edits import _program

    from rolegraph.compiler import ast, check
    from rolegraph.compiler.edits.base import with_body

    module = _program(nodes)
    agent = module.find(ast.AgentDecl)
    assert agent is not None
    body = list(agent.body)
    check._too_deep(module, "x.agent")  # (the parent program measured, as an editor has it)
    edited = []
    for i in range(repeat):
        changed = list(body)
        changed[i % len(body)] = body[i % len(body)].model_copy()  # one new statement
        edited.append(changed)
    gc.collect()
    gc.disable()  # (the steps' own work: a collection would fall on either at random)
    began = time.process_time()
    modules = [with_body(module, agent, changed) for changed in edited]
    rebuild = (time.process_time() - began) / repeat
    began = time.process_time()
    for program in modules:
        check._too_deep(program, "x.agent")
    depth = (time.process_time() - began) / repeat
    gc.enable()
    return {"with_body": rebuild * 1e6, "_too_deep": depth * 1e6}


def run_child(nodes: int, repeat: int, pythonpath: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(nodes), "--repeat", str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=500, help="edited programs per process")
    parser.add_argument("--processes", type=int, default=6, help="processes per tree")
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--baseline", help="a tree laid out as installed (required)")
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.repeat)))
        return
    if not args.baseline:
        parser.error("--baseline DIR is required")
    after: list[dict[str, float]] = []
    before: list[dict[str, float]] = []
    for _ in range(args.processes):
        after.append(run_child(args.nodes, args.repeat, None))
        before.append(run_child(args.nodes, args.repeat, args.baseline))
    print(f"{args.nodes} nodes, CPU µs per call, median of {args.processes} processes (range):")
    print("| step | before | after | after ÷ before |")
    print("|---|---|---|---|")
    for step in ("with_body", "_too_deep"):
        b = [r[step] for r in before]
        a = [r[step] for r in after]
        mb, ma = statistics.median(b), statistics.median(a)
        print(
            f"| `{step}` | {mb:.1f} ({min(b):.1f}-{max(b):.1f}) | "
            f"{ma:.1f} ({min(a):.1f}-{max(a):.1f}) | {ma / mb:.2f}x |"
        )


if __name__ == "__main__":
    main()
