"""Start-up: where the CPU time of `rolegraph check` and `rolegraph run --model mock` goes.

    python bench/profile_startup.py              # 15 fresh processes, median per phase
    python bench/profile_startup.py --rounds 5 --no-write

Each round is a new interpreter (with the bytecode cache) that goes through what the two
commands do the fast way (rolegraph/cli/fast.py), one phase after the other, with the
collector as the command line has it (paused for start-up, what start-up made frozen
before the run), and times each phase's CPU: the interpreter's start, the command line's
modules, the libraries, the compiler's, the first parse (the AST's validators, the
parser), the check, then the runtime, one run on the mock, and the exit (the process's
CPU less the phases before). A phase's figure is what it adds to the phases before it,
so they sum to the whole.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "self_refine.agent"

# One round: each phase's CPU time in ms, as JSON on stdout.
_ROUND = r"""
import gc, json, sys, time
gc.disable()  # (as the command line runs its start-up: rolegraph/cli/exits.py)
spent, last = {}, 0.0
def phase(name):
    global last
    now = time.process_time()
    spent[name] = (now - last) * 1000
    last = now
phase("the interpreter's start (python -c pass: bench_startup.py)")
import rolegraph.cli, rolegraph.cli.fast, rolegraph.cli.checking, rolegraph.cli.running
from rolegraph.cli.on_first_use import imported_on_first_use
imported_on_first_use("regex", "interegular")  # (as the command's main() does)
phase("rolegraph.cli: the fast way of check and run (no typer)")
import pydantic, pydantic.main, pydantic.types
phase("pydantic")
from pydantic.plugin._loader import get_plugins
get_plugins()
phase("pydantic's search for plugins (importlib.metadata: every package's entry points)")
import rolegraph.compiler.ast
phase("the AST's 60-odd classes (compiler/ast.py)")
import rolegraph.grammar
phase("grammar/ with lark and jinja2 (lark's regex and interegular: on first use)")
import rolegraph.compiler.check
phase("the checker's modules")
import os
from rolegraph.grammar.lexer import _built_path
built = _built_path()  # (the folder grammar_parser() keeps the schemas in)
rolegraph.compiler.ast.build_validators(keep=os.path.dirname(built) if built else None)
phase("the AST's validators (pydantic schemas, kept across processes)")
from rolegraph.grammar.lexer import grammar_parser
grammar_parser()
phase("the parser (kept whole, or Lark's cache)")
from rolegraph.grammar import parse_module
text = open(sys.argv[1], encoding="utf-8").read()
parsed = parse_module(text, sys.argv[1])
phase("parsing the file")
from rolegraph.compiler.check import check_module
def imported(source, name):
    found = parse_module(source, name)
    return found.module, found.diagnostics
checked = check_module(parsed.module, sys.argv[1], imported, text)
phase("checking it (with the explorer)")
import asyncio, rolegraph.runtime
phase("the runtime's modules (asyncio among them)")
gc.freeze()  # (what start-up made: rolegraph/cli/exits.py keep_until_exit)
gc.enable()  # (an agent runs with the collector on)
ir = list(checked.irs.values())[-1]
asyncio.run(rolegraph.runtime.run_agent(ir, {"task": "x"}, model="mock"))
phase("one run on the mock")
print(json.dumps(spent))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def one() -> dict[str, float]:
        process = subprocess.Popen(
            [sys.executable, "-c", _ROUND, str(EXAMPLE)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd="/tmp",
        )
        assert process.stdout is not None
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("a round failed")
        spent: dict[str, float] = json.loads(out)
        whole = (usage.ru_utime + usage.ru_stime) * 1000
        spent["the exit (the collector frozen)"] = whole - sum(spent.values())
        return spent

    one()  # writes the bytecode cache, and the parser's
    rounds = [one() for _ in range(args.rounds)]
    lines = [
        f"{args.rounds} fresh processes; median CPU ms per phase (min-max); each phase is "
        "what it adds to those above it.",
        "",
        "| phase | CPU ms |",
        "|---|---|",
    ]
    for name in rounds[0]:
        values = [r[name] for r in rounds]
        lines.append(
            f"| {name} | {statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f}) |"
        )
    totals = [sum(r.values()) for r in rounds]
    lines.append(f"| all of them (the process's CPU) | {statistics.median(totals):.0f} |")
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_frontend import record

        command = "python bench/profile_startup.py" + (
            f" --rounds {args.rounds}" if args.rounds != 15 else ""
        )
        record(report, command, key="startup-profile", title="Start-up: where the time goes")


if __name__ == "__main__":
    main()
