"""The grammar file and the AST agree on the vocabulary; the packaged files are found."""

import re

from rolegraph.compiler import ast
from rolegraph.grammar.parser import GRAMMAR_PATH, grammar_parser


def _keyword_alternation(terminal: str) -> set[str]:
    text = GRAMMAR_PATH.read_text()
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith(terminal + ":") or ln.startswith(terminal + ".")
    )
    group = re.search(r"\(\?:([a-z|]+)\)", line)
    assert group, line
    return set(group.group(1).split("|"))


def test_name_excludes_exactly_the_keywords():
    assert _keyword_alternation("NAME") == ast.KEYWORDS


def test_keywords_as_field_names_are_exactly_the_keywords():
    assert _keyword_alternation("KEYWORD_AS_FIELD") == ast.KEYWORDS


def test_every_keyword_of_the_grammar_is_reserved():
    """Reserved, or a word of test blocks or human steps, a keyword only inside them."""
    words = {
        t.pattern.value
        for t in grammar_parser().terminals
        if t.pattern.type == "str" and t.pattern.value.isalpha()
    }
    assert words <= ast.KEYWORDS | ast.TEST_KEYWORDS | ast.DECL_KEYWORDS
    assert not ast.KEYWORDS & (ast.TEST_KEYWORDS | ast.DECL_KEYWORDS)


def test_the_grammar_is_lalr_with_no_conflict_resolved_silently():
    """Built afresh (no cache) in Lark's strict mode: a reduce/reduce or a shift/reduce
    conflict, or two terminals whose patterns can match the same text, is an error
    here, where the parser itself would resolve a shift/reduce conflict by shifting."""
    from lark import Lark

    Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        strict=True,
        maybe_placeholders=False,
    )


def test_stdlib_files_are_found():
    from rolegraph import stdlib

    assert "types" in stdlib.module_names()
    assert stdlib.module_path("types").read_text().startswith("//")


def test_no_state_reads_a_keyword_out_of_a_longer_word():
    """Keyword terminals are strings, matched without a word boundary, and outrank
    KEYWORD_AS_FIELD: in a parser state that accepts `tool` and a field name but not
    `tools`, the lexer would read the field `tools` as `tool` then `s`. No state may."""
    parser = grammar_parser()
    words = {
        t.name: t.pattern.value
        for t in parser.terminals
        if t.pattern.type == "str" and t.pattern.value.isalpha()
    }
    by_word = {word: name for name, word in words.items()}
    hazards = set()
    for actions in parser.parser.parser.parser.parse_table.states.values():
        accepted = set(actions)
        if not accepted & {"NAME", "KEYWORD_AS_FIELD"}:
            continue
        for name, word in words.items():
            for longer, longer_name in by_word.items():
                if (
                    name in accepted
                    and longer != word
                    and longer.startswith(word)
                    and longer_name not in accepted
                ):
                    hazards.add((word, longer))
    assert not hazards
