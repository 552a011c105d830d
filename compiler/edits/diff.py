"""`diff(a, b)`: an edit script that turns program `a` into program `b`.

The script is made of small edits, each a value like every other edit: declarations are
added, removed, replaced or moved (by name; imports by their text), and the bodies of
agents whose header is unchanged are edited statement by statement, each statement named
by what it is (`statement_identity`: a node by its name, an edge by its source, target
and kind of condition), never by its position, so a script between two close agents is
short, each of its steps is one node, edge, return or constraint, a changed guard is
one change and a reordering only moves. Applying the whole
script to `a` gives `b` (equal as ASTs); a particle-swarm search moves along a script by
applying part of it, which the editor then checks like any other candidate.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Literal, Self

from pydantic import Field, model_validator

from .. import ast
from ..printer import to_source
from ..queries import body_keys, statement_identity
from .base import Edit, no_site, one_address, parse_decl, parse_statement, with_body


def decl_key(decl: ast.Node) -> str:
    """What names a declaration in a script: its name, or an import's text."""
    name = getattr(decl, "name", None)
    return name if isinstance(name, str) else to_source(decl)


def decl_keys(module: ast.Module) -> list[str]:
    """The key of each declaration; a repeated one (an invalid program, but a diff takes
    any two) gets `#2`, `#3`... so that every key names one declaration."""
    seen: dict[str, int] = {}
    keys = []
    for decl in module.decls:
        key = decl_key(decl)
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


def _index_of(module: ast.Module, key: str) -> int:
    keys = decl_keys(module)
    if key not in keys:
        raise no_site(f"no declaration `{key}` in this program")
    return keys.index(key)


def _agent_by_key(module: ast.Module, key: str) -> ast.AgentDecl:
    decl = module.decls[_index_of(module, key)]
    if not isinstance(decl, ast.AgentDecl):
        raise no_site(f"`{key}` is not an agent")
    return decl


class _ScriptEdit(Edit):
    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        return iter(())  # script steps come from `diff`, not from sites


class AddDecl(_ScriptEdit):
    """Insert a declaration (source text) at a position among the declarations."""

    op: Literal["add_decl"] = "add_decl"
    source: str
    index: int = Field(ge=0)
    summary = "insert a declaration, given as source text"

    def apply(self, module: ast.Module) -> ast.Module:
        decl = parse_decl(self.source, "the declaration")
        decls: list[ast.Node] = list(module.decls)
        decls.insert(min(self.index, len(decls)), decl)
        return module.with_changes(decls=tuple(decls))


class RemoveDecl(_ScriptEdit):
    op: Literal["remove_decl"] = "remove_decl"
    key: str
    summary = "remove a declaration"

    def apply(self, module: ast.Module) -> ast.Module:
        index = _index_of(module, self.key)
        return module.with_changes(decls=module.decls[:index] + module.decls[index + 1 :])


class ReplaceDecl(_ScriptEdit):
    op: Literal["replace_decl"] = "replace_decl"
    key: str
    source: str
    summary = "replace a declaration by another, given as source text"

    def apply(self, module: ast.Module) -> ast.Module:
        index = _index_of(module, self.key)
        decl = parse_decl(self.source, "the declaration")
        return module.with_changes(decls=(*module.decls[:index], decl, *module.decls[index + 1 :]))


class MoveDecl(_ScriptEdit):
    op: Literal["move_decl"] = "move_decl"
    key: str
    index: int = Field(ge=0)
    summary = "move a declaration to another position"

    def apply(self, module: ast.Module) -> ast.Module:
        decls = list(module.decls)
        decl = decls.pop(_index_of(module, self.key))
        decls.insert(min(self.index, len(decls)), decl)
        return module.with_changes(decls=tuple(decls))


def _statement_index(agent: ast.AgentDecl, agent_key: str, key: str) -> int:
    keys = body_keys(agent.body)
    if key not in keys:
        raise no_site(f"agent `{agent_key}` has no statement `{key}`")
    return keys.index(key)


