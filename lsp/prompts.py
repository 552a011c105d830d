"""The variables of a prompt template, where they stand in the `.agent` file.

`compiler/templates.py` analyses a template with jinja2, which knows lines but not
columns. An editor needs the exact characters of `{{ draft.text }}`: here the raw
string is scanned for `{{ }}` and `{% %}` blocks, and in them for chains of names
(`draft.text`) that are not jinja's own words, filters, tests or names the template
binds itself (`{% for d in drafts %}`: `d`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK = re.compile(r"\{\{(.*?)(?:\}\}|$)|\{%-?(.*?)(?:-?%\}|$)", re.DOTALL)
_CHAIN = re.compile(r"(?<![\w.|])[A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*")
_WORD = re.compile(r"[A-Za-z_]\w*")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\\?\"(?:[^\"\\]|\\.)*?\\?\"")
_BINDS = re.compile(
    r"\bfor\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\b|\bset\s+([A-Za-z_]\w*)|"
    r"\bwith\s+([A-Za-z_]\w*)\s*=|\bmacro\s+\w+\s*\(([^)]*)\)"
)
#: jinja2's statement words, operators, literals, and the names it provides
# fmt: off
JINJA_WORDS = frozenset({
    "if", "elif", "else", "endif", "for", "in", "endfor", "set", "endset", "not", "and",
    "or", "is", "true", "false", "none", "True", "False", "None", "loop", "range", "with",
    "endwith", "macro", "endmacro", "call", "endcall", "filter", "endfilter", "raw",
    "endraw", "block", "endblock", "include", "import", "from", "as", "recursive",
    "without", "context", "ignore", "missing", "namespace", "dict", "lipsum", "cycler",
    "joiner", "do", "break", "continue",
})
# fmt: on


@dataclass(frozen=True)
class Word:
    text: str
    start: int  # offsets in the `.agent` file
    end: int


def template_chains(text: str, start: int, end: int) -> list[list[Word]]:
    """The chains of names read from the template whose raw text is `text[start:end]`
    (between the quotes of a prompt string), as words with their offsets."""
    body = text[start:end]
    bound = bound_names(body)
    chains: list[list[Word]] = []
    for block in _BLOCK.finditer(body):
        group = 1 if block.group(1) is not None else 2
        inner = block.group(group) or ""
        base = start + block.start(group)
        masked = _STRING.sub(lambda m: " " * len(m.group()), inner)
        for chain in _CHAIN.finditer(masked):
            if _after_is(masked, chain.start()) or _is_call_keyword(masked, chain.end()):
                continue
            words = [
                Word(w.group(), base + chain.start() + w.start(), base + chain.start() + w.end())
                for w in _WORD.finditer(chain.group())
            ]
            if words[0].text in JINJA_WORDS or words[0].text in bound:
                continue
            chains.append(words)
    return chains


def bound_names(body: str) -> set[str]:
    """Names the template binds itself: loop variables, `set`, `with`, macro parameters."""
    names: set[str] = set()
    for match in _BINDS.finditer(body):
        for group in match.groups():
            if group:
                names.update(w.group() for w in _WORD.finditer(group))
    return names


def _after_is(text: str, index: int) -> bool:
    """`x is defined`, `x | upper`: a test or a filter, not a variable."""
    return bool(re.search(r"(?:\bis\s+(?:not\s+)?|\|\s*)$", text[:index]))


def _is_call_keyword(text: str, index: int) -> bool:
    """`f(x=1)`: a keyword argument's name, not a variable."""
    return bool(re.match(r"\s*=(?!=)", text[index:]))
