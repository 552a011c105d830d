"""`diff(a, b)`: an edit script that turns program `a` into program `b`.

The script is made of small edits, each a value like every other edit: declarations are
added, removed, replaced or moved (by name; imports by their text), and the bodies of
agents whose header is unchanged are edited statement by statement (a longest-common-
subsequence match of their canonical text), so a script between two close agents is
short and each of its steps is one node, edge, return or constraint. Applying the whole
script to `a` gives `b` (equal as ASTs); a particle-swarm search moves along a script by
applying part of it, which the editor then checks like any other candidate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher
from typing import Literal

from pydantic import Field

from .. import ast
from ..printer import to_source
from .base import Edit, no_site, parse_decl, parse_statement, with_body


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
    op: Literal["remove_statement"] = "remove_statement"
    agent: str
    index: int = Field(ge=0)
    summary = "remove a statement of an agent's body (by position)"

    def apply(self, module: ast.Module) -> ast.Module:
        agent = _agent_by_key(module, self.agent)
        if self.index >= len(agent.body):
            raise no_site(f"agent `{self.agent}` has {len(agent.body)} statements")
        return with_body(module, agent, agent.body[: self.index] + agent.body[self.index + 1 :])


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
    old = [to_source(s) for s in a.body]
    new = [to_source(s) for s in b.body]
    script: list[Edit] = []
    # from the end backwards, so that the positions of earlier steps stay valid
    opcodes = SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(opcodes):
        if tag == "equal":
            continue
        for index in reversed(range(i1, i2)):
            script.append(RemoveStatement(agent=key, index=index))
        for offset, text in enumerate(new[j1:j2]):
            script.append(InsertStatement(agent=key, index=i1 + offset, source=text))
    return script


SCRIPT_EDITS: tuple[type[Edit], ...] = (
    AddDecl,
    RemoveDecl,
    ReplaceDecl,
    MoveDecl,
    InsertStatement,
    RemoveStatement,
)