class InsertStatement(_ScriptEdit):
    """Insert a statement (node, edge, return, constraint; source text) into an agent."""

    op: Literal["insert_statement"] = "insert_statement"
    agent: str
    index: int = Field(ge=0)
    source: str
    summary = "insert a statement into an agent's body, given as source text"

    def apply(self, module: ast.Module) -> ast.Module:
        agent = _agent_by_key(module, self.agent)
        statement = parse_statement(self.source, "the statement")
        body: list[ast.Node] = list(agent.body)
        body.insert(min(self.index, len(body)), statement)
        return with_body(module, agent, body)


class RemoveStatement(_ScriptEdit):
    """Remove a statement of an agent's body, named by its key (`node writer`,
    `edge critic -> writer when`, `return`; see `statement_identity`), or, in scripts
    written before keys, by its position."""

    op: Literal["remove_statement"] = "remove_statement"
    agent: str
    key: str | None = None
    index: int | None = Field(default=None, ge=0)
    summary = "remove a statement of an agent's body"

    legacy = frozenset({"index"})

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        one_address(self.key, self.index, "a statement")
        return self

    def apply(self, module: ast.Module) -> ast.Module:
        agent = _agent_by_key(module, self.agent)
        if self.key is not None:
            index = _statement_index(agent, self.agent, self.key)
        elif self.index is not None and self.index < len(agent.body):
            index = self.index
        else:
            raise no_site(f"agent `{self.agent}` has {len(agent.body)} statements")
        return with_body(module, agent, agent.body[:index] + agent.body[index + 1 :])


class ReplaceStatement(_ScriptEdit):
    """Replace a statement of an agent's body, named by its key, by another (source
    text): a node whose role or arguments changed, an edge whose guard or bound did."""

    op: Literal["replace_statement"] = "replace_statement"
    agent: str
    key: str
    source: str
    summary = "replace a statement of an agent's body by another, given as source text"

    def apply(self, module: ast.Module) -> ast.Module:
        agent = _agent_by_key(module, self.agent)
        index = _statement_index(agent, self.agent, self.key)
        statement = parse_statement(self.source, "the statement")
        return with_body(module, agent, (*agent.body[:index], statement, *agent.body[index + 1 :]))


class MoveStatement(_ScriptEdit):
    """Move a statement of an agent's body, named by its key, to a position (counted
    in the body without it)."""

    op: Literal["move_statement"] = "move_statement"
    agent: str
    key: str
    index: int = Field(ge=0)
    summary = "move a statement of an agent's body to another position"

    def apply(self, module: ast.Module) -> ast.Module:
        agent = _agent_by_key(module, self.agent)
        body: list[ast.Node] = list(agent.body)
        statement = body.pop(_statement_index(agent, self.agent, self.key))
        body.insert(min(self.index, len(body)), statement)
        return with_body(module, agent, body)


def diff(a: ast.Module, b: ast.Module) -> list[Edit]:
    """An edit script from `a` to `b`: `apply_script(a, diff(a, b)) == b`.

    Removals come first, then changes of the declarations both have, then additions,
    then the moves that restore `b`'s order."""
    keys_b = decl_keys(b)
    by_key_b = dict(zip(keys_b, b.decls, strict=True))
    script: list[Edit] = []
    # removals, last first, so that the keys of repeated declarations stay valid
    for key in reversed(decl_keys(a)):
        if key not in by_key_b:
            script.append(RemoveDecl(key=key))
    current = apply_script(a, script)
    for key, decl in zip(decl_keys(current), current.decls, strict=True):
        target = by_key_b[key]
        if decl == target:
            continue
        if (
            isinstance(decl, ast.AgentDecl)
            and isinstance(target, ast.AgentDecl)
            and _same_header(decl, target)
        ):
            script += _body_script(key, decl, target)
        else:
            script.append(ReplaceDecl(key=key, source=to_source(target)))
    present = set(decl_keys(current))
    for index, (key, decl) in enumerate(zip(keys_b, b.decls, strict=True)):
        if key not in present:
            script.append(AddDecl(source=to_source(decl), index=index))
    order = decl_keys(apply_script(a, script))
    for index, key in enumerate(keys_b):
        if order[index] != key:
            script.append(MoveDecl(key=key, index=index))
            order.remove(key)
            order.insert(index, key)
    return script


def apply_script(module: ast.Module, script: Sequence[Edit]) -> ast.Module:
    for edit in script:
        module = edit.apply(module)
    return module


