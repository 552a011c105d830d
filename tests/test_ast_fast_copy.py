"""`Node.with_changes` copies without validating when a change cannot fail validation:
each model validator's declared reads (`_validator_reads`) against the fields its source
reads, the fast copy against full validation on every candidate of every operator, and a
malformed change still refused as a new node refuses it."""

from __future__ import annotations

import ast as pyast
import inspect
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, EditError

from .conftest import EXAMPLES, ROOT, STDLIB


def _validated_classes() -> list[type[ast.Node]]:
    return [c for c in ast._NODE_CLASSES if c.__pydantic_decorators__.model_validators]


def _fields_read(cls: type[ast.Node]) -> set[str]:
    """The names `self.<name>` in the source of `cls`'s model validators; fails if a
    validator uses `self` otherwise than to read an attribute or to return it."""
    read: set[str] = set()
    for decorator in cls.__pydantic_decorators__.model_validators.values():
        tree = pyast.parse(textwrap.dedent(inspect.getsource(decorator.func)))
        attribute_bases = set()
        returned = set()
        for node in pyast.walk(tree):
            base = node.value if isinstance(node, pyast.Attribute) else None
            if isinstance(base, pyast.Name) and base.id == "self":
                read.add(node.attr)  # type: ignore[attr-defined]
                attribute_bases.add(id(base))
            if isinstance(node, pyast.Return) and isinstance(node.value, pyast.Name):
                returned.add(id(node.value))
        for node in pyast.walk(tree):
            if isinstance(node, pyast.Name) and node.id == "self":
                assert id(node) in attribute_bases | returned, (cls.__name__, pyast.dump(node))
    return read


@pytest.mark.parametrize("cls", _validated_classes(), ids=lambda c: c.__name__)
def test_a_model_validator_reads_only_the_fields_it_declares(cls: type[ast.Node]) -> None:
    read = _fields_read(cls)
    assert read, cls  # (the walk found the reads)
    assert read <= set(cls.model_fields), (cls, read - set(cls.model_fields))
    declared = cls._validator_reads
    assert declared is not None and read <= declared, (cls, read)


def test_every_class_with_a_model_validator_declares_its_reads() -> None:
    assert {c.__name__ for c in _validated_classes()} >= {"AgentDecl", "NodeDecl", "RoleDecl"}
    for cls in _validated_classes():
        assert cls._validator_reads is not None, cls


def _generated(nodes: int) -> ast.Module:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import large_program

    return rolegraph.parse(large_program(roles=6, nodes=nodes), "generated.agent")


SOURCES: list[Path | str] = [*EXAMPLES, *STDLIB, "generated"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: getattr(s, "name", str(s)))
def test_the_fast_copy_equals_full_validation_on_every_candidate(
    source: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every `with_changes` an operator makes, on every candidate, gives the node that
    full validation gives (equal, with equal trivia), or fails as full validation fails."""
    module = _generated(20) if source == "generated" else rolegraph.parse_file(source)
    general = ast.Node.with_changes
    fast = [0]

    def both(self: ast.Node, **changes: Any) -> ast.Node:
        cls = type(self)
        values = {name: getattr(self, name) for name in cls.model_fields}
        values.update(changes)
        try:
            expected = cls(**values)
        except ValueError as error:
            with pytest.raises(ValueError) as raised:
                general(self, **changes)
            assert str(raised.value) == str(error)
            raise
        if changes and all(ast._holds_nodes(cls, n, v) for n, v in changes.items()):
            fast[0] += 1
        got = general(self, **changes)
        assert type(got) is cls
        assert got == expected
        assert got.model_dump() == expected.model_dump()
        return got

    monkeypatch.setattr(ast.Node, "with_changes", both)
    applied = 0
    for edit in [e for operator in OPERATORS for e in operator.sites(module)]:
        try:
            edit.apply(module)
        except (EditError, ValueError):
            continue
        applied += 1
    if applied:
        assert fast[0] > 0  # (the fast copy was taken, and compared)


def _agent() -> ast.AgentDecl:
    agent = _generated(6).find(ast.AgentDecl)
    assert agent is not None
    return agent


def test_an_agents_body_is_replaced_without_validation() -> None:
    # (fails where AgentDecl's validator blocks the fast copy of its body)
    agent = _agent()
    body = tuple(reversed(agent.body))
    assert ast._holds_nodes(ast.AgentDecl, "body", body)
    assert agent.with_changes(body=body) == ast.AgentDecl(
        **{**{n: getattr(agent, n) for n in ast.AgentDecl.model_fields}, "body": body}
    )


def test_a_malformed_change_is_still_refused_as_a_new_node_refuses_it() -> None:
    agent = _agent()
    param = ast.Param(name="return", type=ast.NamedType(name="str"))
    with pytest.raises(ValueError) as new:
        ast.AgentDecl(
            **{**{n: getattr(agent, n) for n in ast.AgentDecl.model_fields}, "params": (param,)}
        )
    with pytest.raises(ValueError) as changed:
        agent.with_changes(params=(param,))
    assert str(changed.value) == str(new.value)
    assert not ast._holds_nodes(ast.AgentDecl, "params", (param,))


def test_a_subclass_validator_that_declares_no_reads_meets_every_change() -> None:
    """Found in review: a subclass inherited its parent's `_validator_reads`, so a model
    validator of its own that reads another field was skipped by the fast copy."""
    from pydantic import field_validator, model_validator

    class Bodiless(ast.AgentDecl):
        @model_validator(mode="after")
        def _no_body(self) -> Bodiless:
            if self.body:
                raise ValueError("no body here")
            return self

    class Unreturning(ast.AgentDecl):
        @field_validator("body")
        @classmethod
        def _no_return(cls, body: tuple[Any, ...]) -> tuple[Any, ...]:
            if any(isinstance(s, ast.ReturnStmt) for s in body):
                raise ValueError("no return here")
            return body

    agent = rolegraph.parse(
        'role W(q: str) -> str {\n  prompt "{{ q }}"\n}\n'
        "agent A(q: str) -> str {\n  w = W(q)\n  return w\n}\n",
        "a.agent",
    ).find(ast.AgentDecl)
    assert agent is not None
    try:
        for cls in (Bodiless, Unreturning):
            empty = cls(**{**dict(agent), "kind": "AgentDecl", "body": ()})
            with pytest.raises(ValueError):
                empty.with_changes(body=agent.body)
        assert ast.AgentDecl._validator_reads == frozenset({"params"})  # (its own, kept)
    finally:  # (the classes made here are no part of the tree's: ast._NODE_CLASSES)
        ast._NODE_CLASSES.remove(Bodiless)
        ast._NODE_CLASSES.remove(Unreturning)
