"""`rolegraph search` as its own process freezes what its start-up made (the imports, the
checked program, the store), as `run` does, so that the collections while candidates run
do not walk it again; what the runs and their tools make is collected as always."""

import json

from .test_startup_imports import _gc_at_exit


def test_a_search_freezes_its_start_up_only(tmp_path):
    path = tmp_path / "gc.agent"
    path.write_text(
        'tool leave_a_cycle(path: str) -> bool = "tests.test_startup_imports:leave_a_cycle"\n'
        "agent A(path: str) -> bool {\n  c = leave_a_cycle(path)\n  return c\n}\n"
    )
    marker = tmp_path / "collected"
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"inputs": {"path": str(marker)}, "expected": True}))
    store = tmp_path / "s.sqlite"
    arguments = ["search", str(path), "--data", str(data), "--evaluations", "1"]
    _, enabled, count = _gc_at_exit(*arguments, "--store", str(store), "--quiet")
    assert enabled and count > 10_000
    assert marker.read_text() == "collected"  # (the tool's garbage, made after the freeze)


def test_a_search_called_in_a_program_freezes_nothing(tmp_path):
    """Through typer's `CliRunner`, a search leaves the caller's collector as it was."""
    import gc

    from typer.testing import CliRunner

    from rolegraph.cli import app

    from .test_search import SELF_REFINE

    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"inputs": {"task": "t"}, "expected": "fjord"}))
    before = gc.get_freeze_count()
    arguments = ["search", str(SELF_REFINE), "--data", str(data), "--evaluations", "2"]
    done = CliRunner().invoke(app, [*arguments, "--store", str(tmp_path / "s.sqlite"), "-q"])
    assert done.exit_code == 0, done.output
    assert gc.get_freeze_count() == before
