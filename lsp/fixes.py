"""Quick fixes for the diagnostics whose hint says exactly what to write.

A fix is data: a title and the edits (offsets and new text) that apply it. Only hints
that determine the edit are offered: a did-you-mean (the misspelt word in the span is
replaced), `add \\`max N\\`` to an edge that closes an unbounded cycle, removing a
bound from an edge that closes no cycle, `->` for `=>`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from rolegraph.compiler import codes
from rolegraph.compiler.diagnostics import Diagnostic

#: the bound a fix gives an unbounded loop: the examples' usual number of revisions
DEFAULT_BOUND = 3

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    preferred: bool = False


def fixes_for(d: Diagnostic, text: str) -> list[Fix]:
    """The fixes of a diagnostic of `text` (none for most)."""
    if d.span is None:
        return []
    found: list[Fix] = []
    for hint in d.hints:
        match = _DID_YOU_MEAN.search(hint)
        if match:
            fix = _replace_closest(d, text, match.group(1))
            if fix is not None:
                found.append(fix)
    if d.code == codes.UNBOUNDED_CYCLE and any("add `max N`" in h for h in d.hints):
        found.append(
            Fix(
                f"bound the loop: add `max {DEFAULT_BOUND}`",
                (Edit(d.span.end, d.span.end, f" max {DEFAULT_BOUND}"),),
                preferred=True,
            )
        )
    if d.code == codes.USELESS_BOUND:
        bound = re.search(r"[ \t]+max[ \t]+[A-Za-z0-9_]+\s*$", text[d.span.start : d.span.end])
        if bound is not None:
            start = d.span.start + bound.start()
            found.append(Fix("remove the bound", (Edit(start, d.span.start + bound.end(), ""),)))
    if d.code == codes.FAT_ARROW and text[d.span.start : d.span.end] == "=>":
        found.append(Fix("write `->`", (Edit(d.span.start, d.span.end, "->"),), preferred=True))
    return found


def _replace_closest(d: Diagnostic, text: str, suggestion: str) -> Fix | None:
    """Replace the word of the span that is most like `suggestion` (the misspelling)."""
    assert d.span is not None
    region = text[d.span.start : d.span.end]
    candidates: list[tuple[float, int, int]] = []
    for match in _WORD.finditer(region):
        # the whole dotted name (`typs.Answer`), or one of its words (`critc` in
        # `critc.feedback`), may be the misspelling
        candidates.append((_likeness(match.group(), suggestion), match.start(), match.end()))
        offset = match.start()
        for part in match.group().split("."):
            candidates.append((_likeness(part, suggestion), offset, offset + len(part)))
            offset += len(part) + 1
    candidates = [c for c in candidates if region[c[1] : c[2]] != suggestion]
    if not candidates:
        return None
    score, start, end = max(candidates, key=lambda c: c[0])
    if score < 0.5:
        return None
    misspelt = region[start:end]
    return Fix(
        f"replace `{misspelt}` with `{suggestion}`",
        (Edit(d.span.start + start, d.span.start + end, suggestion),),
        preferred=True,
    )


def _likeness(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()
