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
"""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from .. import ast, codes
from ..depth import loads_json
from ..diagnostics import Diagnostic, diagnostic
from .base import Edit, EditError, InvalidEdit, error
from .crossover import Crossover
from .diff import (
    AddDecl,
    InsertStatement,
    MoveDecl,
    RemoveDecl,
    RemoveStatement,
    ReplaceDecl,
    apply_script,
)
from .settings import ChangeModel, ChangeRole, RewritePrompt, SetModelParam
from .structure import (
    AddConstraint,
    AddEdge,
    ApplyPattern,
    BypassNode,
    InsertRole,
    RefineLoop,
    RemoveEdge,
    ReplicateVote,
    RewireEdge,
)

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
)

# Any edit, told apart by its `op` (the JSON form): the union of every kind above.
AnyEdit = Annotated[Union[EDITS], Field(discriminator="op")]  # type: ignore[valid-type]  # noqa: UP007
_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyEdit)
_SCRIPT: TypeAdapter[Any] = TypeAdapter(list[AnyEdit])


def op_name(operator: type[Edit]) -> str:
    return str(operator.model_fields["op"].default)


def edit_from_json(text: str) -> Edit:
    """Parse an edit proposal; a bad one raises `EditError` with a diagnostic."""
    try:
        data = loads_json(text)
    except json.JSONDecodeError as problem:
        raise error(codes.MALFORMED_EDIT, f"an edit is a JSON object: {problem}") from None
    return edit_from_data(data)


def edit_from_data(data: Any) -> Edit:
    names = [op_name(o) for o in EDITS]
    if not isinstance(data, dict) or data.get("op") not in names:
        op = data.get("op") if isinstance(data, dict) else None
        from ..resolve import did_you_mean

        raise error(
            codes.UNKNOWN_EDIT,
            f"unknown edit operator {op!r}",
            hints=did_you_mean(str(op), names) or (f"the operators: {', '.join(names)}",),
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise error(
            codes.MALFORMED_EDIT, f"edit `{data['op']}`: {where or 'fields'}: {first['msg']}"
        ) from None


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


class Editor:
    """Applies edits only where the edited program checks without errors."""

    def __init__(self, check: Callable[[ast.Module], list[Diagnostic]]):
        self.check = check
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
        errors = [d for d in self.check(edited) if d.is_error]
        if errors:
            raise InvalidEdit(
                [
                    diagnostic(
                        codes.EDIT_BREAKS_PROGRAM,
                        f"{what} would not check here",
                        file="<edit>",
                        notes=tuple(str(e) for e in errors[:5]),
                    )
                ]
            )
        return edited

    def apply(self, module: ast.Module, edit: Edit) -> ast.Module:
        edited = edit.apply(module)
        if edited == module:
            raise error(codes.NO_SUCH_SITE, f"`{edit.op}` changes nothing here")
        return self.validate(edited, f"`{edit.op}`")

    def apply_script(self, module: ast.Module, script: Sequence[Edit]) -> ast.Module:
        """Apply every step, then check the result (steps in between need not check)."""
        return self.validate(apply_script(module, script), "the script")

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
    ) -> tuple[Edit, ast.Module] | None:
        """A random valid edit and its result: a random operator, then a random site of
        it, until one checks (None if `tries` candidates in a row did not)."""
        sites = self.sites(module, operators)
        choices = [operator for operator in operators if sites[operator]]
        for _ in range(tries):
            if not choices:
                return None
            edit = rng.choice(sites[rng.choice(choices)])
            try:
                return edit, self.apply(module, edit)
            except EditError:
                continue
        return None

    def from_json(self, text: str) -> Edit:
        return edit_from_json(text)
