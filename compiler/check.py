"""The compiler driver: a parsed module → resolved, type-checked, built, analysed.

`check_module(module, filename, parse, text)` runs every stage the front end does not:
name resolution (following imports through the injected `parse`), type checking, the
IR build and the static analyses (graph analyses, stalls, temporal constraints).
Diagnostics are collected from all of them.
"""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ast, codes
from .analyses import analyse, closes_a_cycle, races_after
from .depth import MAX_AGENT_NESTING, MAX_AST_NESTING, measured_shallow, too_deep_declarations
from .diagnostics import Diagnostic, diagnostic
from .identity import IdentityTable
from .ir import AgentIR
from .lower import build_ir, edges_since_last_build, none_params, unbound_parameters
from .memo import AgentSnapshot
from .paths import ConstraintResult, explore_agent
from .reach import topological_ranks
from .resolve import ParseFn, Program, load_program
from .testblocks import check_tests
from .typecheck import AgentInfo, CheckMemo, CheckResult, check_program
from .types import NONE, assignable


@dataclass
class CheckedModule:
    program: Program
    agents: dict[str, AgentInfo]
    irs: dict[str, AgentIR] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    constraints: list[ConstraintResult] = field(default_factory=list)
    # roles, tools and agents by qualified name (`check --connect` reads the tools')
    signatures: dict[str, Any] = field(default_factory=dict)
    # the `CheckSession` that checked it, whose memo a check of an edit of it reuses
    session: Any = field(default=None, repr=False)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def check_module(
    module: ast.Module,
    filename: str,
    parse: ParseFn,
    text: str = "",
    *,
    explore: bool = True,
    errors_only: bool = False,
    memo: CheckMemo | None = None,
    root: str | Path | None = None,
    irs: bool = False,
) -> CheckedModule:
    """Check a module. `explore=False` skips the exploration of runs (no stall, reachability
    or constraint verdicts); `errors_only` skips what can only warn, and explores each
    agent only until what is certain is decided (a run returns, and each `ensure` holds on
    some returning run) — what an editor needs to know whether a program is valid (and
    returns no IRs, unless `irs`: then the IRs `explore=False` builds too, so that a
    program a search's editor admits is not checked again to be run). `memo` reuses role
    checks across calls. `root`: the directory file imports must stay in (default:
    `filename`'s)."""
    # As the parser does: a check makes many objects and no cycles to speak of, and the
    # cyclic collector, run in the middle of one, walks the whole program each time (the
    # larger the agent, the more often): checks of 10,000 nodes took twice as long a node.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check_module(
            module, filename, parse, text, explore, errors_only, memo, root, irs or not errors_only
        )
    finally:
        if collecting:
            gc.enable()


def _check_module(
    module: ast.Module,
    filename: str,
    parse: ParseFn,
    text: str,
    explore: bool,
    errors_only: bool,
    memo: CheckMemo | None,
    root: str | Path | None,
    irs: bool,
) -> CheckedModule:
    program = load_program(module, filename, parse, text, root)
    too_deep = _too_deep(module, filename)
    if too_deep:  # (a tree built in Python, not parsed: the checker would recurse past it)
        return CheckedModule(program, {}, diagnostics=too_deep)
    result = check_program(program, memo)
    checked = CheckedModule(program, result.agents, diagnostics=result.diagnostics)
    checked.signatures = result.signatures
    if checked.errors:
        return checked  # the graph of an ill-typed program is not worth analysing
    checked.diagnostics.extend(_checked_tests(result, memo))
    for test in program.main.module.tests:  # the IRs of imported agents that tests run
        symbol = program.lookup(program.main, test.run.agent) if test.run else None
        if symbol is not None and symbol.module is not program.main:
            info = result.agents.get(symbol.qualified)
            if info is not None and test.run is not None:
                checked.irs.setdefault(test.run.agent, build_ir(result, info))
    calls = _agent_calls(result)
    checked.diagnostics.extend(_recursion(result, calls))
    if not checked.errors:
        checked.diagnostics.extend(_nested_too_deeply(result, calls))
    if checked.errors:
        return checked
    for name, agent in result.agents.items():
        if agent.symbol.module is not program.main:
            continue
        snapshot = result.snapshots.get(name) if errors_only and explore else None
        shape = _graph_shape(agent, snapshot) if snapshot is not None else None
        known = memo.graphs.get(shape[0]) if shape is not None and memo is not None else None
        if known is not None:
            checked.diagnostics.extend(known[1])
            if irs:
                checked.irs[name] = build_ir(result, agent)
            continue
        ir = build_ir(result, agent, runtime=irs)  # (the analyses read no runtime field)
        if irs:  # an IR without prompts and models is not one to run
            checked.irs[name] = ir
        graph_diagnostics = analyse(ir, errors_only=errors_only)
        checked.diagnostics.extend(graph_diagnostics)
        if explore and not any(d.is_error for d in graph_diagnostics):
            diagnostics, results = explore_agent(ir, errors_only=errors_only)
            checked.diagnostics.extend(diagnostics)
            checked.constraints.extend(results)
            graph_diagnostics = graph_diagnostics + diagnostics
        if shape is not None and snapshot is not None and memo is not None:
            memo.store_graph(shape, graph_diagnostics, snapshot)
    return checked


