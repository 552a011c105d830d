"""Edits of an agent's edges: remove, add and rewire a control edge."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from .. import ast, codes
from ..queries import ancestors, output_type, record_fields
from .base import (
    Edit,
    error,
    find_agent,
    find_node,
    insert_edges,
    no_site,
    parse_statement,
    with_body,
)


class RemoveEdge(Edit):
    """Remove an explicit edge of an agent (by its position among the agent's edges)."""

    op: Literal["remove_edge"] = "remove_edge"
    agent: str
    index: int
    summary = "remove an explicit edge (by its position among the agent's edges)"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        for agent in module.agents:
            for index in range(len(agent.edges)):
                yield cls(agent=agent.name, index=index)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        doomed = _edge(agent, self.index)
        return with_body(module, agent, (s for s in agent.body if s is not doomed))


def _edge(agent: ast.AgentDecl, index: int) -> ast.EdgeDecl:
    edges = agent.edges
    if not 0 <= index < len(edges):
        raise no_site(f"agent `{agent.name}` has {len(edges)} edges, not an edge {index}")
    return edges[index]


class AddEdge(Edit):
    """Add an explicit edge, written as source: `critic -> writer when not critic.ok max 2`."""

    op: Literal["add_edge"] = "add_edge"
    agent: str
    edge: str
    summary = "add an explicit edge, given as source text (`a -> b when GUARD max N`)"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        # Bounded loops back to a node upstream, guarded by each bool field of the source
        # (or not guarded, once): the retry and revise loops of the literature.
        for agent in module.agents:
            existing = {
                (e.source, e.target.node)
                for e in agent.edges
                if isinstance(e.target, ast.NodeTarget)
            }
            for source in agent.nodes:
                flags = [
                    f
                    for f, t in record_fields(module, output_type(module, source)).items()
                    if t == "bool"
                ]
                for target in sorted(ancestors(agent, source.name)):
                    if (source.name, target) in existing:
                        continue
                    for flag in flags:
                        guard = f"when not {source.name}.{flag} "
                        yield cls(agent=agent.name, edge=f"{source.name} -> {target} {guard}max 2")
                    if not flags:
                        yield cls(agent=agent.name, edge=f"{source.name} -> {target} max 1")

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        edge = parse_statement(self.edge, "the edge")
        if not isinstance(edge, ast.EdgeDecl):
            raise error(codes.MALFORMED_EDIT, f"not an edge: {self.edge!r}")
        if agent.node(edge.source) is None:
            raise no_site(f"agent `{agent.name}` has no node `{edge.source}`")
        return with_body(module, agent, insert_edges(agent.body, edge))


class RewireEdge(Edit):
    """Point an explicit edge at another node (keeping the ports its callee takes)."""

    op: Literal["rewire_edge"] = "rewire_edge"
    agent: str
    index: int
    target: str
    summary = "point an explicit edge at another node"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        for agent in module.agents:
            for index, edge in enumerate(agent.edges):
                if isinstance(edge.target, ast.NodeTarget):
                    for node in agent.nodes:
                        if node.name != edge.target.node:
                            yield cls(agent=agent.name, index=index, target=node.name)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        edge = _edge(agent, self.index)
        find_node(agent, self.target)
        if not isinstance(edge.target, ast.NodeTarget):
            raise no_site(f"edge {self.index} of `{agent.name}` returns; it has no node target")
        # ports the new target's callee does not take are dropped
        callee = module.decl(find_node(agent, self.target).role)
        ports = edge.target.ports
        if isinstance(callee, ast.RoleDecl | ast.ToolDecl | ast.HumanDecl | ast.AgentDecl):
            accepted = {p.name for p in callee.params}
            ports = tuple(p for p in ports if p.name in accepted)
        new = edge.with_changes(target=ast.NodeTarget(node=self.target, ports=ports))
        return with_body(module, agent, (new if s is edge else s for s in agent.body))
