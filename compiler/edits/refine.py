"""Wrap a node in a refine loop: a critic (a new role, or one with a critique's
fields) reads its output and sends it back, with feedback, until it is satisfied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from .. import ast
from ..dataflow import ref_heads
from ..printer import to_source
from ..queries import (
    agent_names,
    bound_args,
    declared_names,
    mentions,
    node_deps,
    plain_node,
    record_fields,
    role_of,
)
from .base import (
    Edit,
    add_decl_after,
    bind_args,
    find_agent,
    find_decl,
    find_node,
    fresh,
    insert_edges,
    no_site,
    replace_decl,
    with_body,
)

FEEDBACK_PROMPT = """
{% if feedback %}Revise your previous answer using this feedback: {{ feedback }}{% endif %}"""

CRITIQUE_FIELDS = {"ok": "bool", "feedback": "str"}


class RefineLoop(Edit):
    """Wrap a node whose output is returned in a refine loop: a critic reviews each draft,
    the node revises with the critic's feedback (at most `max` times), and the run
    returns the draft the critic accepts (or the last one).

    The node's role gains a `feedback: str = ""` parameter if it has none (its prompt
    then shows the feedback when there is some). With no `critic`, a critic role is
    added: the node's model, the node's inputs and the draft, replying `{ok, feedback}`.
    """

    op: Literal["refine_loop"] = "refine_loop"
    agent: str
    node: str
    critic: str = ""
    max: int = Field(default=2, ge=1, le=10)
    summary = "wrap a returned node in a critic-and-revise loop (at most max revisions)"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        # (each role's parameter types printed once a call, and only once a node can be
        # refined: most programs have none; and whether a role critiques, once a role)
        roles: list[tuple[str, set[str], ast.TypeExpr]] | None = None
        critiques: dict[int, bool] = {}  # (by position: whether the role critiques)
        for agent in module.agents:
            for node in agent.nodes:
                role = role_of(module, node)
                if role is None or _refine_problem(agent, node) is not None:
                    continue
                if roles is None:
                    roles = [
                        (r.name, {to_source(p.type) for p in r.params}, r.returns)
                        for r in module.roles
                    ]
                kind = to_source(role.returns)
                critics = [""]
                for index, (name, params, returns) in enumerate(roles):
                    if kind not in params:
                        continue
                    if index not in critiques:
                        critiques[index] = _is_critique(record_fields(module, to_source(returns)))
                    if critiques[index]:
                        critics.append(name)
                for critic in critics:
                    yield cls(agent=agent.name, node=node.name, critic=critic)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        problem = _refine_problem(agent, node)
        if problem is not None:
            raise no_site(problem)
        role = role_of(module, node)
        if role is None or role.prompt is None:
            raise no_site(f"`{self.node}` calls `{node.role}`, not a role with a prompt here")
        known = bound_args(node, role)
        kind = to_source(role.returns)
        # the role learns to take feedback
        if not any(p.name == "feedback" for p in role.params):
            revised = role.with_changes(
                params=(*role.params, ast.Param(name="feedback", type=_str(), default=_empty())),
                prompt=ast.Prompt(text=role.prompt.text.rstrip("\n") + FEEDBACK_PROMPT),
            )
            module = replace_decl(module, role, revised)
            role = revised
        # the critic
        if self.critic:
            critic = find_decl(module, self.critic, ast.RoleDecl, "role")
        else:
            critic, module = _new_critic(module, role, kind, known, agent)
        # the draft's parameter: one named `draft` (a new critic's), else the first of the
        # draft's type (a critic that also takes the question, both `str`, reviews `draft`)
        drafts = [p for p in critic.params if to_source(p.type) == kind]
        slot = next((p for p in drafts if p.name == "draft"), drafts[0] if drafts else None)
        if slot is None:
            raise no_site(f"critic `{critic.name}` takes no `{kind}` to review")
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        name = fresh(agent_names(module, agent), f"{node.name}_critic")
        args = bind_args(
            agent, list(critic.params), {slot.name: ast.Ref.of(node.name)}, known, critic.name
        )
        review = ast.NodeDecl(name=name, role=critic.name, args=args)
        loop = ast.EdgeDecl(
            source=name,
            target=ast.NodeTarget(
                node=node.name,
                ports=(ast.Arg(name="feedback", value=ast.Ref(parts=(name, "feedback"))),),
            ),
            condition=ast.When(guard=ast.Not(operand=ast.Ref(parts=(name, "ok")))),
            max=self.max,
        )
        body: list[ast.Node] = []
        exits: list[ast.Node] = []
        for statement in agent.body:
            if isinstance(statement, ast.ReturnStmt) and mentions(statement, node.name):
                exits.append(
                    ast.EdgeDecl(
                        source=name,
                        target=ast.ReturnTarget(value=statement.value),
                        condition=ast.Else(),
                    )
                )
                continue
            body.append(statement)
            if statement is node:
                body.append(review)
        return with_body(module, agent, insert_edges(body, loop, *exits))


def _refine_problem(agent: ast.AgentDecl, node: ast.NodeDecl) -> str | None:
    if not plain_node(node):
        return f"`{node.name}` is replicated, mapped or a pattern"
    if any(node.name in node_deps(agent, other) for other in agent.nodes):
        return f"other nodes read `{node.name}`: only a node whose output is returned is refined"
    if any(e.source == node.name for e in agent.edges):
        return f"`{node.name}` has edges of its own"
    if not any(mentions(r, node.name) for r in agent.returns_):
        return f"no `return` reads `{node.name}`"
    return None


def _is_critique(fields: dict[str, str]) -> bool:
    return all(fields.get(name) == kind for name, kind in CRITIQUE_FIELDS.items())


def _str() -> ast.NamedType:
    return ast.NamedType(name="str")


def _empty() -> ast.StringLit:
    return ast.StringLit(value="")


def _new_critic(
    module: ast.Module,
    role: ast.RoleDecl,
    kind: str,
    known: dict[str, ast.Expr],
    agent: ast.AgentDecl,
) -> tuple[ast.RoleDecl, ast.Module]:
    """A critic role for `role`'s drafts (and the record it replies with, if needed)."""
    taken = declared_names(module)
    verdict = next(
        (
            d.name
            for d in module.decls
            if isinstance(d, ast.TypeDecl) and _is_critique(record_fields(module, d.name))
        ),
        None,
    )
    new: list[ast.Node] = []
    if verdict is None:
        verdict = fresh(taken, "Critique")
        taken.add(verdict)
        new.append(
            ast.TypeDecl(
                name=verdict,
                fields=(
                    ast.FieldDecl(name="ok", type=ast.NamedType(name="bool")),
                    ast.FieldDecl(name="feedback", type=_str()),
                ),
            )
        )
    nodes = {n.name for n in agent.nodes}
    context = [
        p
        for p in role.params
        if p.name != "feedback" and p.name in known and not nodes & set(ref_heads(known[p.name]))
    ]
    lines = [f"{p.name}: {{{{ {p.name} }}}}" for p in context]
    prompt = "\n".join(
        [
            "Review this draft.",
            *lines,
            "Draft: {{ draft }}",
            "Set ok to true if it needs no change; otherwise say precisely what to change.",
        ]
    )
    critic = ast.RoleDecl(
        name=fresh(taken, f"{role.name}Critic"),
        params=(*context, ast.Param(name="draft", type=role.returns)),
        returns=ast.NamedType(name=verdict),
        model=role.model,
        prompt=ast.Prompt(text=prompt),
    )
    new.append(critic)
    return critic, add_decl_after(module, role, *new)
