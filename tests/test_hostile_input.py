"""Hostile input gets a clear answer (issue 12, the smaller ones): a BOM is accepted,
control characters are never echoed raw, a mock latency that would hang is refused,
running out of memory says so, a binary file is a diagnostic, and every output path is
validated before the work starts."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rolegraph
from rolegraph.cli import app
from rolegraph.compiler.diagnostics import _UNSHOWN, Diagnostic, printable, render
from rolegraph.compiler.source import Source
from rolegraph.runtime import FiringFailed, RunError, run_agent

from .conftest import ROOT

SELF_REFINE = ROOT / "examples" / "self_refine.agent"
INPUT = json.dumps({"task": "Explain recursion."})
ROLEGRAPH = Path(sys.executable).parent / "rolegraph"
needs_cli = pytest.mark.skipif(not ROLEGRAPH.exists(), reason="console script not installed")
CONTROLS = ["\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\x00"]


def cli(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def run_cli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROLEGRAPH), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )


# -- a byte order mark ------------------------------------------------------------------------


def test_a_utf8_bom_is_accepted():
    checked = rolegraph.check_source('\ufeffmodel m = "mock"\n', "bom.agent")
    assert not checked.diagnostics


def test_a_file_that_starts_with_a_bom_checks(tmp_path):
    path = tmp_path / "bom.agent"
    path.write_bytes(b"\xef\xbb\xbf" + SELF_REFINE.read_bytes())
    result = cli("check", path)
    assert result.exit_code == 0, result.output


def test_columns_after_a_bom_are_those_without_it(tmp_path):
    text = 'model m = "mock" { temprature: 0.2 }\n'
    plain = rolegraph.check_source(text, "a.agent").diagnostics
    marked = rolegraph.check_source("\ufeff" + text, "a.agent").diagnostics
    assert [(d.code, d.line, d.column) for d in marked] == [("W0320", 1, 20)]
    assert [(d.line, d.column) for d in plain] == [(1, 20)]
    assert render(marked[0], Source("a.agent", "\ufeff" + text)) == render(
        plain[0], Source("a.agent", text)
    )


# -- control characters ------------------------------------------------------------------------


def rendered_line_and_caret(text: str) -> tuple[str, str]:
    (warning,) = rolegraph.check_source(text, "a.agent").diagnostics
    lines = render(warning, Source("a.agent", text)).splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("1 |"))
    return lines[index], lines[index + 1]


@pytest.mark.parametrize("control", CONTROLS, ids=[hex(ord(c)) for c in CONTROLS])
def test_control_characters_of_an_echoed_line_are_escaped(control):
    line, _ = rendered_line_and_caret(f'model m = "a{control}b" {{ temprature: 0.2 }}\n')
    assert control not in line
    assert repr(control)[1:-1] in line  # written as Python writes it: \x1b, \u202e


def test_the_caret_stays_under_its_token_after_escapes():
    osc = "\x1b]8;;http://example.com\x07link\x1b]8;;\x07"
    line, caret = rendered_line_and_caret(f'model m = "{osc}\u202e" {{ temprature: 0.2 }}\n')
    assert caret.index("^") == line.index("temprature")


def test_a_long_line_is_echoed_as_a_window_around_its_caret():
    padding = "x" * 5000
    line, caret = rendered_line_and_caret(
        f'model m = "{padding}" {{ temprature: 0.2 }} // {padding}\n'
    )
    assert len(line) < 200
    assert caret.index("^") == line.index("temprature")


def test_a_diagnostic_s_own_words_are_escaped_too():
    diagnostic = Diagnostic(code="E0100", message="bad \x1b[2J here", file="a\u202e.agent")
    for shown in (str(diagnostic), render(diagnostic, None)):
        assert "\x1b" not in shown and "\u202e" not in shown
        assert "\\x1b[2J" in shown


def _printable_a_character_at_a_time(text: str) -> str:
    # the rule `printable` follows, character by character: the oracle of its search in C
    return "".join(repr(ch)[1:-1] if ord(ch) in _UNSHOWN else ch for ch in text)


def test_printable_escapes_exactly_the_characters_a_terminal_acts_on():
    for code in range(0x3000):  # (every character of `_UNSHOWN` and those around them)
        text = f"a{chr(code)}\t{chr(code)}b"
        assert printable(text) == _printable_a_character_at_a_time(text), hex(code)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(st.one_of(st.sampled_from(sorted(map(chr, _UNSHOWN))), st.characters())))
def test_printable_escapes_each_of_them_in_any_text(text):
    assert printable(text) == _printable_a_character_at_a_time(text)


# -- a mock latency that would hang ---------------------------------------------------------------


@needs_cli
@pytest.mark.parametrize("latency", ["inf", "nan", "-1", "soon"])
def test_a_mock_latency_that_is_no_finite_delay_is_a_usage_error(latency):
    done = run_cli("run", SELF_REFINE, "--input", INPUT, "--model", f"mock:latency={latency}")
    assert done.returncode == 2, done.stderr
    assert "latency" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("latency", ["inf", "nan", "-1"])
def test_a_declared_mock_latency_that_would_hang_fails_the_run_in_words(latency):
    text = SELF_REFINE.read_text().replace('"openai/gpt-4o-mini"', f'"mock:latency={latency}"')
    ir = rolegraph.load_agent("a.agent", text=text)
    with pytest.raises(RunError) as caught:
        asyncio.run(asyncio.wait_for(run_agent(ir, json.loads(INPUT)), timeout=60))
    assert "latency" in str(caught.value)


# -- running out of memory --------------------------------------------------------------------


def exhausted(value: int) -> int:
    raise MemoryError


def test_a_tool_that_runs_out_of_memory_fails_with_words():
    text = (
        'tool grow(value: int) -> int = "tests.test_hostile_input:exhausted"\n'
        "agent A(value: int) -> int {\n  g = grow(value)\n  return g\n}\n"
    )
    ir = rolegraph.load_agent("a.agent", text=text)
    with pytest.raises(FiringFailed) as caught:
        asyncio.run(run_agent(ir, {"value": 1}))
    assert str(caught.value) == "node `g` failed: MemoryError: out of memory"


def test_the_cli_reports_running_out_of_memory_in_words(monkeypatch, capsys):
    from rolegraph import cli as cli_module
    from rolegraph.cli import checking as check_command

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(check_command, "check_file", out_of_memory)
    monkeypatch.setattr(sys, "argv", ["rolegraph", "check", str(SELF_REFINE)])
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    assert exited.value.code == 1
    assert "error: out of memory" in capsys.readouterr().err


# -- a binary file ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "run", "fmt", "graph", "compile"])
def test_invalid_utf8_is_a_diagnostic_with_a_location(tmp_path, command):
    path = tmp_path / "bin.agent"
    path.write_bytes(b'model m = "mock"\nrole \xff\xfe(x: str) -> str {}\n')
    result = cli(command, path)
    assert result.exit_code == 1, result.output
    assert "error[E0114]" in result.output
    assert f"{path}:2:6" in result.output


def test_a_nul_byte_is_a_diagnostic_with_a_location(tmp_path):
    path = tmp_path / "nul.agent"
    path.write_bytes(b'model m = "mock"\nmodel \x00\x00 = "mock"\n')
    result = cli("check", path)
    assert result.exit_code == 1, result.output
    assert "error[E0114]" in result.output and f"{path}:2:7" in result.output
    assert "\x00" not in result.output


def test_a_utf16_file_is_told_to_be_saved_as_utf8(tmp_path):
    path = tmp_path / "wide.agent"
    path.write_bytes('model m = "mock"\n'.encode("utf-16"))
    result = cli("check", path)
    assert result.exit_code == 1
    assert "UTF-16" in result.output


def test_check_goes_on_past_a_binary_file(tmp_path):
    (tmp_path / "a_bin.agent").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "b_bad.agent").write_text('model m = "mock" { temperature: 9 }\n')
    result = cli("check", tmp_path)
    assert result.exit_code == 1
    assert "E0114" in result.output and "E0313" in result.output


# -- output paths, validated before the work ---------------------------------------------------


def search_args(tmp_path: Path) -> list[object]:
    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"inputs": json.loads(INPUT), "expected": "x"}) + "\n")
    return ["search", SELF_REFINE, "--data", data, "-n", "2", "--store", tmp_path / "s.sqlite"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["compile", SELF_REFINE, "-o", "{missing}/x.py"], "no folder"),
        (["compile", SELF_REFINE, "-o", "{folder}"], "is a folder"),
        (["graph", SELF_REFINE, "-o", "{missing}/x.mmd"], "no folder"),
        (["graph", SELF_REFINE, "-o", "{folder}"], "is a folder"),
        (["edit", SELF_REFINE, "--list", "-o", "{folder}"], "is a folder"),
    ],
    ids=["compile missing", "compile folder", "graph missing", "graph folder", "edit"],
)
def test_an_output_path_that_cannot_be_written_is_a_usage_error(tmp_path, args, said):
    # (nothing shows that the work did not start here; the run and search tests show it)
    folder = tmp_path / "out"
    folder.mkdir()
    filled = [
        str(a).format(missing=tmp_path / "no" / "such", folder=folder) if isinstance(a, str) else a
        for a in args
    ]
    result = cli(*filled)
    assert result.exit_code == 2, result.output
    assert said in result.output


def test_run_trace_into_a_missing_folder_fails_before_the_run(tmp_path):
    store = tmp_path / "s.sqlite"
    result = cli(
        "run", SELF_REFINE, "--input", INPUT, "--model", "mock", "--store", store,
        "--trace", tmp_path / "no" / "such" / "t.jsonl",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "--trace" in result.output and "no folder" in result.output
    assert not store.exists()  # nothing ran: the run was never recorded


def test_search_output_onto_a_file_fails_before_the_search(tmp_path):
    existing = tmp_path / "front"
    existing.write_text("a file, not a folder")
    result = cli(*search_args(tmp_path), "-o", existing)
    assert result.exit_code == 2, result.output
    assert "-o" in result.output and "is a file" in result.output
    assert not (tmp_path / "s.sqlite").exists()  # the search never started


def test_search_plot_into_a_missing_folder_fails_before_the_search(tmp_path):
    result = cli(*search_args(tmp_path), "--plot", tmp_path / "no" / "plot.svg")
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "s.sqlite").exists()


def test_search_output_into_a_new_folder_is_made(tmp_path):
    result = cli(*search_args(tmp_path), "-o", tmp_path / "new" / "front", "-q")
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "new" / "front").glob("*.agent"))


def test_run_trace_is_written_where_asked(tmp_path):
    trace = tmp_path / "t.jsonl"
    result = cli("run", SELF_REFINE, "--input", INPUT, "--model", "mock", "--no-store",
                 "--trace", trace, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(trace.read_text().splitlines()[-1])["event"] == "end"


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_command_from_a_removed_working_directory_answers_as_from_any_other(tmp_path, command):
    """A removed working directory is no place to look for a tool's module: the tool is
    found beside its `.agent` file, as from any other folder (it was a traceback)."""
    agent = ROOT / "examples" / "failure_recovery.agent"
    args = [command, str(agent)]
    if command == "run":
        args += ["--input", '{"task": "What is the capital of Kenya?"}', "--model", "mock"]
        args += ["-q", "--no-store"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    oracle = run_cli(*args, cwd=elsewhere)
    gone = tmp_path / "gone"
    gone.mkdir()
    done = subprocess.run(
        [
            *("sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone)),
            *(sys.executable, "-m", "rolegraph", *args),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    assert (done.stdout, done.returncode) == (oracle.stdout, oracle.returncode)
    assert oracle.returncode == 0
