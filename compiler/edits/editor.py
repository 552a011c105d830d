"""The editor: edits in, valid programs out.

An `Editor` stands between edits and programs. It applies an edit only if the edited
program checks without errors (else `InvalidEdit`, whose diagnostics say why), and it
offers only such edits, so an optimizer never receives an invalid candidate. Proposals
arrive as JSON (from an LLM, a file, another process) and are refused with a diagnostic
when they name no operator, no site, or carry malformed fields.

    editor = rolegraph.editor()
    for edit in editor.applicable(module):      # every edit that keeps the program valid
        candidate = editor.apply(module, edit)
    edit = editor.from_json('{"op": "change_model", "role": "Writer", "model": "slow"}')

The editor is also the trust boundary (trust.py): before the checker sees an edited
program, the editor refuses one that brings in a tool target, an import or a model
endpoint the program did not have, unless its `TrustPolicy` allows it. `apply` and
`apply_script` both pass through `admit`, the one place where an edited program is
let in, so no route (a JSON proposal, a script, an optimizer) goes around it.
"""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from .. import ast, codes
from ..depth import loads_json
from ..diagnostics import Diagnostic
from ..paths import no_cycle_collection
from .base import Edit, EditError, InvalidEdit, error
from .constraints import AddConstraint
from .crossover import Crossover
from .diff import (
    AddDecl,
    InsertStatement,
    MoveDecl,
    MoveStatement,
    RemoveDecl,
    RemoveStatement,
    ReplaceDecl,
    ReplaceStatement,
)
from .edges import AddEdge, RemoveEdge, RewireEdge
from .nodes import BypassNode, InsertRole
from .patterns import ApplyPattern
from .refine import RefineLoop
from .replicate import ReplicateVote
from .settings import ChangeModel, ChangeRole, RewritePrompt, SetModelParam
from .trust import NOTHING_NEW, TrustPolicy, untrusted

# The operators a search draws from (each enumerates its sites).
OPERATORS: tuple[type[Edit], ...] = (
    ChangeModel,
    SetModelParam,
    RewritePrompt,
    ChangeRole,
    RemoveEdge,
    AddEdge,
    RewireEdge,
    InsertRole,
    BypassNode,
    ReplicateVote,
    RefineLoop,
    ApplyPattern,
    AddConstraint,
    Crossover,
)
# Every kind of edit, the steps of `diff` scripts included.
EDITS: tuple[type[Edit], ...] = (
    *OPERATORS,
    AddDecl,
    RemoveDecl,
    ReplaceDecl,
    MoveDecl,
    InsertStatement,
    RemoveStatement,
    ReplaceStatement,
    MoveStatement,
)

# Any edit, told apart by its `op` (the JSON form): the union of every kind above.
AnyEdit = Annotated[Union[EDITS], Field(discriminator="op")]  # type: ignore[valid-type]  # noqa: UP007
_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyEdit)
_SCRIPT: TypeAdapter[Any] = TypeAdapter(list[AnyEdit])


def op_name(operator: type[Edit]) -> str:
    return str(operator.model_fields["op"].default)


def edit_from_json(text: str, kinds: Sequence[type[Edit]] = EDITS) -> Edit:
    """Parse an edit proposal; a bad one raises `EditError` with a diagnostic. `kinds`:
    the kinds of edit accepted (default: every kind)."""
    try:
        data = loads_json(text)
    except json.JSONDecodeError as problem:
        raise error(codes.MALFORMED_EDIT, f"an edit is a JSON object: {problem}") from None
    return edit_from_data(data, kinds)


