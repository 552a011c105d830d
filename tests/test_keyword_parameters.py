"""A tool's parameters are Python's names: they may be words the DSL reserves
(`start`, `next`, `once`, `true`...), declared, passed by name, bound as ports, printed
and run. Roles and agents keep keywords out of their parameters: an agent's parameter
is read in expressions, where a keyword is an operator."""

import asyncio

import pytest
from pydantic import ValidationError

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.printer import to_source
from rolegraph.runtime import run_agent

from .checking import check


def step(start: int, next: int, once: bool, true: int = 0) -> int:
    return start + next + (1 if once else 0) + true


TOOL = (
    "tool step(start: int, next: int, once: bool, true: int = 0) -> int"
    ' = "tests.test_keyword_parameters:step"\n'
)

AGENT = (
    TOOL
    + """agent A(n: int) -> int {
  s = step(start: n, next: 2, once: true, true: 10)
  t = step(n, 1, false)
  s -> t(start: s, none_left: 0) when s > 100 max 1
  return s
}
"""
)


def test_a_tool_declares_parameters_named_like_keywords():
    module = rolegraph.parse(TOOL)
    assert [p.name for p in module.decl("step").params] == ["start", "next", "once", "true"]


def test_a_tool_called_with_keyword_named_arguments_checks_and_runs():
    text = TOOL + (
        "agent A(n: int) -> int {\n"
        "  s = step(start: n, next: 2, once: true, true: 10)\n"
        "  return s\n"
        "}\n"
    )
    assert check(text).errors == []
    ir = rolegraph.load_agent("k.agent", "A", text=text)
    assert asyncio.run(run_agent(ir, {"n": 1})).result == 14


def test_an_edge_binds_a_port_named_like_a_keyword():
    text = TOOL + (
        "agent A(n: int) -> int {\n"
        "  s = step(n, 1, false)\n"
        "  t = step(next: 0, once: false)\n"  # (`start` is bound by the edge)
        "  s -> t(start: s) when s < 5 max 1\n"
        "  t -> return(t) else\n"
        "}\n"
    )
    assert check(text).errors == []
    ir = rolegraph.load_agent("k.agent", "A", text=text)
    assert asyncio.run(run_agent(ir, {"n": 1})).result == 2


def test_keyword_named_parameters_and_arguments_survive_the_printer():
    module = rolegraph.parse(AGENT)
    assert rolegraph.parse(to_source(module)) == module


def test_an_unknown_keyword_named_argument_is_a_diagnostic():
    (error,) = check(AGENT).errors
    assert "none_left" in error.message


def test_a_role_parameter_named_like_a_keyword_is_still_a_syntax_error():
    with pytest.raises(rolegraph.DiagnosticError) as raised:
        rolegraph.parse('role R(start: str) -> str {\n  prompt "{{ start }}"\n}\n')
    assert "`start` is a keyword" in str(raised.value)


def test_an_agent_parameter_named_like_a_keyword_is_refused_by_the_ast():
    agent = rolegraph.parse("agent A(n: int) -> int {\n  return n\n}\n").decl("A")
    with pytest.raises(ValidationError):
        agent.with_changes(params=(ast.Param(name="next", type=agent.params[0].type),))
