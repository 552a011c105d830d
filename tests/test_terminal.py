"""On a terminal, `rolegraph run` and `rolegraph search` show progress while they work.
Each command runs under a pseudo-terminal (the standard library's `pty`), and what it
writes there is read in order: progress must come before the final output. No timing
is claimed; the mock's latency only gives the run something to show."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios

from .conftest import ROOT

PLAN_EXECUTE = str(ROOT / "examples" / "plan_execute.agent")
SELF_REFINE = str(ROOT / "examples" / "self_refine.agent")
CAPITALS = str(ROOT / "examples" / "data" / "capitals.jsonl")
HANG = 120  # seconds of silence that can only mean a hung command, never a timing claim


def on_a_terminal(*args: str, cwd: str) -> tuple[int, str]:
    """`rolegraph ARGS` with a pseudo-terminal for stdin, stdout and stderr: its exit
    code, and everything it wrote there (escape sequences included), in order."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "140", "LINES": "40"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "rolegraph.cli", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=cwd,
        close_fds=True,
    )
    os.close(terminal)
    written = bytearray()
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], HANG)
            if not ready:
                process.kill()
                raise AssertionError(f"no output for {HANG} s: {written[-2000:]!r}")
            try:
                data = os.read(controller, 65536)
            except OSError:  # the terminal closed: every writer has exited
                break
            if not data:
                break
            written += data
    finally:
        os.close(controller)
    return process.wait(), written.decode("utf-8", "replace")


def test_run_shows_the_run_live_before_its_result(tmp_path):
    code, shown = on_a_terminal(
        "run", PLAN_EXECUTE, "--input", '{"task": "write a haiku"}',
        "--model", "mock:latency=0.2", "--no-store", cwd=str(tmp_path),
    )  # fmt: skip
    assert code == 0, shown
    result = shown.index('{\r\n  "text": ')  # the result, printed as indented JSON
    assert "PlanAndExecute" in shown[:result]  # the live view's header
    assert "logical time" in shown[:result]
    assert "running" in shown[:result]  # a firing shown while its call is made
    assert shown.index("run summary") > result


def test_run_with_events_on_a_terminal_prints_them_and_no_live_view(tmp_path):
    code, shown = on_a_terminal(
        "run", SELF_REFINE, "--input", '{"task": "t"}', "--model", "mock:latency=0.05",
        "--no-store", "--events", "jsonl", "-q", cwd=str(tmp_path),
    )  # fmt: skip
    assert code == 0, shown
    assert '{"kind": "run_started"' in shown and '{"kind": "result"' in shown
    assert "logical time" not in shown


def test_search_shows_a_progress_bar_before_its_front(tmp_path):
    code, shown = on_a_terminal(
        "search", SELF_REFINE, "--data", CAPITALS, "--score", "contains", "-n", "3",
        "--model", "mock:latency=0.05", "--store", str(tmp_path / "s.sqlite"),
        cwd=str(tmp_path),
    )  # fmt: skip
    assert code == 0, shown
    front = shown.index("Pareto front")
    assert "candidates" in shown[:front]
    assert "1/3" in shown[:front] and "ETA" in shown[:front]  # drawn as candidates came
    assert "best " in shown[:front] and " calls" in shown[:front]
    assert "[1/3] score" not in shown  # per-candidate lines need -v on a terminal


def test_search_verbose_on_a_terminal_prints_a_line_per_candidate_too(tmp_path):
    code, shown = on_a_terminal(
        "search", SELF_REFINE, "--data", CAPITALS, "--score", "contains", "-n", "2",
        "--store", str(tmp_path / "s.sqlite"), "-v", cwd=str(tmp_path),
    )  # fmt: skip
    assert code == 0, shown
    assert shown.index("[1/2] score") < shown.index("Pareto front")


def test_run_quiet_on_a_terminal_shows_only_the_result(tmp_path):
    code, shown = on_a_terminal(
        "run", SELF_REFINE, "--input", '{"task": "t"}', "--model", "mock:latency=0.05",
        "--no-store", "-q", cwd=str(tmp_path),
    )  # fmt: skip
    assert code == 0, shown
    assert "logical time" not in shown and "run summary" not in shown
    assert shown.lstrip().startswith('{\r\n  "text": ')
