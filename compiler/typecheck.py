"""The type checker: every declaration, argument, port, edge, guard and return.

`check_program(program)` walks the resolved program and returns, for each agent, an
`AgentInfo` with the callee and output type of every node (what the IR builder needs),
plus the diagnostics it found. It reports as much as it can in one pass: an
expression whose type is unknown after an error gets type `ANY` and is not reported
again.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from . import ast, codes, ltl
from .diagnostics import Diagnostic, Label, diagnostic
from .mcp_servers import read_server, server_warnings
from .pyimport import folder_of
from .pysignature import compare_python_signature
from .pysource import Missing, Unreadable, read_tool
from .resolve import ModuleInfo, Program, Symbol, did_you_mean
from .scope import Scope, bool_hint
from .source import Source, Span
from .templates import analyse_template
from .types import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    PRIMITIVES,
    STR,
    AnyType,
    DictT,
    EnumT,
    ListT,
    OptionalT,
    RecordT,
    Type,
    assignable,
    strip_optional,
)

KNOWN_ANNOTATIONS = {"desc"}
RUN_CHECKS_TOOLS = (
    "`rolegraph run` imports it: each call passes the declared parameters by name, and "
    "its result is checked against the declared type"
)
T = TypeVar("T")


@dataclass
class Signature:
    """What a callee takes and gives. `params` None: anything (an untyped role parameter)."""

    params: list[tuple[str, Type, bool]] | None  # (name, type, has a default)
    returns: Type

    def param(self, name: str) -> tuple[str, Type, bool] | None:
        return next((p for p in self.params or () if p[0] == name), None)


@dataclass
class Callee:
    kind: str  # role, agent, tool, param (a role-valued compile-time parameter), unknown
    name: str
    signature: Signature
    symbol: Symbol | None = None


@dataclass
class NodeInfo:
    decl: ast.NodeDecl
    callee: Callee
    output: Type  # what readers of the node see: list[T] for `x N` and maps
    bound: dict[str, ast.Node] = field(default_factory=dict)  # parameter → argument


@dataclass
class AgentInfo:
    symbol: Symbol
    decl: ast.AgentDecl
    params: dict[str, Type]
    returns: Type
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    ct_params: dict[str, ast.CtParam] = field(default_factory=dict)


@dataclass
class CheckResult:
    program: Program
    agents: dict[str, AgentInfo]  # by qualified name
    diagnostics: list[Diagnostic]
    signatures: dict[str, Signature]  # roles, tools and agents, by qualified name


class CheckMemo:
    """Checks reused by later checks of programs that share their parts.

    An editor checks many programs that differ from one another in a declaration or a
    statement. What the checker reads to judge a part is its key; a part whose key was
    seen before is not checked again:

    - a role whose declaration and environment (the declarations its module sees) are
      the same objects as in an earlier check: its diagnostics and signature replay;
    - an agent statement (a node, an edge, a return, a constraint) that is the same
      object, in the same environment, whose names mean the same (each node it reads
      gives the same type, each parameter has the same type) and, for a node, whose
      callee has the same signature and whose incoming ports are the same: when it
      checked clean before, it checks clean again (statements with errors are checked
      afresh, so their messages name what is there now).

    Keys hold identities; each entry keeps its objects alive, so an identity is never
    reused while its entry lives. Environments are numbered once, so keys stay short.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._environments: dict[tuple[Any, ...], tuple[int, list[Any]]] = {}
        self._numbers = itertools.count()
        self.roles: dict[tuple[Any, ...], tuple[Any, list[Diagnostic], Signature]] = {}
        self.statements: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._heads: dict[int, tuple[ast.Node, tuple[str, ...]]] = {}
        # the graph errors of agents, by the shape of their graph (check.py)
        self.graphs: dict[tuple[Any, ...], tuple[list[Any], list[Diagnostic]]] = {}

    def environment(self, module: ModuleInfo) -> int:
        """The number of a module's environment: every name it sees with its kind, and
        the declarations of its types, enums, models and tools (by identity) — what a
        check may read besides the part it checks."""
        objects: list[Any] = []
        key: list[Any] = [module.filename]
        for name, symbol in module.visible().items():
            key += (name, symbol.kind)
            if symbol.kind not in ("role", "agent"):
                key.append(id(symbol.decl))
                objects.append(symbol.decl)
        for alias, info in module.namespaces.items():
            key += (alias, id(info.module))
            objects.append(info.module)
        found = self._environments.get(tuple(key))
        if found is None:
            if len(self._environments) >= self.size:
                self.clear()
            found = self._environments[tuple(key)] = (next(self._numbers), objects)
        return found[0]

    def heads(self, statement: ast.Node) -> tuple[str, ...]:
        """The names a statement reads: the heads of its references, the nodes its
        formulas name, an edge's source and target."""
        found = self._heads.get(id(statement))
        if found is None:
            names = {ref.head for ref in statement.find_all(ast.Ref)}
            names |= {atom.node for atom in statement.find_all(ast.LtlFired)}
            if isinstance(statement, ast.EdgeDecl):
                names.add(statement.source)
                if isinstance(statement.target, ast.NodeTarget):
                    names.add(statement.target.node)
            found = (statement, tuple(sorted(names)))
            if len(self._heads) >= self.size * 8:
                self._heads.clear()
            self._heads[id(statement)] = found
        return found[1]

    def store_role(
        self, key: tuple[Any, ...], value: tuple[Any, list[Diagnostic], Signature]
    ) -> None:
        if len(self.roles) >= self.size:
            self.roles.clear()
        self.roles[key] = value

    def store_statement(self, key: tuple[Any, ...], keep: Any, result: Any) -> None:
        if len(self.statements) >= self.size * 8:
            self.statements.clear()
        self.statements[key] = (keep, result)

    def store_graph(
        self, shape: tuple[tuple[Any, ...], list[Any]], diagnostics: list[Diagnostic]
    ) -> None:
        if len(self.graphs) >= self.size:
            self.graphs.clear()
        key, objects = shape
        self.graphs[key] = (objects, [d for d in diagnostics if d.is_error])

    def clear(self) -> None:
        """Forget everything (numbers are never reused, so no key can come back wrong)."""
        self._environments.clear()
        self.roles.clear()
        self.statements.clear()
        self._heads.clear()
        self.graphs.clear()


