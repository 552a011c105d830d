"""Edits of what roles are, not of how they are wired: models, parameters, prompts, and
which role a node calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from .. import ast
from .base import (
    Edit,
    find_agent,
    find_decl,
    find_node,
    literal,
    replace_decl,
    replace_statement,
)

TEMPERATURES = (0.0, 0.3, 0.7, 1.0)  # the values `set_model_param` proposes for temperature


class ChangeModel(Edit):
    """Give a role another of the program's models."""

    op: Literal["change_model"] = "change_model"
    role: str
    model: str
    summary = "give a role another declared model"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        models = [d.name for d in module.decls if isinstance(d, ast.ModelDecl)]
        for role in module.roles:
            current = role.model.name if role.model else None
            for model in models:
                if model != current:
                    yield cls(role=role.name, model=model)

    def apply(self, module: ast.Module) -> ast.Module:
        role = find_decl(module, self.role, ast.RoleDecl, "role")
        find_decl(module, self.model, ast.ModelDecl, "model")
        params = role.model.params if role.model else ()
        new = role.with_changes(model=ast.ModelUse(name=self.model, params=params))
        return replace_decl(module, role, new)


class SetModelParam(Edit):
    """Set a parameter of a model declaration (temperature, max_tokens, ...)."""

    op: Literal["set_model_param"] = "set_model_param"
    model: str
    name: str
    value: float | int | str | bool
    summary = "set a parameter (temperature, max_tokens...) of a model declaration"

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
        model = find_decl(module, self.model, ast.ModelDecl, "model")
        params = [p for p in model.params if p.name != self.name]
        params.append(ast.ModelParam(name=self.name, value=literal(self.value)))
        order = [p.name for p in model.params]
        params.sort(key=lambda p: order.index(p.name) if p.name in order else len(order))
        return replace_decl(module, model, model.with_changes(params=tuple(params)))


class RewritePrompt(Edit):
    """Replace a role's prompt (the new text comes from an LLM or a person: no sites)."""

    op: Literal["rewrite_prompt"] = "rewrite_prompt"
    role: str
    text: str
    summary = "replace a role's prompt template (jinja2, the role's parameters in scope)"
    enumerable = False

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        return iter(())

    def apply(self, module: ast.Module) -> ast.Module:
        role = find_decl(module, self.role, ast.RoleDecl, "role")
        return replace_decl(module, role, role.with_changes(prompt=ast.Prompt(text=self.text)))


class ChangeRole(Edit):
    """Make a node of an agent call another role (one that fits its arguments)."""

    op: Literal["change_role"] = "change_role"
    agent: str
    node: str
    role: str
    summary = "make a node call another role"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        roles = {r.name: r for r in module.roles}
        for agent in module.agents:
            # the ports each node's incoming edges pass, in the edges' order: one pass over
            # the edges an agent, not one a node
            ports_of: dict[str, list[ast.Arg]] = {}
            for edge in agent.edges:
                if isinstance(edge.target, ast.NodeTarget):
                    ports_of.setdefault(edge.target.node, []).extend(edge.target.ports)
            for node in agent.nodes:
                if isinstance(module.decl(node.role), ast.HumanDecl):
                    continue  # a person's step is not for a search to hand to a model
                current = _callee_signature(module, agent, node)
                ports = ports_of.get(node.name, [])
                for name, role in roles.items():
                    if name == node.role:
                        continue
                    if current is None or fits(node, ports, current, (role.params, role.returns)):
                        yield cls(agent=agent.name, node=node.name, role=name)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        return replace_statement(module, agent, node, node.with_changes(role=self.role))


Signature = tuple[tuple[ast.Param, ...], ast.Node]  # parameters and result, as declared


def _callee_signature(
    module: ast.Module, agent: ast.AgentDecl, node: ast.NodeDecl
) -> Signature | None:
    """What the node calls, as declared: a role, tool or agent of this module, or a role
    parameter with a signature; None when the declarations do not tell (an imported
    callee, a role parameter without one)."""
    for ct in agent.ct_params:
        if ct.name == node.role:
            sig = ct.type
            if isinstance(sig, ast.RoleSig) and sig.params is not None and sig.returns:
                return sig.params, sig.returns
            return None
    decl = module.decl(node.role)
    if isinstance(decl, ast.RoleDecl | ast.ToolDecl | ast.HumanDecl | ast.AgentDecl) and not (
        isinstance(decl, ast.AgentDecl) and decl.ct_params
    ):
        return decl.params, decl.returns
    return None


def fits(node: ast.NodeDecl, ports: list[ast.Arg], current: Signature, other: Signature) -> bool:
    """Whether a role of signature `other` can stand in for what a node calls, as far as
    declarations tell: it returns the same type, takes what the node and the edges into
    it pass as the current callee takes it (same types), and needs nothing they do not
    pass. (What the checker would accept besides, say an `int` where a `float` is read,
    an edit proposed by hand still may do; sites keep to what surely fits.)"""
    (mine_params, mine_returns), (their_params, their_returns) = current, other
    if their_returns != mine_returns:
        return False
    mine = {p.name: p.type for p in mine_params}
    theirs = {p.name: p.type for p in their_params}

    def taken_alike(name: str | None) -> bool:
        return name in mine and name in theirs and mine[name] == theirs[name]

    passed: list[str | None] = []
    for index, arg in enumerate(node.args):
        if arg.name is None:  # positional: the same type at the same place
            if index >= min(len(mine_params), len(their_params)):
                return False
            if their_params[index].type != mine_params[index].type:
                return False
            passed.append(their_params[index].name)
        elif taken_alike(arg.name):
            passed.append(arg.name)
        else:
            return False
    for port in ports:
        if not taken_alike(port.name):
            return False
        passed.append(port.name)
    return all(p.default is not None or p.name in passed for p in their_params)
