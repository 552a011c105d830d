"""Edits of an agent's nodes: insert a role on an edge (`writer -> critic -> ...`),
and bypass a node (its readers read what it read)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from .. import ast
from ..printer import to_source
from ..queries import agent_names, fires, mentions, node_deps, output_type
from .base import (
    Edit,
    bind_args,
    find_agent,
    find_decl,
    find_node,
    fresh,
    no_site,
    rename_refs,
    snake,
    with_body,
)


class InsertRole(Edit):
    """Put a new node calling `role` between `source` and the node `target` that reads it:
    the new node takes the source's output, and the target reads the new node's."""

    op: Literal["insert_role"] = "insert_role"
    agent: str
    source: str
    target: str
    role: str
    name: str = ""
    summary = "insert a node calling a role on the data edge from one node to another"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        # Roles that take and give the source's type (revisers, checkers, polishers):
        # what flows on the edge keeps its type, so every reader keeps working.
        # (each role's result and parameter types printed once a call, not once an edge;
        # a role that takes no parameter of its result's type fits no edge: with no role
        # that does, there is no site, and the edges are not looked at)
        revisers = [
            (role, returns)
            for role in module.roles
            if (returns := to_source(role.returns)) in [to_source(p.type) for p in role.params]
        ]
        if not revisers:
            return
        for agent in module.agents:
            by_name = {n.name: n for n in agent.nodes}
            for target in agent.nodes:
                for source in node_deps(agent, target):
                    kind = output_type(module, by_name[source])
                    for role, returns in revisers:
                        if returns == kind:
                            yield cls(
                                agent=agent.name, source=source, target=target.name, role=role.name
                            )

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        target = find_node(agent, self.target)
        source = find_node(agent, self.source)
        if source.name not in node_deps(agent, target):
            raise no_site(f"`{self.target}` does not read `{self.source}`: no edge between them")
        role = find_decl(module, self.role, ast.RoleDecl, "role")
        taken = agent_names(module, agent)
        name = self.name or fresh(taken, snake(role.name))
        if name in taken:
            raise no_site(f"the name `{name}` is taken in agent `{agent.name}`")
        kind = output_type(module, source)
        params = list(role.params)
        slot = next((p for p in params if to_source(p.type) == kind), None)
        slot = slot or next((p for p in params if p.default is None), None)
        if slot is None:
            raise no_site(f"role `{role.name}` has no parameter to take `{source.name}`")
        args = bind_args(agent, params, {slot.name: ast.Ref.of(source.name)}, {}, role.name)
        new_node = ast.NodeDecl(name=name, role=role.name, args=args)
        reader = target.with_changes(
            args=tuple(rename_refs(arg, source.name, name) for arg in target.args)
        )
        body: list[ast.Node] = []
        for statement in agent.body:
            body += [new_node, reader] if statement is target else [statement]
        return with_body(module, agent, body)


class BypassNode(Edit):
    """Remove a node that reads exactly one other node: whatever read it reads that node."""

    op: Literal["bypass_node"] = "bypass_node"
    agent: str
    node: str
    summary = "remove a node, its readers reading its one input instead"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        for agent in module.agents:
            for node in agent.nodes:
                if len(node_deps(agent, node)) == 1 and not any(
                    mentions(c, node.name) for c in agent.constraints
                ):
                    yield cls(agent=agent.name, node=node.name)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        deps = node_deps(agent, node)
        if len(deps) != 1:
            raise no_site(f"`{self.node}` reads {len(deps)} nodes; a bypassed node reads one")
        if any(mentions(c, node.name) for c in agent.constraints):
            raise no_site(f"a constraint names `{self.node}`: bypassing it would drop it")
        (upstream,) = deps
        body = []
        for statement in agent.body:
            if statement is node:
                continue
            if isinstance(statement, ast.EdgeDecl) and fires(statement, node.name):
                continue  # edges that re-fire the bypassed node go with it
            body.append(rename_refs(statement, node.name, upstream))
        return with_body(module, agent, body)
