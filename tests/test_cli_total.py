"""Every command answers every input: exit 0, 1 or 2, never a traceback.

Whatever the text of a file (any text at all, or an example with a few edits: a span
deleted, doubled or replaced, a fragment inserted), `parse`, `check`, `graph`,
`compile`, `run --model mock` and `fmt` end with a result, diagnostics or a usage error.
The commands run in-process, so an exception that escapes is seen as itself.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rolegraph.cli import app

from .conftest import EXAMPLES

runner = CliRunner()
COMMANDS = (
    ("parse",),
    ("parse", "--json"),
    ("check",),
    ("graph",),
    ("compile",),
    # a budget bounds a run whose loop bound an edit made huge (`max 3` → `max 39999`)
    ("run", "--model", "mock", "--no-store", "-q", "--budget", "calls=60", "-i", '{"task": "t"}'),
    ("fmt",),  # last: it rewrites the file
)
TEXTS = [path.read_text(encoding="utf-8") for path in EXAMPLES]
FRAGMENTS = st.sampled_from(
    [
        "{", "}", "(", ")", "[", "]", "->", "=>", "=", ":", ",", ".", "?", "@desc(", '"',
        '"""', "\\", "\\u{D800}", "\\u{110000}", "\n", "\t", "\x00", "//", "{{", "}}", "{%",
        "%}", "max", "max 0", "max 99999", "x 0", "when", "else", "on error", "return",
        "agent", "role", "type", "enum", "model", "tool", "test", "ensure", "always",
        "eventually", "until", "once", "not", "and", "or", "none", "true", "-", "1e999",
        "99999999999999999999", "list[", "dict[str, ", "str?", "é", "😀", "\u2028",
        "import std.types", 'import "./x.agent"', "from std.types import Answer",
    ]
)  # fmt: skip


@st.composite
def edited_examples(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        edit = draw(st.sampled_from(("delete", "insert", "double", "replace")))
        piece = draw(st.one_of(FRAGMENTS, st.text(max_size=12)))
        if edit == "delete":
            text = text[:start] + text[end:]
        elif edit == "insert":
            text = text[:start] + piece + text[start:]
        elif edit == "double":
            text = text[:end] + text[start:end] + text[end:]
        else:
            text = text[:start] + piece + text[end:]
    return text


def _every_command_answers(text: str, folder) -> None:
    path = folder / "input.agent"
    path.write_text(text, encoding="utf-8")
    for command in COMMANDS:
        result = runner.invoke(app, [command[0], str(path), *command[1:]])
        escaped = result.exception if not isinstance(result.exception, SystemExit) else None
        assert escaped is None, (command, repr(escaped), text)
        assert result.exit_code in (0, 1, 2), (command, result.exit_code, result.output[-500:])


SETTINGS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(SETTINGS, max_examples=100)
@given(text=st.text(max_size=400))
def test_every_command_answers_any_text(tmp_path, text):
    _every_command_answers(text, tmp_path)


@settings(SETTINGS, max_examples=200)
@given(text=edited_examples())
def test_every_command_answers_an_edited_example(tmp_path, text):
    _every_command_answers(text, tmp_path)
