"""The compiler, as search uses it: parse a candidate's source, check it, take the IR of
one of its agents, and an editor whose edits are checked the same way. Search imports
the compiler here, not through the `rolegraph` facade (which is for users).

    module = parse(text, "x.agent")
    ir = agent_ir(module, "x.agent", agent=None)       # the last agent when None
    editor = program_editor("x.agent", root=None, trust=None)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.check import CheckedModule, check_module
from rolegraph.compiler.diagnostics import DiagnosticError
from rolegraph.compiler.edits import Editor, TrustPolicy
from rolegraph.compiler.identity import IdentityTable
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.printer import to_source
from rolegraph.compiler.source import Source
from rolegraph.grammar import parse_module
from rolegraph.grammar.imports import parse_import


class NoAgent(ValueError):
    """The program declares no agent, or not the one asked for."""


def parse(text: str, filename: str) -> ast.Module:
    """`text` as a module; `DiagnosticError` listing every syntax error."""
    result = parse_module(text, filename)
    if result.module is None:
        raise DiagnosticError(result.diagnostics, result.source)
    return result.module


def check(
    module: ast.Module,
    filename: str,
    root: str | Path | None = None,
    *,
    explore: bool = True,
    session: CheckSession | None = None,
    errors_only: bool = False,
) -> CheckedModule:
    """`module` checked; with `session` (made for `filename` and `root`), incrementally
    against the programs that session checked before (compiler/incremental.py).
    `errors_only`: its errors and its IRs only, no warnings (less to do)."""
    if session is not None:
        return session.check(module, explore=explore, errors_only=errors_only, irs=True)
    return check_module(
        module,
        filename,
        parse_import,
        explore=explore,
        root=root,
        errors_only=errors_only,
        irs=True,
    )


# id(module) → the module without its tests, while the module lives: a candidate is
# asked for without its tests by its editor's check, the evaluator, the test pass and
# the proven `ensure`s, and each would make a program of its own. An AST is never changed
# in place, so one is made per module (an entry goes as its module goes, before its
# address can be reused: compiler/identity.py).
_BARE: IdentityTable[int, ast.Module] = IdentityTable(cap=1024)


def without_tests(module: ast.Module) -> ast.Module:
    """The program without its `test` blocks: what runs, and what the search checks (a
    candidate's tests are judged apart, after its edit: search/tests_kept.py). One
    program while `module` lives (see `_BARE`)."""
    bare = _BARE.get(id(module))
    if bare is not None:
        return bare
    if not module.tests:
        return module
    decls = tuple(d for d in module.decls if not isinstance(d, ast.TestDecl))
    return _BARE.keep(id(module), module.with_changes(decls=decls), module)


def agent_ir(
    module: ast.Module,
    filename: str,
    agent: str | None,
    root: str | Path | None = None,
    session: CheckSession | None = None,
) -> Any:
    """The IR of `agent` (the last one declared when None); `DiagnosticError` when the
    module has errors, `NoAgent` when it has no such agent. With `session`, a candidate
    its editor admitted is not checked again: the IRs of the editor's check are taken."""
    bare = without_tests(module)
    checked = (
        session.runnable(bare)
        if session is not None
        else check(bare, filename, root, explore=False)
    )
    if checked.errors:
        raise DiagnosticError(checked.errors, Source(filename, to_source(module)))
    if not checked.irs:
        raise NoAgent("the candidate declares no agent")
    if agent is None:
        return list(checked.irs.values())[-1]
    if agent not in checked.irs:
        raise NoAgent(f"the candidate has no agent `{agent}`; it has: {', '.join(checked.irs)}")
    return checked.irs[agent]


def load_agent(text: str, name: str, agent: str) -> Any:
    """The IR of `agent` in a program search writes itself (a proposer)."""
    return agent_ir(parse(text, name), name, agent)


def program_editor(
    filename: str,
    root: str | Path | None = None,
    trust: TrustPolicy | None = None,
    session: CheckSession | None = None,
) -> Editor:
    """An editor whose edits must leave a program with no errors (imports resolved
    relative to `filename`, inside `root`); `trust`: what edits may bring in (default:
    nothing the program does not have). Its `test` blocks are not checked here: an edit
    that makes one stale is not refused for it (search/tests_kept.py decides). Candidates
    are checked in `session` (a new one when None): each against those checked before,
    and with the IRs it runs with, which an evaluator in `session` then takes."""
    checks = session if session is not None else CheckSession(filename, root=root)

    def errors(module: ast.Module) -> list[Any]:
        return checks.check(without_tests(module), errors_only=True, irs=True).diagnostics

    return Editor(errors) if trust is None else Editor(errors, trust)
