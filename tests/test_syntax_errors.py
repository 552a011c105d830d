"""Malformed snippets get the exact diagnostic code, line and column, and a message
in human words."""

import pytest

from rolegraph.grammar import parse_module

AGENT = "agent A(q: str) -> str {{\n{}\n}}\n"
ROLE = "role W(q: str) -> str {{\n{}\n}}\n"

# (name, source, code, line, column, words the message or a hint must contain)
CASES = [
    (
        "missing comma between arguments",
        AGENT.format("  c = C(q draft: w)"),
        "E0101",
        2,
        11,
        "expected `,` or `)` after an argument",
    ),
    ("fat arrow", AGENT.format("  a = W(q)\n  a => b"), "E0106", 3, 5, "`=>`"),
    (
        "missing closing brace",
        ROLE.format('  prompt "x"').rstrip("}\n") + "\n\nrole B() -> str {}\n",
        "E0107",
        4,
        1,
        "expected `}`",
    ),
    (
        "keyword as role name",
        "role model(q: str) -> str {}\n",
        "E0105",
        1,
        6,
        "`model` is a keyword",
    ),
    (
        "keyword as node name",
        AGENT.format("  return = W(q)"),
        "E0105",
        2,
        3,
        "`return` is a keyword",
    ),
    ("keyword as parameter", "agent A(max: int) -> str {}\n", "E0105", 1, 9, "`max` is a keyword"),
    (
        "end of file inside a block",
        "agent A(q: str) -> str {\n  a = W(q)\n",
        "E0102",
        2,
        11,
        "`}` missing",
    ),
    (
        "end of file inside arguments",
        "agent A(q: str) -> str {\n  a = W(q,\n",
        "E0102",
        2,
        11,
        "`)` missing",
    ),
    ("unterminated string", ROLE.format('  prompt "abc'), "E0103", 2, 10, "unterminated string"),
    ("unterminated triple string", ROLE.format('  prompt """abc'), "E0103", 2, 10, "triple-quoted"),
    ("invalid escape", ROLE.format('  prompt "a\\qb"'), "E0104", 2, 12, "`\\q`"),
    ("bad unicode escape", ROLE.format('  prompt "\\u{zz}"'), "E0104", 2, 11, "unicode"),
    (
        "edge bound of zero",
        AGENT.format("  a = W(q)\n  a -> a max 0"),
        "E0110",
        3,
        14,
        "at least 1",
    ),
    ("replication of zero", AGENT.format("  a = W(q) x 0"), "E0110", 2, 12, "at least 1"),
    (
        "map bound of zero",
        AGENT.format("  a = W(s) for s in q max 0"),
        "E0110",
        2,
        27,
        "at least 1",
    ),
    ("equals in a named argument", AGENT.format("  a = W(q, d = x)"), "E0101", 2, 14, "use `:`"),
    ("colon in a node declaration", AGENT.format("  a: W(q)"), "E0101", 2, 4, "declared with `=`"),
    ("unknown generic", "type T { a: set[int] }\n", "E0109", 1, 13, "unknown generic type `set`"),
    ("list with two arguments", "type T { a: list[int, str] }\n", "E0109", 1, 13, "takes 1"),
    ("node outside an agent", "writer = Writer(task)\n", "E0101", 1, 1, "a declaration"),
    (
        "duplicate prompt",
        ROLE.format('  prompt "a"\n  prompt "b"'),
        "E0108",
        3,
        3,
        "second `prompt`",
    ),
    (
        "positional after named",
        AGENT.format("  a = W(d: q, q)"),
        "E0111",
        2,
        15,
        "positional argument after a named one",
    ),
    ("argument given twice", AGENT.format("  a = W(d: q, d: q)"), "E0112", 2, 15, "given twice"),
    (
        "parameter declared twice",
        "role W(a: str, a: int) -> str {}\n",
        "E0112",
        1,
        16,
        "declared twice",
    ),
    ("hash comment", "# note\nrole W() -> str {}\n", "E0100", 1, 1, "comments start with `//`"),
    ("single-quoted string", ROLE.format("  prompt 'x'"), "E0100", 2, 10, "double quotes"),
    (
        "condition after bound",
        AGENT.format("  a = W(q)\n  a -> a max 2 when a.ok"),
        "E0101",
        3,
        16,
        "before the bound",
    ),
    (
        "replication without space",
        AGENT.format("  a = W(q) x3\n  return a"),
        "E0101",
        3,
        3,
        "`x 3`",
    ),
    (
        "temporal letter as node name",
        AGENT.format("  F = W(q)"),
        "E0105",
        2,
        3,
        "temporal operator",
    ),
    ("empty enum", "enum E {}\n", "E0113", 1, 1, "no members"),
    (
        "positional port on an edge",
        AGENT.format("  a = W(q)\n  a -> a(q) max 2"),
        "E0113",
        3,
        10,
        "named",
    ),
    ("missing result type", "role W(q: str) {}\n", "E0101", 1, 16, "result type"),
]


