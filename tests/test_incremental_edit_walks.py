"""The editor's incremental check says what the full checker says, on seeded random edit
walks (hypothesis) over the examples and generated agents.

A walk starts from a program, checks it in a `CheckSession`, then at each step checks a
few siblings (candidates of the same parent, as an editor's round checks them one after
another: the memo's last snapshot of the agent is then a sibling's) and goes on from one
that checked clean. Siblings with errors are compared too: an incremental check goes
wrong where a statement it skips would now report. Each check is the editor's
(`errors_only=True`, with the IRs) and is compared with a fresh `check_module` with no
memo: the same diagnostics, IRs and verdicts (`test_incremental_check.said`). The
operators are drawn first, then their sites, so the rare ones that change the node names
(`replicate_vote`, `bypass_node`, a statement removed or moved: the nodes kept are
declared as at the last clean check, `AgentChecker.declare_kept`) are walked as often as
the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import ast, depth, lower
from rolegraph.compiler.check import refused_before_checking
from rolegraph.compiler.edits import (
    AddEdge,
    ChangeModel,
    EditError,
    Editor,
    RemoveEdge,
    RewireEdge,
)
from rolegraph.compiler.edits.diff import (
    MoveStatement,
    RemoveStatement,
    ReplaceDecl,
    ReplaceStatement,
)
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.queries import body_keys

from .conftest import EXAMPLES
from .edit_walks import generated_module
from .test_incremental_check import candidates, fresh, said
from .test_lower_memo import MEMOS as LOWER_MEMOS
from .test_lower_memo import analysis_irs

STARTS = {
    **{path.stem: (lambda path=path: rolegraph.parse_file(path), str(path)) for path in EXAMPLES},
    "generated-12": (lambda: generated_module(4, 12), "edits.agent"),
    "generated-30": (lambda: generated_module(6, 30), "edits.agent"),
}
_PARSED: dict[str, ast.Module] = {}


def _start(name: str) -> tuple[ast.Module, str]:
    make, filename = STARTS[name]
    if name not in _PARSED:
        _PARSED[name] = make()
    return _PARSED[name], filename


def _sites(module: ast.Module) -> list[list]:
    """The candidates on `module` by operator (each operator's sites, and every change of
    a node's role to a role of the module, fitting or not: `test_incremental_check`'s;
    each statement of each agent removed, or moved elsewhere; a role's result type
    changed to another role's), those with none left out."""
    by_operator: dict[str, list] = {}
    for edit in candidates(module):
        by_operator.setdefault(edit.op, []).append(edit)
    for agent in module.agents:  # a proposer's script steps: a statement removed or moved
        count = len(agent.body)
        by_operator.setdefault("remove_statement", []).extend(
            RemoveStatement(agent=agent.name, index=index) for index in range(count)
        )
        by_operator.setdefault("move_statement", []).extend(
            MoveStatement(agent=agent.name, key=key, index=(index * 7 + 3) % count)
            for index, key in enumerate(body_keys(agent.body))
        )
    roles = module.roles
    by_operator["role_returns"] = [  # a role's result type changed, its callers not
        _RoleReturns(role=role.name, returns=other.returns)
        for role in roles
        for other in roles
        if other.returns is not None and other.returns != role.returns
    ]
    return [found for found in by_operator.values() if found]


@dataclass(frozen=True)
class _RoleReturns:
    """A role declaration whose result type is `returns` (an edit a person makes)."""

    role: str
    returns: ast.Node
    op: str = "role_returns"

    def apply(self, module: ast.Module) -> ast.Module:
        decls = tuple(
            decl.with_changes(returns=self.returns)
            if isinstance(decl, ast.RoleDecl) and decl.name == self.role
            else decl
            for decl in module.decls
        )
        return module.with_changes(decls=decls)


def _agrees(session: CheckSession, module: ast.Module, filename: str) -> bool:
    """Whether the session's editor check of `module` is clean; it must say what the full
    checker says."""
    incremental = session.check(module, errors_only=True, irs=True)
    assert said(incremental) == said(fresh(module, filename, errors_only=True, irs=True))
    return not incremental.errors


def _walk(start: str, data, agrees) -> None:
    module, filename = _start(start)
    session = CheckSession(filename)
    assert agrees(session, module, filename)
    for _ in range(data.draw(st.integers(2, 6), label="steps")):
        by_operator = _sites(module)
        if not by_operator:
            break
        clean: list[ast.Module] = []
        for _ in range(data.draw(st.integers(1, 4), label="siblings")):
            sites = data.draw(st.sampled_from(by_operator), label="operator")
            edit = data.draw(st.sampled_from(sites), label="site")
            try:
                edited = edit.apply(module)
            except (EditError, ValueError):
                continue
            if agrees(session, edited, filename):
                clean.append(edited)
        if clean:
            module = data.draw(st.sampled_from(clean), label="next")


@settings(max_examples=40, derandomize=True, deadline=None)
@given(start=st.sampled_from(sorted(STARTS)), data=st.data())
def test_the_editors_incremental_check_says_what_the_full_checker_says(start: str, data):
    _walk(start, data, _agrees)


def _agrees_without_irs(session: CheckSession, module: ast.Module, filename: str) -> bool:
    """`_agrees` for the check `Editor` makes (`errors_only=True`, no IRs: the analyses
    read the IR lower.py's `_analysis_ir` makes from the last one built), the full check
    made with lower.py's and depth.py's memos swapped out, so that it leaves the session's
    last builds in place (a full check between two of the session's would otherwise be
    the last build, sharing no node info with the next)."""
    incremental = session.check(module, errors_only=True)
    warm = said(incremental), analysis_irs(incremental)
    saved = {name: getattr(lower, name) for name in LOWER_MEMOS}
    saved_depth = depth._SHALLOW, depth._LAST_PARTS
    for name, memo in saved.items():
        setattr(lower, name, type(memo)())
    depth._SHALLOW, depth._LAST_PARTS = {}, {}
    try:
        full = fresh(module, filename, errors_only=True)
        cold = said(full), analysis_irs(full)
    finally:
        for name, memo in saved.items():
            setattr(lower, name, memo)
        depth._SHALLOW, depth._LAST_PARTS = saved_depth
    assert warm == cold
    return not incremental.errors


@settings(max_examples=30, derandomize=True, deadline=None)
@given(start=st.sampled_from(sorted(STARTS)), data=st.data())
def test_the_editors_check_without_irs_says_what_the_full_checker_says(start: str, data):
    _walk(start, data, _agrees_without_irs)


def _agrees_and_refuses_soundly(session: CheckSession, module: ast.Module, filename: str) -> bool:
    """`_agrees_without_irs`, and where the editor's shortcut refuses `module` before
    checking it (`refused_before_checking`, asked first, as the editor asks), the full
    checker finds errors in it."""
    early = refused_before_checking(module)
    clean = _agrees_without_irs(session, module, filename)
    assert not (early and clean), "refused before checking, but it checks"
    return clean


@settings(max_examples=30, derandomize=True, deadline=None)
@given(start=st.sampled_from(sorted(STARTS)), data=st.data())
def test_what_the_editor_refuses_before_checking_the_full_checker_refuses(start: str, data):
    _walk(start, data, _agrees_and_refuses_soundly)


def _refusals(editor: Editor, module: ast.Module, edits: list) -> list[tuple[str, list[str]]]:
    """Each edit applied by `editor`: what it was refused with (its diagnostics, each
    with its notes, read once every edit was applied), or that it was taken."""
    found: list[tuple[str, EditError | None]] = []
    for edit in edits:
        try:
            editor.apply(module, edit)
            found.append((edit.op, None))
        except EditError as refused:
            found.append((edit.op, refused))
    # (asked after the round, as a search that reads why asks: the editor has checked
    # other programs since)
    return [(op, [repr(d) for d in why.diagnostics] if why else ["taken"]) for op, why in found]


# the one role every small program below calls
STEP = """
model fast = "openai/gpt-4o-mini"
role Step(task: str) -> str {
  model fast
  prompt "{{ task }}"
}
"""

# two chains side by side: an edge rewired from one onto the other mostly closes no cycle,
# though it may go down in the last graph's ranks
PARALLEL = (
    STEP
    + """agent Flow(task: str) -> str {
  a = Step(task)
  b = Step(task)
  c = Step(task)
  d = Step(task)
  e = Step(task)
  f = Step(task)
  a -> b
  b -> c
  d -> e
  e -> f
  f -> return(f)
  c -> return(c)
}
"""
)


@pytest.mark.parametrize("start", ["parallel", "generated-30"])
def test_an_edit_refused_before_checking_is_refused_in_the_checkers_words(start):
    """Every rewiring, edge added and edge removed on an agent, applied by the editor, with
    its shortcut and without: the same edits taken, the same words for those refused (read
    after the round: a refusal told before checking says why when asked), and some were
    told before checking, some not."""
    if start == "parallel":
        module, filename = rolegraph.parse(PARALLEL, "parallel.agent"), "parallel.agent"
    else:
        module, filename = _start(start)
    edits = [*RewireEdge.sites(module), *AddEdge.sites(module), *RemoveEdge.sites(module)]
    told = []

    def refuses(edited: ast.Module) -> bool:
        told.append(refused_before_checking(edited))
        return told[-1]

    def checker():
        session = CheckSession(filename)
        return lambda edited: session.check(edited, errors_only=True).diagnostics

    sooner = _refusals(Editor(checker(), refuses=refuses), module, edits)
    assert sooner == _refusals(Editor(checker()), module, edits)
    assert any(told) and not all(told)


CHAIN = (
    STEP
    + """agent Flow(task: str) -> str {
  a = Step(task)
  c = Step(a)
  c -> return(c)
}
"""
)


def test_a_graph_is_told_from_the_last_build_only_where_its_nodes_are_that_builds():
    """After a check of `a = Step(task)`, `c = Step(a)` (a data edge a -> c), an edge
    c -> a closes a cycle, told before checking; but not once `c` no longer reads `a`:
    the node statements are no longer the last build's, and it checks."""
    module = rolegraph.parse(CHAIN, "chain.agent")
    session = CheckSession("chain.agent")
    assert not session.check(module, errors_only=True).errors
    looped = AddEdge(agent="Flow", edge="c -> a").apply(module)
    assert refused_before_checking(looped)
    unread = ReplaceStatement(agent="Flow", key="node c", source="c = Step(task)").apply(looped)
    assert not refused_before_checking(unread)
    assert not fresh(unread, "chain.agent", errors_only=True).errors
    assert fresh(looped, "chain.agent", errors_only=True).errors


PAIR = (
    STEP
    + """role Pair(x: str, y: str) -> str {
  model fast
  prompt "{{ x }} {{ y }}"
}
agent Flow(task: str) -> str {
  a = Step(task)
  b = Step(task)
  s = Step(b)
  c = Pair(a, b)
  c -> return(c)
}
"""
)
SWAPPED = 'role Pair(y: str, x: str) -> str {\n  model fast\n  prompt "{{ x }}"\n}'


def test_a_race_is_told_from_the_last_build_only_where_the_callees_are_that_builds():
    """An edge s -> c binding port `y` leaves c's other argument to it: `x`, which reads
    `a`, not ordered before s: a race, told before checking. With `Pair`'s parameters
    swapped in the same program, `x` reads `b` (before s): no race, and it checks; the
    declarations are no longer the last build's, so nothing is told."""
    module = rolegraph.parse(PAIR, "pair.agent")
    assert not CheckSession("pair.agent").check(module, errors_only=True).errors
    racing = AddEdge(agent="Flow", edge="s -> c(y: s)").apply(module)
    swapped = ReplaceDecl(key="Pair", source=SWAPPED).apply(racing)
    # (both asked before any other check: a check builds the agent's IR anew)
    assert refused_before_checking(racing)
    assert not refused_before_checking(swapped)
    assert fresh(racing, "pair.agent", errors_only=True).errors
    assert not fresh(swapped, "pair.agent", errors_only=True).errors


def test_nodes_kept_when_the_node_names_change_share_the_last_checks_node_infos():
    """When the node names (in order) differ from the last clean check's, its node table
    does not carry over whole: each node declared by the same statement is declared as
    then (`AgentChecker.declare_kept`), with the snapshot's node info where its callee is
    the same, and a new one, naming the role as this program declares it, where the
    role's declaration changed (its signature did not)."""
    path = str(EXAMPLES[0].parent / "debate.agent")
    start = rolegraph.parse_file(path)
    session = CheckSession(path)
    kept = session.check(start, errors_only=True, irs=True).agents["Debate"].nodes
    moved = MoveStatement(agent="Debate", key="node verdict", index=0).apply(start)
    edited = ChangeModel(role="Judge", model="debater").apply(moved)  # Judge redeclared
    checked = session.check(edited, errors_only=True, irs=True)
    assert said(checked) == said(fresh(edited, path, errors_only=True, irs=True))
    nodes = checked.agents["Debate"].nodes
    assert list(nodes) == ["verdict", "opening", "rebuttal"]
    assert nodes["opening"] is kept["opening"] and nodes["rebuttal"] is kept["rebuttal"]
    judge = next(d for d in edited.roles if d.name == "Judge")
    assert nodes["verdict"].callee.symbol.decl is judge  # (not the last check's)
