"""The sites of `InsertRole`, `RefineLoop`, `ApplyPattern` and `ReplicateVote` print
each role's and pattern's types once a call (the standard patterns' once a process), not
once a node or an edge, and `RefineLoop` only once a node can be refined; `ChangeRole`
gathers the ports of each node's incoming edges in one pass an agent: held to the sites
as they were listed before, printing every type where it is compared (each node's ports
gathered from every edge), on the examples and on programs made from them by seeded
random sites."""

from __future__ import annotations

import random
from collections.abc import Iterator

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.edits import (
    ApplyPattern,
    ChangeRole,
    InsertRole,
    RefineLoop,
    ReplicateVote,
)
from rolegraph.compiler.edits.patterns import _is_pattern, _standard_patterns
from rolegraph.compiler.edits.refine import _is_critique, _refine_problem
from rolegraph.compiler.edits.settings import _callee_signature, fits
from rolegraph.compiler.printer import to_source
from rolegraph.compiler.queries import node_deps, output_type, plain_node, record_fields, role_of

from .conftest import EXAMPLES
from .edit_walks import edit_walk


def _insert_role(module: ast.Module) -> Iterator[InsertRole]:
    for agent in module.agents:
        by_name = {n.name: n for n in agent.nodes}
        for target in agent.nodes:
            for source in node_deps(agent, target):
                kind = output_type(module, by_name[source])
                for role in module.roles:
                    if to_source(role.returns) == kind and any(
                        to_source(p.type) == kind for p in role.params
                    ):
                        yield InsertRole(
                            agent=agent.name, source=source, target=target.name, role=role.name
                        )


def _refine_loop(module: ast.Module) -> Iterator[RefineLoop]:
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
                yield RefineLoop(agent=agent.name, node=node.name, critic=critic)


def _apply_pattern(module: ast.Module) -> Iterator[ApplyPattern]:
    local = [("", a) for a in module.agents if _is_pattern(a)]
    standard = [(source, pattern) for source, pattern, _ in _standard_patterns()]
    imported = {
        name: d.module for d in module.decls if isinstance(d, ast.Import) for name in d.names
    }
    for agent in module.agents:
        for node in agent.nodes:
            role = role_of(module, node)
            if role is None or not plain_node(node):
                continue
            kind = to_source(role.returns)
            for source, pattern in local + standard:
                if pattern is agent or to_source(pattern.returns) != kind:
                    continue
                if source and imported.get(kind) != "std.types":
                    continue
                yield ApplyPattern(
                    agent=agent.name, node=node.name, pattern=pattern.name, module=source
                )


# roles that take and give one type (InsertRole's sites: the examples have none), two
# critics of it (one a critique, one not), a role whose result is a list, a tool node
# (no output type this module declares), and voters (a role, a tool) and a role that is
# not one (a parameter without a default after the list)
REVISERS = """
type Answer { text: str, confidence: float }
type Review { ok: bool, feedback: str }
type Note { ok: bool, text: str }

tool lookup(q: str) -> str = "tools.lookup"

role Writer(task: str, feedback: str = "") -> Answer { prompt "{{ task }} {{ feedback }}" }
role Polish(draft: Answer, style: str = "plain") -> Answer { prompt "{{ draft.text }}" }
role Shorten(draft: Answer) -> Answer { prompt "{{ draft.text }}" }
role Critic(task: str, draft: Answer) -> Review { prompt "{{ draft.text }}" }
role Remark(draft: Answer) -> Note { prompt "{{ draft.text }}" }
role Many(task: str) -> list[Answer] { prompt "{{ task }}" }
role Echo(task: str) -> str { prompt "{{ task }}" }
role Pick(drafts: list[Answer], how: str = "best") -> Answer { prompt "{{ how }}" }
role Merge(drafts: list[Answer], how: str) -> Answer { prompt "{{ how }}" }
tool vote(drafts: list[Answer]) -> Answer = "tools.vote"

agent Pipeline(task: str) -> Answer {
  facts = lookup(task)
  said = Echo(facts)
  writer = Writer(said)
  polished = Polish(writer)
  critic = Critic(task, draft: writer)
  return polished
}
"""


def _replicate_vote(module: ast.Module) -> Iterator[ReplicateVote]:
    for agent in module.agents:
        for node in agent.nodes:
            role = role_of(module, node)
            if not plain_node(node) or role is None:
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
                    yield ReplicateVote(agent=agent.name, node=node.name, n=n, voter=voter)


def _change_role(module: ast.Module) -> Iterator[ChangeRole]:
    for agent in module.agents:
        for node in agent.nodes:
            if isinstance(module.decl(node.role), ast.HumanDecl):
                continue
            current = _callee_signature(module, agent, node)
            ports = [
                port
                for edge in agent.edges
                if isinstance(edge.target, ast.NodeTarget) and edge.target.node == node.name
                for port in edge.target.ports
            ]
            for name, role in {r.name: r for r in module.roles}.items():
                if name == node.role:
                    continue
                if current is None or fits(node, ports, current, (role.params, role.returns)):
                    yield ChangeRole(agent=agent.name, node=node.name, role=name)


REFERENCE = {
    ChangeRole: _change_role,
    InsertRole: _insert_role,
    RefineLoop: _refine_loop,
    ApplyPattern: _apply_pattern,
    ReplicateVote: _replicate_vote,
}


def _programs(path, rng: random.Random, count: int) -> list[ast.Module]:
    """The example (`None`: `REVISERS`) and `count` programs made from it by seeded
    random sites (`edit_walk`)."""
    module = (
        rolegraph.parse(REVISERS, "revisers.agent") if path is None else rolegraph.parse_file(path)
    )
    return edit_walk(module, rng, count)


def test_sites_are_those_listed_by_printing_every_type_where_it_is_compared():
    rng = random.Random(15)
    listed = dict.fromkeys(REFERENCE, 0)
    critics = voters = 0  # refine loops with a critic role, replications with a voter
    for path in [None, None, *EXAMPLES]:
        for module in _programs(path, rng, 8):
            for operator, reference in REFERENCE.items():
                expected = list(reference(module))
                assert list(operator.sites(module)) == expected, (path, operator)
                listed[operator] += len(expected)
                critics += sum(1 for e in expected if isinstance(e, RefineLoop) and e.critic)
                voters += sum(1 for e in expected if isinstance(e, ReplicateVote) and e.voter)
    assert all(count > 20 for count in listed.values()), listed  # (every operator had sites)
    assert critics > 10 and voters > 10, (critics, voters)  # (and with a critic, a voter)


def test_the_standard_patterns_are_read_only_for_a_node_of_a_type_from_std_types():
    """`ApplyPattern.sites` reads the standard library (parsing each module: ~90 ms, once a
    process) only for a node whose result type the program imports from `std.types`,
    the only nodes a standard pattern is offered for; the sites are the reference's
    (which reads it always) either way."""
    plain = rolegraph.parse_file(EXAMPLES[0].parent / "self_refine.agent")
    typed = rolegraph.parse_file(EXAMPLES[0].parent / "react.agent")
    _standard_patterns.cache_clear()
    sites = list(ApplyPattern.sites(plain))
    assert _standard_patterns.cache_info().misses == 0  # (not read)
    assert sites == list(_apply_pattern(plain))
    assert list(ApplyPattern.sites(typed)) == list(_apply_pattern(typed))
    assert any(edit.module for edit in ApplyPattern.sites(typed))  # (a standard one offered)
