"""Tests in `.agent` files: `test` blocks, checked like the rest of the program.

    test accepts_the_third_draft {
      run Refine(task: "Explain recursion.")
      mock Critic [{ok: false, feedback: "more"}, {ok: true, feedback: ""}]
      expect calls(Critic) == 2
      expect always(return -> once critic)
    }

A test runs one agent on the mock model; `mock` scripts a role's replies (in order; the
last repeats), and each `expect` is an LTLf formula over the run's trace whose
conditions may read the nodes' outputs, the agent's parameters, `result`,
`calls(Role)` and `firings(node)`. This module checks the blocks; the runtime runs them
(runtime/testblocks.py).
"""

from __future__ import annotations

from typing import Any

from . import ast, codes, ltl
from .dataflow import ref_heads
from .diagnostics import Diagnostic, DiagnosticSink
from .resolve import did_you_mean
from .typecheck import CheckResult
from .types import (
    AnyType,
    DictT,
    EnumT,
    ListT,
    NoneType_,
    OptionalT,
    Prim,
    RecordT,
    Type,
)
from .visit import Visitor

TEST_FUNCTIONS = ("calls", "firings")


def check_tests(result: CheckResult) -> list[Diagnostic]:
    program = result.program
    main = program.main
    sink = DiagnosticSink(main.filename)

    for test in main.module.tests:
        runs = [s for s in test.body if isinstance(s, ast.TestRun)]
        if len(runs) != 1:
            sink.report(
                codes.TEST_WITHOUT_RUN,
                f"test `{test.name}` has {len(runs)} `run` statements; it needs one",
                test.span,
                hints=("add `run Agent(param: value, ...)`",),
            )
            continue
        (run,) = runs
        symbol = program.lookup(main, run.agent)
        if symbol is None or symbol.kind != "agent":
            agents = [n for n, s in main.visible().items() if s.kind == "agent"]
            sink.report(
                codes.UNDEFINED_NAME,
                f"unknown agent `{run.agent}`",
                run.span,
                "not an agent",
                hints=did_you_mean(run.agent, agents),
            )
            continue
        info = result.agents.get(symbol.qualified)
        if info is None:
            continue
        _check_run(run, info.params, sink)
        # roles are found where the test is, or where the agent it runs is declared
        scopes = [main, symbol.module]
        for mock in (s for s in test.body if isinstance(s, ast.TestMock)):
            _check_mock(program, scopes, result, mock, sink)
        nodes = set(info.nodes)
        for expect in (s for s in test.body if isinstance(s, ast.TestExpect)):
            _check_expect(expect, nodes, set(info.params), program, scopes, sink)
    return sink.found


def _check_run(run: ast.TestRun, params: dict[str, Type], sink: DiagnosticSink) -> None:
    given: dict[str, ast.Node] = {}
    names = list(params)
    for index, arg in enumerate(run.args):
        name = arg.name or (names[index] if index < len(names) else None)
        if name is None or name not in params:
            sink.report(
                codes.UNKNOWN_PARAMETER,
                f"`{run.agent}` has no parameter `{arg.name or index + 1}`",
                arg.span,
                hints=did_you_mean(arg.name or "", names),
            )
            continue
        given[name] = arg.value
        problem = _constant_problem(arg.value, params[name])
        if problem:
            sink.report(codes.BAD_TEST_VALUE, f"argument `{name}`: {problem}", arg.value.span)
    missing = [n for n in names if n not in given]
    if missing:
        sink.report(
            codes.MISSING_ARGUMENT,
            f"`{run.agent}` needs `{missing[0]}`",
            run.span,
            hints=(f"pass it: `run {run.agent}(..., {missing[0]}: ...)`",),
        )


def _find(program: Any, scopes: list[Any], name: str) -> Any:
    for scope in scopes:
        symbol = program.lookup(scope, name)
        if symbol is not None:
            return symbol
    return None


def _check_mock(
    program: Any, scopes: list[Any], result: CheckResult, mock: ast.TestMock, sink: DiagnosticSink
) -> None:
    symbol = _find(program, scopes, mock.role)
    if symbol is None or symbol.kind not in ("role", "human"):  # (a human step: its answers)
        roles = [
            n for scope in scopes for n, s in scope.visible().items() if s.kind in ("role", "human")
        ]
        sink.report(
            codes.UNDEFINED_NAME,
            f"unknown role `{mock.role}`",
            mock.span,
            "not a role",
            hints=did_you_mean(mock.role, roles),
        )
        return
    signature = result.signatures.get(symbol.qualified)
    if not isinstance(mock.replies, ast.ListLit):
        sink.report(codes.BAD_TEST_VALUE, "`mock` takes a list of replies", mock.replies.span)
        return
    decl = symbol.decl
    tools = set(decl.tools.tools) if isinstance(decl, ast.RoleDecl) and decl.tools else set()
    for index, reply in enumerate(mock.replies.items, start=1):
        value = ast.constant_value(reply) if not isinstance(reply, ast.NullLit) else None
        if isinstance(value, dict) and set(value) == {"tool", "arguments"}:
            if value["tool"] not in tools:
                sink.report(
                    codes.BAD_TEST_VALUE,
                    f"reply {index}: `{mock.role}` has no tool `{value['tool']}`",
                    reply.span,
                )
            continue
        problem = signature and _value_problem(value, signature.returns)
        if problem:
            sink.report(
                codes.BAD_TEST_VALUE, f"reply {index} of `{mock.role}`: {problem}", reply.span
            )


