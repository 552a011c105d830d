"""The analyses' IR built from remembered parts (compiler/lower.py's memos) equals the one
built with every memo emptied, along seeded random edit walks (tests/edit_walks.py) of the
examples, the standard library and the benchmark's generated agents, and where the same
node statement reads other nodes because the agent's node names changed around it."""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler import ast, lower
from rolegraph.compiler.checked import CheckResult
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.lower import build_ir

from .conftest import EXAMPLES, ROOT, STDLIB
from .edit_walks import edit_walk, generated_module
from .test_lower_memo import MEMOS, TWO_ROOTS, _irs


def _cold(filename: str, module: ast.Module) -> dict[str, str] | None:
    """The IRs of `module` with every memo of lower.py empty (put back after, as they
    were: an identity table's entries go with their objects, so it is swapped, not
    emptied and filled again)."""
    saved = {name: getattr(lower, name) for name in MEMOS}
    for name, memo in saved.items():
        setattr(lower, name, type(memo)())
    try:
        return _irs(CheckSession(filename), module)
    finally:
        for name, memo in saved.items():
            setattr(lower, name, memo)


def _walk(module: ast.Module, filename: str, seed: int, count: int) -> int:
    session = CheckSession(filename)
    compared = 0
    for program in edit_walk(module, random.Random(seed), count):
        warm = _warm_irs(session, program)
        assert warm == _cold(filename, program)
        compared += warm is not None
    return compared


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_edit_walks_of_examples_and_stdlib_lower_as_without_memos(path: Path):
    _walk(rolegraph.parse_file(path), str(path), 7, 6)


@pytest.mark.parametrize("nodes", [12, 40])
def test_edit_walks_of_generated_agents_lower_as_without_memos(nodes: int):
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import large_program

    module = rolegraph.parse(large_program(roles=6, nodes=nodes), "generated.agent")
    assert sum(_walk(module, "generated.agent", seed, 6) for seed in range(6)) > 12


def _siblings(module: ast.Module, filename: str, seed: int, count: int) -> int:
    """As an editor checks candidates: each of `count` random sites of `module` applied to
    it, the edited programs checked in turn in one session (each IR made from the last
    sibling's, which differs from it in the statements both edits touched)."""
    session = CheckSession(filename)
    sites = [site for op in OPERATORS for site in op.sites(module)]
    compared = 0
    for site in random.Random(seed).sample(sites, min(count, len(sites))):
        try:
            program = site.apply(module)
        except (EditError, ValueError):
            continue
        warm = _warm_irs(session, program)
        assert warm == _cold(filename, program)
        compared += warm is not None
    return compared


def _warm_irs(session: CheckSession, program: ast.Module) -> dict[str, str] | None:
    """`_irs(session, program)`, each IR made from the last one built checked to be it
    with the edges removed and added as its `difference` says (as multisets), and the
    nodes it does not say changed the same objects."""
    checked = session.check(program, explore=False)
    if checked.errors:
        return None
    result = CheckResult(checked.program, checked.agents, [], checked.signatures)
    irs = {}
    for name, agent in checked.agents.items():
        ir = build_ir(result, agent, runtime=False)
        irs[name] = repr(ir.model_dump())
        difference = ir.difference
        if difference is None:
            continue
        base = difference.base
        assert list(base.nodes) == list(ir.nodes)
        for node_name, node in ir.nodes.items():
            assert node_name in difference.changed or node is base.nodes[node_name]
        made = Counter(map(id, base.edges))
        made.subtract(map(id, difference.removed))
        made.update(map(id, difference.added))
        assert min(made.values(), default=0) >= 0
        assert +made == Counter(map(id, ir.edges))
    return irs


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_sibling_candidates_of_examples_and_stdlib_lower_as_without_memos(path: Path):
    _siblings(rolegraph.parse_file(path), str(path), 11, 12)


@pytest.mark.parametrize("nodes", [12, 40, 100])
def test_sibling_candidates_of_generated_agents_lower_as_without_memos(nodes: int):
    module = generated_module(6, nodes)
    assert _siblings(module, "generated.agent", nodes, 40) > 20