def refused_before_checking(module: ast.Module) -> bool:
    """Whether `module` has errors, told before it is checked, from the graph the last
    build of one of its agents made (an editor's candidates are edits of one program): the
    agent's nodes are that build's, and its edge statements, changed, close a cycle with
    no bound (`lower.edges_since_last_build`, `analyses.closes_a_cycle`). If the program
    type-checks, the analyses report that cycle (E0401); if not, it has errors anyway.
    False when not told so (`check_module` decides). Nothing is reported here: an editor
    that refuses an edit so says why only when asked (the checker's words, then)."""
    for agent in module.agents:
        if agent.ct_params or not measured_shallow(agent):  # (a deep one: `_too_deep`'s)
            continue
        found = edges_since_last_build(agent, agent.name)
        if found is None or not (found.added or found.removed):
            continue
        if closes_a_cycle(found.ir, found.removed, found.added):
            return True
        if _only_agent_changed(module, agent, found.decls) and races_after(*found[:4]):
            return True
    return False


def _only_agent_changed(
    module: ast.Module, agent: ast.AgentDecl, decls: tuple[weakref.ref[ast.Node], ...] | None
) -> bool:
    """Whether `module`'s declarations are those `decls` refer to (a program that imports
    nothing) but `agent`: then its nodes call the callees they called there (what binds
    their arguments, which a race reads)."""
    if decls is None or len(decls) != len(module.decls):
        return False
    changed = [decl for decl, was in zip(module.decls, decls, strict=True) if was() is not decl]
    return len(changed) == 1 and changed[0] is agent


def _checked_tests(result: CheckResult, memo: CheckMemo | None) -> list[Diagnostic]:
    """`check_tests(result)`, or nothing when the same `test` blocks checked clean before
    reading the same things (see `_tests_key`)."""
    tests = result.program.main.module.tests
    found = _tests_key(result, memo) if tests and memo is not None else None
    if found is not None and memo is not None and found[0] in memo.tests:
        return []
    diagnostics = check_tests(result)
    if found is not None and memo is not None and not diagnostics:
        memo.store_tests(*found)
    return diagnostics


def _tests_key(result: CheckResult, memo: CheckMemo) -> tuple[tuple[Any, ...], list[Any]] | None:
    """What checking the main module's `test` blocks reads: the blocks (by identity), the
    names the module sees (its environment), and for each block the parameters and nodes
    of the agent it runs and the declarations of the roles it mocks (by identity). None
    when a block runs an agent of another module (its environment is not in the key)."""
    program = result.program
    main = program.main
    key: list[Any] = [memo.environment(main)]
    objects: list[Any] = []
    for test in main.module.tests:
        key.append(id(test))
        objects.append(test)
        for statement in test.body:
            if isinstance(statement, ast.TestRun):
                symbol = program.lookup(main, statement.agent)
                info = result.agents.get(symbol.qualified) if symbol is not None else None
                if symbol is None or info is None or symbol.module is not main:
                    return None
                key.append((symbol.qualified, tuple(info.params.items()), tuple(info.nodes)))
            elif isinstance(statement, ast.TestMock):
                symbol = program.lookup(main, statement.role)
                if symbol is None:
                    return None
                key.append((symbol.kind, id(symbol.decl)))
                objects.append(symbol.decl)
    return tuple(key), objects


