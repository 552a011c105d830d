"""Edits of how an agent is wired: edges, inserted and bypassed nodes, replication with a
vote, refine loops, patterns and constraints.

Each keeps the program's other declarations as they are (the objects themselves, so the
editor's checker reuses what it knew about them) and names new nodes and roles after
what they do (`writer_critic`, `WriterVote`), never clashing with an existing name.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Literal

from pydantic import Field, field_validator

from .. import ast, codes
from ..dataflow import ref_heads
from ..printer import to_source
from .base import (
    Edit,
    agent_names,
    ancestors,
    bound_args,
    declared_names,
    error,
    find_agent,
    find_decl,
    find_node,
    fresh,
    insert_edges,
    mentions,
    no_site,
    node_deps,
    output_type,
    parse_statement,
    record_fields,
    rename_refs,
    replace_decl,
    role_of,
    snake,
    with_body,
)

VOTE_PROMPT = """\
Several answers to the same request follow.
{% for candidate in candidates %}
Answer {{ loop.index }}: {{ candidate }}
{% endfor %}
Return the answer that most of them agree with, unchanged."""

FEEDBACK_PROMPT = """
{% if feedback %}Revise your previous answer using this feedback: {{ feedback }}{% endif %}"""

CRITIQUE_FIELDS = {"ok": "bool", "feedback": "str"}


def _plain(node: ast.NodeDecl) -> bool:
    return node.replicate is None and node.map is None and not node.ct_args


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
        for agent in module.agents:
            by_name = {n.name: n for n in agent.nodes}
            for target in agent.nodes:
                for source in node_deps(agent, target):
                    kind = output_type(module, by_name[source])
                    for role in module.roles:
                        if to_source(role.returns) == kind and any(
                            to_source(p.type) == kind for p in role.params
                        ):
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
        args = _bind(agent, params, {slot.name: ast.Ref.of(source.name)}, {}, role.name)
        new_node = ast.NodeDecl(name=name, role=role.name, args=args)
        reader = target.with_changes(
            args=tuple(rename_refs(arg, source.name, name) for arg in target.args)
        )
        body: list[ast.Node] = []
        for statement in agent.body:
            body += [new_node, reader] if statement is target else [statement]
        return with_body(module, agent, body)


def _bind(
    agent: ast.AgentDecl,
    params: list[ast.Param],
    fixed: dict[str, ast.Expr],
    known: dict[str, ast.Expr],
    callee: str,
) -> tuple[ast.Arg, ...]:
    """Arguments for a new node, in parameter order: the `fixed` ones, then `known`
    expressions that read no node, else the agent parameter of the same name; parameters
    with defaults are left out. Leading `name: name` arguments are written positionally,
    as people write them (`Critic(task, draft: writer)`)."""
    nodes = {n.name for n in agent.nodes}
    agent_params = {p.name for p in agent.params}
    args: list[ast.Arg] = []
    positional = True
    for index, param in enumerate(params):
        expr = fixed.get(param.name)
        if expr is None:
            expr = known.get(param.name)
            if expr is not None and nodes & set(ref_heads(expr)):
                expr = None
        if expr is None and param.name in agent_params:
            expr = ast.Ref.of(param.name)
        if expr is None:
            if param.default is None:
                raise no_site(f"cannot bind parameter `{param.name}` of `{callee}` here")
            positional = False
            continue
        positional = positional and index == len(args) and expr == ast.Ref.of(param.name)
        args.append(ast.Arg(name=None if positional else param.name, value=expr))
    return tuple(args)


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
            if isinstance(statement, ast.EdgeDecl) and _targets(statement, node.name):
                continue  # edges that re-fire the bypassed node go with it
            body.append(rename_refs(statement, node.name, upstream))
        return with_body(module, agent, body)


def _targets(edge: ast.EdgeDecl, name: str) -> bool:
    return isinstance(edge.target, ast.NodeTarget) and edge.target.node == name


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
        for agent in module.agents:
            for node in agent.nodes:
                role = role_of(module, node)
                if not _plain(node) or role is None:
                    continue
                kind = to_source(role.returns)
                voters = [""] + [
                    d.name
                    for d in module.decls
                    if isinstance(d, ast.RoleDecl | ast.ToolDecl)
                    and d.params
                    and to_source(d.params[0].type) == f"list[{kind}]"
                    and to_source(d.returns) == kind
                    and all(p.default is not None for p in d.params[1:])
                ]
                for voter in voters:
                    for n in (3, 5):
                        yield cls(agent=agent.name, node=node.name, n=n, voter=voter)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        if not _plain(node):
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
            module = _add_decl_after(module, role, vote_role)
            agent = find_agent(module, self.agent)
        sampled = node.with_changes(name=samples, replicate=self.n)
        vote = ast.NodeDecl(
            name=node.name, role=voter_name, args=(ast.Arg(name=slot, value=ast.Ref.of(samples)),)
        )
        body: list[ast.Node] = []
        for statement in agent.body:
            if statement is node:
                body += [sampled, vote]
            elif isinstance(statement, ast.EdgeDecl) and _targets(statement, node.name):
                assert isinstance(statement.target, ast.NodeTarget)
                body.append(
                    statement.with_changes(target=statement.target.with_changes(node=samples))
                )
            else:
                body.append(statement)
        return with_body(module, agent, body)


def _add_decl_after(module: ast.Module, anchor: ast.Node, *new: ast.Node) -> ast.Module:
    decls: list[ast.Node] = []
    for decl in module.decls:
        decls.append(decl)
        if decl is anchor:
            decls.extend(new)
    return module.with_changes(decls=tuple(decls))


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
        for agent in module.agents:
            for node in agent.nodes:
                role = role_of(module, node)
                if role is None or _refine_problem(agent, node) is not None:
                    continue
                kind = to_source(role.returns)
                critics = [""] + [
                    r.name
                    for r in module.roles
                    if any(to_source(p.type) == kind for p in r.params)
                    and _is_critique(record_fields(module, to_source(r.returns)))
                ]
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
        slot = next((p for p in critic.params if to_source(p.type) == kind), None)
        if slot is None:
            raise no_site(f"critic `{critic.name}` takes no `{kind}` to review")
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        name = fresh(agent_names(module, agent), f"{node.name}_critic")
        args = _bind(
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
    if not _plain(node):
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
    return critic, _add_decl_after(module, role, *new)


class AddConstraint(Edit):
    """Add an LTL constraint to an agent: `ensure` (checked, monitored) or `enforce`."""

    op: Literal["add_constraint"] = "add_constraint"
    agent: str
    formula: str
    mode: Literal["ensure", "enforce"] = "ensure"
    summary = "add an LTL constraint (`ensure` or `enforce`), the formula as source text"

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        # "never answer before X has run", for each node X
        for agent in module.agents:
            present = {to_source(c.formula) for c in agent.constraints}
            for node in agent.nodes:
                formula = f"always(return -> once {node.name})"
                if formula not in present:
                    yield cls(agent=agent.name, formula=formula)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        constraint = parse_statement(f"{self.mode} {self.formula}", "the constraint")
        if not isinstance(constraint, ast.Constraint):
            raise error(codes.MALFORMED_EDIT, f"not a formula: {self.formula!r}")
        return with_body(module, agent, (*agent.body, constraint))


class ApplyPattern(Edit):
    """Make a node call a pattern with its role as the pattern's role parameter:
    `answer = Solver(q)` becomes `answer = SelfConsistency[Solver](q)`. With `module`
    (`std.self_consistency`), the pattern comes from there: `from MODULE import PATTERN`
    is added when the program does not import it yet."""

    op: Literal["apply_pattern"] = "apply_pattern"
    agent: str
    node: str
    pattern: str
    # a module name (`std.self_consistency`), never a path: the import it adds is `from
    # MODULE import PATTERN`, which names standard modules only
    module: str = ""
    summary = "make a node call a pattern (an agent with a role parameter) around its role"

    @field_validator("module")
    @classmethod
    def _a_module_name(cls, module: str) -> str:
        if module and not all(part.isidentifier() for part in module.split(".")):
            raise ValueError(f"a module name such as `std.self_consistency`, not {module!r}")
        return module

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        local = [("", a) for a in module.agents if _is_pattern(a)]
        # standard patterns whose result type this program imports from the same place
        imported = {
            name: d.module for d in module.decls if isinstance(d, ast.Import) for name in d.names
        }
        for agent in module.agents:
            for node in agent.nodes:
                role = role_of(module, node)
                if role is None or not _plain(node):
                    continue
                kind = to_source(role.returns)
                for source, pattern in local + _standard_patterns():
                    if pattern is agent or to_source(pattern.returns) != kind:
                        continue
                    if source and imported.get(kind) != "std.types":
                        continue
                    yield cls(agent=agent.name, node=node.name, pattern=pattern.name, module=source)

    def apply(self, module: ast.Module) -> ast.Module:
        agent = find_agent(module, self.agent)
        node = find_node(agent, self.node)
        if not _plain(node):
            raise no_site(f"`{self.node}` is replicated, mapped or already a pattern")
        new = node.with_changes(role=self.pattern, ct_args=(ast.Arg(value=ast.Ref.of(node.role)),))
        module = with_body(module, agent, (new if s is node else s for s in agent.body))
        imported = any(
            isinstance(d, ast.Import) and d.module == self.module and self.pattern in d.names
            for d in module.decls
        )
        if self.module and not imported:
            line = ast.Import(module=self.module, names=(self.pattern,))
            module = module.with_changes(decls=(line, *module.decls))
        return module


def _is_pattern(agent: ast.AgentDecl) -> bool:
    return bool(agent.ct_params) and isinstance(agent.ct_params[0].type, ast.RoleSig)


@cache
def _standard_patterns() -> list[tuple[str, ast.AgentDecl]]:
    """The patterns of the standard library, with the module each comes from."""
    from rolegraph.stdlib import module_names, module_path

    from .base import parse_module_text

    found = []
    for name in module_names():
        parsed = parse_module_text(module_path(name).read_text(encoding="utf-8"))
        found += [(f"std.{name}", a) for a in parsed.agents if _is_pattern(a)]
    return found
