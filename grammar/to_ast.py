"""Parse tree → AST: `ToAst`, one method per grammar rule (or alias) of
grammar/rolegraph.lark, each making the node of its rule with its span.

Checks that the grammar cannot express (bounds of at least 1, one `prompt` per role,
positional arguments first, ...) are reported here as diagnostics; a subtree that
produced one is `BROKEN`, and its parents pass that upward.

Longer than our usual module, on purpose: it is one idea, the grammar's rules in the
grammar's order, and a reader looks up a rule's method by the rule's name. Split, the
rules of one declaration would sit in two files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Token, v_args
from lark.exceptions import GrammarError, VisitError
from lark.visitors import Transformer_NonRecursive
from pydantic import ValidationError

from rolegraph.compiler import ast, codes
from rolegraph.compiler import literals as lit
from rolegraph.compiler.diagnostics import DiagnosticSink, Label
from rolegraph.compiler.source import Source, Span


class _Broken:
    """Marks a subtree that already produced a diagnostic; parents pass it upward."""


BROKEN = _Broken()


@dataclass(frozen=True)
class _CtArgs:
    args: tuple[ast.Arg, ...]


@dataclass(frozen=True)
class _Args:
    args: tuple[ast.Arg, ...]
    span: Span


@dataclass(frozen=True)
class _McpTool:
    server: str
    name: str  # the server's name for the tool


@dataclass(frozen=True)
class _ModuleRef:
    name: str
    is_path: bool


class ToAst(Transformer_NonRecursive):
    """Parse tree → AST. Each method handles the rule (or alias) of the same name.

    The walk is iterative (Lark's non-recursive transformer): however deep the parse
    tree, turning it into an AST never recurses.
    """

    def __init__(self, source: Source):
        super().__init__()
        self.source = source
        self.sink = DiagnosticSink(source.name, source)
        # rule name → its method, bound once: Lark looks the method up again for every
        # tree, and a `v_args` method makes a new wrapper on each look-up
        self._methods: dict[str, Any] = {}

    def _call_userfunc(self, tree: Any, new_children: Any = None) -> Any:
        """Lark's `Transformer._call_userfunc`, each rule's method looked up once."""
        children = new_children if new_children is not None else tree.children
        f = self._methods.get(tree.data)
        if f is None:
            try:
                f = self._methods[tree.data] = getattr(self, tree.data)
            except AttributeError:
                return self.__default__(tree.data, children, tree.meta)
        try:
            wrapper = getattr(f, "visit_wrapper", None)
            if wrapper is not None:
                return wrapper(f, tree.data, children, tree.meta)
            return f(children)
        except GrammarError:
            raise
        except Exception as e:
            raise VisitError(tree.data, tree, e) from e

    # -- helpers ------------------------------------------------------------------------

    def _span(self, meta: Any) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        # (validating six ints in pydantic-core is twice as fast as `model_construct`)
        return Span(
            line=meta.line,
            column=meta.column,
            end_line=meta.end_line,
            end_column=meta.end_column,
            start=meta.start_pos,
            end=meta.end_pos,
        )

    def _tspan(self, token: Token) -> Span:
        return self.source.span(token.start_pos or 0, token.end_pos or 0)

    def _error(
        self,
        code: str,
        message: str,
        span: Span | None,
        label: str = "",
        hints: tuple[str, ...] = (),
        labels: tuple[Label, ...] = (),
    ) -> _Broken:
        self.sink.report(code, message, span, label, hints=hints, labels=labels)
        return BROKEN

    def _make(self, cls: type[ast.Node], meta: Any, **fields: Any) -> Any:
        if any(_is_broken(v) for v in fields.values()):
            return BROKEN
        try:
            return cls(span=self._span(meta), **fields)
        except ValidationError as error:
            first = error.errors()[0]
            message = first["msg"].removeprefix("Value error, ")
            return self._error(codes.INVALID_CONSTRUCT, message, self._span(meta))

    def _name(self, token: Token, what: str) -> str | _Broken:
        text = str(token)
        if text in ast.LTL_LETTERS and what == "node":
            return self._error(
                codes.KEYWORD_AS_NAME,
                f"`{text}` is a temporal operator and cannot name a node",
                self._tspan(token),
                "reserved inside formulas",
                hints=(f"rename the node, for example `{text.lower()}_`",),
            )
        return text

    def _bound(self, token: Token, what: str) -> int | str | _Broken:
        if token.type == "NAME":  # a compile-time constant of the pattern
            return self._name(token, "bound")
        value = int(token)
        if value < 1:
            return self._error(
                codes.BAD_BOUND,
                f"{what} must be at least 1, found {value}",
                self._tspan(token),
                "this bound",
            )
        return value

    def _check_args(self, args: list[Any], what: str) -> tuple[ast.Arg, ...] | _Broken:
        if any(_is_broken(a) for a in args):
            return BROKEN
        seen_named = None
        names: dict[str, ast.Arg] = {}
        for arg in args:
            if arg.name is None and seen_named is not None:
                return self._error(
                    codes.BAD_ARGUMENT_ORDER,
                    "positional argument after a named one",
                    arg.span,
                    "positional argument",
                    labels=(Label(span=seen_named.span, message="named argument"),)
                    if seen_named.span
                    else (),
                    hints=("put positional arguments first",),
                )
            if arg.name is not None:
                seen_named = arg
                if arg.name in names:
                    return self._error(
                        codes.DUPLICATE_ARGUMENT,
                        f"`{arg.name}` is given twice in {what}",
                        arg.span,
                        "given again here",
                        labels=(Label(span=names[arg.name].span, message="first given here"),)
                        if names[arg.name].span
                        else (),
                    )
                names[arg.name] = arg
        return tuple(args)

    def _distinct(self, items: list[Any], what: str, verb: str) -> tuple[Any, ...] | _Broken:
        """`items` (each with a name), or the error on the first whose name came before:
        "parameter `x` is declared twice"."""
        if any(_is_broken(item) for item in items):
            return BROKEN
        seen: dict[str, Any] = {}
        for item in items:
            first = seen.get(item.name)
            if first is not None:
                return self._error(
                    codes.DUPLICATE_ARGUMENT,
                    f"{what} `{item.name}` is {verb} twice",
                    item.span,
                    f"{verb} again here",
                    labels=(Label(span=first.span, message=f"first {verb} here"),)
                    if first.span
                    else (),
                )
            seen[item.name] = item
        return tuple(items)

    def too_deep(self, children: list[Any]) -> _Broken:
        return BROKEN  # a declaration left out: grammar/depth.py reported it

    # -- module and imports ------------------------------------------------------------------

    @v_args(meta=True)
    def start(self, meta: Any, decls: list[Any]) -> Any:
        if any(_is_broken(d) for d in decls):
            return BROKEN
        return self._make(ast.Module, meta, decls=tuple(decls), filename=self.source.name)

    def dotted_name(self, tokens: list[Token]) -> str:
        return ".".join(str(t) for t in tokens)

    def module_ref(self, children: list[Any]) -> Any:
        (value,) = children
        if isinstance(value, Token):  # a STRING: a path
            return self._string(value, _ModuleRef, path=True)
        return _ModuleRef(value, False)

    @v_args(meta=True)
    def import_decl(self, meta: Any, children: list[Any]) -> Any:
        ref, *alias = children
        if _is_broken(ref):
            return BROKEN
        return self._make(
            ast.Import,
            meta,
            module=ref.name,
            is_path=ref.is_path,
            alias=str(alias[0]) if alias else None,
        )

    @v_args(meta=True)
    def from_import(self, meta: Any, children: list[Any]) -> Any:
        ref, *names = children
        if _is_broken(ref):
            return BROKEN
        return self._make(
            ast.Import,
            meta,
            module=ref.name,
            is_path=ref.is_path,
            names=tuple(str(n) for n in names),
        )

    # -- models --------------------------------------------------------------------------------

    @v_args(meta=True)
    def model_decl(self, meta: Any, children: list[Any]) -> Any:
        name, provider, *block = children
        params = block[0] if block else ()
        return self._make(
            ast.ModelDecl, meta, name=str(name), provider=self._string(provider), params=params
        )

    def param_block(self, params: list[Any]) -> Any:
        return self._distinct(params, "model parameter", "given")

    @v_args(meta=True)
    def model_param(self, meta: Any, children: list[Any]) -> Any:
        name, value = children
        return self._make(ast.ModelParam, meta, name=name, value=value)

    # -- types ---------------------------------------------------------------------------------

    @v_args(meta=True)
    def type_decl(self, meta: Any, children: list[Any]) -> Any:
        name, *fields = children
        if any(_is_broken(f) for f in fields):
            return BROKEN
        return self._make(ast.TypeDecl, meta, name=str(name), fields=tuple(fields))

    @v_args(meta=True)
    def field(self, meta: Any, children: list[Any]) -> Any:
        name, type_, *rest = children
        default = None
        if rest and not isinstance(rest[0], ast.Annotation) and not _is_broken(rest[0]):
            default, rest = rest[0], rest[1:]
        if any(_is_broken(r) for r in rest):
            return BROKEN
        return self._make(
            ast.FieldDecl, meta, name=name, type=type_, default=default, annotations=tuple(rest)
        )

    @v_args(meta=True)
    def annotation(self, meta: Any, children: list[Any]) -> Any:
        name, *args = children
        if any(_is_broken(a) for a in args):
            return BROKEN
        return self._make(ast.Annotation, meta, name=str(name), args=tuple(args))

    @v_args(meta=True)
    def enum_decl(self, meta: Any, children: list[Any]) -> Any:
        name, *members = children
        if any(_is_broken(m) for m in members):
            return BROKEN
        if not members:
            return self._error(
                codes.INVALID_CONSTRUCT,
                f"enum `{name}` has no members",
                self._span(meta),
                hints=("list its members: `enum Route { math, code }`",),
            )
        return self._make(ast.EnumDecl, meta, name=str(name), members=tuple(members))

    @v_args(meta=True)
    def enum_member(self, meta: Any, children: list[Any]) -> Any:
        name, *annotations = children
        if any(_is_broken(a) for a in annotations):
            return BROKEN
        return self._make(ast.EnumMember, meta, name=name, annotations=tuple(annotations))

    @v_args(meta=True)
    def named_type(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.NamedType, meta, name=children[0])

    @v_args(meta=True)
    def generic_type(self, meta: Any, children: list[Any]) -> Any:
        name, *args = children
        if any(_is_broken(a) for a in args):
            return BROKEN
        if name == "list" and len(args) == 1:
            return self._make(ast.ListType, meta, item=args[0])
        if name == "dict" and len(args) == 2:
            return self._make(ast.DictType, meta, key=args[0], value=args[1])
        if name in ("list", "dict"):
            expected = 1 if name == "list" else 2
            return self._error(
                codes.UNKNOWN_GENERIC,
                f"`{name}` takes {expected} type argument{'s' if expected > 1 else ''}, "
                f"found {len(args)}",
                self._span(meta),
                hints=("write `list[T]` or `dict[str, T]`",),
            )
        hint = (
            "for an optional value write `T?`"
            if name.lower() in ("optional", "maybe")
            else ("write `list[T]` or `dict[str, T]`")
        )
        return self._error(
            codes.UNKNOWN_GENERIC,
            f"unknown generic type `{name}`",
            self._span(meta),
            "not a generic type",
            hints=(hint,),
        )

    @v_args(meta=True)
    def optional_type(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.OptionalType, meta, inner=children[0])

    # -- roles and tools -------------------------------------------------------------------

    @v_args(meta=True)
    def params(self, meta: Any, params: list[Any]) -> Any:
        return self._distinct(params, "parameter", "declared")

    @v_args(meta=True)
    def param(self, meta: Any, children: list[Any]) -> Any:
        name, type_, *default = children
        return self._make(
            ast.Param, meta, name=str(name), type=type_, default=default[0] if default else None
        )

    def _block_items(
        self, owner: str, kind: str, items: list[Any], slot: dict[type, str]
    ) -> dict[str, Any] | None:
        """The items of a declaration's block by their field (`slot`), each at most once:
        a second one is an error at it (DUPLICATE_ROLE_ITEM), with the first labelled.
        None when an item is broken or repeated."""
        fields: dict[str, Any] = {}
        broken = False
        for item in items:
            if _is_broken(item):
                broken = True
                continue
            key = slot[type(item)]
            if key in fields:
                self._error(
                    codes.DUPLICATE_ROLE_ITEM,
                    f"{owner} has a second `{key}`",
                    item.span,
                    f"second `{key}`",
                    labels=(Label(span=fields[key].span, message=f"first `{key}` here"),)
                    if fields[key].span
                    else (),
                    hints=(f"{kind} has one `{key}`; remove one of them",),
                )
                broken = True
            fields[key] = item
        return None if broken else fields

    @v_args(meta=True)
    def role_decl(self, meta: Any, children: list[Any]) -> Any:
        name, params, returns, *items = children
        slot = {
            ast.ModelUse: "model",
            ast.System: "system",
            ast.Prompt: "prompt",
            ast.ToolUse: "tools",
        }
        fields = self._block_items(f"role `{name}`", "a role", items, slot)
        if fields is None:
            return BROKEN
        return self._make(
            ast.RoleDecl, meta, name=str(name), params=params, returns=returns, **fields
        )

    @v_args(meta=True)
    def role_model(self, meta: Any, children: list[Any]) -> Any:
        name, *block = children
        return self._make(ast.ModelUse, meta, name=name, params=block[0] if block else ())

    @v_args(meta=True)
    def role_system(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.System, meta, text=_text_of(children[0]))

    @v_args(meta=True)
    def role_prompt(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.Prompt, meta, text=_text_of(children[0]))

    @v_args(meta=True)
    def role_tools(self, meta: Any, children: list[Any]) -> Any:
        bound: Any = None
        if children and isinstance(children[-1], Token) and children[-1].type in ("INT", "NAME"):
            bound = self._bound(children[-1], "a tool-step bound")
            children = children[:-1]
        return self._make(ast.ToolUse, meta, tools=tuple(children), max_steps=bound)

    @v_args(meta=True)
    def tool_decl(self, meta: Any, children: list[Any]) -> Any:
        name, params, returns, target = children
        if _is_broken(target):
            return BROKEN
        if isinstance(target, _McpTool):
            server, remote = target.server, target.name
        else:
            server, remote = None, self._string(target)
        return self._make(
            ast.ToolDecl,
            meta,
            name=str(name),
            params=params,
            returns=returns,
            target=remote,
            server=server,
        )

    def mcp_tool(self, children: list[Any]) -> Any:
        server, name = children
        quoted = isinstance(name, Token) and name.type == "STRING"
        remote = self._string(name) if quoted else str(name)
        return BROKEN if _is_broken(remote) else _McpTool(str(server), remote)

    @v_args(meta=True)
    def mcp_decl(self, meta: Any, children: list[Any]) -> Any:
        name, address, *block = children
        params = block[0] if block else ()
        return self._make(
            ast.McpDecl, meta, name=str(name), address=self._string(address), params=params
        )

    # -- human steps ----------------------------------------------------------------------

    @v_args(meta=True)
    def human_decl(self, meta: Any, children: list[Any]) -> Any:
        name, params, returns, *items = children
        if _is_broken(params) or _is_broken(returns):
            return BROKEN
        slot = {ast.Prompt: "prompt", ast.Deadline: "deadline"}
        fields = self._block_items(f"human step `{name}`", "a human step", items, slot)
        if fields is None:
            return BROKEN
        return self._make(
            ast.HumanDecl, meta, name=str(name), params=params, returns=returns, **fields
        )

    @v_args(meta=True)
    def human_deadline(self, meta: Any, children: list[Any]) -> Any:
        text = self._string(children[0])
        if _is_broken(text):
            return BROKEN
        if ast.duration_seconds(text) is None:
            return self._error(
                codes.BAD_DEADLINE,
                f"{lit.encode(text)} is not a duration",
                self._tspan(children[0]),
                "not a duration",
                hints=('write a number and a unit, d h m or s: "90s", "15m", "24h", "1h30m"',),
            )
        return self._make(ast.Deadline, meta, duration=text)

    # -- agents -------------------------------------------------------------------------------

    @v_args(meta=True)
    def agent_decl(self, meta: Any, children: list[Any]) -> Any:
        if any(_is_broken(c) for c in children):
            return BROKEN
        name, *rest = children
        ct_params: tuple[ast.CtParam, ...] = ()
        if isinstance(rest[0], _CtParams):
            ct_params, rest = rest[0].params, rest[1:]
        params, returns, *body = rest
        return self._make(
            ast.AgentDecl,
            meta,
            name=str(name),
            ct_params=ct_params,
            params=params,
            returns=returns,
            body=tuple(body),
        )

    def ct_params(self, params: list[Any]) -> Any:
        if any(_is_broken(p) for p in params):
            return BROKEN
        return _CtParams(tuple(params))

    @v_args(meta=True)
    def ct_param(self, meta: Any, children: list[Any]) -> Any:
        name, kind, *default = children
        return self._make(
            ast.CtParam, meta, name=str(name), type=kind, default=default[0] if default else None
        )

    @v_args(meta=True)
    def role_sig(self, meta: Any, children: list[Any]) -> Any:
        if not children:
            return self._make(ast.RoleSig, meta)
        params, returns = children
        return self._make(ast.RoleSig, meta, params=params, returns=returns)

    @v_args(meta=True)
    def node_decl(self, meta: Any, children: list[Any]) -> Any:
        if any(_is_broken(c) for c in children):
            return BROKEN
        name_token, role, *rest = children
        ct_args: tuple[ast.Arg, ...] = ()
        if isinstance(rest[0], _CtArgs):
            ct_args, rest = rest[0].args, rest[1:]
        args, *extra = rest
        replicate: Any = None
        map_clause: Any = None
        if extra and isinstance(extra[0], Token) and not extra[0][1:].strip().isdigit():
            name = extra[0][1:].strip()  # "x n": a compile-time constant of the pattern
            replicate = (
                name
                if name not in ast.KEYWORDS
                else self._error(
                    codes.KEYWORD_AS_NAME,
                    f"`{name}` is a keyword and cannot name a replication count",
                    self._tspan(extra[0]),
                    "keyword",
                )
            )
        elif extra and isinstance(extra[0], Token):  # REPLICATE: "x 3"
            count = int(extra[0][1:].strip())
            replicate = (
                count
                if count >= 1
                else self._error(
                    codes.BAD_BOUND,
                    f"a replication count must be at least 1, found {count}",
                    self._tspan(extra[0]),
                    "this count",
                )
            )
        elif extra:
            map_clause = extra[0]
        return self._make(
            ast.NodeDecl,
            meta,
            name=self._name(name_token, "node"),
            role=role,
            ct_args=ct_args,
            args=args.args,
            replicate=replicate,
            map=map_clause,
        )

    def ct_args(self, args: list[Any]) -> Any:
        checked = self._check_args(args, "the compile-time arguments")
        return _CtArgs(checked) if isinstance(checked, tuple) else BROKEN

    @v_args(meta=True)
    def args(self, meta: Any, args: list[Any]) -> Any:
        checked = self._check_args(args, "the arguments")
        return _Args(checked, self._span(meta)) if isinstance(checked, tuple) else BROKEN

    @v_args(meta=True)
    def arg(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.Arg, meta, value=children[0])

    @v_args(meta=True)
    def named_arg(self, meta: Any, children: list[Any]) -> Any:
        name, value = children
        return self._make(ast.Arg, meta, name=str(name), value=value)

    @v_args(meta=True)
    def map_clause(self, meta: Any, children: list[Any]) -> Any:
        var, source, bound = children
        return self._make(
            ast.MapClause, meta, var=str(var), source=source, max=self._bound(bound, "a map bound")
        )

    @v_args(meta=True)
    def edge_decl(self, meta: Any, children: list[Any]) -> Any:
        source_token, _arrow, target, *rest = children
        condition: Any = None
        bound: Any = None
        for item in rest:
            if isinstance(item, Token):
                bound = self._bound(item, "an edge bound")
            else:
                condition = item
        return self._make(
            ast.EdgeDecl,
            meta,
            source=self._name(source_token, "node"),
            target=target,
            condition=condition,
            max=bound,
        )

    @v_args(meta=True)
    def node_target(self, meta: Any, children: list[Any]) -> Any:
        node, *args = children
        ports: Any = ()
        if args:
            if _is_broken(args[0]):
                return BROKEN
            ports = args[0].args
            for port in ports:
                if port.name is None:
                    return self._error(
                        codes.INVALID_CONSTRUCT,
                        "port bindings on an edge are named",
                        port.span,
                        "positional",
                        hints=("write `writer(feedback: critic.feedback)`: name the port",),
                    )
        return self._make(ast.NodeTarget, meta, node=self._name(node, "node"), ports=ports)

    @v_args(meta=True)
    def return_target(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.ReturnTarget, meta, value=children[0])

    @v_args(meta=True)
    def when(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.When, meta, guard=children[0])

    @v_args(meta=True)
    def otherwise(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.Else, meta)

    @v_args(meta=True)
    def on_error(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.OnError, meta)

    @v_args(meta=True)
    def return_stmt(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.ReturnStmt, meta, value=children[0])

    # -- tests --------------------------------------------------------------------------------

    @v_args(meta=True)
    def test_decl(self, meta: Any, children: list[Any]) -> Any:
        if any(_is_broken(c) for c in children):
            return BROKEN
        name, *body = children
        return self._make(ast.TestDecl, meta, name=str(name), body=tuple(body))

    @v_args(meta=True)
    def test_run(self, meta: Any, children: list[Any]) -> Any:
        agent, args = children
        if _is_broken(args):
            return BROKEN
        return self._make(ast.TestRun, meta, agent=agent, args=args.args)

    @v_args(meta=True)
    def test_mock(self, meta: Any, children: list[Any]) -> Any:
        role, replies = children
        return self._make(ast.TestMock, meta, role=role, replies=replies)

    @v_args(meta=True)
    def test_expect(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.TestExpect, meta, formula=children[0])

    @v_args(meta=True)
    def constraint(self, meta: Any, children: list[Any]) -> Any:
        mode, formula = children
        return self._make(ast.Constraint, meta, mode=str(mode), formula=formula)

    # -- expressions -----------------------------------------------------------------------

    @v_args(meta=True)
    def or_op(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.BoolOp, meta, op="or", left=children[0], right=children[1])

    @v_args(meta=True)
    def and_op(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.BoolOp, meta, op="and", left=children[0], right=children[1])

    @v_args(meta=True)
    def not_op(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.Not, meta, operand=children[0])

    @v_args(meta=True)
    def compare(self, meta: Any, children: list[Any]) -> Any:
        left, op, right = children
        return self._make(ast.Compare, meta, op=str(op), left=left, right=right)

    def _arith(self, meta: Any, op: str, children: list[Any]) -> Any:
        left, right = (self._value(child) for child in children)
        return self._make(ast.Arith, meta, op=op, left=left, right=right)

    @v_args(meta=True)
    def add(self, meta: Any, children: list[Any]) -> Any:
        return self._arith(meta, "+", children)

    @v_args(meta=True)
    def subtract(self, meta: Any, children: list[Any]) -> Any:
        return self._arith(meta, "-", children)

    @v_args(meta=True)
    def multiply(self, meta: Any, children: list[Any]) -> Any:
        return self._arith(meta, "*", children)

    @v_args(meta=True)
    def divide(self, meta: Any, children: list[Any]) -> Any:
        return self._arith(meta, "/", children)

    @v_args(meta=True)
    def remainder(self, meta: Any, children: list[Any]) -> Any:
        return self._arith(meta, "%", children)

    @v_args(meta=True)
    def compare_in(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.Compare, meta, op="in", left=children[0], right=children[-1])

    @v_args(meta=True)
    def compare_not_in(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.Compare, meta, op="not in", left=children[0], right=children[-1])

    @v_args(meta=True)
    def ref(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.Ref, meta, parts=tuple(str(c) for c in children))

    @v_args(meta=True)
    def call(self, meta: Any, children: list[Any]) -> Any:
        func, *args = children
        return self._make(ast.Call, meta, func=str(func), args=tuple(args))

    @v_args(meta=True)
    def max_call(self, meta: Any, children: list[Any]) -> Any:
        # `max` is also the keyword of bounds (`max 3`): as a function it has its own rule
        return self._make(ast.Call, meta, func="max", args=tuple(c for c in children if c))

    @v_args(meta=True)
    def list_expr(self, meta: Any, items: list[Any]) -> Any:
        return self._make(ast.ListLit, meta, items=tuple(items))

    const_list = list_expr

    @v_args(meta=True)
    def const_dict(self, meta: Any, entries: list[Any]) -> Any:
        if any(_is_broken(e) for e in entries):
            return BROKEN
        seen: set[str] = set()
        for entry in entries:
            if entry.key in seen:
                return self._error(
                    codes.DUPLICATE_ARGUMENT,
                    f"key `{entry.key}` is given twice",
                    entry.span,
                    "given again here",
                )
            seen.add(entry.key)
        return self._make(ast.DictLit, meta, entries=tuple(entries))

    @v_args(meta=True)
    def dict_expr(self, meta: Any, entries: list[Any]) -> Any:
        return self.const_dict(meta, entries)

    @v_args(meta=True)
    def const_entry(self, meta: Any, children: list[Any]) -> Any:
        return self.dict_entry(meta, children)

    @v_args(meta=True)
    def dict_entry(self, meta: Any, children: list[Any]) -> Any:
        key, value = children
        if isinstance(key, Token):
            key = self._string(key)
        return self._make(ast.DictEntry, meta, key=key, value=value)

    @v_args(meta=True)
    def string(self, meta: Any, children: list[Any]) -> Any:
        text = self._string(children[0])
        return self._make(ast.StringLit, meta, value=text)

    @v_args(meta=True)
    def int_lit(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.IntLit, meta, value=int(children[0]))

    @v_args(meta=True)
    def neg_int(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.IntLit, meta, value=-int(children[0]))

    @v_args(meta=True)
    def float_lit(self, meta: Any, children: list[Any]) -> Any:
        return self._float(meta, children[0], 1.0)

    @v_args(meta=True)
    def neg_float(self, meta: Any, children: list[Any]) -> Any:
        return self._float(meta, children[0], -1.0)

    def _float(self, meta: Any, token: Token, sign: float) -> Any:
        value = float(token)
        if value == float("inf"):
            return self._error(
                codes.INVALID_CONSTRUCT,
                "float literal out of range",
                self._tspan(token),
                "too large for a float",
            )
        return self._make(ast.FloatLit, meta, value=sign * value)

    @v_args(meta=True)
    def true_lit(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.BoolLit, meta, value=True)

    @v_args(meta=True)
    def false_lit(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.BoolLit, meta, value=False)

    @v_args(meta=True)
    def none_lit(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.NullLit, meta)

    def field_name(self, children: list[Token]) -> str:
        return str(children[0])

    def arg_name(self, children: list[Token]) -> str:
        return str(children[0])

    def _string(self, token: Token, wrap: Any = None, path: bool = False) -> Any:
        try:
            value = lit.decode(str(token))
        except lit.EscapeError as error:
            start = (token.start_pos or 0) + error.offset
            return self._error(
                codes.INVALID_ESCAPE,
                error.message,
                self.source.span(start, start + error.length),
                "here",
                hints=(error.hint,) if error.hint else (),
            )
        if wrap is not None:
            return wrap(value, path)
        return value

    # -- temporal formulas ------------------------------------------------------------------

    @v_args(meta=True)
    def ltl_implies(self, meta: Any, children: list[Any]) -> Any:
        left, _arrow, right = children
        return self._make(ast.LtlBinary, meta, op="implies", left=left, right=right)

    @v_args(meta=True)
    def ltl_or_op(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.LtlBinary, meta, op="or", left=children[0], right=children[-1])

    @v_args(meta=True)
    def ltl_and_op(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.LtlBinary, meta, op="and", left=children[0], right=children[-1])

    @v_args(meta=True)
    def ltl_binary_op(self, meta: Any, children: list[Any]) -> Any:
        left, op, right = children
        return self._make(ast.LtlBinary, meta, op=_LTL_BINARY[str(op)], left=left, right=right)

    @v_args(meta=True)
    def ltl_unary_op(self, meta: Any, children: list[Any]) -> Any:
        op, operand = children
        return self._make(ast.LtlUnary, meta, op=_LTL_UNARY[str(op)], operand=operand)

    @v_args(meta=True)
    def ltl_not(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.LtlUnary, meta, op="not", operand=children[-1])

    @v_args(meta=True)
    def ltl_true(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.LtlConst, meta, value=True)

    @v_args(meta=True)
    def ltl_false(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.LtlConst, meta, value=False)

    @v_args(meta=True)
    def ltl_start(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.LtlStart, meta)

    @v_args(meta=True)
    def ltl_return(self, meta: Any, children: list[Any]) -> Any:
        return self._make(ast.LtlReturn, meta)

    @v_args(meta=True)
    def ltl_value(self, meta: Any, children: list[Any]) -> Any:
        (formula,) = children
        return BROKEN if _is_broken(formula) else _Group(formula, self._span(meta))

    def _value(self, operand: Any) -> Any:
        """An operand of arithmetic or a comparison: a parenthesised formula becomes the
        value it denotes (`(a)`: node a's output; `(a.score + 1)`: that expression)."""
        if not isinstance(operand, _Group):
            return operand
        formula = operand.formula
        if isinstance(formula, ast.LtlFired) and not formula.failed:
            return ast.Ref(parts=(formula.node,), span=formula.span)
        if isinstance(formula, ast.LtlHolds):
            return formula.expr
        return self._error(
            codes.INVALID_CONSTRUCT,
            "a temporal formula is not a value",
            operand.span,
            "a formula in parentheses",
            hints=("arithmetic and comparisons take values: outputs, fields, numbers, calls",),
        )

    @v_args(meta=True)
    def ltl_condition(self, meta: Any, children: list[Any]) -> Any:
        (expr,) = children
        if isinstance(expr, _Group):  # `( formula )`
            return expr.formula
        if isinstance(expr, ast.Ref) and len(expr.parts) == 1:
            if expr.head in ast.LTL_LETTERS:  # a letter operator where a formula starts
                return self._error(
                    codes.KEYWORD_AS_NAME,
                    f"`{expr.head}` is a temporal operator, not a node: it needs a formula "
                    "on its left",
                    expr.span,
                    "an operator here",
                    hints=(f"write the formula before `{expr.head}`, or use the word form",),
                )
            return self._make(ast.LtlFired, meta, node=expr.head)
        if isinstance(expr, ast.Call) and expr.func == "failed":  # `failed(node)`
            (arg, *rest) = expr.args or (None,)
            if not rest and isinstance(arg, ast.Ref) and len(arg.parts) == 1:
                return self._make(ast.LtlFired, meta, node=arg.head, failed=True)
            return self._error(
                codes.UNKNOWN_FUNCTION,
                "`failed(...)` in a formula takes one node name",
                expr.span,
                "not a node name",
                hints=("write `failed(n)`: it holds where node `n` fired and failed",),
            )
        return self._make(ast.LtlHolds, meta, expr=expr)

    @v_args(meta=True)
    def ltl_compare(self, meta: Any, children: list[Any]) -> Any:
        left, op, right = children
        return self._holds(meta, str(op), left, right)

    @v_args(meta=True)
    def ltl_compare_in(self, meta: Any, children: list[Any]) -> Any:
        return self._holds(meta, "in", children[0], children[-1])

    @v_args(meta=True)
    def ltl_compare_not_in(self, meta: Any, children: list[Any]) -> Any:
        return self._holds(meta, "not in", children[0], children[-1])

    def _holds(self, meta: Any, op: str, left: Any, right: Any) -> Any:
        left, right = self._value(left), self._value(right)
        compare = self._make(ast.Compare, meta, op=op, left=left, right=right)
        return self._make(ast.LtlHolds, meta, expr=compare)


@dataclass(frozen=True)
class _Group:
    """`( ... )` inside a formula: a formula, or, as an operand, the value it denotes."""

    formula: Any
    span: Span


@dataclass(frozen=True)
class _CtParams:
    params: tuple[ast.CtParam, ...]


_LTL_UNARY = {
    "next": "next",
    "X": "next",
    "wnext": "wnext",
    "WX": "wnext",
    "eventually": "eventually",
    "F": "eventually",
    "always": "always",
    "G": "always",
    "once": "once",
    "O": "once",
    "historically": "historically",
    "H": "historically",
    "yesterday": "yesterday",
    "Y": "yesterday",
}
_LTL_BINARY = {
    "until": "until",
    "U": "until",
    "release": "release",
    "R": "release",
    "since": "since",
    "S": "since",
}


def _text_of(value: Any) -> Any:
    return value.value if isinstance(value, ast.StringLit) else value


def _is_broken(value: Any) -> bool:
    return value is BROKEN
