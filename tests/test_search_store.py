"""The search's SQLite store (search/store.py): what a row holds."""

import json
from datetime import date

import pytest

from rolegraph.search.store import Candidate, RunRecord, SearchStore


def test_a_runs_result_is_stored_as_json_dumps_with_str_for_the_rest(tmp_path):
    """The store's one encoder writes what `json.dumps(result, default=str)` writes, a
    value JSON has no form for included (search/store.py)."""
    store = SearchStore(tmp_path / "s.sqlite")
    results = [{"text": "fjord", "n": 1.5, "ok": True}, ["é", None, {"d": date(2026, 1, 2)}], "x"]
    store.put_runs(
        [
            (("f", "A", f"e{i}", 0, "mock"), RunRecord(r, None, 1, 2, 0.0))
            for i, r in enumerate(results)
        ]
    )
    rows = store._db.execute("SELECT result FROM runs ORDER BY example").fetchall()
    assert [row[0] for row in rows] == [json.dumps(r, default=str) for r in results]


# -- a candidate written with its evaluation's runs (`SearchStore.waiting`) -----------------


def _rows(path):
    """The store's rows as a search leaves them, the times left out: candidates in the
    order written, runs and tests' verdicts by key."""
    import sqlite3

    db = sqlite3.connect(path)
    try:
        candidates = db.execute(
            "SELECT fingerprint, source, parent, edit FROM candidates ORDER BY rowid"
        ).fetchall()
        runs = db.execute(
            "SELECT fingerprint, agent, example, seed, model, result, error, calls, tokens, "
            "dollars FROM runs ORDER BY fingerprint, agent, example, seed, model"
        ).fetchall()
        tests = db.execute("SELECT fingerprint, passed, failure FROM tests ORDER BY 1").fetchall()
    finally:
        db.close()
    return candidates, runs, tests


def _written_after(self, candidate):
    """The general path `waiting` replaces: the candidate written after its evaluation,
    in a transaction of its own, when the evaluation ended without an error."""
    import contextlib

    @contextlib.contextmanager
    def block():
        yield
        self.put_candidate(candidate)

    return block()


def _searched(path, optimizer, seed):
    import asyncio

    import rolegraph
    from rolegraph.search import Evaluator, Objective, contains, evolve, mcts, random_search, swarm
    from rolegraph.search.racing import Racing

    from .test_search import SELF_REFINE, TASKS

    name, _, racing = optimizer.partition("+")
    run = {"random": random_search, "evolve": evolve, "swarm": swarm, "mcts": mcts}[name]
    options = {"racing": Racing(threshold=0.5, rungs=(1,))} if racing else {}
    evaluator = Evaluator(
        Objective(TASKS, contains, seeds=(0, 1)),
        store=SearchStore(path),
        filename=str(SELF_REFINE),
    )
    module = rolegraph.parse_file(SELF_REFINE)
    result = asyncio.run(run(module, evaluator, evaluations=12, seed=seed, **options))
    return [s.evaluation.fingerprint for s in result.evaluated]


@pytest.mark.parametrize(
    ("optimizer", "seed"), [("random", 3), ("evolve", 1), ("mcts", 2), ("random+racing", 3)]
)
def test_candidates_written_with_their_runs_are_those_written_alone(
    tmp_path, monkeypatch, optimizer, seed
):
    """Seeded searches leave the same rows (candidates in the same order, runs, tests'
    verdicts) whether each candidate and its tests' verdicts go in its runs' transaction
    or, as before, each in a transaction of its own (the verdicts before the evaluation,
    the candidate after it); and in fewer transactions."""
    import sqlite3

    # write transactions: each COMMIT, and each write outside BEGIN ... COMMIT (its own)
    commits = {"n": 0, "open": False}

    def traced(sql):
        if sql == "BEGIN":
            commits["open"] = True
        elif sql == "COMMIT":
            commits["open"] = False
            commits["n"] += 1
        elif sql.startswith("INSERT") and not commits["open"]:
            commits["n"] += 1

    connect = sqlite3.connect

    def counted(*args, **options):
        db = connect(*args, **options)
        db.set_trace_callback(traced)
        return db

    monkeypatch.setattr(sqlite3, "connect", counted)
    grouped = _searched(tmp_path / "grouped.sqlite", optimizer, seed)
    grouped_commits, commits["n"] = commits["n"], 0
    original = SearchStore.put_test_verdicts
    with monkeypatch.context() as alone:
        alone.setattr(SearchStore, "waiting", _written_after)
        # (and the tests' verdicts at once, in a transaction of their own)
        alone.setattr(SearchStore, "put_test_verdicts", lambda s, v, later=False: original(s, v))
        general = _searched(tmp_path / "alone.sqlite", optimizer, seed)
    assert grouped == general and len(set(grouped)) == 12
    assert _rows(tmp_path / "grouped.sqlite") == _rows(tmp_path / "alone.sqlite")
    # (one a candidate fewer, but for those whose runs were all held or inherited)
    assert grouped_commits < commits["n"] - 6


