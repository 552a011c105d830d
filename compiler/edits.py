"""Typed edits of the AST: the API optimizers build on (DESIGN §7).

An edit is a value: a small frozen pydantic model with an `op` tag, serializable to JSON,
so an LLM can propose one and the checker decides. Each operator enumerates the places
where it applies (`sites`), and `apply` returns a new AST. An `Editor` stands between
edits and programs: it applies an edit only if the edited program checks without errors
(else `InvalidEdit`, whose diagnostics say why), and lists only the edits that do, so an
optimizer never receives an invalid candidate.

    editor = Editor(check)                      # check: Module -> list[Diagnostic]
    for edit in editor.applicable(module):      # every edit that keeps the program valid
        candidate = editor.apply(module, edit)
    edit = editor.from_json('{"op": "change_model", "role": "Writer", "model": "slow"}')

This is the first slice of the operators of issue 6; the others (insert a role on an
edge, bypass a node, replicate + vote, refine loop, rewire, apply a pattern, crossover)
and `diff(a, b)` build on the same `Edit` / `Editor` contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from . import ast, codes
from .diagnostics import Diagnostic, diagnostic

TEMPERATURES = (0.0, 0.3, 0.7, 1.0)  # the values `set_model_param` proposes for temperature


class EditError(Exception):
    """An edit that cannot be applied; `diagnostics` say why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


class InvalidEdit(EditError):
    """An edit whose result would not check."""


def _error(code: str, message: str, hints: tuple[str, ...] = (), notes=()) -> EditError:
    return EditError([diagnostic(code, message, file="<edit>", hints=hints, notes=notes)])


class Edit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    op: str
    operator: ClassVar[str] = ""

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        """Every concrete edit of this operator on `module` (not yet checked)."""
        raise NotImplementedError  # pragma: no cover - every operator defines it

    def apply(self, module: ast.Module) -> ast.Module:
        raise NotImplementedError  # pragma: no cover - every operator defines it

    def to_json(self) -> str:
        return self.model_dump_json()


def _decl(module: ast.Module, name: str, kind: type[ast.Node], what: str) -> Any:
    found = module.decl(name)
    if not isinstance(found, kind):
        names = [getattr(d, "name", "") for d in module.decls if isinstance(d, kind)]
        from .resolve import did_you_mean

        raise _error(
            codes.NO_SUCH_SITE,
            f"no {what} `{name}` in this program",
            hints=did_you_mean(name, names) or (f"its {what}s: {', '.join(names)}",),
        )
    return found


def _replace(module: ast.Module, old: ast.Node, new: ast.Node) -> ast.Module:
    return module.with_changes(decls=tuple(new if d is old else d for d in module.decls))


class ChangeModel(Edit):
    """Give a role another of the program's models."""

    op: Literal["change_model"] = "change_model"
    role: str
    model: str

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        models = [d.name for d in module.decls if isinstance(d, ast.ModelDecl)]
        for role in module.roles:
            current = role.model.name if role.model else None
            for model in models:
                if model != current:
                    yield cls(role=role.name, model=model)

    def apply(self, module: ast.Module) -> ast.Module:
        role = _decl(module, self.role, ast.RoleDecl, "role")
        _decl(module, self.model, ast.ModelDecl, "model")
        params = role.model.params if role.model else ()
        return _replace(
            module, role, role.with_changes(model=ast.ModelUse(name=self.model, params=params))
        )


class SetModelParam(Edit):
    """Set a parameter of a model declaration (temperature, max_tokens, ...)."""

    op: Literal["set_model_param"] = "set_model_param"
    model: str
    name: str
    value: float | int | str | bool

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        for model in module.decls:
            if not isinstance(model, ast.ModelDecl):
                continue
            current = {p.name: ast.constant_value(p.value) for p in model.params}
            for value in TEMPERATURES:
                if current.get("temperature") != value:
                    yield cls(model=model.name, name="temperature", value=value)

    def apply(self, module: ast.Module) -> ast.Module:
        model = _decl(module, self.model, ast.ModelDecl, "model")
        literal = _literal(self.value)
        params = [p for p in model.params if p.name != self.name]
        params.append(ast.ModelParam(name=self.name, value=literal))
        order = [p.name for p in model.params]
        params.sort(key=lambda p: order.index(p.name) if p.name in order else len(order))
        return _replace(module, model, model.with_changes(params=tuple(params)))


