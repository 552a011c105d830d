"""An agent's body as Python (the form pybody.py reads back): nodes as variables,
fields as attributes, guards and formulas as Python expressions over them.

A reference is written as the Python object that stands for it wherever one does: a
parameter or a node declared above (a local variable), an enum member (`Route.math`),
a role (`Solver`); a field by its Python attribute (`critic.feedback`, or the
attribute a record gives a field Python reserves). What no object stands for — a
pattern's compile-time parameter, a node used above its declaration, a name the
program does not declare — is `rg.ref("name")`, which reads back the same.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

from . import ast
from .pylayout import Call, comment_lines, flat, layout

Code = Call | str

# Python names a body's locals must not take: the module's and the body's own.
BODY_RESERVED = frozenset(
    {"rg", "pydantic", "enum", "PROGRAM", "COMPILED_WITH", "locals", "__debug__", "annotations"}
)

_PRECEDENCE = {"==": 1, "!=": 1, "<": 1, "<=": 1, ">": 1, ">=": 1}
_PRECEDENCE.update({"+": 2, "-": 2, "*": 3, "/": 3, "%": 3})


class BodyWriter:
    """Writes one agent's signature names and body.

    `decls` are the module's declarations by rolegraph name, `names` their Python
    names, `fields` each record's field → Python attribute, `py` the literal writer."""

    def __init__(
        self,
        decls: dict[str, Any],
        names: dict[str, str],
        fields: dict[str, dict[str, str]],
        py: Callable[[Any], str],
    ):
        self.decls = decls
        self.names = names
        self.fields = fields
        self.py = py
        self.avoid = BODY_RESERVED | set(names.values())
        self.local: dict[str, str] = {}  # rolegraph name → Python local
        self.owner: dict[str, str] = {}  # Python local → rolegraph name
        self.node_vars: set[str] = set()
        self.bound: dict[str, Any] = {}  # rolegraph name → its type (None: unknown)
        self.is_node: set[str] = set()

    # -- names ---------------------------------------------------------------------------

    def allocate(self, name: str, *, fresh: bool = False) -> str:
        """The Python local for a rolegraph name; `fresh`: one no node holds yet."""
        python = self.local.get(name, name)
        while (
            keyword.iskeyword(python)
            or python in self.avoid
            or self.owner.get(python, name) != name
            or (fresh and python in self.node_vars)
        ):
            python += "_"
        self.local[name] = python
        self.owner[python] = name
        return python

    def renamed(self) -> dict[str, str]:
        """Python local → rolegraph name, where they differ (`@rg.agent(names=...)`)."""
        return {p: n for p, n in self.owner.items() if p != n}

    def param(self, param: ast.Param) -> str:
        python = self.allocate(param.name)
        self.bound[param.name] = param.type
        return python

    # -- types ---------------------------------------------------------------------------

    def _record(self, type_expr: Any) -> str | None:
        match type_expr:
            case ast.NamedType(name=name) | ast.OptionalType(inner=ast.NamedType(name=name)):
                return name if isinstance(self.decls.get(name), ast.TypeDecl) else None
        return None

    def _field_type(self, record: str, name: str) -> Any:
        decl = self.decls[record]
        return next(f.type for f in decl.fields if f.name == name)

    def _callee(self, name: str) -> Any:
        decl = self.decls.get(name)
        callees = ast.RoleDecl | ast.AgentDecl | ast.ToolDecl | ast.HumanDecl
        return decl if isinstance(decl, callees) else None

    # -- expressions ---------------------------------------------------------------------

    def ref(self, parts: tuple[str, ...], item: str | None = None) -> tuple[str, bool]:
        """A reference as Python, and whether it is a symbol (not a constant object)."""
        head = parts[0]
        fallback = (f"rg.ref({self.py('.'.join(parts))})", True)
        if head == item:
            text, type_expr = self.local[head], None
        elif head in self.bound:
            text, type_expr = self.local[head], self.bound[head]
        elif len(parts) == 2 and isinstance(self.decls.get(head), ast.EnumDecl):
            members = self.fields.get(head, {})
            if parts[1] in members:
                return f"{self.names[head]}.{members[parts[1]]}", False
            return fallback
        elif len(parts) == 1 and self._callee(head) is not None:
            return self.names[head], False
        else:
            return fallback
        for index, part in enumerate(parts[1:], start=1):
            record = self._record(type_expr)
            attributes = self.fields.get(record, {}) if record else {}
            if part in attributes:
                text, type_expr = f"{text}.{attributes[part]}", self._field_type(record, part)  # type: ignore[arg-type]
            elif index == 1 and part == "error" and head in self.is_node and head != item:
                text, type_expr = f"rg.error({text})", None
            elif _plain(part) and part not in attributes.values():
                text, type_expr = f"{text}.{part}", None
            else:
                return fallback
        return text, True

    def expr(self, node: Any, item: str | None = None) -> Code:
        return self._expr(node, item)[0]

    def _expr(self, node: Any, item: str | None) -> tuple[Code, bool]:
        """(code, whether Python evaluates it to a symbol)."""
        match node:
            case (
                ast.StringLit(value=value)
                | ast.IntLit(value=value)
                | ast.FloatLit(value=value)
                | ast.BoolLit(value=value)
            ):
                return self.py(value), False
            case ast.NullLit():
                return "None", False
            case ast.Ref(parts=parts):
                return self.ref(parts, item)
            case ast.ListLit(items=items):
                return Call("", [self.expr(i, item) for i in items], "[]"), False
            case ast.DictLit(entries=entries):
                pairs = ", ".join(
                    f"{self.py(e.key)}: {flat(self.expr(e.value, item))}" for e in entries
                )
                return f"{{{pairs}}}", False
            case ast.Compare(op="in" | "not in" as op, left=left, right=right):
                function = "in_" if op == "in" else "not_in"
                return Call(f"rg.{function}", [self.expr(left, item), self.expr(right, item)]), True
            case ast.Compare() | ast.Arith():
                return self._binary(node, item), True
            case ast.BoolOp(op=op, left=left, right=right):
                return Call(f"rg.{op}_", [self.expr(left, item), self.expr(right, item)]), True
            case ast.Not(operand=operand):
                return Call("rg.not_", [self.expr(operand, item)]), True
            case ast.Call(func=func, args=call_args):
                args = [self.expr(a, item) for a in call_args]
                if _plain(func):
                    return Call(f"rg.fn.{func}", args), True
                return Call("rg.fn", [self.py(func), *args]), True
        raise AssertionError(f"unexpected expression {node!r}")  # pragma: no cover

    def _binary(self, node: Any, item: str | None) -> str:
        level = _PRECEDENCE[node.op]
        code, symbolic = self._expr(node.left, item)
        left = flat(code)
        if not symbolic:  # Python would compute with a constant, or reflect the operator
            left = f"rg.lit({left})"
        elif _level(node.left) < level or (level == 1 and _level(node.left) == 1):
            left = f"({left})"
        right = flat(self.expr(node.right, item))
        if _level(node.right) <= level:
            right = f"({right})"
        return f"{left} {node.op} {right}"

    def formula(self, node: Any) -> Code:
        match node:
            case ast.LtlConst(value=value):
                return "True" if value else "False"
            case ast.LtlStart():
                return "rg.START"
            case ast.LtlReturn():
                return "rg.RETURN"
            case ast.LtlFired(node=name, failed=failed):
                atom = self.ref((name,))[0]
                return Call("rg.failed", [atom]) if failed else atom
            case ast.LtlHolds(expr=expr):
                return self.expr(expr)
            case ast.LtlUnary(op=op, operand=operand):
                name = {"not": "not_", "next": "next_"}.get(op, op)
                return Call(f"rg.{name}", [self.formula(operand)])
            case ast.LtlBinary(op=op, left=left, right=right):
                name = {"and": "and_", "or": "or_"}.get(op, op)
                return Call(f"rg.{name}", [self.formula(left), self.formula(right)])
        raise AssertionError(f"unexpected formula {node!r}")  # pragma: no cover

    # -- statements ----------------------------------------------------------------------

    def _args(self, args: tuple[ast.Arg, ...], item: str | None = None) -> list[Code]:
        positional = [self.expr(a.value, item) for a in args if a.name is None]
        named = [(a.name, self.expr(a.value, item)) for a in args if a.name is not None]
        return positional + kwargs(named, self.py)  # type: ignore[arg-type]

    def statement(self, statement: Any) -> list[str]:
        """The lines of a statement of the body, its comments with it."""
        code = self._statement(statement)
        note = f"  {_note(statement.trailing_comment)}" if statement.trailing_comment else ""
        return [*comment_lines(statement.comments, 4), *layout(code, 4, note)]

    def _statement(self, statement: Any) -> Call:
        match statement:
            case ast.NodeDecl():
                return self._node(statement)
            case ast.EdgeDecl():
                return self._edge(statement)
            case ast.ReturnStmt(value=value):
                return Call("rg.returns", [self.expr(value)])
            case ast.Constraint(mode=mode, formula=formula):
                return Call(f"rg.{mode}", [self.formula(formula)])
        raise AssertionError(f"unexpected statement {statement!r}")  # pragma: no cover

    def _edge(self, statement: ast.EdgeDecl) -> Call:
        args: list[Call | str] = [self.ref((statement.source,))[0]]
        match statement.target:
            case ast.ReturnTarget(value=value):
                args.append(Call("rg.to_return", [self.expr(value)]))
            case ast.NodeTarget(node=node, ports=ports) if ports:
                bound = [(p.name, self.expr(p.value)) for p in ports]
                args.append(Call("rg.to", [self.ref((node,))[0], *kwargs(bound, self.py)]))  # type: ignore[arg-type]
            case ast.NodeTarget(node=node):
                args.append(self.ref((node,))[0])
        match statement.condition:
            case ast.When(guard=guard):
                args.append(_prefixed("when=", self.expr(guard)))
            case ast.Else():
                args.append("otherwise=True")
            case ast.OnError():
                args.append("on_error=True")
        if statement.max is not None:
            args.append(f"max={self.py(statement.max)}")
        return Call("rg.edge", args)

    def _node(self, statement: ast.NodeDecl) -> Call:
        callee_decl = self._callee(statement.role)
        callee: Code = self.names[statement.role] if callee_decl else self.py(statement.role)
        if statement.ct_args:
            callee = Call("rg.pattern", [callee, *self._args(statement.ct_args)])
        if statement.map is not None:
            var = statement.map.var
            source = self.expr(statement.map.source)
            saved = self.local.get(var)
            python = self.allocate(var)
            inner = Call(f"lambda {python}: rg.node", [callee, *self._args(statement.args, var)])
            if saved is not None:
                self.local[var] = saved
            args: list[Code] = [source, self.py(statement.map.max), inner]
            function, type_expr = "rg.each", None
        elif statement.replicate is not None:
            args = [self.py(statement.replicate), callee, *self._args(statement.args)]
            function, type_expr = "rg.replicate", None
        else:
            args = [callee, *self._args(statement.args)]
            function = "rg.node"
            type_expr = callee_decl.returns if callee_decl is not None else None
        python = self.allocate(statement.name, fresh=True)
        self.node_vars.add(python)
        self.bound[statement.name] = type_expr
        self.is_node.add(statement.name)
        return Call(f"{python} = {function}", args)