def _check_expect(
    expect: ast.TestExpect,
    nodes: set[str],
    params: set[str],
    program: Any,
    scopes: list[Any],
    sink: DiagnosticSink,
) -> None:
    nested = ltl.future_under_past(expect.formula)
    if nested is not None:
        sink.report(
            codes.FUTURE_UNDER_PAST,
            "a past operator applies to a formula with a future operator",
            nested.span,
        )
    _ExpectNames(nodes, params, program, scopes, sink).visit(expect.formula)


class _ExpectNames(Visitor):
    """The names an expectation reads: nodes (atoms, `firings(node)`), roles
    (`calls(Role)`), and in its conditions the agent's parameters, `result`, nodes and
    enum members. (Inside a call, a name is the call's business.)"""

    def __init__(
        self,
        nodes: set[str],
        params: set[str],
        program: Any,
        scopes: list[Any],
        sink: DiagnosticSink,
    ) -> None:
        self.nodes, self.program, self.scopes, self.sink = nodes, program, scopes, sink
        self.known = nodes | params | {"result"}
        self.calls = 0  # how many calls the walk is inside

    def visit_LtlFired(self, atom: ast.LtlFired) -> None:
        if atom.node not in self.nodes:
            self.sink.report(
                codes.UNKNOWN_IN_EXPECT,
                f"unknown node `{atom.node}`",
                atom.span,
                "not a node of the agent run",
                hints=did_you_mean(atom.node, self.nodes),
            )

    def visit_Call(self, call: ast.Call) -> None:
        self.calls += 1
        if call.func == "calls":
            for name in (head for arg in call.args for head in ref_heads(arg)):
                symbol = _find(self.program, self.scopes, name)
                if symbol is None or symbol.kind not in ("role", "agent"):
                    self.sink.report(codes.UNKNOWN_IN_EXPECT, f"unknown role `{name}`", call.span)
        elif call.func == "firings":
            for name in (head for arg in call.args for head in ref_heads(arg)):
                if name not in self.nodes:
                    self.sink.report(codes.UNKNOWN_IN_EXPECT, f"unknown node `{name}`", call.span)
        elif call.func != "len":
            self.sink.report(
                codes.UNKNOWN_IN_EXPECT,
                f"unknown function `{call.func}`",
                call.span,
                hints=("the functions: calls(Role), firings(node), len(list)",),
            )

    def leave_Call(self, call: ast.Call) -> None:
        self.calls -= 1

    def visit_Ref(self, ref: ast.Ref) -> None:
        if self.calls or ref.head in self.known:
            return
        symbol = _find(self.program, self.scopes, ref.head)
        if symbol is not None and symbol.kind == "enum":
            return  # an enum member, `Route.math`
        self.sink.report(
            codes.UNKNOWN_IN_EXPECT,
            f"unknown name `{ref.head}` in an expectation",
            ref.span,
            hints=did_you_mean(ref.head, self.known),
        )


def _constant_problem(expr: ast.Node, expected: Type) -> str | None:
    if not ast.is_constant(expr) and not isinstance(expr, ast.NullLit):
        return "a test passes constants (literals, lists, records as `{field: value}`)"
    value = None if isinstance(expr, ast.NullLit) else ast.constant_value(expr)
    return _value_problem(value, expected)


def _value_problem(value: Any, expected: Type, where: str = "") -> str | None:
    """Why a constant does not fit a type, or None."""
    at = f" at `{where}`" if where else ""
    match expected:
        case AnyType():
            return None
        case OptionalT(inner=inner):
            return None if value is None else _value_problem(value, inner, where)
    if value is None:
        return (
            None if isinstance(expected, NoneType_) else f"none{at} where `{expected}` is expected"
        )
    match expected:
        case Prim(name=name):
            fits = {
                "str": isinstance(value, str),
                "bool": isinstance(value, bool),
                "int": isinstance(value, int) and not isinstance(value, bool),
                "float": isinstance(value, int | float) and not isinstance(value, bool),
            }[name]
            return None if fits else f"{value!r}{at} is not a `{expected}`"
        case EnumT(members=members):
            if value in members:
                return None
            return f"{value!r}{at} is not a member of `{expected}` ({', '.join(members)})"
        case ListT(item=item):
            if not isinstance(value, list):
                return f"{value!r}{at} is not a list"
            problems = (_value_problem(v, item, f"{where}[{i}]") for i, v in enumerate(value))
            return next((p for p in problems if p), None)
        case DictT(value=item):
            if not isinstance(value, dict):
                return f"{value!r}{at} is not a dict"
            problems = (
                _value_problem(v, item, f"{where}.{key}" if where else key)
                for key, v in value.items()
            )
            return next((p for p in problems if p), None)
        case RecordT():
            return _record_problem(value, expected, where)
    return None


def _record_problem(value: Any, expected: RecordT, where: str) -> str | None:
    at = f" at `{where}`" if where else ""
    if not isinstance(value, dict):
        return f"{value!r}{at} is not a `{expected}` record"
    for key in value:
        if key not in expected.fields:
            return f"`{expected}` has no field `{key}`"
    for name, field_type in expected.fields.items():
        if name not in value:
            if name not in expected.defaults:
                return f"`{expected}` needs the field `{name}`{at}"
            continue
        problem = _value_problem(value[name], field_type, f"{where}.{name}" if where else name)
        if problem:
            return problem
    return None