@pytest.mark.parametrize(
    ("name", "source", "code", "line", "column", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_malformed_snippet(name, source, code, line, column, words):
    result = parse_module(source, "snippet.agent")
    assert not result.ok
    first = result.diagnostics[0]
    assert (first.code, first.line, first.column) == (code, line, column), str(first)
    text = " ".join([first.message, *first.hints, first.label])
    assert words in text


def test_the_table_has_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_one_error_per_broken_declaration_is_reported():
    source = (
        'role W(q: str) -> str {\n  prompt "a" "b"\n}\n'
        "agent A(q: str) -> str {\n  a = W(q,,)\n}\n"
        "agent B(q: str) -> str {\n  b = W(q)\n  return b\n}\n"
        "type T { a: str b }\n"
    )
    result = parse_module(source, "many.agent")
    assert [(d.line, d.code) for d in result.diagnostics] == [
        (2, "E0101"),
        (5, "E0101"),
        (11, "E0101"),
    ]


def test_a_missing_brace_does_not_hide_the_next_declaration_errors():
    source = 'role W() -> str {\n  prompt "a"\n\nrole V() -> str {\n  prompt "b" "c"\n}\n'
    codes = [d.code for d in parse_module(source).diagnostics]
    assert codes == ["E0107", "E0101"]


def test_diagnostics_render_with_the_line_and_a_caret():
    from rolegraph.compiler.diagnostics import render

    result = parse_module(AGENT.format("  c = C(q draft: w)"), "x.agent")
    text = render(result.diagnostics[0], result.source)
    assert "--> x.agent:2:11" in text
    assert "  c = C(q draft: w)" in text
    assert "          ^^^^^" in text
    assert "help: add a `,` before `draft`" in text


def test_a_letter_operator_where_a_formula_starts_is_a_diagnostic():
    """Found by the fuzzer: `ensure U until ...` parsed to nothing, with no diagnostic."""
    from rolegraph.grammar import parse_module

    text = 'agent A() -> str {\n  return "x"\n  ensure U until always(return)\n}\n'
    result = parse_module(text, "f.agent")
    assert result.module is None
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "E0105" and (diagnostic.line, diagnostic.column) == (3, 10)


@pytest.mark.parametrize(
    ("text", "owner", "key"),
    [
        ('role R(a: str) -> str {\n  prompt "x"\n  prompt "y"\n}\n', "role `R`", "prompt"),
        (
            'human H(a: str) -> str {\n  deadline "1h"\n  prompt "x"\n  deadline "2h"\n}\n',
            "human step `H`",
            "deadline",
        ),
    ],
)
def test_a_second_item_in_a_block_is_e0108_at_it_with_the_first_labelled(text, owner, key):
    from rolegraph.grammar import parse_module

    (diagnostic,) = parse_module(text, "x.agent").diagnostics
    assert diagnostic.code == "E0108"
    assert diagnostic.message == f"{owner} has a second `{key}`"
    assert diagnostic.span.line == text.count("\n") - 1
    assert [label.message for label in diagnostic.labels] == [f"first `{key}` here"]
