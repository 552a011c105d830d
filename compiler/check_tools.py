"""Checks of the declarations that leave the program: models and their parameters, Python
tools (read from source, never imported) and MCP servers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import ast, codes
from .mcp_servers import read_server, server_warnings
from .pyimport import folder_of
from .resolve import ModuleInfo, Symbol, did_you_mean

if TYPE_CHECKING:
    from .check_decls import DeclChecker

RUN_CHECKS_TOOLS = (
    "`rolegraph run` imports it: each call passes the declared parameters by name, and "
    "its result is checked against the declared type"
)

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


def check_model(checker: DeclChecker, symbol: Symbol) -> None:
    decl = symbol.decl
    assert isinstance(decl, ast.ModelDecl)
    check_model_params(checker, symbol.module, decl.params)


def check_model_params(
    checker: DeclChecker, module: ModuleInfo, params: Iterable[ast.ModelParam]
) -> None:
    for param in params:
        value = _constant_value(param.value)
        spec = MODEL_PARAMETERS.get(param.name)
        if spec is None:
            checker.report(
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
            checker.report(
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
            checker.report(
                module,
                codes.BAD_MODEL_PARAMETER,
                f"`{param.name}` must be {bounds}, found {value}",
                param.value.span,
                "out of range",
            )


def check_mcp(checker: DeclChecker, symbol: Symbol) -> None:
    decl = symbol.decl
    assert isinstance(decl, ast.McpDecl)
    found = read_server(decl, folder_of(symbol.module.filename))
    problems = found if isinstance(found, list) else server_warnings(decl)
    for problem in problems:
        hints = (problem.hint,) if problem.hint else ()
        checker.report(symbol.module, problem.code, problem.message, problem.span, hints=hints)
    used = any(  # (by a tool of any module: one may import the server)
        isinstance(d, ast.ToolDecl)
        and d.server is not None
        and checker.program.lookup(module, d.server) is symbol
        for module in checker.program.modules.values()
        for d in module.module.decls
    )
    if not used:
        checker.report(
            symbol.module,
            codes.MCP_UNUSED_SERVER,
            f"no tool names MCP server `{decl.name}`",
            decl.span,
            hints=(f"declare its tools: tool name(...) -> T = {decl.name}.name",),
        )


def check_tool(checker: DeclChecker, symbol: Symbol) -> None:
    decl = symbol.decl
    assert isinstance(decl, ast.ToolDecl)
    signature = checker.signature(symbol)
    if decl.server is not None:  # checked against its server by `check --connect` only
        server = checker.program.lookup(symbol.module, decl.server)
        if server is None or server.kind != "mcp":
            what = "not declared" if server is None else f"a {server.kind}"
            checker.report(
                symbol.module,
                codes.NOT_AN_MCP_SERVER,
                f"tool `{decl.name}` names `{decl.server}` as its MCP server, "
                f"but `{decl.server}` is {what}",
                decl.span,
                hints=did_you_mean(decl.server, checker.program.candidates(symbol.module, ["mcp"]))
                or (f'declare it: mcp {decl.server} = "python3 server.py"',),
            )
        return
    module_name, _, attribute = decl.target.partition(":")
    if not module_name or not attribute:
        checker.report(
            symbol.module,
            codes.TOOL_IMPORT,
            f'tool `{decl.name}` must name its callable as "module:function"',
            decl.span,
            hints=('for example "rolegraph.stdlib.tools:calculator"',),
        )
        return
    # Read from source, never imported: checking a file runs none of its tools' code.
    # (Their readers are loaded by the first Python tool: ~7 ms of every check otherwise.)
    from .pysignature import compare_python_signature
    from .pysource import Missing, Unreadable, read_tool

    found = read_tool(decl.target, folder_of(symbol.module.filename))
    if isinstance(found, Missing):
        checker.report(
            symbol.module,
            codes.TOOL_IMPORT,
            f"cannot find `{decl.target}` for tool `{decl.name}`: {found.reason}",
            decl.span,
            hints=found.hints,
        )
    elif isinstance(found, Unreadable):
        checker.report(
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
            checker.report(
                symbol.module,
                codes.TOOL_SIGNATURE,
                f"tool `{decl.name}` does not match `{decl.target}`: {problem}",
                decl.span,
                "declared here",
            )


def _constant_value(expr: ast.Node) -> object:
    if isinstance(expr, ast.StringLit | ast.IntLit | ast.FloatLit | ast.BoolLit):
        return expr.value
    if isinstance(expr, ast.ListLit):
        return [_constant_value(i) for i in expr.items]
    if isinstance(expr, ast.DictLit):
        return {e.key: _constant_value(e.value) for e in expr.entries}
    return None