def test_a_candidate_goes_in_its_runs_transaction_and_not_when_its_evaluation_fails(tmp_path):
    """With runs stored, the candidate waiting is written in their transaction; with
    none stored (all held), after the block; and when the block fails, only the runs
    stored before the failure are written (what ran is kept), never the candidate."""
    path = tmp_path / "s.sqlite"
    store = SearchStore(path)
    key = ("f", "A", "e0", 0, "mock")
    record = RunRecord("x", None, 1, 2, 0.0)
    statements = []
    store._db.set_trace_callback(statements.append)
    first = Candidate("f", "agent A {}", None, None)
    with store.waiting(first):
        store.put_runs([(key, record)])
    assert statements == [
        "BEGIN",
        statements[1],  # (the run)
        statements[2],  # (the candidate)
        "COMMIT",
    ] and statements[2].startswith("INSERT OR IGNORE INTO candidates")
    statements.clear()
    held = Candidate("g", "agent B {}", "f", {"op": "x"})
    with store.waiting(held):
        pass  # (every run in the store: the candidate alone, after)
    assert len(statements) == 1 and statements[0].startswith("INSERT OR IGNORE INTO candidates")
    failed = Candidate("h", "agent C {}", "f", {"op": "y"})
    with pytest.raises(RuntimeError), store.waiting(failed):
        store.put_runs([(("h", "A", "e0", 0, "mock"), record)], waiting=False)
        raise RuntimeError("cancelled")
    with pytest.raises(RuntimeError), store.waiting(failed):
        raise RuntimeError("over budget")
    store.put_runs([(("k", "A", "e0", 0, "mock"), record)])  # (nothing waits any more)
    assert [c.fingerprint for c in store.candidates()] == ["f", "g"]
    assert store.run(("h", "A", "e0", 0, "mock")) == record
    assert store.candidates()[1] == held


# -- the trail's front, kept up to date -----------------------------------------------------


def test_the_trails_front_kept_up_to_date_is_the_front_of_all(monkeypatch):
    """`Trail.front`, updated from the last front and the candidates added since, is
    `pareto_front` of every complete candidate, item for item (which of equal points
    stays, and the order), on 300 seeded random sequences with ties and partial ones."""
    import random

    from rolegraph.search.candidates import Scored, Trail, complete
    from rolegraph.search.evaluate import Evaluation
    from rolegraph.search.pareto import pareto_front

    class Evaluator:
        runs_made = calls_made = 0

    rng = random.Random(5)
    for _ in range(300):
        trail = Trail(Evaluator(), 100, None)
        for _ in range(rng.randint(1, 30)):
            evaluation = Evaluation(
                "f", "A", rng.choice([0.0, 0.25, 0.5, 1.0]), float(rng.randint(0, 4)),
                0, 0, 0.0, (), partial=rng.random() < 0.2,
            )  # fmt: skip
            trail.evaluated.append(Scored(None, evaluation, None, None))
            if rng.random() < 0.6:  # (asked after some additions, not after each)
                everyone = pareto_front(complete(trail.evaluated), key=lambda s: s.point)
                assert [id(s) for s in trail.front()] == [id(s) for s in everyone]
        everyone = pareto_front(complete(trail.evaluated), key=lambda s: s.point)
        assert [id(s) for s in trail.front()] == [id(s) for s in everyone]


def test_tests_verdicts_written_later_go_with_the_next_write(tmp_path):
    """`put_test_verdicts(later=True)`: in the next transaction (runs, or a candidate
    alone), at `flush`, or before a read of verdicts; never lost, never twice."""
    from rolegraph.search.store import TestVerdict

    store = SearchStore(tmp_path / "s.sqlite")
    statements = []
    store._db.set_trace_callback(statements.append)
    record = RunRecord("x", None, 1, 2, 0.0)
    store.put_test_verdicts([("t1", TestVerdict(True))], later=True)
    assert statements == []
    store.put_runs([(("f", "A", "e0", 0, "mock"), record)])
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT" and len(statements) == 4
    assert statements[2].startswith("INSERT OR REPLACE INTO tests")
    statements.clear()
    store.put_test_verdicts([("t2", TestVerdict(False, "why"))], later=True)
    store.put_candidate(Candidate("g", "agent B {}", None, None))
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT" and len(statements) == 4
    statements.clear()
    store.put_test_verdicts([("t3", TestVerdict(True))], later=True)
    assert store.test_verdicts(["t3"]) == {"t3": TestVerdict(True)}  # (written first)
    store.put_test_verdicts([("t4", TestVerdict(True))], later=True)
    store.flush()
    store.flush()  # (nothing waits: no write)
    assert statements.count("COMMIT") == 2
    assert store.test_verdicts(["t1", "t2", "t4", "t5"]) == {
        "t1": TestVerdict(True),
        "t2": TestVerdict(False, "why"),
        "t4": TestVerdict(True),
    }
    assert [c.fingerprint for c in store.candidates()] == ["g"]


