"""An agent's body declared in Python: nodes are variables, fields are attributes, and
guards and formulas are Python expressions over them — each builds the AST the
`.agent` syntax parses to, so an IDE and mypy see the graph.

    @rg.agent
    def SelfRefine(task: str) -> Answer:
        writer = rg.node(Writer, task)
        critic = rg.node(Critic, task, draft=writer)
        rg.edge(critic, rg.to(writer, feedback=critic.feedback), when=rg.not_(critic.ok), max=3)
        rg.edge(critic, rg.to_return(writer), otherwise=True)
        rg.ensure(rg.always(rg.implies(rg.RETURN, rg.once(critic))))
        return rg.graph(locals())

`rg.node(Writer, ...)` is typed as the role's result (`Answer`), so `writer.text` is a
`str` to mypy; at declaration time it is a `Symbol`, a placeholder whose attribute
accesses, comparisons and arithmetic build expressions. A node's name is the variable it
is bound to (`rg.graph(locals())` hands them over; `@rg.agent(names=...)` maps a Python
name to a rolegraph one where they differ). What Python cannot overload has a function:
`rg.not_`, `rg.and_`, `rg.or_`, `rg.in_`, `rg.not_in`, `rg.fn.len(x)` for the built-in
functions, `rg.lit(1) + 2` for an operation on constants (Python would fold it), and
`rg.ref("name")` for a name no Python object stands for (a pattern's compile-time
parameter, a node used before the line that declares it).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from . import ast
from .pysymbols import (
    RETURN,
    START,
    Declared,
    Formula,
    Symbol,
    always,
    and_,
    error,
    eventually,
    fail,
    failed,
    fn,
    formula_of,
    historically,
    implies,
    in_,
    lit,
    next_,
    not_,
    not_in,
    once,
    or_,
    ref,
    release,
    since,
    to_expr,
    until,
    wnext,
    yesterday,
)

T = TypeVar("T")
U = TypeVar("U")
T_co = TypeVar("T_co", covariant=True)

# what `import rolegraph as rg` offers an agent body (rolegraph/__init__.py)
__all__ = [
    "RETURN",
    "START",
    "Formula",
    "Symbol",
    "Target",
    "always",
    "and_",
    "declared",
    "each",
    "edge",
    "enforce",
    "ensure",
    "error",
    "eventually",
    "failed",
    "fn",
    "graph",
    "historically",
    "implies",
    "in_",
    "lit",
    "next_",
    "node",
    "not_",
    "not_in",
    "once",
    "or_",
    "pattern",
    "ref",
    "release",
    "replicate",
    "returns",
    "run_body",
    "since",
    "to",
    "to_return",
    "until",
    "wnext",
    "yesterday",
]


# -- statements -------------------------------------------------------------------------------


class Statement:
    def to_ast(self) -> Any:
        raise NotImplementedError  # pragma: no cover - each statement defines it


class Body:
    """The statements an agent body declares, in order, and its variables."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.statements: list[Statement] = []
        self.names = dict(names)  # Python name → rolegraph name, where they differ
        self.namespace: Mapping[str, Any] | None = None


_BODIES: list[Body] = []


def _current(what: str) -> Body:
    if not _BODIES:
        raise fail(f"`rg.{what}` declares part of an agent: call it inside an `@rg.agent` body")
    return _BODIES[-1]


def _add(statement: Statement, what: str) -> None:
    _current(what).statements.append(statement)


def _callee_name(callee: Any) -> str:
    if isinstance(callee, str):
        return callee
    if isinstance(callee, Declared):
        return callee.name
    raise fail(f"not a role, tool or agent: {callee!r}")


def _result_type(callee: Any) -> Any:
    stub = getattr(callee, "stub", None)
    if stub is None:
        return None
    try:
        return typing.get_type_hints(stub).get("return")
    except Exception:  # an annotation that does not resolve: the checker says so
        return None


class Pattern(Declared):
    """A pattern with its compile-time arguments: `rg.pattern(SelfConsistency, Solver, n=5)`."""

    def __init__(self, callee: Any, args: list[tuple[str | None, Any]]):
        self.callee = callee
        self.name = _callee_name(callee)
        self.args = args
        self.stub = getattr(callee, "stub", None)


def pattern(callee: T, /, *args: object, **named: object) -> T:
    """A pattern applied to compile-time arguments (roles and constants): the callee of a
    node, `rg.node(rg.pattern(SelfConsistency, Solver, n=5), question)`."""
    return Pattern(callee, [(None, a) for a in args] + list(named.items()))  # type: ignore[return-value]


