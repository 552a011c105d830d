"""Edits of an agent's edges: remove, add and rewire a control edge. An edge is named by
its key (`edge critic -> writer when`; `queries.edge_keys`), not its position, so a
script or a stored proposal names the same edge whatever the steps before it did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Self

from pydantic import Field, model_validator

from .. import ast, codes
from ..queries import ancestors, edge_keys, output_type, record_fields
from .base import (
    Edit,
    error,
    find_agent,
    find_edge,
    find_node,
    insert_edges,
    no_site,
    node_index,
    one_address,
    parse_statement,
    replace_statement,
    with_body,
)


class _EdgeEdit(Edit):
    """An edit of one explicit edge, named by its key (`edge critic -> writer when`: its
    source, its target and the kind of its condition, `#2` for the second such edge;
    `queries.edge_keys`), which means the same edge after an earlier step of a script
    added or removed another, or, in scripts written before keys, by its position among
    the agent's edges."""

    agent: str
    key: str | None = Field(
        default=None,
        description="the edge: `edge SOURCE -> TARGET` (TARGET a node or `return`), then"
        " ` when`, ` else` or ` on error` for its kind of condition; `#2` for the second"
        " such edge",
    )
    index: int | None = None
    legacy = frozenset({"index"})

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        one_address(self.key, self.index, "an edge")
        return self

    def edge(self, agent: ast.AgentDecl) -> ast.EdgeDecl:
        """The edge this edit names in `agent` (`EditError` when there is none)."""
        if self.key is not None:
            return find_edge(agent, self.key)
        edges = agent.edges
        if self.index is None or not 0 <= self.index < len(edges):
            raise no_site(
                f"agent `{agent.name}` has {len(edges)} edges, not an edge {self.index}",
                (f"its edges: {', '.join(f'`{k}`' for k in edge_keys(agent)) or '(none)'}",),
            )
        return edges[self.index]

    def named(self) -> str:
        return f"edge `{self.key}`" if self.key is not None else f"edge {self.index}"


class RemoveEdge(_EdgeEdit):
    """Remove an explicit edge of an agent (named by its key)."""

    op: Literal["remove_edge"] = "remove_edge"
    summary = "remove an explicit edge (named by its key, `edge critic -> writer when`)"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        for agent in module.agents:
            for key in edge_keys(agent):
                yield cls(agent=agent.name, key=key)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        doomed = self.edge(agent)
        return replace_statement(module, agent, doomed, None)


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
        if edge.source not in node_index(agent):
            raise no_site(f"agent `{agent.name}` has no node `{edge.source}`")
        return with_body(module, agent, insert_edges(agent.body, edge))


class RewireEdge(_EdgeEdit):
    """Point an explicit edge (named by its key) at another node (keeping the ports its
    callee takes)."""

    op: Literal["rewire_edge"] = "rewire_edge"
    target: str
    summary = "point an explicit edge (named by its key) at another node"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        for agent in module.agents:
            for key, edge in edge_keys(agent).items():
                if isinstance(edge.target, ast.NodeTarget):
                    for node in agent.nodes:
                        if node.name != edge.target.node:
                            yield cls(agent=agent.name, key=key, target=node.name)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        edge = self.edge(agent)
        find_node(agent, self.target)
        if not isinstance(edge.target, ast.NodeTarget):
            raise no_site(f"{self.named()} of `{agent.name}` returns; it has no node target")
        # ports the new target's callee does not take are dropped
        callee = module.decl(find_node(agent, self.target).role)
        ports = edge.target.ports
        if isinstance(callee, ast.RoleDecl | ast.ToolDecl | ast.HumanDecl | ast.AgentDecl):
            accepted = {p.name for p in callee.params}
            ports = tuple(p for p in ports if p.name in accepted)
        new = edge.with_changes(target=ast.NodeTarget(node=self.target, ports=ports))
        return replace_statement(module, agent, edge, new)