def check_program(program: Program, memo: CheckMemo | None = None) -> CheckResult:
    checker = _Checker(program, memo)
    checker.run()
    return CheckResult(program, checker.agents, checker.diagnostics, checker.signatures)


MODEL_PARAMETERS: dict[str, tuple[tuple[type, ...], float | None, float | None]] = {
    "temperature": ((int, float), 0.0, 2.0),
    "top_p": ((int, float), 0.0, 1.0),
    "max_tokens": ((int,), 1, None),
    "timeout": ((int, float), 0.001, None),
    "seed": ((int,), None, None),
    "presence_penalty": ((int, float), -2.0, 2.0),
    "frequency_penalty": ((int, float), -2.0, 2.0),
    "retries": ((int,), 0, None),
    "backoff": ((int, float), 0.0, None),
    "structured_output": ((str,), None, None),
    "concurrency": ((int,), 1, None),
    "n": ((int,), 1, None),
    "api_base": ((str,), None, None),
    "api_version": ((str,), None, None),
    "api_key": ((str,), None, None),
    "stop": ((str, list), None, None),
    "cost_per_input_token": ((int, float), 0.0, None),
    "cost_per_output_token": ((int, float), 0.0, None),
}


class _Checker:
    def __init__(self, program: Program, memo: CheckMemo | None = None):
        self.program = program
        self.memo = memo
        self._environments: dict[int, int] = {}  # module → its number in the memo
        self._contexts: dict[int, tuple[int, dict[str, Any]]] = {}  # agent → context
        self.diagnostics: list[Diagnostic] = program.diagnostics
        self.agents: dict[str, AgentInfo] = {}
        self.signatures: dict[str, Signature] = {}
        self._types: dict[int, Type] = {}
        self._filled: set[int] = set()
        self._sources: dict[str, Source] = {}

    # -- plumbing ---------------------------------------------------------------------------

    def report(
        self,
        module: ModuleInfo,
        code: str,
        message: str,
        span: Span | None,
        label: str = "",
        hints: Iterable[str] = (),
        labels: Iterable[Label] = (),
        notes: Iterable[str] = (),
    ) -> None:
        self.diagnostics.append(
            diagnostic(
                code,
                message,
                file=module.filename,
                span=span,
                label=label,
                hints=hints,
                labels=labels,
                notes=notes,
            )
        )

    def unknown_parameter(
        self, module: ModuleInfo, callee: Callee, name: str, span: Span | None, label: str
    ) -> None:
        params = [p[0] for p in callee.signature.params or ()]
        self.report(
            module,
            codes.UNKNOWN_PARAMETER,
            f"`{callee.name}` has no parameter `{name}`",
            span,
            label,
            hints=did_you_mean(name, params),
        )

    def source(self, module: ModuleInfo) -> Source | None:
        if module.filename not in self._sources:
            text = self.program.sources.get(module.filename)
            if text is None:
                return None
            self._sources[module.filename] = Source(module.filename, text)
        return self._sources[module.filename]

    def run(self) -> None:
        for module in self.program.modules.values():
            for symbol in module.names.values():
                if symbol.kind == "type":
                    self.record_type(symbol)
        for module in self.program.modules.values():
            for symbol in list(module.names.values()):
                check = getattr(self, f"check_{symbol.kind}", None)
                if check is not None:
                    check(symbol)

    # -- types ----------------------------------------------------------------------------

    def lookup(
        self, module: ModuleInfo, name: str, kinds: tuple[str, ...], span: Span | None, what: str
    ) -> Symbol | None:
        symbol = self.program.lookup(module, name)
        if symbol is None:
            self.report(
                module,
                codes.UNDEFINED_NAME,
                f"unknown {what} `{name}`",
                span,
                f"not a declared {what}",
                hints=did_you_mean(name, self.program.candidates(module, kinds)),
            )
            return None
        if symbol.kind not in kinds:
            self.report(
                module,
                codes.WRONG_KIND,
                f"`{name}` is a {symbol.kind}, not a {what}",
                span,
                f"expected a {what}",
            )
            return None
        return symbol

    def resolve_type(self, module: ModuleInfo, expr: ast.Node) -> Type:
        if isinstance(expr, ast.NamedType):
            if expr.name in PRIMITIVES:
                return PRIMITIVES[expr.name]
            symbol = self.program.lookup(module, expr.name)
            if symbol is None or symbol.kind not in ("type", "enum"):
                if symbol is None:
                    candidates = [*PRIMITIVES, *self.program.candidates(module, ("type", "enum"))]
                    self.report(
                        module,
                        codes.UNDEFINED_NAME,
                        f"unknown type `{expr.name}`",
                        expr.span,
                        "not a type",
                        hints=did_you_mean(expr.name, candidates),
                    )
                else:
                    self.report(
                        module,
                        codes.WRONG_KIND,
                        f"`{expr.name}` is a {symbol.kind}, not a type",
                        expr.span,
                        "expected a type",
                    )
                return ANY
            return self.symbol_type(symbol)
        if isinstance(expr, ast.ListType):
            return ListT(self.resolve_type(module, expr.item))
        if isinstance(expr, ast.DictType):
            key = self.resolve_type(module, expr.key)
            if key not in (STR, ANY):
                self.report(
                    module,
                    codes.TYPE_MISMATCH,
                    "dict keys must be `str`",
                    expr.key.span,
                    f"found `{key}`",
                )
            return DictT(self.resolve_type(module, expr.value))
        if isinstance(expr, ast.OptionalType):
            return OptionalT(self.resolve_type(module, expr.inner))
        return ANY

    def symbol_type(self, symbol: Symbol) -> Type:
        key = id(symbol)
        if key not in self._types:
            if symbol.kind == "enum":
                decl = symbol.decl
                assert isinstance(decl, ast.EnumDecl)
                self._types[key] = EnumT(symbol.qualified, tuple(m.name for m in decl.members))
            else:
                self.record_type(symbol)
        return self._types[key]

    def record_type(self, symbol: Symbol) -> None:
        """Fill in the fields of a record type, once (records may refer to each other)."""
        if id(symbol) in self._filled:
            return
        self._filled.add(id(symbol))
        record = self._types.setdefault(id(symbol), RecordT(symbol.qualified))
        assert isinstance(record, RecordT)
        decl = symbol.decl
        assert isinstance(decl, ast.TypeDecl)
        defaults = set()
        for f in decl.fields:
            if f.name in record.fields:
                self.report(
                    symbol.module,
                    codes.DUPLICATE_NAME,
                    f"field `{f.name}` is declared twice in `{decl.name}`",
                    f.span,
                )
                continue
            field_type = self.resolve_type(symbol.module, f.type)
            record.fields[f.name] = field_type
            for annotation in f.annotations:
                self.check_annotation(symbol.module, annotation)
                if (
                    annotation.name == "desc"
                    and len(annotation.args) == 1
                    and isinstance(annotation.args[0], ast.StringLit)
                ):
                    record.descriptions[f.name] = annotation.args[0].value
            if f.default is not None:
                defaults.add(f.name)
                record.default_values[f.name] = ast.constant_value(f.default)
                self.expect(
                    symbol.module,
                    self.literal_type(symbol.module, f.default),
                    field_type,
                    f.default.span,
                    f"the default of `{f.name}`",
                    code=codes.BAD_ANNOTATION,
                )
        object.__setattr__(record, "defaults", frozenset(defaults))

    def check_annotation(self, module: ModuleInfo, annotation: ast.Annotation) -> None:
        if annotation.name not in KNOWN_ANNOTATIONS:
            self.report(
                module,
                codes.UNKNOWN_ANNOTATION,
                f"unknown annotation `@{annotation.name}`",
                annotation.span,
                "ignored",
                hints=did_you_mean(annotation.name, KNOWN_ANNOTATIONS),
            )
        elif annotation.name == "desc" and not (
            len(annotation.args) == 1 and isinstance(annotation.args[0], ast.StringLit)
        ):
            self.report(
                module,
                codes.BAD_ANNOTATION,
                "`@desc` takes one string",
                annotation.span,
                hints=('write `@desc("what the field holds")`',),
            )

    def check_enum(self, symbol: Symbol) -> None:
        decl = symbol.decl
        assert isinstance(decl, ast.EnumDecl)
        seen: set[str] = set()
        for member in decl.members:
            if member.name in seen:
                self.report(
                    symbol.module,
                    codes.DUPLICATE_NAME,
                    f"member `{member.name}` is declared twice in `{decl.name}`",
                    member.span,
                )
            seen.add(member.name)
            for annotation in member.annotations:
                self.check_annotation(symbol.module, annotation)

    def expect(
        self,
        module: ModuleInfo,
        actual: Type,
        expected: Type,
        span: Span | None,
        what: str,
        code: str = codes.TYPE_MISMATCH,
    ) -> bool:
        if assignable(actual, expected):
            return True
        hints: list[str] = []
        if expected == STR and actual in (INT, FLOAT, BOOL):
            hints.append("convert explicitly, or change the parameter's type")
        if isinstance(expected, ListT) and assignable(actual, expected.item):
            hints.append("wrap it in a list: `[value]`, or replicate the node (`x N`)")
        if isinstance(actual, ListT) and assignable(actual.item, expected):
            hints.append("the value is a list; pass one item, or change the type to a list")
        self.report(
            module,
            code,
            f"{what} expects `{expected}`, found `{actual}`",
            span,
            f"this is `{actual}`",
            hints=hints,
        )
        return False

    # -- models, tools, roles --------------------------------------------------------------

    def check_model(self, symbol: Symbol) -> None:
        decl = symbol.decl
        assert isinstance(decl, ast.ModelDecl)
        self.check_model_params(symbol.module, decl.params)

    def check_model_params(self, module: ModuleInfo, params: Iterable[ast.ModelParam]) -> None:
        for param in params:
            value = _constant_value(param.value)
            spec = MODEL_PARAMETERS.get(param.name)
            if spec is None:
                self.report(
                    module,
                    codes.UNKNOWN_MODEL_PARAMETER,
                    f"unknown model parameter `{param.name}`",
                    param.span,
                    "passed to the provider as is",
                    hints=did_you_mean(param.name, MODEL_PARAMETERS),
                )
                continue
            kinds, low, high = spec
            if isinstance(value, bool) or not isinstance(value, kinds):
                names = " or ".join(
                    {int: "an integer", float: "a number", str: "a string", list: "a list"}[k]
                    for k in kinds
                )
                self.report(
                    module,
                    codes.BAD_MODEL_PARAMETER,
                    f"`{param.name}` must be {names}",
                    param.value.span,
                    f"found {type(value).__name__}",
                )
                continue
            if isinstance(value, int | float) and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
                self.report(
                    module,
                    codes.BAD_MODEL_PARAMETER,
                    f"`{param.name}` must be {bounds}, found {value}",
                    param.value.span,
                    "out of range",
                )

    def params_of(
        self, module: ModuleInfo, params: Iterable[ast.Param]
    ) -> list[tuple[str, Type, bool]]:
        result = []
        for param in params:
            t = self.resolve_type(module, param.type)
            if param.default is not None:
                self.expect(
                    module,
                    self.literal_type(module, param.default),
                    t,
                    param.default.span,
                    f"the default of `{param.name}`",
                )
            result.append((param.name, t, param.default is not None))
        return result

    def signature(self, symbol: Symbol) -> Signature:
        """The signature of a role, tool or agent, computed (and its defaults checked) once."""
        if symbol.qualified not in self.signatures:
            decl = symbol.decl
            params = self.params_of(symbol.module, decl.params)  # type: ignore[attr-defined]
            returns = self.resolve_type(symbol.module, decl.returns)  # type: ignore[attr-defined]
            self.signatures[symbol.qualified] = Signature(params, returns)
        return self.signatures[symbol.qualified]

    def check_mcp(self, symbol: Symbol) -> None:
        decl = symbol.decl
        assert isinstance(decl, ast.McpDecl)
        found = read_server(decl, folder_of(symbol.module.filename))
        problems = found if isinstance(found, list) else server_warnings(decl)
        for problem in problems:
            hints = (problem.hint,) if problem.hint else ()
            self.report(symbol.module, problem.code, problem.message, problem.span, hints=hints)
        used = any(  # (by a tool of any module: one may import the server)
            isinstance(d, ast.ToolDecl)
            and d.server is not None
            and self.program.lookup(module, d.server) is symbol
            for module in self.program.modules.values()
            for d in module.module.decls
        )
        if not used:
            self.report(
                symbol.module,
                codes.MCP_UNUSED_SERVER,
                f"no tool names MCP server `{decl.name}`",
                decl.span,
                hints=(f"declare its tools: tool name(...) -> T = {decl.name}.name",),
            )

    def check_tool(self, symbol: Symbol) -> None:
        decl = symbol.decl
        assert isinstance(decl, ast.ToolDecl)
        signature = self.signature(symbol)
        if decl.server is not None:  # checked against its server by `check --connect` only
            server = self.program.lookup(symbol.module, decl.server)
            if server is None or server.kind != "mcp":
                what = "not declared" if server is None else f"a {server.kind}"
                self.report(
                    symbol.module,
                    codes.NOT_AN_MCP_SERVER,
                    f"tool `{decl.name}` names `{decl.server}` as its MCP server, "
                    f"but `{decl.server}` is {what}",
                    decl.span,
                    hints=did_you_mean(decl.server, self.program.candidates(symbol.module, ["mcp"]))
                    or (f'declare it: mcp {decl.server} = "python3 server.py"',),
                )
            return
        module_name, _, attribute = decl.target.partition(":")
        if not module_name or not attribute:
            self.report(
                symbol.module,
                codes.TOOL_IMPORT,
                f'tool `{decl.name}` must name its callable as "module:function"',
                decl.span,
                hints=('for example "rolegraph.stdlib.tools:calculator"',),
            )
            return
        # Read from source, never imported: checking a file runs none of its tools' code.
        found = read_tool(decl.target, folder_of(symbol.module.filename))
        if isinstance(found, Missing):
            self.report(
                symbol.module,
                codes.TOOL_IMPORT,
                f"cannot find `{decl.target}` for tool `{decl.name}`: {found.reason}",
                decl.span,
                hints=found.hints,
            )
        elif isinstance(found, Unreadable):
            self.report(
                symbol.module,
                codes.TOOL_UNCHECKED,
                f"cannot check tool `{decl.name}` against `{decl.target}` without running it: "
                f"{found.reason}",
                decl.span,
                hints=(RUN_CHECKS_TOOLS,),
            )
        else:
            problem = compare_python_signature(found, signature)
            if problem:
                self.report(
                    symbol.module,
                    codes.TOOL_SIGNATURE,
                    f"tool `{decl.name}` does not match `{decl.target}`: {problem}",
                    decl.span,
                    "declared here",
                )

    def environment(self, module: ModuleInfo) -> int:
        """The number of a module's environment in the memo (there is one)."""
        assert self.memo is not None
        number = self._environments.get(id(module))
        if number is None:
            number = self._environments[id(module)] = self.memo.environment(module)
        return number

    def check_role(self, symbol: Symbol) -> None:
        if self.memo is None:
            self._check_role(symbol)
            return
        if symbol.qualified in self.signatures:  # its signature was checked with an agent
            self._check_role(symbol)
            return
        key = (id(symbol.decl), self.environment(symbol.module))
        hit = self.memo.roles.get(key)
        if hit is not None:
            self.diagnostics.extend(hit[1])
            self.signatures[symbol.qualified] = hit[2]
            return
        start = len(self.diagnostics)
        self._check_role(symbol)
        diagnostics = self.diagnostics[start:]
        self.memo.store_role(key, (symbol.decl, diagnostics, self.signatures[symbol.qualified]))

    def _check_role(self, symbol: Symbol) -> None:
        decl = symbol.decl
        assert isinstance(decl, ast.RoleDecl)
        module = symbol.module
        signature = self.signature(symbol)
        if decl.model is not None:
            model = self.lookup(module, decl.model.name, ("model",), decl.model.span, "model")
            if model is not None:
                self.check_model_params(module, decl.model.params)
        else:
            self.report(
                module,
                codes.ROLE_WITHOUT_MODEL,
                f"role `{decl.name}` names no model",
                decl.span,
                hints=("add `model NAME` to the role",),
            )
        if decl.prompt is None:
            self.report(
                module,
                codes.MISSING_PROMPT,
                f"role `{decl.name}` has no prompt",
                decl.span,
                hints=('add `prompt "..."` with the template to send',),
            )
        params = {name: t for name, t, _ in signature.params or ()}
        for item in (decl.system, decl.prompt):
            if item is None:
                continue
            self.check_template(module, item, params)
        if decl.tools is not None:
            for name in decl.tools.tools:
                self.lookup(module, name, ("tool",), decl.tools.span, "tool")
            if isinstance(decl.tools.max_steps, str):
                self.report(
                    module,
                    codes.BAD_BOUND_NAME,
                    f"`{decl.tools.max_steps}` is not a number, and roles have no constants",
                    decl.tools.span,
                )

    def check_human(self, symbol: Symbol) -> None:
        """A human step: its parameters and result type, and its question's template
        (read, never rendered: checking runs no template)."""
        decl = symbol.decl
        assert isinstance(decl, ast.HumanDecl)
        signature = self.signature(symbol)
        if decl.prompt is not None:
            params = {name: t for name, t, _ in signature.params or ()}
            self.check_template(symbol.module, decl.prompt, params)

    def check_template(
        self, module: ModuleInfo, item: ast.System | ast.Prompt, params: dict[str, Type]
    ) -> None:
        source = self.source(module)
        literal = None
        if item.span is not None and source is not None:
            quote = source.text.find('"', item.span.start, item.span.end)
            if quote != -1:
                literal = source.span(quote, item.span.end)
        for problem in analyse_template(item.text, params, literal or item.span, source):
            self.report(
                module,
                problem.code,
                problem.message,
                problem.span,
                problem.label,
                hints=problem.hints,
            )

    # -- agents -------------------------------------------------------------------------------

    def check_agent(self, symbol: Symbol) -> None:
        decl = symbol.decl
        assert isinstance(decl, ast.AgentDecl)
        module = symbol.module
        info = AgentInfo(
            symbol,
            decl,
            {n: t for n, t, _ in self.params_of(module, decl.params)},
            self.resolve_type(module, decl.returns),
        )
        self.agents[symbol.qualified] = info
        for ct in decl.ct_params:
            info.ct_params[ct.name] = ct
            if isinstance(ct.type, ast.RoleSig):
                if ct.type.params is not None:
                    self.params_of(module, ct.type.params)
                    self.resolve_type(module, ct.type.returns)  # type: ignore[arg-type]
            else:
                self.resolve_type(module, ct.type)
        self.check_bound_names(module, decl)
        scope = Scope(self, module, info)
        nodes = decl.nodes
        # Declare every node first: edges and arguments may refer to later nodes.
        for node in nodes:
            if node.name in info.nodes or node.name in info.params:
                first = info.nodes.get(node.name)
                self.report(
                    module,
                    codes.DUPLICATE_NAME,
                    f"`{node.name}` is declared twice in agent `{decl.name}`",
                    node.span,
                    "declared again here",
                    labels=(Label(span=first.decl.span, message="first declared here"),)
                    if first and first.decl.span
                    else (),
                )
                continue
            callee = self.callee(module, info, node)
            output = callee.signature.returns
            if node.replicate is not None or node.map is not None:
                output = ListT(output)
            info.nodes[node.name] = NodeInfo(node, callee, output)
        port_bound = self.edge_bindings(module, info, scope)
        for node in nodes:
            if info.nodes.get(node.name, None) is None or info.nodes[node.name].decl is not node:
                continue
            self.check_node(module, info, scope, info.nodes[node.name], port_bound)
        for statement in decl.body:
            if isinstance(statement, ast.ReturnStmt):
                check = partial(self.check_return, module, info, scope, statement)
                self.remembered(info, statement, info.returns, check)
            elif isinstance(statement, ast.Constraint):
                check = partial(self.check_constraint, module, info, scope, statement)
                self.remembered(info, statement, None, check)

    def check_return(
        self, module: ModuleInfo, info: AgentInfo, scope: Scope, statement: ast.ReturnStmt
    ) -> None:
        self.expect(
            module,
            scope.type_of(statement.value),
            info.returns,
            statement.value.span,
            f"agent `{info.decl.name}`",
            code=codes.RETURN_TYPE,
        )

    def remembered(
        self, info: AgentInfo, statement: ast.Node, reads: Any, check: Callable[[], T]
    ) -> T:
        """`check()` of an agent statement, or its result from the memo when the same
        statement, read in the same context (`reads`: what else the check reads), checked
        clean before (see `CheckMemo`)."""
        if self.memo is None:
            return check()
        environment, meanings = self.context(info)
        heads = self.memo.heads(statement)
        key = (id(statement), environment, reads, tuple(map(meanings.get, heads)))
        hit = self.memo.statements.get(key)
        if hit is not None:
            return hit[1]  # type: ignore[no-any-return]
        start = len(self.diagnostics)
        result = check()
        if len(self.diagnostics) == start:
            self.memo.store_statement(key, (statement, info.decl.ct_params), result)
        return result

    def context(self, info: AgentInfo) -> tuple[int, dict[str, Any]]:
        """An agent's environment, and what each name its statements may read means
        there: a node and its type, a parameter and its type, a compile-time parameter
        (names of nothing are left out). Taken once its nodes are declared."""
        found = self._contexts.get(id(info))
        if found is None:
            meanings: dict[str, Any] = {
                name: ("constant", id(ct)) for name, ct in info.ct_params.items()
            }
            meanings.update((name, ("param", t)) for name, t in info.params.items())
            meanings.update((name, ("node", node.output)) for name, node in info.nodes.items())
            found = self._contexts[id(info)] = (self.environment(info.symbol.module), meanings)
        return found

    def check_bound_names(self, module: ModuleInfo, decl: ast.AgentDecl) -> None:
        """Bounds that name compile-time constants: `int` ones with a default ≥ 1."""
        constants = {p.name: p for p in decl.ct_params if not isinstance(p.type, ast.RoleSig)}
        bounds: list[tuple[str, ast.Node]] = []
        for statement in decl.body:
            if isinstance(statement, ast.NodeDecl):
                values = [statement.replicate, statement.map.max if statement.map else None]
            elif isinstance(statement, ast.EdgeDecl):
                values = [statement.max]
            else:
                continue
            bounds += [(value, statement) for value in values if isinstance(value, str)]
        for value, bounded in bounds:
            param = constants.get(value)
            default = ast.constant_value(param.default) if param is not None else None
            if param is None:
                problem = f"`{value}` is not a compile-time constant of agent `{decl.name}`"
            elif not (isinstance(param.type, ast.NamedType) and param.type.name == "int"):
                problem = f"`{value}` is a bound: it must be an `int` constant"
            elif not (isinstance(default, int) and not isinstance(default, bool) and default >= 1):
                problem = f"`{value}` is a bound: it needs a default of at least 1"
            else:
                continue
            self.report(
                module,
                codes.BAD_BOUND_NAME,
                problem,
                bounded.span,
                hints=(f"declare it: `agent {decl.name}[{value}: int = 3](...)`",),
            )

    def callee(self, module: ModuleInfo, info: AgentInfo, node: ast.NodeDecl) -> Callee:
        ct = info.ct_params.get(node.role)
        if ct is not None:
            if not isinstance(ct.type, ast.RoleSig):
                self.report(
                    module, codes.WRONG_KIND, f"`{node.role}` is a constant, not a role", node.span
                )
                return Callee("unknown", node.role, Signature(None, ANY))
            if ct.type.params is None:
                return Callee("param", node.role, Signature(None, ANY))
            params = self.params_of(module, ct.type.params)
            assert ct.type.returns is not None  # a signature has both, or neither
            returns = self.resolve_type(module, ct.type.returns)
            return Callee("param", node.role, Signature(params, returns))
        symbol = self.lookup(
            module, node.role, ("role", "agent", "tool", "human"), node.span, "role"
        )
        if symbol is None:
            return Callee("unknown", node.role, Signature(None, ANY))
        callee = Callee(symbol.kind, symbol.qualified, self.signature(symbol), symbol)
        self.check_ct_args(module, node, symbol)
        return callee

    def check_ct_args(self, module: ModuleInfo, node: ast.NodeDecl, symbol: Symbol) -> None:
        decl = symbol.decl
        ct_params = decl.ct_params if isinstance(decl, ast.AgentDecl) else ()
        if not ct_params:
            if node.ct_args:
                self.report(
                    module,
                    codes.BAD_PATTERN_ARGUMENT,
                    f"`{node.role}` takes no compile-time arguments",
                    node.span,
                )
            return
        bound: dict[str, ast.Arg] = {}
        for index, arg in enumerate(node.ct_args):
            name = arg.name
            if name is None:
                if index >= len(ct_params):
                    self.report(
                        module,
                        codes.BAD_PATTERN_ARGUMENT,
                        f"too many compile-time arguments for `{node.role}`",
                        arg.span,
                    )
                    continue
                name = ct_params[index].name
            bound[name] = arg
        for param in ct_params:
            given = bound.get(param.name)
            if given is None:
                if param.default is None:
                    self.report(
                        module,
                        codes.BAD_PATTERN_ARGUMENT,
                        f"`{node.role}` needs the compile-time argument `{param.name}`",
                        node.span,
                        hints=(f"write `{node.role}[{param.name}: ...](...)`",),
                    )
                continue
            if isinstance(param.type, ast.RoleSig):
                if not (isinstance(given.value, ast.Ref) and len(given.value.parts) <= 2):
                    self.report(
                        module,
                        codes.BAD_PATTERN_ARGUMENT,
                        f"`{param.name}` takes a role",
                        given.span,
                        "not a role name",
                    )
                    continue
                passed = self.lookup(
                    module, ".".join(given.value.parts), ("role", "agent"), given.span, "role"
                )
                if passed is not None and param.type.params is not None:
                    problem = self.signature_mismatch(symbol.module, param.type, passed)
                    if problem:
                        self.report(
                            module,
                            codes.BAD_PATTERN_ARGUMENT,
                            f"`{passed.name}` does not fit `{param.name}`: {problem}",
                            given.span,
                            "wrong signature",
                        )
            else:
                expected = self.resolve_type(symbol.module, param.type)
                if not ast.is_constant(given.value):
                    self.report(
                        module,
                        codes.BAD_PATTERN_ARGUMENT,
                        f"`{param.name}` takes a constant",
                        given.span,
                        "not a constant",
                    )
                    continue
                self.expect(
                    module,
                    self.literal_type(module, given.value),
                    expected,
                    given.span,
                    f"compile-time parameter `{param.name}`",
                    code=codes.BAD_PATTERN_ARGUMENT,
                )
                value = ast.constant_value(given.value)
                named = isinstance(decl, ast.AgentDecl) and _names_a_bound(decl, param.name)
                if isinstance(value, int) and value < 1 and named:
                    self.report(
                        module,
                        codes.BAD_BOUND_NAME,
                        f"`{param.name}` is a bound of `{node.role}`: at least 1, found {value}",
                        given.span,
                    )
        for name in bound:
            if all(p.name != name for p in ct_params):
                self.report(
                    module,
                    codes.BAD_PATTERN_ARGUMENT,
                    f"`{node.role}` has no compile-time parameter `{name}`",
                    bound[name].span,
                    hints=did_you_mean(name, [p.name for p in ct_params]),
                )

    def signature_mismatch(
        self, module: ModuleInfo, expected: ast.RoleSig, passed: Symbol
    ) -> str | None:
        """Why a role does not fit a role signature of a pattern, or None."""
        assert expected.params is not None and expected.returns is not None
        actual = self.signature(passed)
        for name, wanted, _ in self.params_of(module, expected.params):
            found = actual.param(name)
            if found is None:
                return f"it has no parameter `{name}`"
            if not assignable(wanted, found[1]):
                return f"its parameter `{name}` is `{found[1]}`, not `{wanted}`"
        declared = {p.name for p in expected.params}
        extra = [p[0] for p in actual.params or () if p[0] not in declared and not p[2]]
        if extra:
            return f"it also needs `{extra[0]}`"
        returns = self.resolve_type(module, expected.returns)
        if not assignable(actual.returns, returns):
            return f"it returns `{actual.returns}`, not `{returns}`"
        return None

    def edge_bindings(
        self, module: ModuleInfo, info: AgentInfo, scope: Scope
    ) -> dict[str, list[set[str]]]:
        """Check every explicit edge; return, per target node, the ports each edge binds."""
        bindings: dict[str, list[set[str]]] = {}
        for edge in info.decl.edges:
            target = (
                info.nodes.get(edge.target.node)
                if isinstance(edge.target, ast.NodeTarget)
                else None
            )
            ports = self.remembered(
                info,
                edge,
                (info.returns, _signature_key(target.callee) if target else None),
                partial(self.check_edge, module, info, scope, edge),
            )
            if ports is not None:
                bindings.setdefault(edge.target.node, []).append(set(ports))  # type: ignore[union-attr]
        return bindings

    def check_edge(
        self, module: ModuleInfo, info: AgentInfo, scope: Scope, edge: ast.EdgeDecl
    ) -> frozenset[str] | None:
        """Check an explicit edge; the ports it binds on its target node (None: a return
        edge, or an unknown target)."""
        source = info.nodes.get(edge.source)
        if source is None:
            self.report(
                module,
                codes.UNDEFINED_NAME,
                f"unknown node `{edge.source}`",
                edge.span,
                "not a node of this agent",
                hints=did_you_mean(edge.source, info.nodes),
            )
        if isinstance(edge.condition, ast.When):
            guard = scope.type_of(edge.condition.guard)
            if not assignable(guard, BOOL):
                self.report(
                    module,
                    codes.NOT_BOOL,
                    f"a guard must be a bool, found `{guard}`",
                    edge.condition.guard.span,
                    "not a bool",
                    hints=bool_hint(guard),
                )
        if isinstance(edge.condition, ast.OnError):
            self.check_failed_reads(module, edge)
        if isinstance(edge.target, ast.ReturnTarget):
            self.expect(
                module,
                scope.type_of(edge.target.value),
                info.returns,
                edge.target.value.span,
                f"agent `{info.decl.name}`",
                code=codes.RETURN_TYPE,
            )
            return None
        target = info.nodes.get(edge.target.node)
        if target is None:
            self.report(
                module,
                codes.UNDEFINED_NAME,
                f"unknown node `{edge.target.node}`",
                edge.target.span,
                "not a node of this agent",
                hints=did_you_mean(edge.target.node, info.nodes),
            )
            return None
        ports = set()
        for port in edge.target.ports:
            assert port.name is not None
            ports.add(port.name)
            actual = scope.type_of(port.value)
            params = target.callee.signature.params
            if params is None:
                continue
            param = target.callee.signature.param(port.name)
            if param is None:
                self.unknown_parameter(module, target.callee, port.name, port.span, "unknown port")
                continue
            self.expect(module, actual, param[1], port.value.span, f"port `{port.name}`")
        return frozenset(ports)

    def check_failed_reads(self, module: ModuleInfo, edge: ast.EdgeDecl) -> None:
        """An `on error` edge out of `x` runs when `x` failed: `x` has no output to read,
        only `x.error`."""
        for ref in edge.target.find_all(ast.Ref):
            if ref.head == edge.source and tuple(ref.parts[1:]) != ("error",):
                self.report(
                    module,
                    codes.FAILED_OUTPUT_READ,
                    f"`{edge.source}` failed when this edge is taken: it has no output",
                    ref.span,
                    "read in an `on error` edge",
                    hints=[f"read `{edge.source}.error`, the failure's message"],
                )

    def check_node(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        scope: Scope,
        node: NodeInfo,
        port_bound: dict[str, list[set[str]]],
    ) -> None:
        ports = tuple(frozenset(p) for p in port_bound.get(node.decl.name, ()))

        def check() -> dict[str, ast.Node]:
            self._check_node(module, info, scope, node, port_bound)
            return dict(node.bound)

        node.bound.update(
            self.remembered(info, node.decl, (_signature_key(node.callee), ports), check)
        )

    def _check_node(
        self,
        module: ModuleInfo,
        info: AgentInfo,
        scope: Scope,
        node: NodeInfo,
        port_bound: dict[str, list[set[str]]],
    ) -> None:
        decl = node.decl
        signature = node.callee.signature
        inner = scope
        if decl.map is not None:
            source = scope.type_of(decl.map.source)
            item: Type = ANY
            if isinstance(strip_optional(source), ListT):
                item = strip_optional(source).item  # type: ignore[attr-defined]
            elif not isinstance(source, AnyType):
                self.report(
                    module,
                    codes.MAP_NEEDS_LIST,
                    f"a map needs a list, found `{source}`",
                    decl.map.source.span,
                    "not a list",
                )
            inner = scope.with_local(decl.map.var, item)
        params = signature.params
        for index, arg in enumerate(decl.args):
            actual = inner.type_of(arg.value)
            if params is None:
                continue
            if arg.name is None:
                if index >= len(params):
                    self.report(
                        module,
                        codes.TOO_MANY_ARGUMENTS,
                        f"`{node.callee.name}` takes {len(params)} argument"
                        f"{'s' if len(params) != 1 else ''}, found {len(decl.args)}",
                        arg.span,
                        "one too many",
                    )
                    continue
                name, expected, _ = params[index]
            else:
                found = signature.param(arg.name)
                if found is None:
                    self.unknown_parameter(
                        module, node.callee, arg.name, arg.span, "unknown parameter"
                    )
                    continue
                name, expected, _ = found
            node.bound[name] = arg.value
            self.expect(module, actual, expected, arg.value.span, f"parameter `{name}`")
        if params is None:
            return
        missing = [p[0] for p in params if not p[2] and p[0] not in node.bound]
        if not missing:
            return
        edges_in = port_bound.get(decl.name, [])
        fires_only_by_edges = bool(edges_in) and not scope.node_refs(decl)
        if fires_only_by_edges and all(set(missing) <= ports for ports in edges_in):
            return
        self.report(
            module,
            codes.MISSING_ARGUMENT,
            f"`{node.callee.name}` needs `{missing[0]}`"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            decl.span,
            "missing argument",
            hints=(f"pass it: `{decl.role}(..., {missing[0]}: ...)`",),
        )

    def check_constraint(
        self, module: ModuleInfo, info: AgentInfo, scope: Scope, constraint: ast.Constraint
    ) -> None:
        nested = ltl.future_under_past(constraint.formula)
        if nested is not None:
            self.report(
                module,
                codes.FUTURE_UNDER_PAST,
                "a past operator applies to a formula with a future operator",
                nested.span,
                "this operator",
                hints=("see docs/ltl.md",),
            )
        for atom in constraint.formula.walk():
            if isinstance(atom, ast.LtlFired) and atom.node not in info.nodes:
                self.report(
                    module,
                    codes.UNKNOWN_NODE_IN_FORMULA,
                    f"unknown node `{atom.node}` in a formula",
                    atom.span,
                    "not a node of this agent",
                    hints=did_you_mean(atom.node, info.nodes),
                )
            elif isinstance(atom, ast.LtlHolds):
                t = scope.type_of(atom.expr)
                if not assignable(t, BOOL):
                    self.report(
                        module,
                        codes.NOT_BOOL,
                        f"a condition in a formula must be a bool, found `{t}`",
                        atom.span,
                        "not a bool",
                        hints=bool_hint(t),
                    )

    # -- constants --------------------------------------------------------------------------

    def literal_type(self, module: ModuleInfo, expr: ast.Node) -> Type:
        return Scope(self, module, None).type_of(expr)


def _signature_key(callee: Callee) -> tuple[Any, ...]:
    """A callee as a node's check reads it: what it is and the parameters it takes."""
    params = callee.signature.params
    return (callee.kind, callee.name, None if params is None else tuple(params))


def _constant_value(expr: ast.Node) -> object:
    if isinstance(expr, ast.StringLit | ast.IntLit | ast.FloatLit | ast.BoolLit):
        return expr.value
    if isinstance(expr, ast.ListLit):
        return [_constant_value(i) for i in expr.items]
    if isinstance(expr, ast.DictLit):
        return {e.key: _constant_value(e.value) for e in expr.entries}
    return None


def _names_a_bound(agent: ast.AgentDecl, name: str) -> bool:
    """Whether a bound of the agent (`x n`, `max n`) names this compile-time constant."""
    bounds = [n.replicate for n in agent.nodes] + [e.max for e in agent.edges]
    bounds += [n.map.max for n in agent.nodes if n.map is not None]
    return name in bounds
