"""Checks of compile-time parameters: bounds that name constants, and the compile-time
arguments a node passes to a pattern (roles that must fit a signature, constants of a type)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import ast, codes
from .resolve import ModuleInfo, Symbol, did_you_mean
from .types import assignable

if TYPE_CHECKING:
    from .check_decls import DeclChecker


def check_bound_names(
    checker: DeclChecker,
    module: ModuleInfo,
    decl: ast.AgentDecl,
    statements: Sequence[ast.Node] | None = None,
) -> None:
    """Bounds that name compile-time constants: `int` ones with a default ≥ 1 (in
    `statements`, default: the whole body)."""
    constants = {p.name: p for p in decl.ct_params if not isinstance(p.type, ast.RoleSig)}
    bounds: list[tuple[str, ast.Node]] = []
    for statement in decl.body if statements is None else statements:
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
        checker.report(
            module,
            codes.BAD_BOUND_NAME,
            problem,
            bounded.span,
            hints=(f"declare it: `agent {decl.name}[{value}: int = 3](...)`",),
        )


def check_ct_args(
    checker: DeclChecker, module: ModuleInfo, node: ast.NodeDecl, symbol: Symbol
) -> None:
    decl = symbol.decl
    ct_params = decl.ct_params if isinstance(decl, ast.AgentDecl) else ()
    if not ct_params:
        if node.ct_args:
            checker.report(
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
                checker.report(
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
                checker.report(
                    module,
                    codes.BAD_PATTERN_ARGUMENT,
                    f"`{node.role}` needs the compile-time argument `{param.name}`",
                    node.span,
                    hints=(f"write `{node.role}[{param.name}: ...](...)`",),
                )
            continue
        if isinstance(param.type, ast.RoleSig):
            if not (isinstance(given.value, ast.Ref) and len(given.value.parts) <= 2):
                checker.report(
                    module,
                    codes.BAD_PATTERN_ARGUMENT,
                    f"`{param.name}` takes a role",
                    given.span,
                    "not a role name",
                )
                continue
            passed = checker.lookup(
                module, ".".join(given.value.parts), ("role", "agent"), given.span, "role"
            )
            if passed is not None and param.type.params is not None:
                problem = signature_mismatch(checker, symbol.module, param.type, passed)
                if problem:
                    checker.report(
                        module,
                        codes.BAD_PATTERN_ARGUMENT,
                        f"`{passed.name}` does not fit `{param.name}`: {problem}",
                        given.span,
                        "wrong signature",
                    )
        else:
            expected = checker.resolve_type(symbol.module, param.type)
            if not ast.is_constant(given.value):
                checker.report(
                    module,
                    codes.BAD_PATTERN_ARGUMENT,
                    f"`{param.name}` takes a constant",
                    given.span,
                    "not a constant",
                )
                continue
            checker.expect(
                module,
                checker.literal_type(module, given.value),
                expected,
                given.span,
                f"compile-time parameter `{param.name}`",
                code=codes.BAD_PATTERN_ARGUMENT,
            )
            value = ast.constant_value(given.value)
            named = isinstance(decl, ast.AgentDecl) and _names_a_bound(decl, param.name)
            if isinstance(value, int) and value < 1 and named:
                checker.report(
                    module,
                    codes.BAD_BOUND_NAME,
                    f"`{param.name}` is a bound of `{node.role}`: at least 1, found {value}",
                    given.span,
                )
    for name in bound:
        if all(p.name != name for p in ct_params):
            checker.report(
                module,
                codes.BAD_PATTERN_ARGUMENT,
                f"`{node.role}` has no compile-time parameter `{name}`",
                bound[name].span,
                hints=did_you_mean(name, [p.name for p in ct_params]),
            )


def signature_mismatch(
    checker: DeclChecker, module: ModuleInfo, expected: ast.RoleSig, passed: Symbol
) -> str | None:
    """Why a role does not fit a role signature of a pattern, or None."""
    assert expected.params is not None and expected.returns is not None
    actual = checker.signature(passed)
    for name, wanted, _ in checker.params_of(module, expected.params):
        found = actual.param(name)
        if found is None:
            return f"it has no parameter `{name}`"
        if not assignable(wanted, found[1]):
            return f"its parameter `{name}` is `{found[1]}`, not `{wanted}`"
    declared = {p.name for p in expected.params}
    extra = [p[0] for p in actual.params or () if p[0] not in declared and not p[2]]
    if extra:
        return f"it also needs `{extra[0]}`"
    returns = checker.resolve_type(module, expected.returns)
    if not assignable(actual.returns, returns):
        return f"it returns `{actual.returns}`, not `{returns}`"
    return None


def _names_a_bound(agent: ast.AgentDecl, name: str) -> bool:
    """Whether a bound of the agent (`x n`, `max n`) names this compile-time constant."""
    bounds = [n.replicate for n in agent.nodes] + [e.max for e in agent.edges]
    bounds += [n.map.max for n in agent.nodes if n.map is not None]
    return name in bounds
