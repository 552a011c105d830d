"""A real small search on the mock model, by the command (`rolegraph search`, a
process), for the tests of its report (`-o DIR` writes DIR/search.json) and of how
`rolegraph serve` shows it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .conftest import ROOT
from .serving import ROLEGRAPH

SELF_REFINE = ROOT / "examples" / "self_refine.agent"


def run_search(work: Path, out: Path, evaluations: int = 8) -> tuple[Path, str]:
    """`rolegraph search examples/self_refine.agent -o OUT` over three examples: the
    report's path and the command's output."""
    data = work / "qa.jsonl"
    data.write_text(
        "".join(
            json.dumps({"inputs": {"task": f"task {i}"}, "expected": "fjord"}) + "\n"
            for i in range(3)
        )
    )
    args = ["search", str(SELF_REFINE), "--data", str(data), "--score", "contains"]
    args += ["-n", str(evaluations), "--seed", "3", "--store", str(work / "search.sqlite")]
    args += ["-o", str(out), "-q"]
    # (a process of its own: the browser tests' thread runs Playwright's event loop)
    done = subprocess.run([str(ROLEGRAPH), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out / "search.json", done.stderr