class NodeStatement(Statement):
    def __init__(self, callee: Any, args: tuple[Any, ...], named: dict[str, Any]):
        self.callee = callee
        self.args = [(None, a) for a in args] + list(named.items())
        self.name: str | None = None
        self.replicate: int | str | None = None
        self.map: tuple[Symbol, Any, int | str] | None = None
        self.symbol = Symbol(self._ref, _result_type(callee))

    def _ref(self) -> ast.Ref:
        if self.name is None:
            raise fail(f"a node of `{_callee_name(self.callee)}` is bound to no variable")
        return ast.Ref(parts=(self.name,))

    def to_ast(self) -> ast.NodeDecl:
        ct = self.callee.args if isinstance(self.callee, Pattern) else []
        return ast.NodeDecl(
            name=self._ref().head,
            role=_callee_name(self.callee),
            ct_args=tuple(_arg(n, v) for n, v in ct),
            args=tuple(_arg(n, v) for n, v in self.args),
            replicate=self.replicate,
            map=ast.MapClause(
                var=to_expr(self.map[0]).head, source=to_expr(self.map[1]), max=self.map[2]
            )
            if self.map
            else None,
        )


def _arg(name: str | None, value: Any) -> ast.Arg:
    return ast.Arg(name=name, value=to_expr(value))


class _Callee(typing.Protocol[T_co]):
    """A role, tool, agent or pattern, typed by its result."""

    def __call__(self, model: Any = None, **inputs: Any) -> typing.Awaitable[T_co]: ...


@typing.overload
def node(callee: str, /, *args: object, **named: object) -> Any: ...
@typing.overload
def node(callee: _Callee[T], /, *args: object, **named: object) -> T: ...
def node(callee: Any, /, *args: object, **named: object) -> Any:
    """`name = Callee(args)`: a node, named by the variable it is bound to; typed as the
    callee's result."""
    statement = NodeStatement(callee, args, named)
    _add(statement, "node")
    return statement.symbol


@typing.overload
def replicate(n: int | str, callee: str, /, *args: object, **named: object) -> Any: ...
@typing.overload
def replicate(n: int | str, callee: _Callee[T], /, *args: object, **named: object) -> list[T]: ...
def replicate(n: int | str, callee: Any, /, *args: object, **named: object) -> Any:
    """`name = Callee(args) x n`: n parallel firings, a list of results."""
    statement = NodeStatement(callee, args, named)
    statement.replicate = n
    statement.symbol = Symbol(statement._ref)
    _add(statement, "replicate")
    return statement.symbol


def each(source: Iterable[U], max: int | str, body: Callable[[U], T], /) -> list[T]:
    """`name = Callee(args) for var in source max n`: the body is a `lambda var: rg.node(...)`,
    called once with `var` standing for an item."""
    names = _current("each").names
    parameters = list(inspect.signature(body).parameters)
    if len(parameters) != 1:
        raise fail("the body of `rg.each` takes one parameter: the item")
    var = names.get(parameters[0], parameters[0])
    item = Symbol(lambda: ast.Ref(parts=(var,)))
    made = body(item)  # type: ignore[arg-type]
    statement = _statement_of(made)
    if statement is None:
        raise fail("the body of `rg.each` returns a node: `lambda x: rg.node(Role, x)`")
    statement.map = (item, source, max)
    statement.symbol = Symbol(statement._ref)
    return statement.symbol  # type: ignore[return-value]


def _statement_of(symbol: Any) -> NodeStatement | None:
    if not _BODIES:
        return None
    for statement in _BODIES[-1].statements:
        if isinstance(statement, NodeStatement) and statement.symbol is symbol:
            return statement
    return None


class Target:
    """Where an edge goes: `rg.to(node, port=value)` or `rg.to_return(value)`."""

    def __init__(self, target: Any, ports: dict[str, Any] | None, value: Any = None):
        self.target = target
        self.ports = ports
        self.value = value

    def to_ast(self) -> ast.NodeTarget | ast.ReturnTarget:
        if self.ports is None:
            return ast.ReturnTarget(value=to_expr(self.value))
        return ast.NodeTarget(
            node=_node_name(self.target), ports=tuple(_arg(n, v) for n, v in self.ports.items())
        )


def to(target: object, /, **ports: object) -> Target:
    """`-> target(port: value, ...)`: an edge's target, binding ports for that firing."""
    return Target(target, dict(ports))


def to_return(value: object, /) -> Target:
    """`-> return(value)`: an edge that ends the run with a value."""
    return Target(None, None, value)


