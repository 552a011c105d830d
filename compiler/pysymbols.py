"""The values an agent body declared in Python computes with (pybody.py): a `Symbol`
stands for an expression of the language — a node, a parameter, a field of either —
and its comparisons and arithmetic build expressions; `rg.not_`, `rg.and_`, `rg.or_`,
`rg.in_`, `rg.fn.len(x)` build what Python cannot overload; a `Formula` is a temporal
formula, whose atoms are nodes (`LtlFired`) and conditions on outputs (`LtlHolds`).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic

from . import ast, codes
from .diagnostics import DiagnosticError, diagnostic

T = TypeVar("T")


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
    _rg_build: Callable[[], Any]
    _rg_type: Any

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

    def _compare(self, op: Any, other: Any) -> Symbol:
        return Symbol(lambda: ast.Compare(op=op, left=to_expr(self), right=to_expr(other)))

    def _arith(self, op: Any, other: Any, reflected: bool = False) -> Symbol:
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
    match value:
        case Symbol():
            return value._rg_build()
        case enum.Enum():
            found = vars(type(value)).get("__rolegraph_name__")
            name = found if isinstance(found, str) else type(value).__name__
            return ast.Ref(parts=(name, value.value))
        case Declared(name=name):
            return ast.Ref(parts=(name,))
        case None:
            return ast.NullLit()
        case bool():
            return ast.BoolLit(value=value)
        case int():
            return ast.IntLit(value=value)
        case float():
            return ast.FloatLit(value=value)
        case str():
            return ast.StringLit(value=value)
        case list() | tuple():
            return ast.ListLit(items=tuple(to_expr(v) for v in value))
        case dict():
            entries = (ast.DictEntry(key=str(k), value=to_expr(v)) for k, v in value.items())
            return ast.DictLit(entries=tuple(entries))
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


def _boolop(op: Any, left: object, right: object) -> Any:
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
    _rg_build: Callable[[], Any]

    def __init__(self, build: Callable[[], Any]):
        self._rg_build = build

    def __bool__(self) -> bool:
        raise fail("a formula is combined with `rg.not_`, `rg.and_`, `rg.or_`, `rg.implies`")


START = Formula(ast.LtlStart)
RETURN = Formula(ast.LtlReturn)


def formula_of(value: object) -> Any:
    """The formula a Python value stands for: a node is `LtlFired`, a condition on
    outputs `LtlHolds`, `rg.not_`/`rg.and_`/`rg.or_` of them the temporal operators."""
    match value:
        case Formula():
            return value._rg_build()
        case bool():
            return ast.LtlConst(value=value)
    return _formula(to_expr(value))


def _formula(expr: Any) -> Any:
    match expr:
        case ast.Not(operand=operand):
            return ast.LtlUnary(op="not", operand=_formula(operand))
        case ast.BoolOp(op=op, left=left, right=right):
            return ast.LtlBinary(op=op, left=_formula(left), right=_formula(right))
        case ast.BoolLit(value=value):
            return ast.LtlConst(value=value)
        case ast.Ref(parts=(head,)):
            return ast.LtlFired(node=head)
    try:
        return ast.LtlHolds(expr=expr)
    except pydantic.ValidationError as error:
        raise fail(f"not a condition of a temporal formula: {expr!r}") from error


def _unary(op: Any) -> Callable[[object], Formula]:
    def make(operand: object) -> Formula:
        return Formula(lambda: ast.LtlUnary(op=op, operand=formula_of(operand)))

    make.__name__ = op
    make.__doc__ = f"`{op} φ`."
    return make


def _binary(op: Any) -> Callable[[object, object], Formula]:
    def make(left: object, right: object) -> Formula:
        return Formula(lambda: ast.LtlBinary(op=op, left=formula_of(left), right=formula_of(right)))

    make.__name__ = op
    make.__doc__ = f"`φ {op} ψ`."
    return make


def failed(node: object) -> Formula:
    """`failed(node)`: the node fired at this step and failed."""

    def build() -> Any:
        atom = _formula(to_expr(node))
        if not isinstance(atom, ast.LtlFired) or atom.failed:
            raise fail(f"`rg.failed` takes a node, not {node!r}")
        return atom.model_copy(update={"failed": True})

    return Formula(build)


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
