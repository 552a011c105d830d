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

import enum
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import pydantic

from . import ast, codes
from .diagnostics import DiagnosticError, diagnostic

T = TypeVar("T")
U = TypeVar("U")


class BodyError(DiagnosticError):
    """An agent body that does not describe a graph."""


def fail(message: str) -> BodyError:
    return BodyError([diagnostic(codes.NOT_A_DECLARATION, message, file="<python>")])


class Declared:
    """A declaration an expression can name (a role, tool or agent): `Ref(name)`."""

    name: str


# -- symbols: Python values that stand for expressions ------------------------------------


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return annotation


def field_of(annotation: Any, attribute: str) -> tuple[str, Any]:
    """The rolegraph field an attribute names on a value of `annotation`, and its type:
    a record's field by its Python attribute (its alias is the rolegraph name); on any
    other type, the attribute itself, of unknown type."""
    record = _strip_optional(annotation)
    if isinstance(record, type) and issubclass(record, pydantic.BaseModel):
        info = record.model_fields.get(attribute)
        if info is not None:
            return info.alias or attribute, info.annotation
    return attribute, None


class Symbol:
    """A placeholder for an expression of the language inside an agent body."""

    __slots__ = ("_rg_build", "_rg_type")

    def __init__(self, build: Callable[[], Any], annotation: Any = None):
        object.__setattr__(self, "_rg_build", build)
        object.__setattr__(self, "_rg_type", annotation)

    def __getattr__(self, attribute: str) -> Symbol:
        if attribute.startswith("_"):  # Python's own probes (`__iter__`, `_repr_html_`)
            raise AttributeError(attribute)
        part, annotation = field_of(self._rg_type, attribute)
        parent = self._rg_build
        return Symbol(lambda: _extend(parent(), part), annotation)

    def __setattr__(self, name: str, value: Any) -> None:
        raise fail("a node's fields are read in an agent body, not assigned")

    def __bool__(self) -> bool:
        raise fail(
            "a guard is a value of the program, not of Python: write `rg.not_(x)`, "
            "`rg.and_(a, b)`, `rg.or_(a, b)` and `rg.in_(a, b)` instead of `not`, `and`, "
            "`or` and `in`"
        )

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from .printer import to_source

        try:
            return f"<rolegraph {to_source(self._rg_build())}>"
        except Exception:  # a node not named yet
            return "<rolegraph expression>"

    def _compare(self, op: str, other: Any) -> Symbol:
        return Symbol(lambda: ast.Compare(op=op, left=to_expr(self), right=to_expr(other)))

    def _arith(self, op: str, other: Any, reflected: bool = False) -> Symbol:
        if reflected:
            return Symbol(lambda: ast.Arith(op=op, left=to_expr(other), right=to_expr(self)))
        return Symbol(lambda: ast.Arith(op=op, left=to_expr(self), right=to_expr(other)))

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return self._compare("!=", other)

    def __lt__(self, other: Any) -> Any:
        return self._compare("<", other)

    def __le__(self, other: Any) -> Any:
        return self._compare("<=", other)

    def __gt__(self, other: Any) -> Any:
        return self._compare(">", other)

    def __ge__(self, other: Any) -> Any:
        return self._compare(">=", other)

    def __add__(self, other: Any) -> Any:
        return self._arith("+", other)

    def __radd__(self, other: Any) -> Any:
        return self._arith("+", other, reflected=True)

    def __sub__(self, other: Any) -> Any:
        return self._arith("-", other)

    def __rsub__(self, other: Any) -> Any:
        return self._arith("-", other, reflected=True)

    def __mul__(self, other: Any) -> Any:
        return self._arith("*", other)

    def __rmul__(self, other: Any) -> Any:
        return self._arith("*", other, reflected=True)

    def __truediv__(self, other: Any) -> Any:
        return self._arith("/", other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._arith("/", other, reflected=True)

    def __mod__(self, other: Any) -> Any:
        return self._arith("%", other)

    def __rmod__(self, other: Any) -> Any:
        return self._arith("%", other, reflected=True)


def _extend(expr: Any, part: str) -> ast.Ref:
    if not isinstance(expr, ast.Ref):
        raise fail("only a reference has fields (`node.field`)")
    return ast.Ref(parts=(*expr.parts, part))


def to_expr(value: Any) -> Any:
    """The expression a Python value stands for in an agent body."""
    if isinstance(value, Symbol):
        return value._rg_build()
    if isinstance(value, NodeStatement):
        raise fail("a node is made by `rg.node(...)`, and named by its variable")
    if isinstance(value, enum.Enum):
        found = vars(type(value)).get("__rolegraph_name__")
        name = found if isinstance(found, str) else type(value).__name__
        return ast.Ref(parts=(name, value.value))
    if isinstance(value, Declared):
        return ast.Ref(parts=(value.name,))
    if value is None:
        return ast.NullLit()
    if isinstance(value, bool):
        return ast.BoolLit(value=value)
    if isinstance(value, int):
        return ast.IntLit(value=value)
    if isinstance(value, float):
        return ast.FloatLit(value=value)
    if isinstance(value, str):
        return ast.StringLit(value=value)
    if isinstance(value, list | tuple):
        return ast.ListLit(items=tuple(to_expr(v) for v in value))
    if isinstance(value, dict):
        return ast.DictLit(
            entries=tuple(ast.DictEntry(key=str(k), value=to_expr(v)) for k, v in value.items())
        )
    raise fail(f"not a value of the language: {value!r}")


def lit(value: T) -> T:
    """A constant as an expression, where Python would otherwise compute with it:
    `rg.lit(1) + 2` is the expression `1 + 2`, `rg.lit("a") == x` keeps its order."""
    return Symbol(lambda: to_expr(value))  # type: ignore[return-value]


def ref(dotted: str) -> Any:
    """A reference by name, where no Python object stands for it: a pattern's
    compile-time parameter, or a node used above the line that declares it."""
    try:
        expr = ast.Ref.of(dotted)
    except ValueError as error:
        raise fail(f"not a reference: {dotted!r}") from error
    return Symbol(lambda: expr)


def error(node: Any) -> str:
    """`node.error`: the error of a failed firing, read on an `on_error` edge."""
    return Symbol(lambda: _extend(to_expr(node), "error"))  # type: ignore[return-value]


def not_(operand: object) -> bool:
    """`not x`."""
    if isinstance(operand, Formula):
        return Formula(lambda: ast.LtlUnary(op="not", operand=formula_of(operand)))  # type: ignore[return-value]
    return Symbol(lambda: ast.Not(operand=to_expr(operand)))  # type: ignore[return-value]


def _boolop(op: str, left: object, right: object) -> Any:
    if isinstance(left, Formula) or isinstance(right, Formula):
        return Formula(lambda: ast.LtlBinary(op=op, left=formula_of(left), right=formula_of(right)))
    return Symbol(lambda: ast.BoolOp(op=op, left=to_expr(left), right=to_expr(right)))


def and_(left: object, right: object) -> bool:
    """`a and b`."""
    return _boolop("and", left, right)  # type: ignore[no-any-return]


def or_(left: object, right: object) -> bool:
    """`a or b`."""
    return _boolop("or", left, right)  # type: ignore[no-any-return]


def in_(item: object, container: object) -> bool:
    """`item in container`."""
    return Symbol(lambda: ast.Compare(op="in", left=to_expr(item), right=to_expr(container)))  # type: ignore[return-value]


def not_in(item: object, container: object) -> bool:
    """`item not in container`."""
    return Symbol(  # type: ignore[return-value]
        lambda: ast.Compare(op="not in", left=to_expr(item), right=to_expr(container))
    )


class Functions:
    """The built-in functions of expressions: `rg.fn.len(plan.steps)`; `rg.fn("name", x)`
    for one whose name Python reserves."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self(name, *args)

    def __call__(self, name: str, /, *args: object) -> Any:
        return Symbol(lambda: ast.Call(func=name, args=tuple(to_expr(a) for a in args)))


fn = Functions()


# -- temporal formulas ----------------------------------------------------------------------


class Formula:
    """A temporal formula (`rg.always(...)`); node symbols in it are atoms."""

    __slots__ = ("_rg_build",)

    def __init__(self, build: Callable[[], Any]):
        self._rg_build = build

    def __bool__(self) -> bool:
        raise fail("a formula is combined with `rg.not_`, `rg.and_`, `rg.or_`, `rg.implies`")


START = Formula(ast.LtlStart)
RETURN = Formula(ast.LtlReturn)


def formula_of(value: object) -> Any:
    """The formula a Python value stands for: a node is `LtlFired`, a condition on
    outputs `LtlHolds`, `rg.not_`/`rg.and_`/`rg.or_` of them the temporal operators."""
    if isinstance(value, Formula):
        return value._rg_build()
    if isinstance(value, bool):
        return ast.LtlConst(value=value)
    return _formula(to_expr(value))


def _formula(expr: Any) -> Any:
    if isinstance(expr, ast.Not):
        return ast.LtlUnary(op="not", operand=_formula(expr.operand))
    if isinstance(expr, ast.BoolOp):
        return ast.LtlBinary(op=expr.op, left=_formula(expr.left), right=_formula(expr.right))
    if isinstance(expr, ast.BoolLit):
        return ast.LtlConst(value=expr.value)
    if isinstance(expr, ast.Ref) and len(expr.parts) == 1:
        return ast.LtlFired(node=expr.head)
    try:
        return ast.LtlHolds(expr=expr)
    except pydantic.ValidationError as error:
        raise fail(f"not a condition of a temporal formula: {expr!r}") from error


def _unary(op: str) -> Callable[[object], Formula]:
    def make(operand: object) -> Formula:
        return Formula(lambda: ast.LtlUnary(op=op, operand=formula_of(operand)))

    make.__name__ = op
    make.__doc__ = f"`{op} φ`."
    return make


def _binary(op: str) -> Callable[[object, object], Formula]:
    def make(left: object, right: object) -> Formula:
        return Formula(lambda: ast.LtlBinary(op=op, left=formula_of(left), right=formula_of(right)))

    make.__name__ = op
    make.__doc__ = f"`φ {op} ψ`."
    return make


next_ = _unary("next")
wnext = _unary("wnext")
eventually = _unary("eventually")
always = _unary("always")
once = _unary("once")
historically = _unary("historically")
yesterday = _unary("yesterday")
implies = _binary("implies")
until = _binary("until")
release = _binary("release")
since = _binary("since")


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


class _Callee(typing.Protocol[T]):
    """A role, tool, agent or pattern, typed by its result."""

    def __call__(self, model: Any = None, **inputs: Any) -> typing.Awaitable[T]: ...


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