def edit_from_data(data: Any, kinds: Sequence[type[Edit]] = EDITS) -> Edit:
    names = [op_name(o) for o in kinds]
    op = data.get("op") if isinstance(data, dict) else None
    if op not in names:
        from ..resolve import did_you_mean

        known = op in [op_name(o) for o in EDITS]
        raise error(
            codes.EDIT_NOT_OFFERED if known else codes.UNKNOWN_EDIT,
            f"edit `{op}` is not one of the edits accepted here"
            if known
            else f"unknown edit operator {op!r}",
            hints=(() if known else did_you_mean(str(op), names))
            or (f"the operators: {', '.join(names)}",),
        )
    try:
        edit = _ADAPTER.validate_python(data)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise error(
            codes.MALFORMED_EDIT, f"edit `{data['op']}`: {where or 'fields'}: {first['msg']}"
        ) from None
    assert isinstance(edit, Edit)
    return edit


def _applied(edit: Edit, module: ast.Module) -> ast.Module:
    """`edit.apply(module)`, where a value the edit builds and the AST refuses (a name
    that is no identifier...) is the proposal's fault: a diagnostic, not a traceback."""
    try:
        return edit.apply(module)
    except ValueError as problem:  # (pydantic's ValidationError is one)
        first = str(problem).splitlines()
        raise error(
            codes.MALFORMED_EDIT,
            f"`{edit.op}` cannot be applied: {first[-1].strip() if first else problem}",
        ) from None


def _applied_script(script: Sequence[Edit], module: ast.Module) -> ast.Module:
    for edit in script:
        module = _applied(edit, module)
    return module


def script_to_json(script: Sequence[Edit]) -> str:
    return _SCRIPT.dump_json(list(script)).decode()


def script_from_json(text: str) -> list[Edit]:
    try:
        data = loads_json(text)
    except json.JSONDecodeError as problem:
        raise error(codes.MALFORMED_EDIT, f"a script is a JSON list: {problem}") from None
    if not isinstance(data, list):
        raise error(codes.MALFORMED_EDIT, "a script is a JSON list of edits")
    return [edit_from_data(item) for item in data]


def _uncollected() -> AbstractContextManager[None]:
    """No cyclic garbage collection while an edit is applied and checked (as in
    `check_module`), and none until the check's result is let go: a collection that ran
    while the result was still held would carry what it made into the older generations,
    whose collections walk every object of the process. Once let go, a checked program is
    freed as soon as it is (it holds no cycle: a symbol holds its module weakly,
    resolve.py). (Checking runs no code of the program's.)"""
    return no_cycle_collection()


