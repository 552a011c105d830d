"""Candidates keep their `test` blocks valid.

An edit changes the program its `test` blocks were written for. After each edit the
search applies one rule to the candidate's tests, in this order:

1. **Renamed along.** A `change_role` edit that leaves no node of the program calling
   the old role carries each test's `mock Old [...]` over to the new role, and
   `calls(Old)` in its `expect`s to `calls(New)` (not when the test mocks the new role
   already). The replies must still fit the new role's type: step 2 checks that.
2. **Dropped when stale.** A test the checker refuses on the candidate (it mocks a role
   or reads a node the edit removed, it passes an argument the agent no longer takes,
   a reply no longer fits) is dropped, with the checker's message.
3. **Dropped when it no longer holds.** The tests left are run on the mock model (as
   `rolegraph test` runs them); one that fails on the candidate is dropped, with its
   first failure. A test's verdict is kept in the search's store by what its run can
   reach (search/sharing.py: `test_fingerprint`): the same test on a program with the
   same reach is not run again (a search started again on its store runs none again).

A test is never rewritten to expect what the candidate does now: a test re-recorded
from the behaviour it checks would check nothing. So every candidate's tests pass
(`rolegraph test` on any candidate file passes), and what was dropped, and why, is in
the candidate's record (`Scored.tests`, `search.json`) and in the front's rows.

The search checks candidates without their tests (an edit is not refused for making a
test stale; this pass decides), see search/program.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.check import CheckedModule
from rolegraph.compiler.edits import ChangeRole, Edit, apply_script
from rolegraph.compiler.incremental import CheckSession
from rolegraph.runtime.testblocks import run_test

from .program import check, without_tests
from .sharing import runs_fingerprint, test_fingerprint
from .store import SearchStore, TestVerdict


@dataclass(frozen=True)
class TestsKept:
    """What the pass did to a candidate's tests (each entry: the test, and what or why)."""

    __test__ = False  # (not a pytest class)

    renamed: tuple[tuple[str, str], ...] = ()
    dropped: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.renamed or self.dropped)

    def to_json(self) -> dict[str, Any]:
        return {
            "renamed": [{"test": t, "change": c} for t, c in self.renamed],
            "dropped": [{"test": t, "why": w} for t, w in self.dropped],
        }

    def lines(self) -> list[str]:
        """One line each, for a person."""
        return [f"test `{t}`: renamed along: {c}" for t, c in self.renamed] + [
            f"test `{t}` dropped: {w}" for t, w in self.dropped
        ]


NOTHING = TestsKept()


async def keep_tests(
    parent: ast.Module,
    module: ast.Module,
    edit: Edit | Sequence[Edit] | None,
    filename: str,
    root: str | Path | None = None,
    session: CheckSession | None = None,
    store: SearchStore | None = None,
    *,
    later: bool = False,
) -> tuple[ast.Module, TestsKept]:
    """`module` (made from `parent` by `edit`) with its tests renamed along, and those
    stale or failing dropped; and what was done. `session`: the search's checks (made
    for `filename` and `root`), so that a candidate is checked against those before;
    `store`: the search's, where tests' verdicts are kept (see the module's docstring);
    `later`: with the store's next write (the candidate's runs), not in one of their own."""
    if not module.tests:
        return module, NOTHING
    edits = () if edit is None else (edit,) if isinstance(edit, Edit) else tuple(edit)
    module, renamed = _renamed_along(parent, module, edits)
    dropped: list[tuple[str, str]] = []
    checked = _errors(module, filename, root, session)
    if any(d.is_error for d in checked.diagnostics):
        bare = without_tests(module)
        for test in module.tests:  # which tests the checker refuses
            alone = bare.with_changes(decls=(*bare.decls, test))
            errors = [
                d
                for d in check(
                    alone, filename, root, explore=False, session=session, errors_only=True
                ).diagnostics
                if d.is_error
            ]
            if errors:
                dropped.append((test.name, f"stale: {errors[0].message}"))
        module = _dropping(module, {name for name, _ in dropped})
        checked = _errors(module, filename, root, session)
        if any(d.is_error for d in checked.diagnostics):  # (the program itself: not ours)
            return module, TestsKept(tuple(renamed), tuple(dropped))
    irs = _test_irs(module, checked, session)
    keys = _verdict_keys(module) if store is not None else [None] * len(module.tests)
    known = store.test_verdicts([k for k in keys if k]) if store is not None else {}
    found: list[tuple[str, TestVerdict]] = []
    for test, key in zip(module.tests, keys, strict=True):
        run = test.run
        ir = irs.get(run.agent) if run is not None else None
        if ir is None:
            dropped.append((test.name, "stale: it runs no agent of the candidate"))
            continue
        verdict = known.get(key) if key is not None else None
        if verdict is None:
            verdict = await _verdict(test, ir)
            if key is not None:
                found.append((key, verdict))
        if not verdict.passed:
            dropped.append((test.name, f"no longer holds: {verdict.failure}"))
    if store is not None:
        store.put_test_verdicts(found, later=later)  # (one transaction; `later`: the next)
    module = _dropping(module, {name for name, _ in dropped})
    return module, TestsKept(tuple(renamed), tuple(dropped))


