"""Candidates keep their `test` blocks valid (search/tests_kept.py): renamed along a
`change_role`, dropped when stale or when they no longer hold, and said so. The oracle
is `rolegraph test`'s own path: the candidate's source checked as a file, every test
block run on the mock."""

import asyncio
import json
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler.edits import BypassNode, ChangeRole
from rolegraph.runtime.testblocks import _constant, run_test
from rolegraph.search import Evaluator, Example, Objective, contains, random_search, write_report
from rolegraph.search.candidates import Trail
from rolegraph.search.tests_kept import keep_tests

from .conftest import EXAMPLES, STDLIB

WITH_TESTS = [p for p in EXAMPLES + STDLIB if rolegraph.parse_file(p).tests]

CHAIN = """model m = "mock"
type Answer { text: str }
role Draft(question: str) -> Answer { model m  prompt "{{ question }}" }
role Polish(draft: Answer) -> Answer { model m  prompt "Polish: {{ draft.text }}" }
role Tidy(draft: Answer) -> Answer { model m  prompt "Tidy: {{ draft.text }}" }
agent Main(question: str) -> Answer {
  draft = Draft(question)
  polish = Polish(draft)
  return polish
}
test polishes_once {
  run Main(question: "q")
  mock Draft [{text: "d"}]
  mock Polish [{text: "p"}]
  expect calls(Polish) == 1
  expect result.text == "p"
}
test drafts_first {
  run Main(question: "q")
  expect always(polish -> once draft)
}
"""


def failing_tests(source: str, filename: str) -> list[str]:
    """What `rolegraph test` reports failing on `source` (every test, checked as a file)."""
    checked = rolegraph.check_source(source, filename)
    if checked.errors:
        return [f"does not check: {checked.errors[0].message}"]
    failed = []
    for test in checked.program.main.module.tests:
        outcome = asyncio.run(run_test(test, checked.irs[test.run.agent]))
        if not outcome.passed:
            failed.append(test.name)
    return failed


def kept(edit, source=CHAIN, session=False):
    """`keep_tests` of `edit` of `source`; with `session`, as a search does it: in the
    session of the editor that admitted the edit (its check's IRs then taken)."""
    from rolegraph.compiler.incremental import CheckSession
    from rolegraph.search.program import program_editor

    checks = CheckSession("chain.agent") if session else None
    editor = program_editor("chain.agent", session=checks) if session else None
    parent = rolegraph.parse(source, "chain.agent")
    bare = rolegraph.parse(source.split("test ")[0])
    edited = (editor or rolegraph.editor("chain.agent")).apply(bare, edit)
    edited = edited.with_changes(decls=(*edited.decls, *parent.tests))
    return asyncio.run(keep_tests(parent, edited, edit, "chain.agent", session=checks))


def test_a_change_of_role_carries_the_mock_over_to_the_new_role():
    module, what = kept(ChangeRole(agent="Main", node="polish", role="Tidy"))
    assert what.renamed == (("polishes_once", "mock Polish -> mock Tidy"),)
    assert what.dropped == ()
    source = rolegraph.to_source(module)
    assert "mock Tidy" in source and "calls(Tidy) == 1" in source and "Polish [" not in source
    assert failing_tests(source, "chain.agent") == []


@pytest.mark.parametrize("session", [False, True], ids=["alone", "in a search's session"])
def test_a_test_reading_a_removed_node_is_dropped_as_stale_and_one_that_fails_too(session):
    module, what = kept(BypassNode(agent="Main", node="polish"), session=session)
    reasons = dict(what.dropped)
    assert set(reasons) == {"polishes_once", "drafts_first"}
    assert reasons["drafts_first"].startswith("stale: ")  # (it reads `polish`)
    assert "polish" in reasons["drafts_first"]
    assert reasons["polishes_once"].startswith("no longer holds: ")
    assert module.tests == ()
    assert any("dropped" in line for line in what.lines())


def test_a_test_the_edit_does_not_touch_is_kept_as_it_is():
    parent = rolegraph.parse(CHAIN, "chain.agent")
    module, what = asyncio.run(keep_tests(parent, parent, None, "chain.agent"))
    assert not what and module == parent


def test_the_report_and_the_front_say_what_was_dropped(tmp_path):
    from rolegraph.search import front_rows

    module = rolegraph.parse(CHAIN, "chain.agent")
    ev = Evaluator(Objective([Example({"question": "q"}, "x")], contains), filename="chain.agent")
    edit = BypassNode(agent="Main", node="polish")

    async def go():
        trail = Trail(ev, 2, None)
        start = await trail.start(module)
        await trail.visit(ev.editor().apply(module, edit), start, edit)
        result = trail.result()
        return result, await front_rows(result, ev)

    result, rows = asyncio.run(go())
    data = json.loads(write_report(result, tmp_path).read_text())
    start, child = data["candidates"]
    assert start["tests"] == ["polishes_once", "drafts_first"] and child["tests"] == []
    assert {d["test"] for d in child["tests_changed"]["dropped"]} == set(start["tests"])
    [row] = rows  # the cheaper one (it dropped a call) is the front
    assert row.tests_dropped == ("polishes_once", "drafts_first")
    assert "tests dropped: polishes_once, drafts_first" in row.structure


