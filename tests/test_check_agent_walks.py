"""An edited agent's type check starts from its last clean check (compiler/check_agents.py:
`check_agent` skips what that check saw and nothing since touched, by set differences of
the two bodies' statements, and derives the agent's snapshot from the last one).

Held to the check without a memo on seeded random edit walks over every example, the
stdlib and generated agents (bench/generate.py). At each program of a walk a session
checks a sample of its candidates, accepted or refused, one after another, as an editor
does (each candidate's snapshot is then the last clean sibling's, two edits away), and
each is compared with a memo-less check: the diagnostics, the IRs, the verdicts, and what
the type checker says of every agent (each node's statement, callee, output and bound
arguments). The snapshot the session keeps is compared with the one a fresh memo makes
of the same program: the same node entries, names, edges, ports and statements.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

import rolegraph
from rolegraph.compiler import ast, check
from rolegraph.compiler.check import CheckedModule, check_module
from rolegraph.compiler.edits import OPERATORS, ChangeRole, EditError
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.memo import AgentSnapshot, CheckMemo
from rolegraph.grammar import parse_module

from .conftest import EXAMPLES, ROOT, STDLIB
from .edit_walks import edit_walk


def _parse(text: str, name: str) -> tuple[ast.Module | None, Any]:
    result = parse_module(text, name)
    return result.module, result.diagnostics


def _types(checked: CheckedModule) -> dict[str, list[Any]]:
    """What the type checker says of each agent of the main module: every node, its
    callee and output, and the argument each parameter is bound to (by identity: the
    memo-less check parses imported modules again, so only the main module's agents)."""
    main = checked.program.main
    return {
        name: [
            (
                node_name,
                id(node.decl),
                node.callee.kind,
                node.callee.name,
                repr(node.callee.signature),
                None if node.callee.symbol is None else node.callee.symbol.qualified,
                repr(node.output),
                sorted((param, id(arg)) for param, arg in node.bound.items()),
            )
            for node_name, node in info.nodes.items()
        ]
        for name, info in checked.agents.items()
        if info.symbol.module is main
    }


def _said(checked: CheckedModule) -> tuple[Any, ...]:
    return (
        [repr(d) for d in checked.diagnostics],
        {name: repr(ir.model_dump()) for name, ir in checked.irs.items()},
        [repr(c) for c in checked.constraints],
        _types(checked),
    )


def _snapshot(snapshot: AgentSnapshot) -> tuple[Any, ...]:
    def entry(info: Any) -> tuple[Any, ...]:
        callee = info.callee
        return (
            id(info.decl),
            callee.kind,
            callee.name,
            repr(callee.signature),
            callee.symbol is None,
            repr(info.output),
            sorted((param, id(arg)) for param, arg in info.bound.items()),
        )

    return (
        id(snapshot.decl),
        {key: entry(info) for key, info in snapshot.nodes.items()},
        {name: entry(info) for name, info in snapshot.by_name.items()},
        {key: (id(edge), ports) for key, (edge, ports) in snapshot.edges.items()},
        {target: sorted(map(sorted, ports)) for target, ports in snapshot.port_bound.items()},
        snapshot.statements,
    )


def _snapshots(memo: CheckMemo, module: ast.Module) -> dict[str, Any]:
    """The snapshots of the module's agents in `memo` (those of its last clean checks)."""
    agents = {id(agent) for agent in module.agents}
    return {
        qualified: _snapshot(snapshot)
        for (qualified, _), snapshot in memo.agents.items()
        if id(snapshot.decl) in agents
    }


def _candidates(module: ast.Module) -> list[Any]:
    found = [edit for operator in OPERATORS for edit in operator.sites(module)]
    for agent in module.agents:  # changes of role, fitting or not
        for node in agent.nodes:
            found += [
                ChangeRole(agent=agent.name, node=node.name, role=r.name) for r in module.roles
            ]
    return found


def _shape_values(found: tuple[tuple[Any, ...], list[Any]] | None) -> tuple[Any, ...]:
    """A graph key (check._graph_shape) by what its identities name: a node's part by
    value, any other object by identity."""
    assert found is not None
    key, objects = found
    named = {id(o): o for o in objects}
    return tuple(
        ("part", named[k]) if type(named.get(k)) is tuple else k if k in named else ("is", k)
        for k in key
    )


def _stored(session: CheckSession) -> list[AgentSnapshot]:
    """The snapshots the session's memo is given from now on, in order (a spy)."""
    stored: list[AgentSnapshot] = []
    store = session.memo.store_agent

    def spied(key: tuple[str, int], snapshot: AgentSnapshot) -> None:
        stored.append(snapshot)
        store(key, snapshot)

    session.memo.store_agent = spied  # type: ignore[method-assign]
    return stored


def _shapes_agree(checked: CheckedModule, stored: list[AgentSnapshot]) -> int:
    """The graph key of each agent of the main module derived from the snapshot its check
    stored (`stored`: those its check stored) equals the key made over every node;
    returns how many agents' keys were derived."""
    derived = 0
    main = checked.program.main
    for snapshot in stored:
        info = checked.agents.get(snapshot.decl.name)
        if info is None or info.decl is not snapshot.decl or info.symbol.module is not main:
            continue
        whole = check._graph_shape(info)
        assert _shape_values(check._graph_shape(info, snapshot)) == _shape_values(whole)
        assert check._derived_shape(info, snapshot) is not None
        derived += 1
    return derived


SHAPES = [0]  # the agents' graph keys derived and held to the whole key, all walks together


def _agrees(session: CheckSession, module: ast.Module, filename: str, **options: Any) -> bool:
    stored = _stored(session)
    incremental = session.check(module, **options)
    fresh = check_module(module, filename, _parse, "", **options)
    assert _said(incremental) == _said(fresh), options
    if not incremental.errors:  # the snapshot kept: the one a fresh memo makes
        SHAPES[0] += _shapes_agree(incremental, stored)
        memo = CheckMemo()
        # (held: its imports, parsed anew, name its environment, which goes with them)
        checked = check_module(module, filename, _parse, "", memo=memo, **options)
        kept = _snapshots(session.memo, module)
        assert kept == _snapshots(memo, module)
        del checked
        assert len(kept) == len(module.agents)
    return not incremental.errors


def walk(start: ast.Module, filename: str, rng: random.Random, steps: int, siblings: int) -> int:
    """Along a seeded walk of `steps` edits from `start`, `siblings` candidates of each
    program checked one after another by one session, each as the memo-less check says;
    returns how many of them checked clean."""
    session = CheckSession(filename)
    clean = 0
    for module in edit_walk(start, rng, steps):
        _agrees(session, module, filename, errors_only=True)
        sites = _candidates(module)
        for index, edit in enumerate(rng.sample(sites, min(siblings, len(sites)))):
            try:
                edited = edit.apply(module)
            except (EditError, ValueError):
                continue
            options: dict[str, Any] = {"errors_only": True}
            if index % 5 == 4:
                options = {"errors_only": True, "irs": True}
            elif index % 7 == 6:
                options = {"explore": False}
            clean += _agrees(session, edited, filename, **options)
    return clean


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_walks_over_examples_and_the_stdlib_check_as_without_a_memo(path: Path) -> None:
    walk(rolegraph.parse_file(path), str(path), random.Random(f"types-{path.stem}"), 4, 12)


@pytest.mark.parametrize("nodes", [12, 30])
def test_walks_over_generated_agents_check_as_without_a_memo(nodes: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import large_program

    module = rolegraph.parse(large_program(roles=8, nodes=nodes), "generated.agent")
    before = SHAPES[0]
    clean = walk(module, "generated.agent", random.Random(nodes), 4, 30)
    assert clean > 20  # (clean siblings are where the snapshot's shortcuts are taken)
    assert SHAPES[0] - before >= clean  # (each clean check's graph key derived and held)


def test_the_statement_classes_the_checker_tells_apart_by_exact_type_have_no_subclasses() -> None:
    # (check_agents._partition and the node lists take statements by `type(s) is ...`)
    def every_subclass(cls: type) -> list[type]:
        return [sub for direct in cls.__subclasses__() for sub in [direct, *every_subclass(direct)]]

    for cls in (ast.NodeDecl, ast.EdgeDecl, ast.ReturnStmt, ast.Constraint):
        assert every_subclass(cls) == [], cls


def _reread(start: ast.Module, filename: str, limit: int) -> int:
    """Each node that a return or a constraint reads, given each role of the module in
    turn, checked by a session that checked `start` (the snapshot those statements were
    clean in) as without a memo; returns how many of those checks found errors."""
    session = CheckSession(filename)
    _agrees(session, start, filename, errors_only=True)
    refused = 0
    edits = [
        ChangeRole(agent=agent.name, node=name, role=role.name)
        for agent in start.agents
        for statement in agent.body
        if isinstance(statement, ast.ReturnStmt | ast.Constraint)
        for name in sorted(session.memo.heads(statement))
        if agent.node(name) is not None
        for role in start.roles
    ]
    for edit in edits[:limit]:
        try:
            edited = edit.apply(start)
        except (EditError, ValueError):
            continue
        refused += not _agrees(session, edited, filename, errors_only=True)
    return refused


def test_returns_and_constraints_are_checked_again_when_a_node_they_read_changes() -> None:
    """A return or an `ensure` unchanged by an edit, reading a node whose role (and so
    output) the edit changed: checked again, and refused where the output no longer fits
    (the walks above may draw too few of these)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import large_program

    programs = [(rolegraph.parse_file(p), str(p)) for p in EXAMPLES + STDLIB]
    programs.append((rolegraph.parse(large_program(roles=8, nodes=12), "g.agent"), "g.agent"))
    refused = sum(_reread(module, filename, 40) for module, filename in programs)
    assert refused > 10


ROLE_WITH = """
model fast = "openai/gpt-4o-mini"
role S(x: str) -> str {
  model fast
  prompt "{{ x }}"
}
role R(a: str, b: str = "z") -> str {
  model fast
  prompt "{{ a }} {{ b }}"
}
agent A(x: str) -> str {
  s = S(x: x)
  n = R(a: x)
  s -> n(b: s)
  return n
}
"""


def test_a_graph_key_derived_makes_again_the_part_of_a_node_whose_callee_changed() -> None:
    """The same node statement, whose role's parameter became required (the edge binds
    it): the node now fires only through that edge, so the graph's key changes with it,
    although the agent's statements are the same objects (and the agent's check starts
    from its last one)."""
    optional = rolegraph.parse(ROLE_WITH, "g.agent")
    role = rolegraph.parse(ROLE_WITH.replace('b: str = "z"', "b: str"), "g.agent").roles[1]
    required = optional.with_changes(
        decls=tuple(role if d is optional.roles[1] else d for d in optional.decls)
    )
    session = CheckSession("g.agent")
    keys = []
    for module in (optional, required):
        stored = _stored(session)
        checked = session.check(module, errors_only=True)
        assert not checked.errors
        assert _shapes_agree(checked, stored) == 1
        keys.append(_shape_values(check._graph_shape(checked.agents["A"], stored[0])))
    assert len(session.memo.agents) == 1  # (the second check started from the first's)
    assert keys[0] != keys[1]


def test_nodes_declared_twice_or_of_unknown_roles_after_a_clean_check_report_as_without() -> None:
    """A node added after a clean check whose name another node has (first in the body, or
    after it), or whose role is unknown, or that calls a role whose parameters changed:
    each reported as a check without a memo reports it (`declare_kept` gives those to
    `declare_nodes`, or declares them afresh, in body order)."""
    from rolegraph.compiler.edits.base import parse_statement

    sys.path.insert(0, str(ROOT / "bench"))
    from generate import large_program

    start = rolegraph.parse(large_program(roles=8, nodes=12), "g.agent")
    agent = start.agents[-1]
    nodes = [s for s in agent.body if isinstance(s, ast.NodeDecl)]
    first, other = nodes[0], nodes[3]
    twice = parse_statement(f"{first.name} = {other.role}(task: task)", "a node")
    unknown = parse_statement("stray = NoSuchRole(task: task)", "a node")
    unknown_too = parse_statement("stray_too = AlsoNone(task: task)", "a node")
    bodies = [
        (twice, *agent.body),
        (*agent.body, twice),
        (*agent.body[:5], unknown, *agent.body[5:], unknown_too),
    ]
    session = CheckSession("g.agent")
    assert _agrees(session, start, "g.agent", errors_only=True)
    for body in bodies:
        edited = start.with_changes(
            decls=tuple(agent.with_changes(body=body) if d is agent else d for d in start.decls)
        )
        assert not _agrees(session, edited, "g.agent", errors_only=True)
        assert not _agrees(session, edited, "g.agent", explore=False)


CALLS = """
from std.self_refine import Write

