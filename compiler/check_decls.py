"""The type checker's declarations: types, enums, models, tools, roles and human steps.

`DeclChecker` resolves type expressions, computes each callee's signature once, checks
declarations (with the memo, roles are not checked again in an unchanged environment),
and is the plumbing (reporting, lookups) the agent checker builds on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from . import ast, codes
from .check_tools import check_mcp, check_model, check_model_params, check_tool
from .checked import AgentInfo, Callee, Signature
from .diagnostics import Diagnostic, DiagnosticSink, Label
from .memo import AgentSnapshot, CheckMemo, Declared, declarations_key
from .resolve import ModuleInfo, Program, Symbol, did_you_mean
from .scope import Scope
from .source import Source, Span
from .templates import analyse_template
from .types import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    PRIMITIVES,
    STR,
    DictT,
    EnumT,
    ListT,
    OptionalT,
    RecordT,
    Type,
    assignable,
)

KNOWN_ANNOTATIONS = {"desc"}
# the kinds whose checks a check of the same declarations replays at once (`run`)
_REPLAYED_KINDS = frozenset(("role", "model", "enum"))


class DeclChecker:
    """Checks the declarations of a program: types, enums, models, tools, roles, human
    steps; the agents' bodies are `AgentChecker`'s (check_agents.py). Computes each
    signature once, and is the `TypeEnvironment` expressions are typed in (scope.py)."""

    def __init__(self, program: Program, memo: CheckMemo | None = None):
        self.program = program
        self.memo = memo
        self._environments: dict[int, int] = {}  # module → its number in the memo
        self._contexts: dict[int, int] = {}  # agent → its environment (`context`)
        # the callees of the nodes declared afresh, by name called, kind, name and signature
        self._callees: dict[tuple[str, str, str, int], Callee] = {}
        # the callees put in node infos by the check of an agent, by identity, with the name
        # called (check_agents.py)
        self._made: dict[int, tuple[str, Callee]] = {}
        # the callees `same_callee` gives back as they are from the main module, for these
        # declarations (`Declared.same`: there when they were met before)
        self._same: dict[int, tuple[str, Callee]] | None = None
        self.sink = DiagnosticSink(found=program.diagnostics)
        self.diagnostics: list[Diagnostic] = self.sink.found
        self.agents: dict[str, AgentInfo] = {}
        self.signatures: dict[str, Signature] = {}
        self.snapshots: dict[str, AgentSnapshot] = {}  # the agents' snapshots stored
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
        """Report at `span` of `module` (the sink, with the module's file)."""
        self.sink.report(
            code,
            message,
            span,
            label,
            hints=hints,
            labels=labels,
            notes=notes,
            file=module.filename,
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
        """Check every declaration. With a memo, a program of the same declarations as one
        that checked clean before, but its agents' bodies (`declarations_key`), has what
        those gave replayed at once (`Declared`), and only its agents checked."""
        memo = self.memo
        key = declarations_key(self.program) if memo is not None else None
        known = memo.declared.get(key) if memo is not None and key is not None else None
        if known is not None:
            modules = map(id, self.program.modules.values())
            self._environments.update(zip(modules, known.environments, strict=True))
            self.signatures.update(known.signatures)
            self._same = known.same
        start = len(self.diagnostics)
        self.record_types()
        self.check_declarations(known is not None)
        clean = len(self.diagnostics) == start
        if memo is not None and key is not None and known is None and clean:
            self.remember_declared(memo, key)

    def check_declarations(self, replayed: bool) -> None:
        """Check each declaration, module by module in declaration order; `replayed`: the
        roles', models' and enums' checks were replayed at once (`run`)."""
        checks: dict[str, Callable[[Symbol], None] | None] = {}  # each kind's check, if any
        memo = self.memo
        roles = memo.roles if memo is not None else None
        for module in self.program.modules.values():
            environment = None
            for symbol in list(module.names.values()):
                kind = symbol.kind
                if replayed and kind in _REPLAYED_KINDS:
                    continue
                if kind == "role" and roles is not None:  # (`check_role`, inline: the usual)
                    if environment is None:
                        environment = self.environment(module)
                    if self.replayed(symbol, roles.get((id(symbol.decl), environment))):
                        continue
                elif (kind == "model" or kind == "enum") and memo is not None:
                    self.check_alone(memo, symbol, kind)
                    continue
                if kind in checks:
                    check = checks[kind]
                else:
                    check = checks[kind] = getattr(self, f"check_{kind}", None)
                if check is not None:
                    check(symbol)

    def remember_declared(self, memo: CheckMemo, key: tuple[Any, ...]) -> None:
        """Store, for a program's declarations (`key`) that checked clean, what a later
        check of the same replays at once: each module's environment and the roles'
        signatures (a role's is a function of its declaration and its environment)."""
        modules = self.program.modules.values()
        environments = [self.environment(module) for module in modules]
        signatures = {
            symbol.qualified: self.signatures[symbol.qualified]
            for module in modules
            for symbol in module.names.values()
            if symbol.kind == "role"
        }
        memo.store_declared(key, Declared(environments, signatures), self.program)

    def record_types(self) -> None:
        """Fill in every record type of the program, module by module in declaration order;
        with a memo, replayed (records and diagnostics) where every module has the same
        environment as at an earlier check: the same type and enum declarations, each name
        meaning the same (`CheckMemo.environment`), so the same records and reports."""
        types = [
            [symbol for symbol in module.names.values() if symbol.kind == "type"]
            for module in self.program.modules.values()
        ]
        if self.memo is None or not any(types):
            for symbols in types:
                for symbol in symbols:
                    self.record_type(symbol)
            return
        key = tuple(
            (module.key, self.environment(module)) for module in self.program.modules.values()
        )
        found = self.memo.records.get(key)
        if found is not None:
            records, diagnostics = found
            for symbol, record in zip(itertools.chain.from_iterable(types), records, strict=True):
                self._types[id(symbol)] = record
                self._filled.add(id(symbol))
            self.diagnostics.extend(diagnostics)
            return
        start = len(self.diagnostics)
        for symbols in types:
            for symbol in symbols:
                self.record_type(symbol)
        records = [self._types[id(symbol)] for symbol in itertools.chain.from_iterable(types)]
        self.memo.store_records(key, (records, self.diagnostics[start:]))

    def check_alone(self, memo: CheckMemo, symbol: Symbol, kind: str) -> None:
        """`check_model` or `check_enum`, which read nothing but the declaration: replayed
        from the memo for the same declaration in the same file."""
        key = (id(symbol.decl), symbol.module.filename)
        found = memo.declarations.get(key)
        if found is not None:
            self.diagnostics.extend(found)
            return
        start = len(self.diagnostics)
        if kind == "model":
            self.check_model(symbol)
        else:
            self.check_enum(symbol)
        memo.store_declaration(key, symbol.decl, self.diagnostics[start:])

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

    # (`run` finds each kind's check by name: these are in check_tools.py)
    def check_model(self, symbol: Symbol) -> None:
        check_model(self, symbol)

    def check_mcp(self, symbol: Symbol) -> None:
        check_mcp(self, symbol)

    def check_tool(self, symbol: Symbol) -> None:
        check_tool(self, symbol)

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
        if self.replayed(symbol, self.memo.roles.get(key)):
            return
        start = len(self.diagnostics)
        self._check_role(symbol)
        diagnostics = self.diagnostics[start:]
        self.memo.store_role(key, symbol.decl, (diagnostics, self.signatures[symbol.qualified]))

    def replayed(self, symbol: Symbol, hit: tuple[list[Diagnostic], Signature] | None) -> bool:
        """Whether the role's check was replayed from the memo (`hit`: its entry for the
        role's declaration and environment, if any), as `check_role` replays it."""
        if hit is None or symbol.qualified in self.signatures:
            return False  # (a signature computed with an agent: the role checked whole)
        if hit[0]:
            self.diagnostics.extend(hit[0])
        self.signatures[symbol.qualified] = hit[1]
        return True

    def _check_role(self, symbol: Symbol) -> None:
        decl = symbol.decl
        assert isinstance(decl, ast.RoleDecl)
        module = symbol.module
        signature = self.signature(symbol)
        if decl.model is not None:
            model = self.lookup(module, decl.model.name, ("model",), decl.model.span, "model")
            if model is not None:
                check_model_params(self, module, decl.model.params)
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

    # -- constants --------------------------------------------------------------------------

    def literal_type(self, module: ModuleInfo, expr: ast.Node) -> Type:
        return Scope(self, module, None).type_of(expr)