def _graph_shape(
    agent: AgentInfo, snapshot: AgentSnapshot | None = None
) -> tuple[tuple[Any, ...], list[Any]] | None:
    """What the errors of an agent's graph (cycles, races, a run that returns) depend on,
    once it type-checks: its nodes' names, arguments, bounds and whether each starts the
    run, and its edges and returns — those by identity, since an edit keeps what it does
    not change. Not the roles the nodes call: a node that calls another role of the same
    shape leaves the graph as it was (the type checker judged the call). Its constraints
    are part of it: an `ensure` that every run violates is an error (E0506).

    Each node's part is one object per distinct part (`_node_shape`), named in the key by
    its identity: the key is a tuple of numbers, quick to hash. With it: every object it
    names by identity (the parameters, and for each statement its part if it is a node,
    else itself), which the memo's entry holds or goes with (`CheckMemo.store_graph`), so
    no identity in it is reused while it lives.

    `snapshot`: the agent's snapshot this check stored (memo.AgentSnapshot), whose `shape`
    has what stands for each statement, derived from the last one's: then only the parts
    of the nodes changed since are made (the same key, in C for the rest)."""
    decl = agent.decl
    if snapshot is not None and snapshot.decl is decl:
        found = _derived_shape(agent, snapshot)
        if found is not None:
            return found
    # (rebuilding a node copies its tuples but keeps the nodes in them: identities of those)
    named: list[Any] = [*decl.params, *decl.ct_params]
    key: list[Any] = [
        agent.symbol.qualified,
        *map(id, decl.params),
        _returns_none(agent),
        *map(id, decl.ct_params),
    ]
    nodes = agent.nodes
    for statement in decl.body:
        if type(statement) is _NODE or isinstance(statement, _NODE):
            info = nodes.get(statement.name)  # type: ignore[attr-defined]
            if info is None:
                return None
            part = _node_part(statement, info)  # type: ignore[arg-type]
            named.append(part)
            key.append(id(part))
        else:
            named.append(statement)
            key.append(id(statement))
    return tuple(key), named


def _derived_shape(
    agent: AgentInfo, snapshot: AgentSnapshot
) -> tuple[tuple[Any, ...], list[Any]] | None:
    """`_graph_shape` from the snapshot's `shape` (see there); None if a statement is
    missing from it (never, when the snapshot is the check's)."""
    decl = agent.decl
    shape = snapshot.shape
    if snapshot.unshaped:
        for statement_id, info in snapshot.unshaped.items():
            shape[statement_id] = _node_part(info.decl, info)
        snapshot.unshaped.clear()
    try:
        parts = list(map(shape.__getitem__, map(id, decl.body)))
    except KeyError:
        return None
    key = (
        agent.symbol.qualified,
        *map(id, decl.params),
        _returns_none(agent),
        *map(id, decl.ct_params),
    )
    # (a statement other than a node stands for itself)
    return (*key, *map(id, parts)), [*decl.params, *decl.ct_params, *parts]


def _returns_none(agent: AgentInfo) -> bool:
    """Whether the agent's return type admits none (an `x.error` returned as it is
    needs no proof then: compiler/paths.py): part of `_graph_shape`, in the place of the
    separator between the parameters and the compile-time ones."""
    return assignable(NONE, agent.returns)


def _node_part(statement: ast.NodeDecl, info: Any) -> tuple[Any, ...]:
    """A node's part of `_graph_shape` (`info`: its node info, or its snapshot's)."""
    callee = info.callee
    found = _NODE_SHAPES.get(id(statement))
    if found is None or found[0] is not callee.signature or found[1] != callee.kind:
        found = _node_shape(statement, info)
    return found[2]


_NODE = ast.NodeDecl

# each node's part of `_graph_shape`, by its statement (with the callee's signature and
# kind it was made for: a check without errors binds the arguments the statement names to
# that signature's parameters, and the parameters left unbound follow); kept while the
# statement lives (identity.py)
_NODE_SHAPES: IdentityTable[int, tuple[Any, str, tuple[Any, ...]]] = IdentityTable()
# each distinct part, once: the object whose identity stands for it in a graph's key,
# while the arguments it names by identity live
_PARTS: IdentityTable[tuple[Any, ...], tuple[Any, ...]] = IdentityTable()


def _node_shape(statement: ast.NodeDecl, info: Any) -> tuple[Any, str, tuple[Any, ...]]:
    parts = [*statement.args, statement.map, *statement.ct_args]
    shape = (
        statement.name,
        tuple(map(id, parts)),
        len(statement.args),
        statement.replicate,
        info.callee.kind,
        tuple(unbound_parameters(info)),
        # (which parameters admit none: where an `x.error` passed as it is needs no proof)
        none_params(info),
    )
    # (a graph's key holds its parts alive: an emptied table only makes new ones)
    shape = _PARTS.get(shape) or _PARTS.keep(shape, shape, *parts)
    callee = info.callee
    return _NODE_SHAPES.keep(id(statement), (callee.signature, callee.kind, shape), statement)


def _too_deep(module: ast.Module, filename: str) -> list[Diagnostic]:
    """E0115 for each declaration nested deeper than the parser would have taken."""
    found = []
    for decl, node in too_deep_declarations(module.decls):
        if node is not None:
            found.append(
                diagnostic(
                    codes.NESTING_TOO_DEEP,
                    f"this declaration nests more than {MAX_AST_NESTING} levels deep",
                    file=filename,
                    span=node.span or decl.span,
                    label=f"level {MAX_AST_NESTING + 1}",
                    hints=(
                        "name the parts: a node for a sub-result, a record type for a nested type",
                    ),
                )
            )
    return found