model fast = "openai/gpt-4o-mini"
model slow = "openai/gpt-4o"

role R(x: str) -> str {
  model fast
  prompt "{{ x }}"
}

role S(x: str, y: str = "") -> str {
  model fast
  prompt "{{ x }} {{ y }}"
}

agent Sub[P: role(x: str) -> str = R](x: str) -> str {
  p = P(x: x)
  return p
}

agent A(x: str) -> str {
  a = R(x: x)
  b = S(x: a)
  c = R(x: b)
  w = Write(task: c)
  d = S(x: c, y: w.text)
  a -> b(y: a)
  return d
}
"""


def _with(module: ast.Module, source: str = "", body: tuple[Any, ...] | None = None) -> ast.Module:
    """`module` with the declarations of `source` (a text of declarations) in place of
    those of the same names (the others, the same objects), and agent A's body `body`;
    its imports those of `source` where it has any."""
    new = {d.name: d for d in rolegraph.parse(source, "g.agent").decls if hasattr(d, "name")}
    imports = [d for d in rolegraph.parse(source, "g.agent").decls if isinstance(d, ast.Import)]
    decls = [
        new.get(getattr(d, "name", None), d)  # type: ignore[arg-type]
        for d in module.decls
        if not (imports and isinstance(d, ast.Import))
    ]
    decls = [*imports, *decls]
    if body is not None:
        decls = [d.with_changes(body=body) if getattr(d, "name", None) == "A" else d for d in decls]
    return module.with_changes(decls=tuple(decls))


def test_edits_of_what_an_agent_calls_check_as_without_a_memo(monkeypatch: Any) -> None:
    """An agent's node table is carried over from its last clean check while every callee
    its nodes call stands for the same declaration (`carry_nodes`, `_shared`); held to the
    check without a memo (the IRs too: a callee's symbol gives a node its model) along a
    sequence that edits what the nodes call: a role made anew with the same signature and
    another model, then the first again; a role's signature changed; a node renamed,
    declared twice, or calling an unknown role; two edges added, to unknown nodes; the
    imports changed; nodes calling an agent with compile-time parameters, and that
    agent's default changed."""
    from rolegraph.compiler.check_agents import AgentChecker
    from rolegraph.compiler.edits.base import parse_statement

    carried = [0]
    carry = AgentChecker.carry_nodes

    def counted(self: AgentChecker, *args: Any) -> Any:
        carried[0] += 1
        return carry(self, *args)

    monkeypatch.setattr(AgentChecker, "carry_nodes", counted)

    def statement(text: str) -> Any:
        return parse_statement(text, "a statement")

    base = rolegraph.parse(CALLS, "g.agent")
    body = base.agents[-1].body
    other_c = statement("c = R(x: a)")
    slow_r = 'role R(x: str) -> str {\n  model slow\n  prompt "{{ x }}!"\n}'
    programs = [
        base,
        _with(base, body=(*body[:2], other_c, *body[3:])),
        _with(base, slow_r, body=(*body[:2], other_c, *body[3:])),
        _with(base, slow_r, body=(*body[:2], statement("c = R(x: b)"), *body[3:])),
        base,
        _with(base, body=(*body[:2], other_c, *body[3:])),
        _with(base, 'role S(x: str, y: str) -> str {\n  model fast\n  prompt "{{ x }}"\n}'),
        _with(base, body=(*body[:2], statement("c2 = R(x: b)"), *body[3:])),
        _with(base, body=(*body, statement("a = S(x: x)"))),
        _with(base, body=(statement("a = S(x: x)"), *body)),
        _with(base, body=(*body[:3], statement("e = Nope(x: x)"), *body[3:])),
        base,
        _with(  # (two statements added, each reported: in body order)
            base, body=(body[0], statement("a -> q1(y: a)"), *body[1:], statement("a -> q2(y: a)"))
        ),
        base,
        _with(base, "import std.types"),
        _with(base, "from std.self_refine import Write, Review"),
        _with(base, "from std.self_refine import Review"),
        base,
        _with(base, body=(*body, statement("s = Sub[S](x: x)"))),
        _with(base, body=(*body, statement("s = Sub(x: x)"))),
        _with(
            base,
            "agent Sub[P: role(x: str) -> str = S](x: str) -> str {\n  p = P(x: x)\n  return p\n}",
            body=(*body, statement("s = Sub(x: x)")),
        ),
        _with(base, body=(*body, statement("s = Sub(x: x)"))),
        base,
    ]
    session = CheckSession("g.agent")
    clean = [_agrees(session, module, "g.agent", errors_only=True, irs=True) for module in programs]
    assert clean.count(False) >= 5  # (the duplicates, the unknown names, the import gone)
    assert carried[0] >= 5  # (the table carried over where it could be)


def test_a_run_reads_what_an_imported_tool_names_now_after_its_file_changed(
    tmp_path: Path,
) -> None:
    """A callee carried over from an earlier check holds the symbol of the program that
    first made it; a runtime IR must still read the tools' servers from this program. Here
    only the file that declares the server changes on disk within one session (the
    declarations of the importing files are the same objects, parsed from the same
    text): the IRs the session builds must name the new server, as a check without a
    memo does (found by review: they named the old one)."""
    (tmp_path / "lib.agent").write_text(
        'from "./srv.agent" import notes\ntool word_count(text: str) -> int = notes["word-count"]\n'
    )
    main = tmp_path / "main.agent"
    main.write_text(
        'from "./lib.agent" import word_count\n'
        'model fast = "mock" { temperature: 0 }\n'
        "role R(topic: str) -> str {\n"
        "  model fast\n"
        '  prompt "{{ topic }}"\n'
        "  tools [word_count] max 2\n"
        "}\n"
        "agent A(topic: str) -> str {\n"
        "  s = R(topic)\n"
        "  t = R(topic)\n"
        "  return s\n"
        "}\n"
    )
    server = tmp_path / "srv.agent"
    server.write_text('mcp notes = "python3 a_server.py" { timeout: 10 }\n')
    base = rolegraph.parse_file(main)
    agent = base.agents[-1]

    def with_node(text: str) -> ast.Module:
        node = rolegraph.parse(f"agent X(topic: str) -> str {{\n  {text}\n}}\n").agents[0].body[0]
        body = (*agent.body[:-1], node, agent.body[-1])
        edited = agent.with_changes(body=body)
        return base.with_changes(decls=tuple(edited if d is agent else d for d in base.decls))

    def servers(checked: CheckedModule) -> dict[str, list[Any]]:
        ir = checked.irs["A"]
        return {
            name: [tool.server.command if tool.server else None for tool in node.tools]
            for name, node in ir.nodes.items()
        }

    session = CheckSession(str(main))
    session.check(base, errors_only=True, irs=True)
    session.check(with_node("u = R(topic)"), errors_only=True, irs=True)
    server.write_text('mcp notes = "python3 b_server.py" { timeout: 10 }\n')
    edited = with_node("v = R(topic)")
    warm = session.check(edited, errors_only=True, irs=True)
    cold = check_module(edited, str(main), _parse, "", errors_only=True, irs=True)
    assert not warm.errors and not cold.errors
    assert servers(cold)["v"] == [("python3", "b_server.py")]
    assert servers(warm) == servers(cold)
    assert warm.irs["A"].model_dump() == cold.irs["A"].model_dump()
