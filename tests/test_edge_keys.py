"""Edge edits name an edge by its key (`edge approval -> decline else`: source, target,
kind of condition; the identity `diff` names statements by), not by its position, so a
script or a stored proposal names the same edge whatever the steps before it did; the
index form of older scripts still reads and applies."""

import json

import pytest
from pydantic import ValidationError

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.edits import (
    OPERATORS,
    EditError,
    InsertStatement,
    RemoveEdge,
    RemoveStatement,
    RewireEdge,
    apply_script,
    body_keys,
    edge_keys,
    edit_from_json,
    op_name,
    script_from_json,
    script_to_json,
)
from rolegraph.search.meta import catalogue
from rolegraph.search.proposals import filler_source, load, names

from .conftest import EXAMPLES

REFUND = next(p for p in EXAMPLES if p.name == "refund_approval.agent")
EDITOR = rolegraph.editor(str(REFUND))


def desk():
    return rolegraph.parse_file(REFUND)


def edge_lines(module, agent="SupportDesk"):
    return [rolegraph.to_source(e) for e in module.decl(agent).edges]


def test_the_keys_of_an_agents_edges_are_its_body_keys():
    agent = desk().decl("SupportDesk")
    assert list(edge_keys(agent)) == [
        "edge router -> approval when",
        "edge router -> answer else",
        "edge approval -> refund when",
        "edge approval -> decline else",
        "edge approval -> escalate on error",
    ]
    keys = body_keys(agent.body)
    assert [keys[agent.body.index(e)] for e in agent.edges] == list(edge_keys(agent))


def test_a_key_names_the_same_edge_after_an_earlier_step_where_an_index_does_not():
    module = desk()
    # made against the original program: drop the deadline's escalation from `approval`
    by_index = RemoveEdge(agent="SupportDesk", index=4)
    by_key = RemoveEdge(agent="SupportDesk", key="edge approval -> escalate on error")
    assert by_index.apply(module) == by_key.apply(module)  # alone, they agree
    # an earlier step of the script (a router failure escalates) comes before the edges
    first = InsertStatement(agent="SupportDesk", index=6, source="router -> escalate on error")
    keyed = EDITOR.apply_script(module, [first, by_key])  # checks clean
    assert "approval -> escalate on error" not in edge_lines(keyed)
    assert "router -> escalate on error" in edge_lines(keyed)
    assert "approval -> decline(decision: approval) else" in edge_lines(keyed)
    # the index now names the next edge: the decline branch goes, the escalation stays
    indexed = apply_script(module, [first, by_index])
    assert "approval -> escalate on error" in edge_lines(indexed)
    assert "approval -> decline(decision: approval) else" not in edge_lines(indexed)


def test_a_rewire_by_key_survives_an_earlier_removal():
    module = desk()
    cut = RemoveEdge(agent="SupportDesk", key="router -> answer else")  # `edge ` may go
    rewire_key = RewireEdge(
        agent="SupportDesk", key="edge approval -> decline else", target="answer"
    )
    rewire_index = RewireEdge(agent="SupportDesk", index=3, target="answer")
    keyed = edge_lines(apply_script(module, [cut, rewire_key]))
    assert "approval -> answer else" in keyed and "approval -> escalate on error" in keyed
    # by position, the edge after the removed one is rewired: the escalation
    indexed = edge_lines(apply_script(module, [cut, rewire_index]))
    assert "approval -> answer on error" in indexed
    assert "approval -> decline(decision: approval) else" in indexed


def test_repeated_edges_are_told_apart_by_their_order():
    module = rolegraph.parse(
        """
        role R(x: str) -> str { prompt "{{ x }}" }
        agent A(x: str) -> str {
          a = R(x)
          b = R(x)
          a -> b when a == "1"
          a -> b when a == "2"
          return b
        }
        """
    )
    assert list(edge_keys(module.decl("A"))) == ["edge a -> b when", "edge a -> b when#2"]
    second = RemoveEdge(agent="A", key="edge a -> b when#2").apply(module)
    assert edge_lines(second, "A") == ['a -> b when a == "1"']