class Editor:
    """Applies edits only where the edited program checks without errors."""

    def __init__(
        self,
        check: Callable[[ast.Module], list[Diagnostic]],
        trust: TrustPolicy = NOTHING_NEW,
        *,
        refuses: Callable[[ast.Module], bool] | None = None,
    ):
        self.check = check
        self.trust = trust
        # whether a program certainly has errors `check` would find, told sooner than it
        # finds them (`check.refused_before_checking`); never True of one `check` passes
        self.refuses = refuses
        # the sites of the programs sampled last (a search samples one parent many times)
        self._sites: OrderedDict[int, tuple[ast.Module, dict[type[Edit], list[Edit]]]] = (
            OrderedDict()
        )

    def sites(
        self, module: ast.Module, operators: Sequence[type[Edit]] = OPERATORS
    ) -> dict[type[Edit], list[Edit]]:
        """Every site of each operator on `module` (not yet checked), remembered for the
        last few programs asked about."""
        found = self._sites.get(id(module))
        if found is None or found[0] is not module:
            found = (module, {})
            self._sites[id(module)] = found
            if len(self._sites) > 16:
                self._sites.popitem(last=False)
        self._sites.move_to_end(id(module))
        known = found[1]
        for operator in operators:
            if operator not in known:
                known[operator] = list(operator.sites(module))
        return {operator: known[operator] for operator in operators}

    def validate(self, edited: ast.Module, what: str) -> ast.Module:
        if self.refuses is not None and self.refuses(edited):
            raise InvalidEdit(partial(self._refused, edited, what))  # (why: when asked)
        refusal = self.refusal(edited, what)
        if refusal:
            raise InvalidEdit(refusal)
        return edited

    def refusal(self, edited: ast.Module, what: str) -> list[Diagnostic]:
        """Why `what`, which makes `edited`, is refused: the check's errors (the first five,
        as notes); nothing when it checks."""
        errors = [d for d in self.check(edited) if d.is_error]
        if not errors:
            return []
        notes = tuple(str(e) for e in errors[:5])
        return error(
            codes.EDIT_BREAKS_PROGRAM, f"{what} would not check here", notes=notes
        ).diagnostics

    def _refused(self, edited: ast.Module, what: str) -> list[Diagnostic]:
        """`refusal`, of a program `refuses` refused: never nothing (that would be an
        edit lost that checks, a fault of `refuses`, said so rather than left wordless)."""
        refusal = self.refusal(edited, what)
        if not refusal:
            raise AssertionError(f"{what} was refused before checking, but it checks")
        return refusal

    def apply(self, module: ast.Module, edit: Edit) -> ast.Module:
        return self._apply(module, edit, None)

    def _apply(
        self, module: ast.Module, edit: Edit, checked: Callable[[ast.Module], bool] | None
    ) -> ast.Module:
        with _uncollected():
            return self._apply_edit(module, edit, checked)

    def _apply_edit(
        self, module: ast.Module, edit: Edit, checked: Callable[[ast.Module], bool] | None
    ) -> ast.Module:
        edited = _applied(edit, module)
        if edited == module:
            raise error(codes.NO_SUCH_SITE, f"`{edit.op}` changes nothing here")
        if checked is not None and checked(edited):  # the same program checked before
            refused = untrusted(module, edited, self.trust)
            if refused:
                raise EditError(refused)
            return edited
        return self.admit(module, edited, f"`{edit.op}`")

    def apply_script(self, module: ast.Module, script: Sequence[Edit]) -> ast.Module:
        """Apply every step, then check the result (steps in between need not check)."""
        with _uncollected():
            return self.admit(module, _applied_script(script, module), "the script")

    def admit(self, original: ast.Module, edited: ast.Module, what: str) -> ast.Module:
        """`edited`, made from `original` by `what`, if it brings in nothing the trust
        policy forbids and it checks. Trust comes first: checking imports tools."""
        refused = untrusted(original, edited, self.trust)
        if refused:
            raise EditError(refused)
        return self.validate(edited, what)

    def applicable(
        self, module: ast.Module, operators: Iterable[type[Edit]] = OPERATORS
    ) -> Iterator[Edit]:
        """Every edit of the given operators that keeps `module` free of errors."""
        for operator in operators:
            for edit in operator.sites(module):
                if self.accepts(module, edit):
                    yield edit

    def accepts(self, module: ast.Module, edit: Edit) -> bool:
        try:
            self.apply(module, edit)
        except EditError:
            return False
        return True

    def sample(
        self,
        module: ast.Module,
        rng: random.Random,
        operators: Sequence[type[Edit]] = OPERATORS,
        tries: int = 64,
        *,
        checked: Callable[[ast.Module], bool] | None = None,
    ) -> tuple[Edit, ast.Module] | None:
        """A random valid edit and its result: a random operator, then a random site of
        it, until one checks (None if `tries` candidates in a row did not).

        `checked`: whether a program is one known to check (a search's candidates
        evaluated before); such a result is not checked again (the trust policy still
        applies), which spares a search most of its checking: most draws remake a
        program it has seen."""
        sites = self.sites(module, operators)
        choices = [operator for operator in operators if sites[operator]]
        for _ in range(tries):
            if not choices:
                return None
            edit = rng.choice(sites[rng.choice(choices)])
            try:
                return edit, self._apply(module, edit, checked)
            except EditError:
                continue
        return None

    def from_json(self, text: str, kinds: Sequence[type[Edit]] = EDITS) -> Edit:
        """An edit proposal parsed (`kinds`: the kinds accepted); applying it is `apply`."""
        return edit_from_json(text, kinds)