def test_the_same_statement_reads_what_the_agent_names_as_nodes_now():
    """`c = Joiner(a, b)` reads the nodes a and b; the same statement object, in the agent
    where `b` is a parameter and no longer a node, reads a alone: its IR node (deps) and
    data edges are built again, not remembered from the first agent."""
    module = rolegraph.parse(TWO_ROOTS, "two.agent")
    agent = next(d for d in module.decls if isinstance(d, ast.AgentDecl))
    writer = next(s for s in agent.body if isinstance(s, ast.NodeDecl) and s.name == "b")
    note = next(d for d in module.decls if isinstance(d, ast.RoleDecl) and d.name == "Joiner")
    param = ast.Param(name="b", type=note.params[0].type)
    changed = agent.with_changes(
        params=(*agent.params, param), body=tuple(s for s in agent.body if s is not writer)
    )
    joiner = next(s for s in changed.body if isinstance(s, ast.NodeDecl) and s.name == "c")
    assert joiner is next(s for s in agent.body if isinstance(s, ast.NodeDecl) and s.name == "c")
    edited = module.with_changes(decls=tuple(changed if d is agent else d for d in module.decls))
    session = CheckSession("two.agent")
    before = _irs(session, module)
    assert before is not None and "'deps': ('a', 'b')" in before["Two"]
    warm = _irs(session, edited)
    assert warm is not None and "'deps': ('a',)" in warm["Two"]
    assert warm == _cold("two.agent", edited)


CALLEE_CHANGES = """
model fast = "openai/gpt-4o-mini"

type Note { text: str }
type Memo { text: str }

role Writer(topic: str) -> Note {
  model fast
  prompt "Write about {{ topic }}."
}

role Other(topic: str) -> Note {
  model fast
  prompt "Note {{ topic }}."
}

agent One(topic: str) -> Note {
  a = Writer(topic)
  b = Other(topic)
  return a
}
"""


def test_the_same_statement_calling_a_changed_role_is_built_again():
    """`b = Other(topic)` is the same statement object in both programs, but `Other` now
    gives a `Memo`: the node's IR (its output type) is built again, not the last one's."""
    module = rolegraph.parse(CALLEE_CHANGES, "one.agent")
    other = next(d for d in module.decls if isinstance(d, ast.RoleDecl) and d.name == "Other")
    memo = next(d for d in module.decls if isinstance(d, ast.TypeDecl) and d.name == "Memo")
    changed = other.with_changes(returns=ast.NamedType(name=memo.name, span=other.returns.span))
    edited = module.with_changes(decls=tuple(changed if d is other else d for d in module.decls))
    session = CheckSession("one.agent")
    before = _irs(session, module)
    assert before is not None and "'callee': 'Other', 'output_type': 'Note'" in before["One"]
    warm = _irs(session, edited)
    assert warm is not None and "'callee': 'Other', 'output_type': 'Memo'" in warm["One"]
    assert warm == _cold("one.agent", edited)


EDGES = """
model fast = "openai/gpt-4o-mini"

type Note { text: str }

role Writer(topic: str) -> Note {
  model fast
  prompt "Write about {{ topic }}."
}

agent Three(topic: str) -> Note {
  a = Writer(topic)
  b = Writer(topic)
  c = Writer(topic)
  a -> b
  b -> c
  a -> c
  return c
}
"""


@pytest.mark.parametrize("dropped", ["  a -> b\n", "  a -> c\n", "  b -> c\n  a -> c\n"])
def test_an_edge_statement_dropped_is_an_edge_removed(dropped: str):
    """Edges dropped (the last, or one before others, whose indices then shift): the IR
    made from the last one says every edge it lost, and builds as without memos."""
    session = CheckSession("three.agent")
    for text in (EDGES, EDGES.replace(dropped, "")):
        program = rolegraph.parse(text, "three.agent")
        assert _warm_irs(session, program) == _cold("three.agent", program)
    assert lower._LOWERED["Three"].ir.difference is not None


def test_a_trusted_ir_is_the_one_model_construct_makes():
    """`AgentIR.trusted` (the analyses' IRs) sets what `model_construct` sets: the fields,
    which were set, no extra, the private attributes at their defaults; and a copy of it
    (`model_copy`) is an IR as any other."""
    session = CheckSession("two.agent")
    checked = session.check(rolegraph.parse(TWO_ROOTS, "two.agent"), explore=False)
    result = CheckResult(checked.program, checked.agents, [], checked.signatures)
    ir = build_ir(result, checked.agents["Two"], runtime=False)
    fields = {name: getattr(ir, name) for name in type(ir).model_fields}
    made, constructed = type(ir).trusted(**fields), type(ir).model_construct(**fields)
    assert made.__dict__ == constructed.__dict__
    assert made.model_fields_set == constructed.model_fields_set
    assert made.__pydantic_extra__ == constructed.__pydantic_extra__
    assert made.__pydantic_private__ == constructed.__pydantic_private__
    assert made == constructed and made.model_dump() == constructed.model_dump()
    copy = made.model_copy(update={"edges": list(made.edges)})
    assert copy.control_edges == made.control_edges == ir.control_edges
    fewer = dict(fields)
    del fewer["span"]
    assert type(ir).trusted(**fewer) == type(ir).model_construct(**fewer)
