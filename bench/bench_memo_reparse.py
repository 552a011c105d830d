"""What one check session keeps when it checks a file parsed anew each time (a tool that
re-reads the file it edits, or an editor that parses each version whole): the resident
memory and the entries of the check memo's tables after every `--every` checks, then
the CPU time. Each parse is let go once checked: nothing of it can serve a later check.

    python bench/bench_memo_reparse.py --parses 2000 examples/self_refine.agent
    python bench/bench_memo_reparse.py --baseline /tmp/s14-base/pkg examples/react.agent

With `--baseline`, the same in a process of that tree first (laid out as installed).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

TABLES = (
    "agents",
    "roles",
    "records",
    "declarations",
    "graphs",
    "tests",
    "statements",
    "declared",  # (s15-edits2's; a tree before it has none: 0)
)


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(path: str, parses: int, every: int, edit: bool) -> None:
    from rolegraph.compiler.edits.base import replace_decl
    from rolegraph.compiler.incremental import CheckSession
    from rolegraph.grammar import parse_module

    text = Path(path).read_text(encoding="utf-8")
    session = CheckSession(path)
    began = time.process_time()
    print("| checks | resident MiB | " + " | ".join(TABLES) + " |")
    print("|---" * (len(TABLES) + 2) + "|")
    for done in range(1, parses + 1):
        module = parse_module(text, path).module
        assert module is not None
        session.check(module, errors_only=True)
        if edit:  # (the editor's usual next check: the same declarations, one agent new)
            agent = module.agents[-1]
            session.check(
                replace_decl(module, agent, agent.with_changes(body=tuple(agent.body))),
                errors_only=True,
            )
            del agent
        del module
        if done % every == 0:
            gc.collect()
            sizes = " | ".join(str(len(getattr(session.memo, name, ()))) for name in TABLES)
            print(f"| {done} | {_resident_mib():.0f} | {sizes} |", flush=True)
    print(f"CPU {time.process_time() - began:.1f} s for {parses} checks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--parses", type=int, default=1000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--baseline", help="another tree, laid out as the installed package")
    parser.add_argument(
        "--edit", action="store_true", help="after each check, check a copy with one agent new"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child or not args.baseline:
        measure(args.file, args.parses, args.every, args.edit)
        return
    for label, pythonpath in ((args.baseline, args.baseline), ("this tree", None)):
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        command = [sys.executable, __file__, args.file, "--child"]
        command += ["--parses", str(args.parses), "--every", str(args.every)]
        command += ["--edit"] if args.edit else []
        print(f"\n{label}:", flush=True)
        subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