def _node_name(value: Any) -> str:
    expr = to_expr(value)
    if not isinstance(expr, ast.Ref) or len(expr.parts) != 1:
        raise fail(f"an edge goes from and to a node, not {value!r}")
    return expr.head


class _Unset:
    pass


UNSET: Any = _Unset()


class EdgeStatement(Statement):
    def __init__(
        self, source: Any, target: Any, when: Any, otherwise: bool, on_error: bool, bound: Any
    ):
        if sum([when is not UNSET, otherwise, on_error]) > 1:
            raise fail("an edge has one condition: `when=`, `otherwise=True` or `on_error=True`")
        self.source = source
        self.target = target if isinstance(target, Target) else Target(target, {})
        self.when = when
        self.otherwise = otherwise
        self.on_error = on_error
        self.bound = bound

    def to_ast(self) -> ast.EdgeDecl:
        condition: ast.When | ast.Else | ast.OnError | None = None
        if self.when is not UNSET:
            condition = ast.When(guard=to_expr(self.when))
        elif self.otherwise:
            condition = ast.Else()
        elif self.on_error:
            condition = ast.OnError()
        return ast.EdgeDecl(
            source=_node_name(self.source),
            target=self.target.to_ast(),
            condition=condition,
            max=self.bound,
        )


def edge(
    source: object,
    target: object,
    /,
    *,
    when: object = UNSET,
    otherwise: bool = False,
    on_error: bool = False,
    max: int | str | None = None,
) -> None:
    """`source -> target [when guard | else | on error] [max n]`; the target is a node,
    `rg.to(node, port=value)` or `rg.to_return(value)`."""
    _add(EdgeStatement(source, target, when, otherwise, on_error, max), "edge")


class ReturnStatement(Statement):
    def __init__(self, value: Any):
        self.value = value

    def to_ast(self) -> ast.ReturnStmt:
        return ast.ReturnStmt(value=to_expr(self.value))


def returns(value: object, /) -> None:
    """`return value`: the run ends with it once the nodes it reads have produced."""
    _add(ReturnStatement(value), "returns")


class ConstraintStatement(Statement):
    def __init__(self, mode: typing.Literal["ensure", "enforce"], formula: object):
        self.mode = mode
        self.formula = formula

    def to_ast(self) -> ast.Constraint:
        return ast.Constraint(mode=self.mode, formula=formula_of(self.formula))


def ensure(formula: object, /) -> None:
    """`ensure φ`: a temporal constraint checked on every path, monitored at run time."""
    _add(ConstraintStatement("ensure", formula), "ensure")


def enforce(formula: object, /) -> None:
    """`enforce φ`: a firing that would break the formula is not started."""
    _add(ConstraintStatement("enforce", formula), "enforce")


# -- an agent body, run ---------------------------------------------------------------------


class _Graph:
    """What an agent body returns: `rg.graph(locals())`."""


def graph(namespace: Mapping[str, Any], /) -> Any:
    """The end of an agent body: `return rg.graph(locals())` hands its variables over, so
    that each node is named by its variable."""
    _current("graph").namespace = dict(namespace)
    return _Graph()


def declared() -> Any:
    """The body of a role or tool stub: the decorator makes the call; the stub says only
    the signature (and type-checks, unlike `...`)."""
    raise fail("a declared stub is called through its program, not directly")


def run_body(
    body: Callable[..., Any], params: dict[str, tuple[str, Any]], names: Mapping[str, str]
) -> list[Any]:
    """The statements of an agent body, as AST: `params` maps each Python parameter to its
    rolegraph name and annotation; `names` maps other Python names to rolegraph ones."""
    state = Body(names)
    symbols = {
        python: _param_symbol(name, annotation) for python, (name, annotation) in params.items()
    }
    _BODIES.append(state)
    try:
        result = body(**symbols)
    finally:
        _BODIES.pop()
    if not isinstance(result, _Graph) or state.namespace is None:
        raise fail(
            f"the body of `{body.__name__}` ends with `return rg.graph(locals())`, "
            "which names its nodes"
        )
    for statement in state.statements:
        if isinstance(statement, NodeStatement):
            bound = [k for k, v in state.namespace.items() if v is statement.symbol]
            if bound:
                statement.name = names.get(bound[0], bound[0])
    return [statement.to_ast() for statement in state.statements]


def _param_symbol(name: str, annotation: Any) -> Symbol:
    expr = ast.Ref(parts=(name,))
    return Symbol(lambda: expr, annotation)
