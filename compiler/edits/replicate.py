"""Replicate a node and let a new role vote among the copies' answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from .. import ast
from ..printer import to_source
from ..queries import agent_names, declared_names, fires, plain_node, role_of
from .base import Edit, add_decl_after, find_agent, find_node, fresh, no_site, with_body

VOTE_PROMPT = """\
Several answers to the same request follow.
{% for candidate in candidates %}
Answer {{ loop.index }}: {{ candidate }}
{% endfor %}
Return the answer that most of them agree with, unchanged."""


class ReplicateVote(Edit):
    """Run a node `n` times in parallel and keep the answer a voter picks.

    The samples become `NODE_samples = Role(args) x n`; the node itself becomes the vote
    (`NODE = Voter(candidates: NODE_samples)`), so everything that read it still does.
    With no `voter`, a voting role is added: the node's role's model, asked to return
    the answer most samples agree with."""

    op: Literal["replicate_vote"] = "replicate_vote"
    agent: str
    node: str
    n: int = Field(default=3, ge=2, le=16)
    voter: str = ""
    summary = "replicate a node n times in parallel and add a vote over the samples"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        # the roles and tools that could vote, with the types they take and give, printed
        # once a call (not once a node)
        callees = [
            (d.name, to_source(d.params[0].type), to_source(d.returns))
            for d in module.decls
            if isinstance(d, ast.RoleDecl | ast.ToolDecl)
            and d.params
            and all(p.default is not None for p in d.params[1:])
        ]
        for agent in module.agents:
            for node in agent.nodes:
                role = role_of(module, node)
                if not plain_node(node) or role is None:
                    continue
                kind = to_source(role.returns)
                voters = [""] + [
                    name
                    for name, takes, gives in callees
                    if takes == f"list[{kind}]" and gives == kind
                ]
                for voter in voters:
                    for n in (3, 5):
                        yield cls(agent=agent.name, node=node.name, n=n, voter=voter)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        if not plain_node(node):
            raise no_site(f"`{self.node}` is already replicated, mapped or a pattern")
        role = role_of(module, node)
        if role is None:
            raise no_site(f"`{self.node}` calls `{node.role}`, not a role of this module")
        samples = fresh(agent_names(module, agent), f"{node.name}_samples")
        if self.voter:
            voter = module.decl(self.voter)
            if not isinstance(voter, ast.RoleDecl | ast.ToolDecl) or not voter.params:
                raise no_site(f"`{self.voter}` is not a role or tool that takes the samples")
            voter_name, slot = voter.name, voter.params[0].name
        else:
            voter_name, slot = fresh(declared_names(module), f"{role.name}Vote"), "candidates"
            vote_role = ast.RoleDecl(
                name=voter_name,
                params=(ast.Param(name=slot, type=ast.ListType(item=role.returns)),),
                returns=role.returns,
                model=role.model,
                prompt=ast.Prompt(text=VOTE_PROMPT),
            )
            module = add_decl_after(module, role, vote_role)
            agent = find_agent(module, self.agent)
        sampled = node.with_changes(name=samples, replicate=self.n)
        vote = ast.NodeDecl(
            name=node.name, role=voter_name, args=(ast.Arg(name=slot, value=ast.Ref.of(samples)),)
        )
        body: list[ast.Node] = []
        for statement in agent.body:
            if statement is node:
                body += [sampled, vote]
            elif isinstance(statement, ast.EdgeDecl) and fires(statement, node.name):
                assert isinstance(statement.target, ast.NodeTarget)
                body.append(
                    statement.with_changes(target=statement.target.with_changes(node=samples))
                )
            else:
                body.append(statement)
        return with_body(module, agent, body)
