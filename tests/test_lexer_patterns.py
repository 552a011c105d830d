"""The lexer's compiled patterns kept across processes (grammar/patterns.py) match as
`re.compile`'s do, and a damaged file only costs compiling again."""

from __future__ import annotations

import re

from rolegraph.grammar.patterns import PatternCache

PATTERNS = [
    r"(?P<NAME>[A-Za-z_][A-Za-z0-9_]*)|(?P<INT>[0-9]+)|(?P<ARROW>\->)",
    r'(?P<STRING>"(?:[^"\\]|\\.)*")|(?P<COMMENT>//[^\n]*)',
    r"(?i)(?P<WORD>agent|role)\b",
]
TEXTS = ["agent_1 -> 42", '"a \\" b" // c', "ROLE x", "", "->", "9lives"]


def _matches(pattern: re.Pattern, text: str) -> list:
    return [
        (m.group(0), m.lastgroup, m.span()) if m else None
        for m in (pattern.match(text, i) for i in range(len(text) + 1))
    ]


def test_kept_patterns_match_as_compiled_ones(tmp_path):
    path = str(tmp_path / "patterns.json")
    first = PatternCache(path)
    for pattern in PATTERNS:
        first.compile(pattern)
    first.save()
    second = PatternCache(path)
    for pattern in PATTERNS:
        kept = second.compile(pattern)
        assert kept.groupindex == re.compile(pattern).groupindex
        for text in TEXTS:
            assert _matches(kept, text) == _matches(re.compile(pattern), text)
    assert not second.added  # every one read back, none compiled again


def test_a_damaged_file_falls_back_to_compiling(tmp_path):
    path = tmp_path / "patterns.json"
    path.write_text('{"0:[a-z]+": [0, [1, 2, 3], 0, {}, []], "junk": 1')
    cache = PatternCache(str(path))
    assert cache.compile("[a-z]+").match("abc1").group() == "abc"
    path.write_text('{"0:[a-z]+": [0, "not code", 0, {}, []]}')
    cache = PatternCache(str(path))
    assert cache.compile("[a-z]+").match("abc1").group() == "abc"


def test_a_pattern_is_made_once_and_matches_as_compiled_ones_each_time(tmp_path):
    cache = PatternCache(str(tmp_path / "patterns.json"))
    for pattern in PATTERNS * 3:
        made = cache.compile(pattern)
        assert made is cache.compile(pattern)
        for text in TEXTS:
            assert _matches(made, text) == _matches(re.compile(pattern), text)
            assert bool(cache.match(pattern, text)) == bool(re.match(pattern, text))
    assert cache.compile(PATTERNS[0], re.I) is not cache.compile(PATTERNS[0])  # (by flags)
    assert cache.compile(PATTERNS[0], re.I).flags == re.compile(PATTERNS[0], re.I).flags
