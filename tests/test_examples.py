"""Every example and stdlib module parses, prints, re-parses, and is formatted."""

import re

from rolegraph import format_source, parse
from rolegraph.compiler import ast
from rolegraph.compiler.printer import to_source

from .conftest import EXAMPLES

WELL_KNOWN_DESIGNS = {
    "chain_of_thought",
    "self_consistency",
    "self_refine",
    "debate",
    "step_back",
    "quality_diversity",
    "role_router",
    "react",
    "plan_execute",
}


def test_the_nine_designs_are_all_there():
    assert {p.stem for p in EXAMPLES} >= WELL_KNOWN_DESIGNS


def test_example_round_trips_through_the_printer(agent_file):
    module = parse(agent_file.read_text(), str(agent_file))
    assert parse(to_source(module)) == module


def test_example_is_already_formatted(agent_file):
    text = agent_file.read_text()
    assert format_source(text) == text


def test_fmt_is_idempotent(agent_file):
    once = format_source(agent_file.read_text())
    assert format_source(once) == once


def test_fmt_keeps_every_comment(agent_file):
    text = agent_file.read_text()
    comments = [
        m.group().strip() for m in _STRING_OR_COMMENT.finditer(text) if m.group().startswith("//")
    ]
    assert comments
    formatted = format_source(text)
    for comment in comments:
        assert comment in formatted


def test_example_starts_with_a_header_comment(agent_file):
    assert agent_file.read_text().startswith("//")


# The stdlib modules that are libraries of declarations for others to import, not patterns.
LIBRARIES = {"types.agent", "toolbox.agent"}


def test_each_example_and_pattern_declares_an_agent_and_each_library_none(agent_file):
    declares = parse(agent_file.read_text()).find(ast.AgentDecl) is not None
    library = agent_file.parent.name == "stdlib" and agent_file.name in LIBRARIES
    assert declares != library, agent_file


# Scanning left to right, a quote inside a comment is part of the comment.
_STRING_OR_COMMENT = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|//[^\n]*')


def test_example_checks_clean_and_its_constraints_are_proven(agent_file):
    from rolegraph import check_source

    result = check_source(agent_file.read_text(), str(agent_file))
    assert [str(d) for d in result.diagnostics] == []
    for constraint in result.constraints:
        assert constraint.status == "proven", constraint


def test_ir_graph_of_self_refine():
    """The IR as a networkx graph: every node, `RETURN`, and each edge with its kind."""
    from pathlib import Path

    import rolegraph
    from rolegraph.compiler.ir import RETURN

    ir = rolegraph.load_agent(Path(__file__).parent.parent / "examples" / "self_refine.agent")
    graph = ir.graph
    assert set(graph.nodes) == {"writer", "critic", RETURN}
    assert graph.nodes["writer"]["ir"] is ir.nodes["writer"]
    edges = sorted((s, t, d["ir"].kind, d["ir"].condition) for s, t, d in graph.edges(data=True))
    assert edges == [
        ("critic", RETURN, "return", "else"),
        ("critic", "writer", "control", "when"),
        ("writer", "critic", "data", "always"),
    ]
    assert ir.graph is graph  # built once