def test_an_over_budget_candidates_tests_verdicts_are_written(tmp_path, monkeypatch):
    """A candidate skipped because its runs do not fit the budget has no runs
    transaction: its tests' verdicts, waiting for one, are written at the end of its
    visit all the same (as they were before its evaluation)."""
    import asyncio
    import random

    import rolegraph
    import rolegraph.search.candidates as candidates
    from rolegraph.compiler.edits import OPERATORS
    from rolegraph.search import Evaluator, Objective, contains
    from rolegraph.search.budget import BudgetSpent

    from .test_search import SELF_REFINE, TASKS

    store = SearchStore(tmp_path / "s.sqlite")
    objective = Objective(TASKS, contains, seeds=(0,))
    evaluator = Evaluator(objective, store=store, filename=str(SELF_REFINE))
    module = rolegraph.parse_file(SELF_REFINE)
    trail = candidates.Trail(evaluator, 5, None)
    start = asyncio.run(trail.start(module))
    edit, child = trail.unseen_edit(evaluator.editor(), module, random.Random(0), OPERATORS)
    assert child.tests

    async def over_budget(*args, **options):
        raise BudgetSpent("the budget is spent")

    monkeypatch.setattr(candidates, "score_candidate", over_budget)
    assert asyncio.run(trail.visit(child, start, edit)) is None and trail.over_budget == 1
    assert store._db.execute("SELECT count(*) FROM tests").fetchone()[0] == len(child.tests)
    assert store._later == []


def _child_of_self_refine(tmp_path, objective=None):
    """A search's store and evaluator on self-refine, its start scored, and a child of it
    (an edit and the program it makes) not evaluated yet."""
    import asyncio
    import random

    import rolegraph
    import rolegraph.search.candidates as candidates
    from rolegraph.compiler.edits import OPERATORS
    from rolegraph.search import Evaluator, Objective, contains

    from .test_search import SELF_REFINE, TASKS

    store = SearchStore(tmp_path / "s.sqlite")
    objective = objective or Objective(TASKS, contains, seeds=(0,))
    evaluator = Evaluator(objective, store=store, filename=str(SELF_REFINE))
    module = rolegraph.parse_file(SELF_REFINE)
    trail = candidates.Trail(evaluator, 5, None)
    start = asyncio.run(trail.start(module))
    edit, child = trail.unseen_edit(evaluator.editor(), module, random.Random(0), OPERATORS)
    return store, evaluator, start, edit, child


def test_a_candidate_over_budget_after_a_rung_of_racing_is_not_written(tmp_path):
    """Racing evaluates a candidate on a rung of the examples, then on all: when the
    whole evaluation does not fit the budget, the candidate is skipped, and (as when it
    was written after its evaluation) it is not in the store's candidates — though the
    rung's runs are kept. A candidate dropped at a rung is written."""
    import asyncio

    from rolegraph.search.budget import BudgetSpent
    from rolegraph.search.candidates import score_candidate
    from rolegraph.search.fingerprints import fingerprint_of

    store, evaluator, start, edit, child = _child_of_self_refine(tmp_path)

    async def rung_then_over_budget(module):
        await evaluator.evaluate(module, examples=range(1))  # (the rung: it passes)
        raise BudgetSpent("the whole evaluation does not fit")

    with pytest.raises(BudgetSpent):
        asyncio.run(score_candidate(evaluator, child, start, edit, rung_then_over_budget))
    digest = fingerprint_of(child)
    assert digest not in [c.fingerprint for c in store.candidates()]
    assert evaluator.runs_made == 4  # (3 examples of the start, 1 of the rung: kept)

    async def dropped_at_the_rung(module):
        return await evaluator.evaluate(module, examples=range(1))

    scored = asyncio.run(score_candidate(evaluator, child, start, edit, dropped_at_the_rung))
    assert scored.evaluation.partial
    assert [c.fingerprint for c in store.candidates()] == [start.evaluation.fingerprint, digest]


def test_a_candidate_whose_scorer_fails_is_not_written_but_its_runs_are(tmp_path):
    """A scorer that fails on a candidate's run ends its evaluation with an error: the
    runs made are kept (a search started again repeats none), and the candidate is not
    written (as when it was written after its evaluation)."""
    import asyncio

    from rolegraph.search import Objective, contains
    from rolegraph.search.candidates import score_candidate
    from rolegraph.search.fingerprints import fingerprint_of
    from rolegraph.search.objective import ObjectiveError

    from .test_search import TASKS

    failing = {"on": False}

    def scorer(result, example):
        if failing["on"]:
            raise ValueError("no")
        return contains(result, example)

    objective = Objective(TASKS, scorer, seeds=(0,))
    store, evaluator, start, edit, child = _child_of_self_refine(tmp_path, objective)
    failing["on"] = True
    with pytest.raises(ObjectiveError):
        asyncio.run(score_candidate(evaluator, child, start, edit))
    assert fingerprint_of(child) not in [c.fingerprint for c in store.candidates()]
    assert evaluator.runs_made == 6  # (the child's 3 runs are kept)
    assert [c.fingerprint for c in store.candidates()] == [start.evaluation.fingerprint]