def _errors(
    module: ast.Module, filename: str, root: str | Path | None, session: CheckSession | None
) -> CheckedModule:
    """`module` with its tests checked for errors, without exploring. In a session (a
    search's: its editor checked the program without its tests, and built its IRs) no IR
    is built here: `_test_irs` takes the editor's. And where the session found the
    program without its tests clean in a check that explored it (the editor's), this
    check explores too: the tests change no agent, so exploring adds no error, and the
    session remembers each agent's graph as that check left it (its errors, none: not
    analysed again), where a check that does not explore analyses each graph anew. The
    same diagnostics, sooner."""
    if session is None:
        return check(module, filename, root, explore=False, errors_only=True)
    explore = session.found_clean(without_tests(module))
    return session.check(module, explore=explore, errors_only=True, irs=False)


def _test_irs(
    module: ast.Module, checked: CheckedModule, session: CheckSession | None
) -> dict[str, Any]:
    """The IRs of the agents `module`'s tests run (`module` checked clean by `_errors`):
    the check's own, or in a session those of the program without its tests (the
    editor's check, `runnable`: the same agents, built from the same declarations),
    and those of imported agents the tests run, which the check builds anyway."""
    if session is None:
        return checked.irs
    # (a check without IRs still builds those of imported agents that tests run)
    irs = {**checked.irs, **session.runnable(without_tests(module)).irs}
    if all(t.run is None or t.run.agent in irs for t in module.tests):
        return irs
    return session.check(module, explore=False, errors_only=True, irs=True).irs


async def _verdict(test: ast.TestDecl, ir: Any) -> TestVerdict:
    """`test` run on `ir`, the agent it runs, on its mocks."""
    outcome = await run_test(test, ir)
    if outcome.passed:
        return TestVerdict(True)
    return TestVerdict(False, (outcome.failures or ["it failed"])[0].splitlines()[0])


def _verdict_keys(module: ast.Module) -> list[str | None]:
    """Each test's `test_fingerprint` in `module` (the reach of each agent hashed once)."""
    reaches: dict[str, str | None] = {}
    keys: list[str | None] = []
    for test in module.tests:
        agent = test.run.agent if test.run is not None else None
        if agent is not None and agent not in reaches:
            reaches[agent] = runs_fingerprint(module, agent)
        keys.append(test_fingerprint(test, module, reaches.get(agent) if agent else None))
    return keys


def _dropping(module: ast.Module, names: set[str]) -> ast.Module:
    if not names:
        return module
    kept = (d for d in module.decls if not (isinstance(d, ast.TestDecl) and d.name in names))
    return module.with_changes(decls=tuple(kept))


def _renamed_along(
    parent: ast.Module, module: ast.Module, edits: Sequence[Edit]
) -> tuple[ast.Module, list[tuple[str, str]]]:
    renamed: list[tuple[str, str]] = []
    for edit in edits:
        if not isinstance(edit, ChangeRole):
            continue
        old = _role_of(parent, edit.agent, edit.node)
        if old is None or old == edit.role or _called(module, old):
            continue
        decls = []
        for decl in module.decls:
            if isinstance(decl, ast.TestDecl) and _mocks(decl, old) and not _mocks(decl, edit.role):
                decl = _rename_role(decl, old, edit.role)
                renamed.append((decl.name, f"mock {old} -> mock {edit.role}"))
            decls.append(decl)
        module = module.with_changes(decls=tuple(decls))
    return module, renamed


def _role_of(module: ast.Module, agent: str, node: str) -> str | None:
    decl = module.decl(agent)
    if not isinstance(decl, ast.AgentDecl):
        return None
    return next((n.role for n in decl.nodes if n.name == node), None)


def _called(module: ast.Module, role: str) -> bool:
    return any(node.role == role for agent in module.agents for node in agent.nodes)


def _mocks(test: ast.TestDecl, role: str) -> bool:
    return any(isinstance(s, ast.TestMock) and s.role == role for s in test.body)


def _rename_role(test: ast.TestDecl, old: str, new: str) -> ast.TestDecl:
    def replace(_: ast.Node, node: ast.Node) -> ast.Node | None:
        if isinstance(node, ast.TestMock) and node.role == old:
            return node.with_changes(role=new)
        if (
            isinstance(node, ast.Call)
            and node.func == "calls"
            and node.args
            and isinstance(node.args[0], ast.Ref)
            and node.args[0].parts == (old,)
        ):
            return node.with_changes(args=(ast.Ref(parts=(new,)), *node.args[1:]))
        return None

    result = test.transform(replace)
    assert isinstance(result, ast.TestDecl)
    return result


async def replayed(
    parent: ast.Module,
    edits: Sequence[Edit],
    filename: str,
    root: str | Path | None = None,
) -> ast.Module:
    """The candidate an archive entry describes: its edits applied to its parent, then
    its tests kept valid (how a search made it)."""
    module = apply_script(parent, edits)
    return (
        await keep_tests(parent, module, edits[0] if len(edits) == 1 else edits, filename, root)
    )[0]
