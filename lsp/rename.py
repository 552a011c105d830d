"""Rename a node, a role, an agent, a type, an enum, a model, a tool, a parameter, a
field or an enum member across the document — and only when the renamed program still
checks as well as before.

The occurrences come from the index (so `{{ task }}` in a prompt is renamed with the
parameter `task`, and `critic.feedback` with the field). The renamed text is then
checked in full: a new name that clashes with another, or that a place the index does
not reach (a test's mock reply spelling a field, say) still uses, gives new errors, and
the rename is refused with the first of them.
"""

from __future__ import annotations

from collections import Counter

from rolegraph.compiler import ast

from .analysis import Analysis, analyse
from .fixes import Edit
from .incremental import IncrementalParser
from .index import Occurrence

RENAMABLE = {
    "node",
    "role",
    "agent",
    "type",
    "enum",
    "model",
    "mcp",
    "tool",
    "human",
    "param",
    "field",
    "member",
    "ct_param",
    "map_var",
}


class RenameError(Exception):
    """Why a rename is refused, in words for the user."""


def renamable(analysis: Analysis, offset: int) -> Occurrence:
    """The occurrence under the cursor, if it may be renamed here; else RenameError."""
    if analysis.module is None:
        raise RenameError("the document does not parse: fix its syntax first")
    occurrence = analysis.index.at(offset)
    if occurrence is None:
        raise RenameError("no name to rename here")
    target = occurrence.target
    if target.kind not in RENAMABLE:
        raise RenameError(f"a {target.kind} cannot be renamed")
    if target.file != analysis.filename:
        raise RenameError(f"`{target.name}` is declared in {target.file}: rename it there")
    return occurrence


def rename_edits(analysis: Analysis, offset: int, new_name: str) -> list[Edit]:
    """The edits that rename what is at `offset` to `new_name`, checked; else RenameError."""
    occurrence = renamable(analysis, offset)
    target = occurrence.target
    _check_name(new_name, target.kind)
    if new_name == target.name:
        return []
    edits = [Edit(o.start, o.end, new_name) for o in analysis.index.of(target)]
    renamed = apply(analysis.text, edits)
    after = analyse(renamed, analysis.filename, IncrementalParser(analysis.filename))
    before = Counter(d.code for d in analysis.diagnostics if d.is_error)
    errors = [d for d in after.diagnostics if d.is_error]
    counts = Counter(d.code for d in errors)
    new_errors = [d for d in errors if counts[d.code] > before[d.code]]
    if new_errors:
        first = new_errors[0]
        raise RenameError(f"renaming `{target.name}` to `{new_name}` breaks the program: {first}")
    return edits


def apply(text: str, edits: list[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def _check_name(name: str, kind: str) -> None:
    if not ast.is_identifier(name):
        raise RenameError(f"`{name}` is not a name")
    if kind not in ("field", "member") and name in ast.KEYWORDS:
        raise RenameError(f"`{name}` is a keyword")
    if kind == "node" and name in ast.LTL_LETTERS:
        raise RenameError(f"`{name}` is a temporal operator and cannot name a node")