def _note(text: str) -> str:
    from .pylayout import comment

    return comment(text.strip())


def _plain(name: str) -> bool:
    """A name Python writes as an attribute, and a symbol answers for."""
    return ast.is_identifier(name) and not keyword.iskeyword(name) and not name.startswith("_")


def _level(node: Any) -> int:
    match node:
        case ast.Compare(op=op) if op not in ("in", "not in"):
            return 1
        case ast.Arith(op=op):
            return _PRECEDENCE[op]
    return 9  # an atom: a name, a literal, a call


def _prefixed(prefix: str, code: Code) -> Code:
    if isinstance(code, Call):
        return Call(prefix + code.head, code.args, code.brackets)
    return prefix + code


def kwargs(items: list[tuple[str, Code]], py: Callable[[Any], str]) -> list[Code]:
    """`name=value` where the name can be a Python keyword argument, else `**{...}`."""
    plain = [_prefixed(f"{k}=", v) for k, v in items if _keyword_ok(k)]
    odd = [f"{py(k)}: {flat(v)}" for k, v in items if not _keyword_ok(k)]
    return plain + ([f"**{{{', '.join(odd)}}}"] if odd else [])


def _keyword_ok(name: str) -> bool:
    return not keyword.iskeyword(name) and name != "__debug__"
