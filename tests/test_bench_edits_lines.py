"""The lines-per-candidate benchmark (bench/edits_lines.py) still counts what it says: on
the 20-node agent, every operator's candidates are traced and every phase it names gets
lines of its own (a phase function renamed would leave its lines to "other", silently).
No count is asserted: the figures go to bench/RESULTS.md from a full run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import edits_lines


def test_every_operator_is_traced_and_every_phase_gets_lines():
    count, lines = edits_lines.counted(20, every=3)
    candidates = edits_lines._candidates(edits_lines._program(20))
    assert set(count) == {edit.op for edit in candidates}
    seen = {phase for found in lines.values() for phase, n in found.items() if n}
    assert seen == set(edits_lines.ORDER)
    assert all(lines[op]["types"] for op in count)  # (every candidate is type-checked)
