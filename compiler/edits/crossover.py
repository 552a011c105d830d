"""Crossover: graft a subgraph of one agent in place of a node of another.

The subgraph is a donor node and everything upstream of it in its agent (its data
ancestors), with the explicit edges among them: a self-contained piece that computes the
donor node's output from the agent's parameters. It replaces the receiving node, whose
name the donor node takes, so every reader keeps reading it. The receiving agent must
have the parameters the subgraph reads (checked by the checker, like everything else).
Declarations the subgraph needs (roles, their types, models, tools, imports) come along
unless the receiving program has the same ones; a clash of names is not a crossover site.
Nodes of the receiving agent that only fed the replaced node are removed with it.

The donor program travels inside the edit as source text (empty: this same program), so
a crossover is a value like every other edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from .. import ast
from ..printer import to_source
from ..queries import agent_names, ancestors, mentions, names_used, output_type
from .base import (
    Edit,
    find_agent,
    find_node,
    fresh,
    no_site,
    parse_module_text,
    rename_refs,
    with_body,
)


class Crossover(Edit):
    """Replace node `node` of `agent` by the subgraph that computes `donor_node` of
    `donor_agent` in the donor program (`donor`: its source; empty: this program)."""

    op: Literal["crossover"] = "crossover"
    agent: str
    node: str
    donor_agent: str
    donor_node: str
    donor: str = ""
    summary = "replace a node by a type-compatible subgraph of another agent (or program)"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        """Crossovers between the agents of one program."""
        return cls.between(module, module)

    @classmethod
    def between(cls, module: ast.Module, donor: ast.Module) -> Iterator[Edit]:
        """Crossovers that graft subgraphs of `donor` into `module`: a node and a donor node
        of the same type, in different agents."""
        text = "" if donor is module else to_source(donor)
        for agent in module.agents:
            if agent.ct_params:
                continue
            for node in agent.nodes:
                kind = output_type(module, node)
                if kind is None:
                    continue
                for other in donor.agents:
                    if other.ct_params or (donor is module and other is agent):
                        continue
                    for candidate in other.nodes:
                        if output_type(donor, candidate) == kind:
                            yield cls(
                                agent=agent.name,
                                node=node.name,
                                donor_agent=other.name,
                                donor_node=candidate.name,
                                donor=text,
                            )

    def apply(self, module: ast.Module) -> ast.Module:
        donor = parse_module_text(self.donor) if self.donor else module
        agent = find_agent(module, self.agent)
        replaced = find_node(agent, self.node)
        source = find_agent(donor, self.donor_agent)
        root = find_node(source, self.donor_node)
        if donor is module and source is agent:
            raise no_site("a crossover grafts from another agent")
        members = ancestors(source, root.name) | {root.name}
        # names in the receiving agent: the root takes the replaced node's name
        taken = agent_names(module, agent) - {replaced.name}
        names = {root.name: replaced.name}
        for member in sorted(members - {root.name}):
            names[member] = fresh(taken, member)
            taken.add(names[member])
        graft = [_renamed(s, names) for s in source.body if _in_graft(s, members)]
        # the receiving agent: the graft where the node stood, its exclusive inputs gone
        body: list[ast.Node] = []
        for statement in agent.body:
            if statement is replaced:
                body.extend(graft)
            else:
                body.append(statement)
        result = with_body(module, agent, body)
        result = _drop_orphans(result, self.agent, ancestors(agent, replaced.name))
        return _bring_declarations(result, donor, graft)


def _in_graft(statement: ast.Node, members: set[str]) -> bool:
    """A member node of the donor, or an edge between two members."""
    match statement:
        case ast.NodeDecl(name=name):
            return name in members
        case ast.EdgeDecl(source=start, target=ast.NodeTarget(node=end)):
            return start in members and end in members
    return False


def _renamed(statement: ast.Node, names: dict[str, str]) -> ast.Node:
    # two passes through placeholders, so that swapping names never collides
    for index, old in enumerate(names):
        statement = rename_refs(statement, old, f"graft__{index}")
    for index, new in enumerate(names.values()):
        statement = rename_refs(statement, f"graft__{index}", new)
    if isinstance(statement, ast.NodeDecl) and statement.name in names:
        statement = statement.with_changes(name=names[statement.name])
    return statement


def _drop_orphans(module: ast.Module, agent_name: str, candidates: set[str]) -> ast.Module:
    """Remove the nodes among `candidates` that nothing reads or names any more."""
    while True:
        agent = find_agent(module, agent_name)
        others = [s for s in agent.body]
        orphan = next(
            (
                n
                for n in agent.nodes
                if n.name in candidates
                and not any(s is not n and mentions(s, n.name) for s in others)
            ),
            None,
        )
        if orphan is None:
            return module
        module = with_body(module, agent, (s for s in agent.body if s is not orphan))


def _bring_declarations(module: ast.Module, donor: ast.Module, graft: list[ast.Node]) -> ast.Module:
    """Copy into `module` the declarations of `donor` the graft needs, transitively."""
    if donor is module:
        return module
    needed: list[str] = []
    queue = [name for statement in graft for name in names_used(statement)]
    while queue:
        name = queue.pop(0)
        decl = donor.decl(name)
        if decl is None or name in needed:
            continue
        needed.append(name)
        queue.extend(names_used(decl))
    added: list[ast.Node] = []
    for name in needed:
        decl = donor.decl(name)
        mine = module.decl(name)
        if mine is None:
            added.append(decl)  # type: ignore[arg-type]
        elif mine != decl:
            raise no_site(f"both programs declare `{name}`, differently")
    imports = [
        d
        for d in donor.decls
        if isinstance(d, ast.Import) and not any(d == m for m in module.decls)
    ]
    if not added and not imports:
        return module
    # imports first, then the new declarations before the first agent (types before use)
    decls: list[ast.Node] = list(module.decls)
    first_agent = next((i for i, d in enumerate(decls) if isinstance(d, ast.AgentDecl)), len(decls))
    decls[first_agent:first_agent] = added
    return module.with_changes(decls=(*imports, *decls))