def test_edge_edits_round_trip_through_json_without_the_index():
    module = desk()
    offered = [e for op in (RemoveEdge, RewireEdge) for e in op.sites(module)]
    assert offered and all(e.key is not None and e.index is None for e in offered)
    for edit in offered:
        data = json.loads(edit.to_json())
        assert "index" not in data and data["key"] in edge_keys(module.decl(data["agent"]))
        assert edit_from_json(edit.to_json()) == edit
    assert script_from_json(script_to_json(offered)) == offered
    assert len(list(RemoveEdge.sites(module))) == len(module.decl("SupportDesk").edges)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_old_index_scripts_apply_as_the_keys_they_meant(path):
    module = rolegraph.parse_file(path)
    for agent in module.agents:
        for index, (key, edge) in enumerate(edge_keys(agent).items()):
            assert agent.edges[index] is edge
            stored = json.dumps({"op": "remove_edge", "agent": agent.name, "index": index})
            by_index = script_from_json(f"[{stored}]")[0]
            assert by_index == RemoveEdge(agent=agent.name, index=index)
            removed = by_index.apply(module)
            assert removed == RemoveEdge(agent=agent.name, key=key).apply(module)
            # the diff's step naming the same statement does the same
            assert removed == RemoveStatement(agent=agent.name, key=key).apply(module)
            old = RewireEdge(agent=agent.name, index=index, target=agent.nodes[0].name)
            new = RewireEdge(agent=agent.name, key=key, target=agent.nodes[0].name)
            try:
                expected = new.apply(module)
            except EditError as problem:  # a returning edge: refused alike
                with pytest.raises(EditError) as caught:
                    old.apply(module)
                assert caught.value.diagnostics[0].code == problem.diagnostics[0].code
            else:
                assert old.apply(module) == expected


def test_a_key_that_names_no_edge_lists_the_edges_there_are():
    module = desk()
    for key in ("edge approval -> decline", "node approval", "edge router -> refund when"):
        with pytest.raises(EditError) as caught:
            RemoveEdge(agent="SupportDesk", key=key).apply(module)
        problem = caught.value.diagnostics[0]
        assert problem.code == "E0602"
        assert problem.message == f"agent `SupportDesk` has no edge `{key}`"
        listed = problem.hints[-1]
        assert listed.startswith("its edges: `edge router -> approval when`, ")
        assert all(f"`{k}`" in listed for k in edge_keys(module.decl("SupportDesk")))
    with pytest.raises(EditError) as caught:
        RemoveEdge(agent="SupportDesk", key="edge approval -> decline").apply(module)
    assert "did you mean `edge approval -> decline else`?" in caught.value.diagnostics[0].hints
    with pytest.raises(EditError, match="has 5 edges, not an edge 5"):
        RemoveEdge(agent="SupportDesk", index=5).apply(module)


@pytest.mark.parametrize(
    "fields",
    [
        {"agent": "SupportDesk"},
        {"agent": "SupportDesk", "index": 0, "key": "edge router -> answer else"},
    ],
    ids=["neither", "both"],
)
def test_an_edge_is_named_by_its_key_or_its_index_exactly(fields):
    for op in ("remove_edge", "rewire_edge"):
        data = {"op": op, **fields, **({"target": "answer"} if op == "rewire_edge" else {})}
        with pytest.raises(EditError) as caught:
            edit_from_json(json.dumps(data))
        problem = caught.value.diagnostics[0]
        assert problem.code == "E0603" and "`key`" in problem.message
        assert ("not both" in problem.message) == ("key" in fields)
    with pytest.raises(ValidationError):
        RemoveEdge(**fields)


def test_proposers_are_offered_the_key_not_the_index():
    known = names(desk())
    for operator in (RemoveEdge, RewireEdge):
        source = filler_source(operator, known)
        assert "  key: EdgeName @desc(" in source and "index" not in source  # an enum of the edges
        load(source, "Filler")  # checks
        line = next(x for x in catalogue().splitlines() if f'"{op_name(operator)}"' in x)
        assert '"key"' in line and '"index"' not in line
    assert all("index" not in op.model_fields or "index" in op.legacy for op in OPERATORS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_edge_edit_by_key_commutes_with_removing_any_other_statement(path):
    """Brute force over every edge and every statement of another identity: removing
    the statement first does not change which edge the key names."""
    module = rolegraph.parse_file(path)
    pairs = 0
    for agent in module.agents:
        keys = body_keys(agent.body)
        for key, statement in zip(keys, agent.body, strict=True):
            if not isinstance(statement, ast.EdgeDecl):
                continue
            edge = RemoveEdge(agent=agent.name, key=key)
            for other in keys:
                if key.split("#")[0] == other.split("#")[0]:
                    continue  # the same identity: the order is what tells them apart
                step = RemoveStatement(agent=agent.name, key=other)
                assert apply_script(module, [step, edge]) == apply_script(module, [edge, step])
                pairs += 1
    assert pairs >= sum(len(a.edges) for a in module.agents)
