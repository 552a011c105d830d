"""`diff(a, b)` between agent bodies: statements named by identity, not position.

Two oracles share no code with `compiler/edits/diff.py`: the statement-level script the
diff used to make (a `difflib` match of the statements' text, each unmatched statement
removed or inserted whole), and the brute-force length of the shortest such script
(`len(a) + len(b) - 2 * LCS`). The script is never longer than either.
"""

import random
from difflib import SequenceMatcher

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.edits import (
    MoveStatement,
    RemoveStatement,
    apply_script,
    body_keys,
    diff,
    script_from_json,
    script_to_json,
    statement_identity,
)
from rolegraph.compiler.edits.base import parse_statement

from . import strategies
from .conftest import EXAMPLES, STDLIB

BODY_OPS = {"remove_statement", "replace_statement", "move_statement", "insert_statement"}


def statement_level_length(a: ast.AgentDecl, b: ast.AgentDecl) -> int:
    """The old diff's number of steps for a body: a `difflib` match of the statements'
    text, every statement outside it removed or inserted whole."""
    old = [rolegraph.to_source(s) for s in a.body]
    new = [rolegraph.to_source(s) for s in b.body]
    opcodes = SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    return sum(i2 - i1 + j2 - j1 for tag, i1, i2, j1, j2 in opcodes if tag != "equal")


def shortest_statement_level_length(a: ast.AgentDecl, b: ast.AgentDecl) -> int:
    """Brute force: the fewest whole-statement removals and insertions, by recursion."""
    memo: dict[tuple[int, int], int] = {}

    def common(i: int, j: int) -> int:
        if i == len(a.body) or j == len(b.body):
            return 0
        if (i, j) not in memo:
            if a.body[i] == b.body[j]:
                memo[i, j] = 1 + common(i + 1, j + 1)
            else:
                memo[i, j] = max(common(i + 1, j), common(i, j + 1))
        return memo[i, j]

    return len(a.body) + len(b.body) - 2 * common(0, 0)


def in_module(agent: ast.AgentDecl) -> ast.Module:
    return ast.Module(decls=(agent,))


def body_steps(a: ast.AgentDecl, b: ast.AgentDecl) -> list:
    script = diff(in_module(a), in_module(b))
    assert apply_script(in_module(a), script) == in_module(b)
    assert {step.op for step in script} <= BODY_OPS
    assert script_from_json(script_to_json(script)) == script
    return script


def assert_no_longer_than_whole_statements(a: ast.AgentDecl, b: ast.AgentDecl) -> list:
    script = body_steps(a, b)
    assert len(script) <= shortest_statement_level_length(a, b) <= statement_level_length(a, b)
    # a statement is changed, never removed and one of the same identity inserted
    removed = {s.key.split("#")[0] for s in script if s.op == "remove_statement"}
    inserted = {
        statement_identity(parse_statement(s.source, ""))
        for s in script
        if s.op == "insert_statement"
    }
    assert not removed & inserted, script
    return script


# -- random bodies and their variants ----------------------------------------------------

_few_nodes = st.sampled_from(["a", "b", "c"])  # few names: many statements share identity


def _variant(statement: ast.Node, draw) -> ast.Node:
    """The same statement (same identity) saying something else."""
    match statement:
        case ast.EdgeDecl(condition=ast.When()):
            return statement.with_changes(condition=ast.When(guard=draw(strategies.expressions)))
        case ast.EdgeDecl():
            return statement.with_changes(max=draw(st.none() | strategies.bounds))
        case ast.NodeDecl():
            return statement.with_changes(role=draw(strategies.qualified))
        case ast.ReturnStmt():
            return statement.with_changes(value=draw(strategies.expressions))
    return statement.with_changes(formula=draw(strategies.formulas))


_statements = st.one_of(
    strategies.node_decls,
    st.builds(
        lambda edge, source, target: edge.with_changes(
            source=source,
            target=(
                edge.target.with_changes(node=target)
                if isinstance(edge.target, ast.NodeTarget)
                else edge.target
            ),
        ),
        strategies.edge_decls,
        _few_nodes,
        _few_nodes,
    ),
    strategies.statements,
)


@st.composite
def body_pairs(draw) -> tuple[ast.AgentDecl, ast.AgentDecl]:
    """An agent and another with the same header: some statements kept, some changed
    (same identity), some removed, some new, in an order partly shuffled."""
    body = draw(st.lists(_statements, max_size=9))
    new: list[ast.Node] = []
    for statement in body:
        fate = draw(st.sampled_from(["keep", "keep", "change", "drop"]))
        if fate == "keep":
            new.append(statement)
        elif fate == "change":
            new.append(_variant(statement, draw))
    for _ in range(draw(st.integers(0, 3))):
        new.insert(draw(st.integers(0, len(new))), draw(_statements))
    if new and draw(st.booleans()):
        rng = random.Random(draw(st.integers(0, 2**16)))
        i, j = sorted(rng.sample(range(len(new)), 2)) if len(new) > 1 else (0, 0)
        new[i : j + 1] = rng.sample(new[i : j + 1], j + 1 - i)
    agent = ast.AgentDecl(name="A", returns=ast.NamedType(name="str"), body=tuple(body))
    # through source and back, as programs are read
    start, end = (
        rolegraph.parse(rolegraph.to_source(in_module(x))).decls[0]
        for x in (agent, agent.with_changes(body=tuple(new)))
    )
    assert isinstance(start, ast.AgentDecl) and isinstance(end, ast.AgentDecl)
    return start, end


@settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(body_pairs())
def test_a_body_script_gives_the_other_body_and_is_no_longer_than_whole_statements(pair):
    assert_no_longer_than_whole_statements(*pair)


@settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(body_pairs(), st.integers(0, 2**16))
def test_a_prefix_of_a_script_applies(pair, cut):
    """The swarm applies part of a script: every step names a statement that is there."""
    a, b = pair
    script = diff(in_module(a), in_module(b))
    apply_script(in_module(a), script[: cut % (len(script) + 1)])


# -- identity ---------------------------------------------------------------------------


def test_what_names_a_statement():
    agent = rolegraph.parse(
        "agent A(q: str) -> str {\n"
        "  w = Writer(q)\n"
        "  c = Critic(w)\n"
        "  w -> c\n"
        "  c -> w when c.bad max 3\n"
        "  c -> w when c.worse max 2\n"
        "  c -> return(w) else\n"
        "  w -> return(w) on error\n"
        "  ensure F fired(c)\n"
        "  return w\n"
        "}\n"
    ).decls[0]
    assert isinstance(agent, ast.AgentDecl)
    assert body_keys(agent.body) == [
        "node w",
        "node c",
        "edge w -> c",
        "edge c -> w when",
        "edge c -> w when#2",
        "edge c -> return else",
        "edge w -> return on error",
        "ensure",
        "return",
    ]
    assert statement_identity(agent.body[3]) == statement_identity(agent.body[4])


SELF_REFINE = next(p for p in EXAMPLES if p.stem == "self_refine")


def _agent(module: ast.Module, name: str | None = None) -> ast.AgentDecl:
    return module.agents[-1] if name is None else next(a for a in module.agents if a.name == name)


def _with_body(module: ast.Module, body) -> ast.Module:
    agent = _agent(module)
    decls = tuple(agent.with_changes(body=tuple(body)) if d is agent else d for d in module.decls)
    return module.with_changes(decls=decls)


def test_a_changed_guard_or_bound_is_one_change_of_that_edge():
    module = rolegraph.parse_file(SELF_REFINE)
    body = list(_agent(module).body)
    at, edge = next((i, s) for i, s in enumerate(body) if isinstance(s, ast.EdgeDecl) and s.max)
    changed = edge.with_changes(max=7)
    if isinstance(edge.condition, ast.When):
        guard = ast.Not(operand=edge.condition.guard)
        changed = changed.with_changes(condition=ast.When(guard=guard))
    body[at] = changed
    target = _with_body(module, body)
    script = diff(module, target)
    assert [(s.op, s.key) for s in script] == [("replace_statement", statement_identity(edge))]
    assert apply_script(module, script) == target


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.stem)
def test_reordering_a_body_only_moves(path):
    module = rolegraph.parse_file(path)
    rng = random.Random(path.stem)
    for agent in module.agents:
        body = list(agent.body)
        rng.shuffle(body)
        decls = tuple(
            agent.with_changes(body=tuple(body)) if d is agent else d for d in module.decls
        )
        target = module.with_changes(decls=decls)
        script = diff(module, target)
        assert apply_script(module, script) == target
        assert {s.op for s in script} <= {"move_statement"}
        # as few moves as the statements off a longest run kept in order
        assert 2 * len(script) == shortest_statement_level_length(agent, _agent(target, agent.name))


def test_every_pair_of_example_agents_with_the_same_header():
    """One agent's body swapped for another's with the same header (parameters,
    compile-time parameters, return type): the script turns the first into the second."""
    agents = [a for p in EXAMPLES + STDLIB for a in rolegraph.parse_file(p).agents]
    header = lambda a: rolegraph.to_source(a.with_changes(name="A", body=()))  # noqa: E731
    pairs = 0
    for a in agents:
        for b in agents:
            if a is not b and header(a) == header(b):
                assert_no_longer_than_whole_statements(a, b.with_changes(name=a.name))
                pairs += 1
    assert pairs >= 10, pairs


def test_scripts_written_with_positions_still_apply():
    module = rolegraph.parse_file(SELF_REFINE)
    agent = _agent(module)
    by_index = RemoveStatement(agent=agent.name, index=0)
    by_key = RemoveStatement(agent=agent.name, key=body_keys(agent.body)[0])
    assert by_index.apply(module) == by_key.apply(module)
    assert script_from_json(script_to_json([by_index])) == [by_index]
    with pytest.raises(ValidationError):
        RemoveStatement(agent=agent.name, index=0, key="node w")
    with pytest.raises(ValidationError):
        RemoveStatement(agent=agent.name)


def test_a_step_naming_a_statement_that_is_not_there_is_no_site():
    module = rolegraph.parse_file(SELF_REFINE)
    step = MoveStatement(agent=_agent(module).name, key="node nobody", index=0)
    with pytest.raises(rolegraph.compiler.edits.EditError, match="no statement `node nobody`"):
        step.apply(module)