def objective_from_tests(path: Path) -> Objective:
    """One example per test block: its `run`'s arguments (what the file's own tests run)."""
    module = rolegraph.parse_file(path)
    checked = rolegraph.check_source(path.read_text(), str(path))
    agent = module.tests[0].run.agent
    names = list(checked.irs[agent].param_types)
    examples = [
        Example({(a.name or names[i]): _constant(a.value) for i, a in enumerate(t.run.args)})
        for t in module.tests
        if t.run.agent == agent
    ]
    return Objective(examples, contains, agent=agent)


@pytest.mark.slow
@pytest.mark.parametrize("path", WITH_TESTS, ids=lambda p: p.name)
def test_every_candidate_of_a_seeded_search_passes_its_tests(path):
    module = rolegraph.parse_file(path)
    ev = Evaluator(objective_from_tests(path), filename=str(path))
    result = asyncio.run(random_search(module, ev, evaluations=10, seed=7))
    assert len(result.evaluated) > 1
    for scored in result.evaluated:
        assert failing_tests(scored.source, str(path)) == [], scored.made_by
        names = {t.name for t in scored.module.tests}
        assert not names & {name for name, _ in scored.tests.dropped}


def test_without_the_pass_the_candidates_of_a_search_would_fail_their_tests():
    """The property above can fail: the same search's edits, applied without the pass,
    leave tests that `rolegraph test` fails."""
    path = next(p for p in WITH_TESTS if p.name == "self_refine.agent")
    module = rolegraph.parse_file(path)
    ev = Evaluator(objective_from_tests(path), filename=str(path))
    result = asyncio.run(random_search(module, ev, evaluations=10, seed=7))
    changed = [s for s in result.evaluated if s.tests.dropped]
    assert changed
    editor = ev.editor()
    stale = 0
    for scored in changed:
        parent = next(s for s in result.evaluated if s.evaluation.fingerprint == scored.parent)
        raw = editor.apply(parent.module, scored.edit)
        stale += bool(failing_tests(rolegraph.to_source(raw), str(path)))
    assert stale == len(changed)


# -- tests' verdicts kept by what their runs reach --------------------------------------------


def counting_runs(monkeypatch) -> list[str]:
    """The names of the tests the pass runs from now on."""
    import rolegraph.search.tests_kept as tests_kept

    ran: list[str] = []
    original = tests_kept.run_test

    async def counted(test, ir):
        ran.append(test.name)
        return await original(test, ir)

    monkeypatch.setattr(tests_kept, "run_test", counted)
    return ran


def test_a_test_is_run_again_only_on_a_program_whose_reach_changed(monkeypatch):
    from rolegraph.search import SearchStore
    from rolegraph.search.sharing import test_fingerprint

    ran = counting_runs(monkeypatch)
    store = SearchStore()
    parent = rolegraph.parse(CHAIN, "chain.agent")

    def keep(module):
        ran.clear()
        found = asyncio.run(keep_tests(parent, module, None, "chain.agent", store=store))
        return found, list(ran)

    first, ran_first = keep(parent)
    assert ran_first == ["polishes_once", "drafts_first"]
    assert keep(parent) == (first, [])  # (the same program: the verdicts from the store)
    # a role nothing reaches, added: the same reach, nothing run again
    unrelated = rolegraph.parse(
        CHAIN.replace(
            "agent Main", 'role Other(x: str) -> Answer { model m  prompt "o" }\nagent Main'
        ),
        "chain.agent",
    )
    assert [test_fingerprint(t, unrelated) for t in unrelated.tests] == [
        test_fingerprint(t, parent) for t in parent.tests
    ]
    assert keep(unrelated)[1] == []
    # a reached role's prompt changed: both run again (the mock's replies may differ)
    reworded = rolegraph.parse(CHAIN.replace("Polish: ", "Improve: "), "chain.agent")
    assert keep(reworded)[1] == ["polishes_once", "drafts_first"]
    # a test changed: that test only
    stricter = rolegraph.parse(CHAIN.replace('result.text == "p"', 'result.text == "q"'), "x")
    (_, what), again = keep(stricter)
    assert again == ["polishes_once"] and [t for t, _ in what.dropped] == ["polishes_once"]


def test_a_search_started_again_on_its_store_runs_no_test_and_keeps_the_same_tests(
    tmp_path, monkeypatch
):
    from rolegraph.search import SearchStore

    path = next(p for p in WITH_TESTS if p.name == "self_refine.agent")
    ran = counting_runs(monkeypatch)

    def search():
        store = SearchStore(tmp_path / "s.sqlite")
        ev = Evaluator(objective_from_tests(path), filename=str(path), store=store)
        result = asyncio.run(random_search(rolegraph.parse_file(path), ev, evaluations=12, seed=7))
        store.close()
        return [(s.evaluation.fingerprint, s.made_by, s.tests) for s in result.evaluated]

    first = search()
    assert ran and any(tests.dropped for _, _, tests in first)
    ran.clear()
    assert search() == first and ran == []