def _same_header(a: ast.AgentDecl, b: ast.AgentDecl) -> bool:
    return (a.ct_params, a.params, a.returns) == (b.ct_params, b.params, b.returns)


def _body_script(key: str, a: ast.AgentDecl, b: ast.AgentDecl) -> list[Edit]:
    """The steps that turn `a`'s body into `b`'s. Statements are paired first along a
    longest common subsequence of equal statements, then, among those left, by identity
    (`statement_identity`; equal ones first, then in order): a pair that differs is one
    `replace_statement`.
    Unpaired statements of `a` are removed, unpaired ones of `b` inserted, and the pairs
    off a longest run already in `b`'s order are moved. Each step names the statement
    by its key in the body as it is when that step applies."""
    old, new = a.body, b.body
    pairs = dict(_common_subsequence(old, new))  # position in a -> position in b
    unpaired_b: dict[str, list[int]] = {}
    for j, statement in enumerate(new):
        if j not in pairs.values():
            unpaired_b.setdefault(statement_identity(statement), []).append(j)
    for same in (True, False):  # equal statements first, then any of the same identity
        for i, statement in enumerate(old):
            waiting = unpaired_b.get(statement_identity(statement), [])
            match = next((j for j in waiting if not same or new[j] == statement), None)
            if i not in pairs and match is not None:
                pairs[i] = match
                waiting.remove(match)
    # the body as the script goes, each statement with its position in b (None: removed)
    body: list[tuple[int | None, ast.Node]] = [(pairs.get(i), s) for i, s in enumerate(old)]
    script: list[Edit] = []

    def key_of(at: int) -> str:
        return body_keys([s for _, s in body])[at]

    def after_previous(j: int) -> int:
        return [p for p, _ in body].index(j - 1) + 1 if j else 0

    for at in reversed(range(len(body))):
        if body[at][0] is None:
            script.append(RemoveStatement(agent=key, key=key_of(at)))
            del body[at]
    for at, (paired, current) in enumerate(body):
        if paired is not None and current != new[paired]:
            source = to_source(new[paired])
            script.append(ReplaceStatement(agent=key, key=key_of(at), source=source))
            body[at] = (paired, new[paired])
    staying = set(_increasing_run([p for p, _ in body if p is not None]))
    # in b's order, each statement not staying goes right after the one before it in b
    # (already in place), so that the staying ones end up between the right neighbours
    for j, statement in enumerate(new):
        if j in staying:
            continue
        here = next((at for at, (p, _) in enumerate(body) if p == j), None)
        if here is None:
            index = after_previous(j)
            script.append(InsertStatement(agent=key, index=index, source=to_source(statement)))
        else:
            moving = key_of(here)
            del body[here]
            index = after_previous(j)
            script.append(MoveStatement(agent=key, key=moving, index=index))
        body.insert(index, (j, statement))
    return script


def _common_subsequence(a: Sequence[ast.Node], b: Sequence[ast.Node]) -> list[tuple[int, int]]:
    """The pairs (i, j) of a longest common subsequence of equal statements."""
    length = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in reversed(range(len(a))):
        for j in reversed(range(len(b))):
            if a[i] == b[j]:
                length[i][j] = length[i + 1][j + 1] + 1
            else:
                length[i][j] = max(length[i + 1][j], length[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif length[i + 1][j] >= length[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _increasing_run(values: Sequence[int]) -> list[int]:
    """A longest strictly increasing subsequence of `values` (patience sorting)."""
    tails: list[int] = []  # tails[k]: the smallest last value of an increasing run of k+1
    ends: list[int] = []  # ends[k]: where that run ends in `values`
    before: list[int | None] = [None] * len(values)
    for at, value in enumerate(values):
        k = bisect_left(tails, value)
        before[at] = ends[k - 1] if k else None
        if k == len(tails):
            tails.append(value)
            ends.append(at)
        else:
            tails[k], ends[k] = value, at
    run: list[int] = []
    last = ends[-1] if ends else None
    while last is not None:
        run.append(values[last])
        last = before[last]
    return run[::-1]


SCRIPT_EDITS: tuple[type[Edit], ...] = (
    AddDecl,
    RemoveDecl,
    ReplaceDecl,
    MoveDecl,
    InsertStatement,
    RemoveStatement,
    ReplaceStatement,
    MoveStatement,
)