_Calls = dict[str, list[tuple[str, ast.NodeDecl]]]


def _agent_calls(result: CheckResult) -> _Calls:
    """Each agent's calls of agents: (the agent called, the node), in body order; found
    once per check, for `_recursion` and `_nested_too_deeply`."""
    return {
        name: [
            (node.callee.symbol.qualified, node.decl)
            for node in info.nodes.values()
            if node.callee.kind == "agent" and node.callee.symbol is not None
        ]
        for name, info in result.agents.items()
    }


def _recursion(result: CheckResult, calls: _Calls) -> list[Diagnostic]:
    """Agents of the main module that call themselves, directly or through other agents
    (`calls`: `_agent_calls`)."""
    found = []
    cyclic = _on_cycles(calls)
    for name, info in result.agents.items():
        if info.symbol.module is not result.program.main or name not in cyclic:
            continue
        path = _cycle_from(name, calls)
        if path is not None:
            node = next(decl for callee, decl in calls[name] if callee == path[1])
            found.append(
                diagnostic(
                    codes.RECURSIVE_AGENT,
                    f"agent `{name}` calls itself: {' -> '.join(path)}",
                    file=info.symbol.module.filename,
                    span=node.span,
                    label="this node",
                    hints=("repeat with a bounded loop edge (`max N`) instead",),
                )
            )
    return found


def _nested_too_deeply(result: CheckResult, calls: _Calls) -> list[Diagnostic]:
    """E0409 at each node that calls an agent nested `MAX_AGENT_NESTING` levels deep: the
    call that makes its agent one level too many. (Calls form no cycle: `_recursion`
    reported any.)"""
    if not any(calls.values()):  # (each agent nests one level)
        return []
    depth = _agent_depths(calls)
    found = []
    for name, info in result.agents.items():
        if info.symbol.module is not result.program.main or depth[name] <= MAX_AGENT_NESTING:
            continue
        for callee, node in calls[name]:
            if depth.get(callee) == MAX_AGENT_NESTING:
                found.append(
                    diagnostic(
                        codes.AGENTS_NESTED_TOO_DEEP,
                        f"agent `{name}` nests agents {MAX_AGENT_NESTING + 1} levels deep, "
                        f"past the limit of {MAX_AGENT_NESTING}",
                        file=info.symbol.module.filename,
                        span=node.span,
                        label=f"`{callee}` nests {MAX_AGENT_NESTING} levels already",
                        hints=("flatten the chain of agents into one agent's nodes",),
                    )
                )
    return found


def _agent_depths(found: _Calls) -> dict[str, int]:
    """How many levels of agents each agent nests: 1 for an agent of roles and tools,
    1 + the deepest agent it calls otherwise (`found`: `_agent_calls`). Post-order,
    without recursion."""
    calls = {name: [callee for callee, _ in called] for name, called in found.items()}
    depth: dict[str, int] = {}
    for root in calls:
        if root in depth:
            continue
        stack = [(root, iter(calls[root]))]
        open_ = {root}  # on the stack: a cycle back to one counts it as 0 (E0408 says why)
        while stack:
            name, callees = stack[-1]
            for callee in callees:
                if callee in calls and callee not in depth and callee not in open_:
                    open_.add(callee)
                    stack.append((callee, iter(calls[callee])))
                    break
            else:
                stack.pop()
                open_.discard(name)
                depth[name] = 1 + max((depth.get(c, 0) for c in calls[name]), default=0)
    return depth


def _on_cycles(calls: _Calls) -> set[str]:
    """The agents that some chain of calls leads back to (one pass over the calls)."""
    if not any(calls.values()):  # (most programs: no agent calls one, each check of an edit)
        return set()
    successors: dict[str, set[str]] = {name: set() for name in calls}
    for name, found in calls.items():
        for callee, _ in found:
            successors[name].add(callee)
            successors.setdefault(callee, set())
    rank = topological_ranks(successors)
    sizes = Counter(rank.values())
    return {
        name for name, targets in successors.items() if sizes[rank[name]] > 1 or name in targets
    }


def _cycle_from(start: str, calls: _Calls) -> list[str] | None:
    # depth first; each agent remembers who reached it, so a path costs its length once
    parent: dict[str, str] = {}
    stack = [start]
    while stack:
        current = stack.pop()
        for callee, _ in calls.get(current, []):
            if callee == start:
                path = [current]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if callee not in parent:
                parent[callee] = current
                stack.append(callee)
    return None
