"""The parser never raises on any input, and every diagnostic points inside the file."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegraph.grammar import parse_module

from .conftest import EXAMPLES

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_TOKEN = re.compile(
    r'\s+|//[^\n]*|"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|\w+|->|==|!=|<=|>=|&&|\|\||.', re.UNICODE
)
VOCABULARY = [
    "role",
    "agent",
    "type",
    "enum",
    "model",
    "tool",
    "import",
    "from",
    "as",
    "prompt",
    "system",
    "tools",
    "when",
    "else",
    "on error",
    "max",
    "for",
    "in",
    "return",
    "ensure",
    "enforce",
    "not",
    "and",
    "or",
    "always",
    "eventually",
    "until",
    "since",
    "X",
    "F",
    "G",
    "U",
    "x 3",
    "true",
    "none",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
    "=",
    "->",
    "==",
    "@desc",
    "?",
    '"s"',
    '"""\nblock\n"""',
    "0",
    "-1",
    "2.5",
    "writer",
    "Writer",
    "//c\n",
    "\n",
    "\\",
    '"',
    "=>",
    "#",
]
SOURCES = [p.read_text() for p in EXAMPLES]


def assert_well_located(text: str) -> None:
    result = parse_module(text, "fuzz.agent")
    assert result.ok == (not result.diagnostics)
    lines = text.split("\n")
    for diagnostic in result.diagnostics:
        assert diagnostic.file == "fuzz.agent"
        assert diagnostic.span is not None, diagnostic
        assert 1 <= diagnostic.line <= len(lines), diagnostic
        assert 1 <= diagnostic.column <= len(lines[diagnostic.line - 1]) + 1, diagnostic
        assert 0 <= diagnostic.span.start <= diagnostic.span.end <= len(text), diagnostic
        for label in diagnostic.labels:
            assert 0 <= label.span.start <= label.span.end <= len(text)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_never_raises(text):
    assert_well_located(text)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list('(){}[],:.=->"\\/ \nxrolegAt123@?!#')), max_size=200))
def test_random_punctuation_never_raises(text):
    assert_well_located(text)


def _mutate(tokens: list[str], edits: list[tuple[int, int, int]]) -> str:
    tokens = list(tokens)
    for kind, position, choice in edits:
        if not tokens:
            break
        i = position % len(tokens)
        if kind == 0:
            del tokens[i]
        elif kind == 1:
            tokens.insert(i, " " + VOCABULARY[choice % len(VOCABULARY)] + " ")
        else:
            j = choice % len(tokens)
            tokens[i], tokens[j] = tokens[j], tokens[i]
    return "".join(tokens)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(SOURCES))),
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.integers(0, 10_000)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_examples_never_raise(index, edits):
    tokens = _TOKEN.findall(SOURCES[index])
    assert "".join(tokens) == SOURCES[index]
    assert_well_located(_mutate(tokens, edits))


@FUZZ
@given(st.sampled_from(range(len(SOURCES))), st.integers(0, 10_000))
def test_truncated_examples_never_raise(index, cut):
    text = SOURCES[index]
    assert_well_located(text[: cut % (len(text) + 1)])