@pytest.mark.parametrize("path", WITH_TESTS[:5], ids=lambda p: p.name)
def test_in_a_search_the_pass_runs_the_tests_on_the_editors_irs(path, monkeypatch):
    """In a search's session the pass checks a candidate with its tests without building
    IRs, and runs the tests on the IRs of the editor's check (search/tests_kept.py
    `_test_irs`). Held to the pass with no session (one check with IRs) on every edit
    the editor admits of each example's first operators' sites: the same program kept,
    the same tests renamed and dropped, each test run on an IR equal to that check's."""
    import rolegraph.search.tests_kept as tests_kept
    from rolegraph.compiler.edits import OPERATORS, EditError
    from rolegraph.compiler.incremental import CheckSession
    from rolegraph.search.program import check, program_editor, without_tests

    module = rolegraph.parse_file(path)
    filename = str(path)
    ran: list[tuple[str, object]] = []
    original = tests_kept.run_test

    async def recorded(test, ir):
        ran.append((test.name, ir))
        return await original(test, ir)

    monkeypatch.setattr(tests_kept, "run_test", recorded)
    taken = 0
    for operator in OPERATORS:
        for edit in list(operator.sites(module))[:2]:
            session = CheckSession(filename)
            editor = program_editor(filename, session=session)
            try:
                bare = editor.admit(module, edit.apply(module), "the edit")
            except (EditError, ValueError):
                continue
            edited = bare.with_changes(decls=(*without_tests(bare).decls, *module.tests))
            ran.clear()
            mine = asyncio.run(keep_tests(module, edited, edit, filename, session=session))
            in_session = list(ran)
            ran.clear()
            theirs = asyncio.run(keep_tests(module, edited, edit, filename))
            assert rolegraph.fingerprint(mine[0]) == rolegraph.fingerprint(theirs[0]), edit
            assert mine[1] == theirs[1], edit
            assert [name for name, _ in in_session] == [name for name, _ in ran]
            irs = check(mine[0], filename, explore=False, errors_only=True).irs
            agents = {t.name: t.run.agent for t in (*edited.tests, *mine[0].tests) if t.run}
            for name, ir in in_session:
                assert ir == irs[agents[name]], (edit, name)
            taken += 1
    assert taken


def _as_said(checked):
    return [(d.code, d.message, d.span) for d in checked.diagnostics]


def test_the_pass_explores_only_what_the_editor_found_clean_and_says_what_a_plain_check_says():
    """`_errors` in a session explores a program whose declarations but its tests the
    session found clean exploring them (the editor's check): held to the check that does
    not explore, cold (no session), on every program the editor admits of every edit of
    each example with tests (and of `CHAIN`, whose tests go stale) and of a seeded edit
    walk from each, as a search's editor admits them first; and a program whose `ensure`
    every run violates (E0506, found only by exploring), which the editor never admitted,
    is not explored: the same as the cold check."""
    import random

    from rolegraph.compiler.edits import OPERATORS, EditError
    from rolegraph.compiler.incremental import CheckSession
    from rolegraph.search.program import check, program_editor
    from rolegraph.search.tests_kept import _errors

    from .edit_walks import edit_walk

    explored = stale = 0
    starts = [(str(path), rolegraph.parse_file(path)) for path in WITH_TESTS]
    starts.append(("chain.agent", rolegraph.parse(CHAIN, "chain.agent")))
    for seed, (filename, start) in enumerate(starts):
        session = CheckSession(filename)
        editor = program_editor(filename, session=session)
        asked: list[bool] = []  # (whether each check of the pass explored)
        check_now = session.check

        def checks(module, *, explore=True, _check=check_now, _asked=asked, **options):
            _asked.append(explore)
            return _check(module, explore=explore, **options)

        children = []  # (every edit of the start, and a seeded walk from it)
        for operator in OPERATORS:
            for site in operator.sites(start):
                try:
                    children.append(site.apply(start))
                except (EditError, ValueError):
                    continue
        for module in children + edit_walk(start, random.Random(seed), 20):
            if any(d.is_error for d in editor.check(module)):
                continue  # (not admitted: the pass never sees it)
            cold = check(module, filename, explore=False, errors_only=True)
            stale += bool(cold.errors)
            asked.clear()
            session.check = checks  # type: ignore[method-assign]
            try:
                assert _as_said(_errors(module, filename, None, session)) == _as_said(cold)
            finally:
                del session.check
            explored += asked == [True]
    assert explored > 200 and stale  # (the explored path taken, stale tests among them)
    text = (Path(__file__).parent.parent / "examples" / "self_refine.agent").read_text()
    text = text.replace("ensure always(return -> once critic)", "ensure always(not critic)")
    module = rolegraph.parse(text, "violated.agent")
    session = CheckSession("violated.agent")
    assert [d.code for d in session.check(module, errors_only=True).errors] == ["E0506"]
    cold = check(module, "violated.agent", explore=False, errors_only=True)
    assert not cold.errors
    assert _as_said(_errors(module, "violated.agent", None, session)) == _as_said(cold)
