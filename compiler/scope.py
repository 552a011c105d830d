"""Expression typing: the type of any expression an agent body can hold.

`Scope` knows the names an expression can see (agent parameters, node outputs, a map's
item, compile-time constants, enum members) and reports what is wrong with the way they
are combined: unknown names and fields, comparisons that are never true, non-bool
conditions, unknown functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from . import ast, codes
from .builtins import SIGNATURES, result_type
from .checked import AgentInfo, NodeInfo
from .dataflow import ref_heads
from .resolve import ModuleInfo, Program, Symbol, did_you_mean
from .source import Span
from .types import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    NONE,
    STR,
    AnyType,
    DictT,
    EnumT,
    ListT,
    OptionalT,
    RecordT,
    Type,
    assignable,
    comparable,
    is_numeric,
    strip_optional,
)

BUILTIN_FUNCTIONS = {*SIGNATURES, "latest", "history"}


def has_error_field(node: NodeInfo) -> bool:
    """Whether the node's output may have a field or key `error` (a record with such a
    field, a dict, or whatever a role parameter without a signature is bound to): then,
    where the node succeeded, `x.error` reads it, not none (runtime/expressions.py reads
    `.error` of the output; E0415). (A node whose callee is unknown has been reported.)"""
    inner = strip_optional(node.output)
    if isinstance(inner, AnyType):
        return node.callee.kind == "param"
    return isinstance(inner, DictT) or (isinstance(inner, RecordT) and "error" in inner.fields)


class TypeEnvironment(Protocol):
    """What typing an expression needs from the checker around it: the program's names,
    the types they declare, and a place to report problems (the checker is one)."""

    program: Program

    def report(
        self,
        module: ModuleInfo,
        code: str,
        message: str,
        span: Span | None,
        label: str = "",
        hints: Iterable[str] = (),
    ) -> None: ...

    def resolve_type(self, module: ModuleInfo, expr: ast.Node) -> Type: ...

    def symbol_type(self, symbol: Symbol) -> Type: ...


class Scope:
    """Types of the names an expression inside an agent can see."""

    def __init__(
        self,
        checker: TypeEnvironment,
        module: ModuleInfo,
        agent: AgentInfo | None,
        locals_: dict[str, Type] | None = None,
    ):
        self.checker = checker
        self.module = module
        self.agent = agent
        self.locals = locals_ or {}

    def with_local(self, name: str, t: Type) -> Scope:
        return Scope(self.checker, self.module, self.agent, {**self.locals, name: t})

    def node_refs(self, node: ast.NodeDecl) -> set[str]:
        if self.agent is None:
            return set()
        refs = set(ref_heads(node, self.agent.nodes))
        if node.map is not None:
            refs.discard(node.map.var)
        return refs

    def report(
        self, code: str, message: str, span: Span | None, label: str = "", hints: Iterable[str] = ()
    ) -> Type:
        self.checker.report(self.module, code, message, span, label, hints=hints)
        return ANY

    def type_of(self, expr: ast.Node) -> Type:
        if isinstance(expr, ast.StringLit):
            return STR
        if isinstance(expr, ast.BoolLit):
            return BOOL
        if isinstance(expr, ast.IntLit):
            return INT
        if isinstance(expr, ast.FloatLit):
            return FLOAT
        if isinstance(expr, ast.NullLit):
            return NONE
        if isinstance(expr, ast.ListLit):
            items = [self.type_of(i) for i in expr.items]
            return ListT(join_types(items))
        if isinstance(expr, ast.DictLit):
            return DictT(join_types([self.type_of(e.value) for e in expr.entries]))
        if isinstance(expr, ast.Ref):
            return self.ref(expr)
        if isinstance(expr, ast.Not):
            self.boolean(expr.operand)
            return BOOL
        if isinstance(expr, ast.BoolOp):
            self.boolean(expr.left)
            self.boolean(expr.right)
            return BOOL
        if isinstance(expr, ast.Compare):
            return self.compare(expr)
        if isinstance(expr, ast.Call):
            return self.call(expr)
        if isinstance(expr, ast.Arith):
            return self.arith(expr)
        return ANY

    def arith(self, expr: ast.Arith) -> Type:
        """Numbers with numbers (`/` gives a float; dividing by zero gives 0, so no
        expression fails); `+` also joins two strings or two lists."""
        left, right = self.type_of(expr.left), self.type_of(expr.right)
        if isinstance(left, AnyType) or isinstance(right, AnyType):
            return ANY
        if is_numeric(left) and is_numeric(right):
            if expr.op == "/" or FLOAT in (left, right):
                return FLOAT
            return INT
        if expr.op == "+" and left == STR and right == STR:
            return STR
        if expr.op == "+" and isinstance(left, ListT) and isinstance(right, ListT):
            if assignable(right, left):
                return left
            if assignable(left, right):
                return right
        optional = isinstance(left, OptionalT) or isinstance(right, OptionalT)
        return self.report(
            codes.BAD_OPERANDS,
            f"cannot compute `{left}` {expr.op} `{right}`",
            expr.span,
            "may be none" if optional else "",
            hints=("an optional value may be none: test it first, or give a default",)
            if optional
            else ("`+` joins two strings or two lists; the others take numbers",),
        )

    def boolean(self, expr: ast.Node) -> None:
        t = self.type_of(expr)
        if not assignable(t, BOOL):
            self.report(
                codes.NOT_BOOL,
                f"expected a bool, found `{t}`",
                expr.span,
                "not a bool",
                hints=bool_hint(t),
            )

    def compare(self, expr: ast.Compare) -> Type:
        left, right = self.type_of(expr.left), self.type_of(expr.right)
        if expr.op in ("==", "!="):
            if not comparable(left, right):
                self.report(
                    codes.BAD_OPERANDS,
                    f"`{left}` and `{right}` are never equal",
                    expr.span,
                    "always " + ("false" if expr.op == "==" else "true"),
                )
        elif expr.op in ("<", "<=", ">", ">="):
            # (an optional side compares as false when it is none: orderings are total)
            both_str = strip_optional(left) == STR and strip_optional(right) == STR
            numbers = is_numeric(strip_optional(left)) and is_numeric(strip_optional(right))
            if not both_str and not numbers:
                self.report(
                    codes.BAD_OPERANDS,
                    f"cannot order `{left}` and `{right}`",
                    expr.span,
                    "needs numbers",
                )
        else:
            container = strip_optional(right)
            if isinstance(container, ListT | DictT):
                item = container.item if isinstance(container, ListT) else STR
                if not comparable(left, item):
                    self.report(
                        codes.BAD_OPERANDS, f"a `{left}` is never in a `{right}`", expr.span
                    )
            elif container == STR:
                if not assignable(left, STR):
                    self.report(
                        codes.BAD_OPERANDS,
                        f"`{expr.op}` a string needs a string, found `{left}`",
                        expr.span,
                    )
            elif not isinstance(container, AnyType):
                self.report(
                    codes.BAD_OPERANDS,
                    f"`{expr.op}` needs a list, a dict or a string, found `{right}`",
                    expr.right.span,
                )
        return BOOL

    def call(self, expr: ast.Call) -> Type:
        if expr.func in ("latest", "history"):
            return self.node_read(expr)
        args = [self.type_of(a) for a in expr.args]
        if expr.func not in BUILTIN_FUNCTIONS:
            return self.report(
                codes.UNKNOWN_FUNCTION,
                f"unknown function `{expr.func}`",
                expr.span,
                hints=did_you_mean(expr.func, BUILTIN_FUNCTIONS)
                or (f"the built-in functions are: {', '.join(sorted(BUILTIN_FUNCTIONS))}",),
            )
        literals = [a.value if isinstance(a, ast.StringLit) else None for a in expr.args]
        found = result_type(expr.func, args, literals)
        if isinstance(found, str):
            return self.report(
                codes.TYPE_MISMATCH,
                f"`{expr.func}` {found}",
                expr.span,
                hints=(SIGNATURES[expr.func],),
            )
        return found

    def node_read(self, expr: ast.Call) -> Type:
        """`latest(x)`: x's latest output before the firing (its type); `history(x)`:
        every output of x before it, in logical-time order (a list)."""
        nodes = self.agent.nodes if self.agent is not None else {}
        argument = expr.args[0] if len(expr.args) == 1 else None
        if not isinstance(argument, ast.Ref) or len(argument.parts) != 1:
            return self.report(
                codes.TYPE_MISMATCH,
                f"`{expr.func}` takes the name of a node of this agent",
                expr.span,
                hints=(f"`{expr.func}(critic)`, then `.field` on what it gives"
                       if expr.func == "latest" else f"`{expr.func}(critic)`",),
            )  # fmt: skip
        if argument.head not in nodes:
            return self.report(
                codes.UNDEFINED_NAME,
                f"`{argument.head}` is not a node of this agent",
                argument.span,
                hints=did_you_mean(argument.head, list(nodes)),
            )
        output = nodes[argument.head].output
        return output if expr.func == "latest" else ListT(output)

    def ref(self, expr: ast.Ref) -> Type:
        head, rest = expr.parts[0], list(expr.parts[1:])
        agent = self.agent
        if head in self.locals:
            current = self.locals[head]
        elif agent is not None and head in agent.nodes:
            if rest == ["error"]:
                # a `str` where every run reads it after the node's latest firing failed:
                # the explorer refuses the reads where it may be none (E0414,
                # compiler/paths.py), the one place that rule lives — unless a success
                # gives `.error` of the output (a field or key so named): then refused
                node = agent.nodes[head]
                if has_error_field(node):
                    unknown = isinstance(strip_optional(node.output), AnyType)
                    return self.report(
                        codes.ERROR_READ_AMBIGUOUS,
                        f"`{head}.error` is ambiguous: `{head}`'s output may have a field `error`",
                        expr.span,
                        f"`{head}`'s failure, or its output's field?",
                        hints=(
                            f"give `{node.callee.name}` a signature whose output has no field"
                            " `error`: then `.error` is the node's failure"
                            if unknown
                            else "rename the field: then `.error` is the node's failure",
                        ),
                    )
                return STR
            current = agent.nodes[head].output
        elif agent is not None and head in agent.params:
            current = agent.params[head]
        elif agent is not None and head in agent.ct_params:
            ct = agent.ct_params[head]
            if isinstance(ct.type, ast.RoleSig):
                return self.report(codes.WRONG_KIND, f"`{head}` is a role, not a value", expr.span)
            current = self.checker.resolve_type(self.module, ct.type)
        else:
            enum = self.enum_member(expr)
            if enum is not None:
                return enum
            known = list(self.locals)
            if agent is not None:
                known += [*agent.nodes, *agent.params]
            pythonism = {"True": "true", "False": "false", "None": "none"}.get(head)
            return self.report(
                codes.UNDEFINED_NAME,
                f"unknown name `{head}`",
                expr.span,
                "not a node, a parameter or an enum",
                hints=(f"write `{pythonism}`: rolegraph's literals are lower case",)
                if pythonism
                else did_you_mean(head, known),
            )
        for index, name in enumerate(rest):
            current = self.field(current, name, expr, index + 1)
        return current

    def enum_member(self, expr: ast.Ref) -> Type | None:
        for split in (2, 3):
            if len(expr.parts) < split:
                continue
            symbol = self.checker.program.lookup(self.module, ".".join(expr.parts[: split - 1]))
            if symbol is None or symbol.kind != "enum":
                continue
            enum = self.checker.symbol_type(symbol)
            assert isinstance(enum, EnumT)
            member = expr.parts[split - 1]
            if member not in enum.members:
                return self.report(
                    codes.UNKNOWN_FIELD,
                    f"enum `{enum}` has no member `{member}`",
                    expr.span,
                    hints=did_you_mean(member, enum.members),
                )
            if len(expr.parts) > split:
                return self.report(codes.UNKNOWN_FIELD, "an enum member has no fields", expr.span)
            return enum
        return None

    def field(self, current: Type, name: str, expr: ast.Ref, depth: int) -> Type:
        optional = isinstance(current, OptionalT)
        base = strip_optional(current)
        if isinstance(base, AnyType):
            return ANY
        if isinstance(base, RecordT):
            if name not in base.fields:
                path = ".".join(expr.parts[:depth])
                return self.report(
                    codes.UNKNOWN_FIELD,
                    f"`{path}` ({base}) has no field `{name}`",
                    expr.span,
                    "unknown field",
                    hints=did_you_mean(name, base.fields)
                    or (f"its fields are: {', '.join(base.fields)}",),
                )
            t = base.fields[name]
            return OptionalT(t) if optional and not isinstance(t, OptionalT) else t
        if isinstance(base, DictT):
            return OptionalT(base.value)
        path = ".".join(expr.parts[:depth])
        hint = (
            ("it is a list: map over it with `for x in ... max N`",)
            if isinstance(base, ListT)
            else ()
        )
        return self.report(
            codes.UNKNOWN_FIELD,
            f"`{path}` is a `{base}`, which has no fields",
            expr.span,
            hints=hint,
        )


def join_types(types: list[Type]) -> Type:
    known = [t for t in types if not isinstance(t, AnyType)]
    if not known:
        return ANY
    first = known[0]
    if all(assignable(t, first) for t in known):
        return first
    if all(t in (INT, FLOAT) for t in known):
        return FLOAT
    return ANY


def bool_hint(t: Type) -> tuple[str, ...]:
    if strip_optional(t) == STR:
        return ('compare explicitly, for example `x != ""`',)
    if isinstance(strip_optional(t), ListT):
        return ("compare explicitly, for example `len(x) > 0`",)
    return ()
