"""Checking programs made from one another by edits, reusing what they share.

A `CheckSession` checks a series of programs, each usually an edit or two away from one
it checked before — an editor's candidates, a search's — with one memo (memo.py) and one
cache of parsed imports. What an edit did not touch is not checked again: a role in an
unchanged environment, an agent's statements that read nothing the edit changed, the
graph analyses and the explorer of an agent whose graph is the same objects (errors-only
checks). What a session says of a program is what `check_module` says of it, diagnostic
for diagnostic and IR for IR (tests/test_incremental_check.py holds it to that).

    session = CheckSession("flow.agent")
    parent = session.check(module)
    child = check_edited(parent, edit)     # `edit` applied to the parent, checked
    if not child.errors:
        ir = child.irs["Flow"]

A search checks each new candidate once: its editor asks for the errors and the IRs
together (`check(module, errors_only=True, irs=True)`), and its evaluator takes the IRs
of that check (`runnable(module)`) instead of checking the candidate again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import ast
from .check import CheckedModule, check_module
from .memo import CheckMemo

if TYPE_CHECKING:
    from .edits.base import Edit


def _parse_import(source: str, name: str) -> tuple[ast.Module | None, Any]:
    # (imported here: the checker does not load the parser until a program imports a file)
    from rolegraph.grammar.imports import parse_import

    return parse_import(source, name)


class CheckSession:
    """Checks programs with one memo and one cache of parsed imports (see the module's
    docstring). `filename`: where the programs live (file imports resolve beside it,
    inside `root`). Not for several threads at once."""

    RUNNABLE = 16  # the clean errors-only checks with IRs kept for `runnable` (the latest)

    def __init__(self, filename: str = "<edited>", *, root: str | Path | None = None):
        self.filename = filename
        self.root = root
        self.memo = CheckMemo()
        self.parse: Callable[[str, str], Any] = _parse_import  # (cached per text there)
        # the latest clean errors-only checks that built IRs, by their declarations
        self._runnable: OrderedDict[tuple[int, ...], tuple[ast.Module, CheckedModule]] = (
            OrderedDict()
        )

    def check(
        self,
        module: ast.Module,
        *,
        explore: bool = True,
        errors_only: bool = False,
        irs: bool = False,
    ) -> CheckedModule:
        """`check_module(module, ...)` with this session's memo and imports: the same
        diagnostics, IRs and verdicts, sooner when `module` shares parts with a program
        checked before. (`explore`, `errors_only`, `irs`: as for `check_module`.)"""
        checked = check_module(
            module,
            self.filename,
            self.parse,
            "",
            explore=explore,
            errors_only=errors_only,
            memo=self.memo,
            root=self.root,
            irs=irs,
        )
        checked.session = self
        if errors_only and irs and explore and not checked.errors:
            key = _declarations(module)
            self._runnable[key] = (module, checked)  # (holding it: the ids stay its decls')
            self._runnable.move_to_end(key)
            if len(self._runnable) > self.RUNNABLE:
                self._runnable.popitem(last=False)
        return checked

    def found_clean(self, module: ast.Module) -> bool:
        """Whether this session found `module` (the same declarations, by identity) free
        of errors lately in an errors-only check that explored it and built its IRs (an
        editor's: the checks `runnable` answers from)."""
        return _declarations(module) in self._runnable

    def runnable(self, module: ast.Module) -> CheckedModule:
        """`module`'s errors and the IRs its agents run with: what `check(module,
        explore=False)` says of them. A program this session found clean lately in an
        errors-only check that built IRs (an editor's, `irs=True`), with the same
        declarations (the same objects), is not checked again: that check's IRs are
        given, with no diagnostics (it had no errors, and the check that explores finds
        every error the one that does not finds; it reported no warnings)."""
        found = self._runnable.get(_declarations(module))
        if found is None:
            return self.check(module, explore=False)
        self._runnable.move_to_end(_declarations(module))
        return found[1]


def _declarations(module: ast.Module) -> tuple[int, ...]:
    """What a remembered check is found by: its module's declarations, by identity (an
    AST is never changed in place; a module with other declarations is another program)."""
    return tuple(map(id, module.decls))


def check_edited(
    parent: CheckedModule, edit: Edit, *, explore: bool = True, errors_only: bool = False
) -> CheckedModule:
    """The check of the program `edit` makes from `parent`'s, reusing what `parent`'s check
    learnt: only what the edit touched is checked again. `parent` comes from
    `CheckSession.check` or `check_edited` (one checked otherwise starts a new session,
    which then checks everything once). The result equals
    `check_module(edit.apply(parent_module), ...)`; its `program.main.module` is the edited
    program. Raises `EditError` when the edit does not fit the program (as `Edit.apply`).

    A search that evaluates a child of a checked candidate calls this instead of checking
    the child from scratch; `errors_only=True, explore=True` is what an editor asks (is the
    child valid?), `explore=False` what an evaluator asks (its IRs, to run)."""
    session = parent.session
    if not isinstance(session, CheckSession):
        session = CheckSession(parent.program.main.filename, root=parent.program.main.root)
    edited = edit.apply(parent.program.main.module)
    return session.check(edited, explore=explore, errors_only=errors_only)
