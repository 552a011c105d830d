"""The checker's scaling benchmark (bench/bench_check_scaling.py) still runs: `--quick`
checks small chains and stage graphs, each in a new process, and prints a row for each
(no timing is asserted: the figures go to bench/RESULTS.md from a full run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "bench_check_scaling.py"


def test_the_scaling_benchmark_runs_in_quick_mode():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--limit", "120"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [
        line for line in done.stdout.splitlines() if line.startswith("| ") and "|---" not in line
    ]
    for shape in ("chain", "stage graph"):
        for nodes in ("20", "100"):
            assert any(row.startswith(f"| {shape}") and f"| {nodes} |" in row for row in rows), (
                shape,
                nodes,
                done.stdout,
            )
