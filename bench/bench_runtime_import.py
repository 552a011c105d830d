"""`import rolegraph.runtime`: CPU and wall time, and what it loads (issue 17 item 9).

    python bench/bench_runtime_import.py                        # this checkout
    python bench/bench_runtime_import.py --baseline /tmp/base   # against another tree, A/B

`--baseline` names a folder holding a `rolegraph` package laid out as installed (as for
bench/bench_startup.py); it goes first on PYTHONPATH for its runs. Rounds interleave the
two trees (the order alternating). Each run is a new process with the bytecode cache.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_startup import sample, spread

IMPORT = ["-c", "import rolegraph.runtime"]
MODULES = (
    "import json, sys, rolegraph.runtime\n"
    "print(json.dumps(sorted(m for m in sys.modules if m.startswith('rolegraph'))))"
)


NOTE = """
A baseline tree is a commit laid out as installed:

    git worktree add --detach /tmp/before 03595c9
    mkdir -p /tmp/base/rolegraph && cp -r /tmp/before/rolegraph/* /tmp/base/rolegraph/
    for d in grammar compiler runtime stdlib search lsp; do
        cp -r /tmp/before/$d /tmp/base/rolegraph/$d; done

Neither tree loads the resolver or the type checker: main had already made the runtime
import the IR alone (the ~870 ms and 16 modules of the issue were measured before that);
tests/test_startup_imports.py now asserts it. This change drops the printer and the
literal helpers (the IR loaded them for messages only); the runtime has more, smaller
modules after the executor's split, so the time is the same. What is left is pydantic,
the AST's models (~27 ms of their own) and the standard library (asyncio, ssl, socket,
sqlite3); less would take lazily imported public names in `rolegraph.runtime`."""


def modules(pythonpath: str | None) -> list[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", MODULES], env=env, cwd="/tmp", capture_output=True, text=True
    )
    return list(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--baseline-name", default="baseline")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    trees: dict[str, str | None] = {}
    if args.baseline is not None:
        trees[args.baseline_name] = str(args.baseline.resolve())
    trees["this tree"] = None
    runs: dict[str, list[tuple[float, float, float]]] = {tree: [] for tree in trees}
    for path in trees.values():
        sample(IMPORT, path)  # writes the bytecode cache
    for round_ in range(args.rounds):
        order = list(trees.items())
        if round_ % 2:
            order.reverse()
        for tree, path in order:
            runs[tree].append(sample(IMPORT, path))
    baseline = sample(["-c", "pass"], None)[0]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.rounds} interleaved rounds; median (min-max); "
        f"each a new process (the interpreter alone: {baseline * 1000:.0f} ms CPU).",
        "",
        "| tree | CPU ms | wall ms | rolegraph modules | of them `rolegraph.compiler.*` |",
        "|---|---|---|---|---|",
    ]
    for tree, path in trees.items():
        loaded = modules(path)
        compiler = [m.removeprefix("rolegraph.compiler.") for m in loaded if ".compiler." in m]
        cpu = spread([r[0] for r in runs[tree]], 1000)
        wall = spread([r[1] for r in runs[tree]], 1000)
        lines.append(
            f"| {tree} | {cpu} | {wall} | {len(loaded)} | {len(compiler)}: {', '.join(compiler)} |"
        )
    report = "\n".join(lines) + "\n" + NOTE
    print(report)
    if not args.no_write:
        from bench_frontend import record

        command = "python bench/bench_runtime_import.py" + (
            f" --baseline {args.baseline} --baseline-name '{args.baseline_name}'"
            if args.baseline is not None
            else ""
        )
        record(
            report,
            command,
            key="issue17-item9",
            title="Issue 17 item 9: `import rolegraph.runtime`",
        )


if __name__ == "__main__":
    main()