def _literal(value: Any) -> ast.StringLit | ast.IntLit | ast.FloatLit | ast.BoolLit:
    if isinstance(value, bool):
        return ast.BoolLit(value=value)
    if isinstance(value, int):
        return ast.IntLit(value=value)
    if isinstance(value, float):
        return ast.FloatLit(value=value)
    return ast.StringLit(value=str(value))


class RewritePrompt(Edit):
    """Replace a role's prompt (the new text usually comes from an LLM: no sites)."""

    op: Literal["rewrite_prompt"] = "rewrite_prompt"
    role: str
    text: str

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        return iter(())

    def apply(self, module: ast.Module) -> ast.Module:
        role = _decl(module, self.role, ast.RoleDecl, "role")
        return _replace(module, role, role.with_changes(prompt=ast.Prompt(text=self.text)))


class ChangeRole(Edit):
    """Make a node of an agent call another role (one that fits its arguments)."""

    op: Literal["change_role"] = "change_role"
    agent: str
    node: str
    role: str

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        roles = [r.name for r in module.roles]
        for agent in module.agents:
            for node in agent.nodes:
                for role in roles:
                    if role != node.role:
                        yield cls(agent=agent.name, node=node.name, role=role)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = _decl(module, self.agent, ast.AgentDecl, "agent")
        node = agent.node(self.node)
        if node is None:
            raise _error(codes.NO_SUCH_SITE, f"agent `{self.agent}` has no node `{self.node}`")
        body = tuple(s.with_changes(role=self.role) if s is node else s for s in agent.body)
        return _replace(module, agent, agent.with_changes(body=body))


class RemoveEdge(Edit):
    """Remove an explicit edge of an agent (by its position among the agent's edges)."""

    op: Literal["remove_edge"] = "remove_edge"
    agent: str
    index: int

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        for agent in module.agents:
            for index in range(len(agent.edges)):
                yield cls(agent=agent.name, index=index)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = _decl(module, self.agent, ast.AgentDecl, "agent")
        edges = agent.edges
        if not 0 <= self.index < len(edges):
            raise _error(
                codes.NO_SUCH_SITE,
                f"agent `{self.agent}` has {len(edges)} edges, not an edge {self.index}",
            )
        doomed = edges[self.index]
        body = tuple(s for s in agent.body if s is not doomed)
        return _replace(module, agent, agent.with_changes(body=body))


OPERATORS: tuple[type[Edit], ...] = (
    ChangeModel,
    SetModelParam,
    RewritePrompt,
    ChangeRole,
    RemoveEdge,
)
AnyEdit = Annotated[
    ChangeModel | SetModelParam | RewritePrompt | ChangeRole | RemoveEdge, Field(discriminator="op")
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyEdit)


def edit_from_json(text: str) -> Edit:
    """Parse an edit proposal; a bad one raises `EditError` with a diagnostic."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _error(codes.MALFORMED_EDIT, f"an edit is a JSON object: {error}") from None
    names = [o.model_fields["op"].default for o in OPERATORS]
    if not isinstance(data, dict) or data.get("op") not in names:
        op = data.get("op") if isinstance(data, dict) else None
        from .resolve import did_you_mean

        raise _error(
            codes.UNKNOWN_EDIT,
            f"unknown edit operator {op!r}",
            hints=did_you_mean(str(op), names) or (f"the operators: {', '.join(names)}",),
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(p) for p in problem["loc"][1:])
        raise _error(
            codes.MALFORMED_EDIT, f"edit `{data['op']}`: {where or 'fields'}: {problem['msg']}"
        ) from None


class Editor:
    """Applies edits only where the edited program checks without errors."""

    def __init__(self, check: Callable[[ast.Module], list[Diagnostic]]):
        self.check = check

    def apply(self, module: ast.Module, edit: Edit) -> ast.Module:
        edited = edit.apply(module)
        errors = [d for d in self.check(edited) if d.is_error]
        if errors:
            raise InvalidEdit(
                [
                    diagnostic(
                        codes.EDIT_BREAKS_PROGRAM,
                        f"`{edit.op}` would not check here",
                        file="<edit>",
                        notes=tuple(str(e) for e in errors[:5]),
                    )
                ]
            )
        return edited

    def applicable(self, module: ast.Module) -> Iterator[Edit]:
        """Every edit of every operator that keeps `module` free of errors."""
        for operator in OPERATORS:
            for edit in operator.sites(module):
                try:
                    self.apply(module, edit)
                except EditError:
                    continue
                yield edit

    def from_json(self, text: str) -> Edit:
        return edit_from_json(text)
