"""What the edit operators ask of a program many times, remembered by identity
(`Module.decl`'s table of declarations, `to_source` of an expression or a type, a node's
data dependencies, a statement's mentioned nodes): held to the plain walks they replace
on the programs of seeded random edit walks over every example, the standard library
and the benchmark's generated agents (each program shares most of its statements with
the one it was made from, so the memos are hit with entries made for its parent), and
every operator's sites against the sites listed with every memo emptied first."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler import ast, printer, queries
from rolegraph.compiler.dataflow import ref_heads
from rolegraph.compiler.edits import OPERATORS, base
from rolegraph.compiler.edits.base import (
    _RenameNode,
    rename_refs,
    replace_decl,
    replace_statement,
    with_body,
)
from rolegraph.compiler.printer import Printer, to_source
from rolegraph.compiler.queries import mentions, node_deps

from .conftest import EXAMPLES, STDLIB
from .edit_walks import edit_walk, generated_module


def _plain_decl(module: ast.Module, name: str) -> ast.Node | None:
    return next((d for d in module.decls if getattr(d, "name", None) == name), None)


def _plain_node_deps(agent: ast.AgentDecl, node: ast.NodeDecl) -> list[str]:
    names = {n.name for n in agent.nodes}
    exclude = node.map.var if node.map else None
    found: list[str] = []
    for arg in node.args:
        for head in ref_heads(arg.value):
            if head in names and head != exclude and head not in found:
                found.append(head)
    if node.map is not None:
        found += [h for h in ref_heads(node.map.source) if h in names and h not in found]
    return found


def _plain_mentions(statement: ast.Node, name: str) -> bool:
    for item in statement.walk():
        match item:
            case ast.Ref() if item.head == name:
                return True
            case ast.LtlFired(node=node) | ast.NodeTarget(node=node) if node == name:
                return True
            case ast.EdgeDecl(source=source) if source == name:
                return True
    return False


def _printed(print_: Callable[[ast.Node], str], node: ast.Node) -> str:
    try:
        return print_(node)
    except TypeError as problem:  # (a part that is printed only inside its statement)
        return f"TypeError: {problem}"


def _forget_everything() -> None:
    for table in (
        queries._HEADS,
        queries._NAMES,
        queries._MENTIONED,
        printer._INLINE,
        ast._DECL_INDEX,
        base._POSITIONS,
        printer._BLOCKS,
    ):
        table.clear()


def _sites(module: ast.Module) -> list[list[str]]:
    return [[site.to_json() for site in operator.sites(module)] for operator in OPERATORS]


def check_replacing(module: ast.Module, agent: ast.AgentDecl) -> None:
    """`replace_statement` of each statement (removed, replaced by another statement of
    the body, by a new edge) against the general path, also in a body that holds one
    statement twice."""
    doubled = agent.with_changes(body=(*agent.body, agent.body[0])) if agent.body else agent
    for owner in (agent, doubled):
        program = replace_decl(module, agent, owner) if owner is not agent else module
        body = owner.body
        edge = ast.EdgeDecl(source="renamed_", target=ast.NodeTarget(node="renamed_"), max=1)
        for index, old in enumerate(body):
            for new in (None, body[(index + 1) % len(body)], edge):
                if new is None:
                    general = with_body(program, owner, (s for s in body if s is not old))
                else:
                    general = with_body(program, owner, (new if s is old else s for s in body))
                assert replace_statement(program, owner, old, new) == general
    assert not agent.body or base._positions(agent)  # (the fast path was taken)


def check_walk(module: ast.Module, seed: int, steps: int) -> int:
    """Walk, and hold every memoized answer on every program to the plain one; the count
    of programs checked."""
    programs = edit_walk(module, random.Random(seed), steps)
    for program in programs:
        names = {getattr(d, "name", None) for d in program.decls} - {None}
        for agent in program.agents:
            names |= {n.role for n in agent.nodes}
        for name in [*sorted(names), "no_such_declaration"]:
            assert program.decl(name) is _plain_decl(program, name), name
        assert program.decl(None) is _plain_decl(program, None)  # type: ignore[arg-type]
        for node in program.walk():
            if not isinstance(node, ast.Module | ast.Statement):
                assert _printed(to_source, node) == _printed(Printer().inline, node)
        for agent in program.agents:
            node_names = [n.name for n in agent.nodes] + ["no_such_node"]
            for node in agent.nodes:
                assert node_deps(agent, node) == _plain_node_deps(agent, node)
            for statement in agent.body:
                for name in node_names:
                    assert mentions(statement, name) == _plain_mentions(statement, name)
                    renamed = rename_refs(statement, name, "renamed_")
                    assert renamed == _RenameNode(name, "renamed_").transform(statement)
                    assert (renamed is statement) == (renamed == statement)
        for agent in program.agents:
            check_replacing(program, agent)
        remembered = _sites(program)
        _forget_everything()
        assert remembered == _sites(program)
    return len(programs)


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_remembered_queries_answer_as_the_plain_walks_on_edit_walks(path: Path):
    module = rolegraph.parse(path.read_text(), str(path))
    assert check_walk(module, seed=len(path.name), steps=10) >= 1


@pytest.mark.parametrize(("nodes", "seed"), [(20, 1), (20, 2), (40, 3)])
def test_remembered_queries_answer_as_the_plain_walks_on_generated_agents(nodes: int, seed: int):
    assert check_walk(generated_module(5, nodes), seed=seed, steps=12) > 5


def test_a_module_at_a_reused_address_gets_its_own_declarations():
    """The declaration table goes with its module: a new module at the same address
    (CPython reuses them) finds its own declarations, not the last one's."""
    first = 'model m = "mock"\nrole R(x: str) -> str {\n  model m\n  prompt "{{ x }}"\n}\n'
    addresses: dict[int, str] = {}
    for index in range(200):
        name = f"R{index}"
        module = rolegraph.parse(first.replace("R(", f"{name}("), "a.agent")
        assert module.decl(name) is _plain_decl(module, name)
        assert module.decl(f"R{index - 1}") is None
        addresses[id(module)] = name
        del module
    assert len(addresses) < 200  # (an address was reused: the case this test is for)


def test_replacing_a_statement_equal_but_not_identical_or_by_itself_is_the_general_path():
    """`replace_statement` finds a statement by identity, as `with_body`'s walk does: an
    equal copy that is not in the body replaces nothing, and a statement replaced by
    itself (or by an equal copy) gives the same body, in a new agent, as the walk."""
    module = generated_module(3, 12)
    agent = module.agents[0]
    for old in agent.body:
        copy = old.model_copy()
        assert copy == old and copy is not old
        for target, new in ((copy, None), (copy, old), (old, old), (old, copy)):
            body = agent.body
            if new is None:
                general = with_body(module, agent, (s for s in body if s is not target))
            else:
                general = with_body(module, agent, (new if s is target else s for s in body))
            made = replace_statement(module, agent, target, new)
            assert made == general
            edited = made.decl(agent.name)
            assert edited is not agent
            assert [id(s) for s in edited.body] == [id(s) for s in general.decl(agent.name).body]
