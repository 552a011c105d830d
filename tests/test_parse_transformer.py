"""The transformer looks each rule's method up once per parse (grammar/to_ast.py
`ToAst._call_userfunc`); held here to Lark's own look-up on every tree: the same AST and
the same diagnostics for the examples, the standard library, and broken sources (errors
the transformer reports, and recovery)."""

import random

import pytest
from lark.visitors import Transformer

import rolegraph.grammar.parser as parser
from rolegraph.grammar import parse_module
from rolegraph.grammar.to_ast import ToAst

from .conftest import EXAMPLES, STDLIB


class _General(ToAst):
    _call_userfunc = Transformer._call_userfunc


def _sources() -> list[str]:
    texts = [path.read_text() for path in EXAMPLES + STDLIB]
    rng = random.Random(11)
    broken = []
    for text in texts[:8]:  # (seeded cuts and duplicated lines: errors and recovery)
        lines = text.splitlines()
        for _ in range(3):
            at = rng.randrange(len(lines))
            cut = (
                lines[:at] + lines[at + 1 :]
                if rng.random() < 0.5
                else lines[:at] + [lines[at]] * 2 + lines[at + 1 :]
            )
            broken.append("\n".join(cut))
    return texts + broken + ["type T { x: int @desc(3) }\n", "agent A() -> str { n = 1 }\n"]


@pytest.mark.parametrize("index", range(len(_sources())))
def test_the_same_ast_and_diagnostics_as_larks_look_up(index, monkeypatch):
    text = _sources()[index]
    fast = parse_module(text, "t.agent")
    monkeypatch.setattr(parser, "ToAst", _General)
    general = parse_module(text, "t.agent")
    assert fast.module == general.module
    assert [str(d) for d in fast.diagnostics] == [str(d) for d in general.diagnostics]


def test_broken_sources_report_errors():
    """(The comparison above covers the error paths: some sources have diagnostics.)"""
    assert any(parse_module(text, "t.agent").diagnostics for text in _sources())
