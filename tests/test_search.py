"""Search: objectives and datasets, the evaluator and its cache of runs, the Pareto
front, and random search over typed edits (every candidate checks; a search started
again repeats no run)."""

import asyncio
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler.check import check_module
from rolegraph.compiler.diagnostics import DiagnosticError
from rolegraph.compiler.edits.editor import edit_from_data
from rolegraph.grammar import parse_module
from rolegraph.search import (
    Evaluator,
    Example,
    Objective,
    ObjectiveError,
    SearchStore,
    contains,
    dominates,
    exact,
    load_examples,
    pareto_front,
    random_search,
    scorer,
    write_front,
)
from rolegraph.search.tests_kept import replayed

from .conftest import ROOT

SELF_REFINE = ROOT / "examples" / "self_refine.agent"
TASKS = [Example({"task": f"task {i}"}, "fjord") for i in range(3)]


def _parse(text, name):
    result = parse_module(text, name)
    return result.module, result.diagnostics


def errors_of(module):
    return check_module(module, str(SELF_REFINE), _parse, "").errors


# -- objectives ------------------------------------------------------------------------------


def test_examples_load_from_jsonl(tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text('{"inputs": {"task": "a"}, "expected": "A"}\n\n{"inputs": {"task": "b"}}\n')
    assert load_examples(data) == [Example({"task": "a"}, "A"), Example({"task": "b"})]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"inputs": {}}\n{"inputs": ', "qa.jsonl:2: not JSON"),
        ('{"task": "a"}', 'qa.jsonl:1: an example is an object with "inputs"'),
        ('{"inputs": {}, "answer": 1}', "qa.jsonl:1: unknown field `answer`"),
        ("\n\n", "the dataset has no examples"),
    ],
)
def test_a_bad_dataset_is_named_with_its_line(tmp_path, text, said):
    data = tmp_path / "qa.jsonl"
    data.write_text(text)
    with pytest.raises(ObjectiveError, match=said):
        load_examples(data)


def test_scorers():
    example = Example({}, " Paris ")
    assert exact("paris", example) == 1.0 and exact("Lyon", example) == 0.0
    assert exact(3, Example({}, 3.0)) == 1.0
    assert exact({"text": "PARIS"}, Example({}, {"text": "paris"})) == 1.0
    assert contains({"text": "It is Paris.", "confidence": 1}, Example({}, "paris")) == 1.0
    assert contains("Lyon", Example({}, "paris")) == 0.0
    assert scorer("field:ok")({"ok": True}, Example({}, True)) == 1.0
    assert scorer("field:ok")({"ok": False}, Example({}, True)) == 0.0
    assert scorer("operator:eq") is __import__("operator").eq
    for bad, said in [
        ("nearly", "unknown scorer"),
        ("no_such_module:f", "cannot be imported"),
        ("math:pi", "is not a function"),
    ]:
        with pytest.raises(ObjectiveError, match=said):
            scorer(bad)


def test_an_objective_needs_examples_seeds_and_a_known_cost():
    with pytest.raises(ObjectiveError):
        Objective([], exact)
    with pytest.raises(ObjectiveError):
        Objective(TASKS, exact, seeds=())
    with pytest.raises(ObjectiveError):
        Objective(TASKS, exact, cost="euros")  # type: ignore[arg-type]


# -- evaluation ------------------------------------------------------------------------------


def test_every_example_and_seed_is_run_scored_and_then_cached():
    module = rolegraph.parse_file(SELF_REFINE)
    evaluator = Evaluator(Objective(TASKS, contains, seeds=(0, 1)), filename=str(SELF_REFINE))
    first = evaluator.evaluate_sync(module)
    assert [(r.example, r.seed) for r in first.runs] == [(e, s) for e in range(3) for s in (0, 1)]
    assert not any(r.cached for r in first.runs) and first.fresh_calls == first.calls > 0
    assert first.score == sum(r.score for r in first.runs) / 6
    assert first.cost == first.tokens == sum(r.tokens for r in first.runs)
    # a seed varies the replies, as it would a real model's sampling
    assert any(first.runs[2 * e].result != first.runs[2 * e + 1].result for e in range(3))
    again = evaluator.evaluate_sync(module)
    assert all(r.cached for r in again.runs) and again.fresh_calls == 0
    assert (again.score, again.cost, again.runs[0].result) == (
        first.score,
        first.cost,
        first.runs[0].result,
    )


def test_a_new_scorer_reuses_the_stored_runs():
    module = rolegraph.parse_file(SELF_REFINE)
    store = SearchStore()
    Evaluator(Objective(TASKS, contains), store=store).evaluate_sync(module)
    rescored = Evaluator(Objective(TASKS, exact), store=store).evaluate_sync(module)
    assert rescored.fresh_calls == 0 and rescored.score == 0.0


def test_a_failed_run_scores_zero_and_keeps_its_error():
    module = rolegraph.parse_file(SELF_REFINE)
    evaluator = Evaluator(Objective(TASKS, contains, cost="calls"), max_calls=1)
    evaluation = evaluator.evaluate_sync(module)  # a draft and its review need two calls
    assert evaluation.failures == 3 and evaluation.score == 0.0
    assert all("BudgetExceeded" in (r.error or "") for r in evaluation.runs)
    assert evaluation.cost == evaluation.calls == 3  # the drafts were made and count


def test_a_scorer_that_fails_is_named_with_the_example():
    def picky(result, example):
        raise KeyError("verdict")

    module = rolegraph.parse_file(SELF_REFINE)
    with pytest.raises(ObjectiveError, match=r"scorer `picky` failed on example 1: KeyError"):
        Evaluator(Objective(TASKS, picky)).evaluate_sync(module)
    with pytest.raises(ObjectiveError, match="between 0 and 1"):
        Evaluator(Objective(TASKS, lambda r, e: 2)).evaluate_sync(module)


def test_an_invalid_candidate_or_a_missing_agent_is_refused():
    broken = rolegraph.parse("agent A(t: str) -> str {\n  return missing\n}\n")
    with pytest.raises(DiagnosticError):
        Evaluator(Objective(TASKS, exact)).evaluate_sync(broken)
    module = rolegraph.parse_file(SELF_REFINE)
    with pytest.raises(ObjectiveError, match="no agent `Nope`; it has: SelfRefine"):
        Evaluator(Objective(TASKS, exact, agent="Nope")).evaluate_sync(module)


# -- the Pareto front ------------------------------------------------------------------------

points = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=30)


@given(points)
def test_the_front_is_what_nothing_dominates(items):
    front = pareto_front(items, key=lambda p: p)
    assert len(set(front)) == len(front)
    for point in items:
        dominated = any(dominates(other, point) for other in items)
        assert (point in front) == (not dominated)
    assert [cost for _, cost in front] == sorted(cost for _, cost in front)


# -- random search ---------------------------------------------------------------------------


def search(store, evaluations, seed=7):
    evaluator = Evaluator(
        Objective(TASKS, contains, seeds=(0, 1)), store=store, filename=str(SELF_REFINE)
    )
    module = rolegraph.parse_file(SELF_REFINE)
    return asyncio.run(random_search(module, evaluator, evaluations=evaluations, seed=seed))


def test_the_trails_memos_change_no_candidate(monkeypatch):
    """A trail remembers the sites of the programs it draws from and what each edit made
    of them (search/candidates.py); drawing without them, every site listed and every
    edit applied and checked again, makes the same candidates in the same order."""
    from rolegraph.compiler.edits import EditError
    from rolegraph.search.candidates import Trail

    remembered = search(SearchStore(), 12)

    def sites(self, editor, module, operators):
        fresh = {operator: list(operator.sites(module)) for operator in operators}
        return fresh, [operator for operator in operators if fresh[operator]]

    def made(self, editor, module, edit):
        try:
            edited = edit.apply(module)
            if rolegraph.fingerprint(edited) == rolegraph.fingerprint(module):
                return None
            return editor.admit(module, edited, f"`{edit.op}`")
        except (EditError, ValueError):
            return None

    monkeypatch.setattr(Trail, "_sites", sites)
    monkeypatch.setattr(Trail, "_made", made)
    drawn = search(SearchStore(), 12)
    assert len(remembered.evaluated) == 12
    assert [s.made_by for s in drawn.evaluated] == [s.made_by for s in remembered.evaluated]
    assert [(s.evaluation.fingerprint, s.evaluation.score) for s in drawn.evaluated] == [
        (s.evaluation.fingerprint, s.evaluation.score) for s in remembered.evaluated
    ]


def test_an_evaluations_runs_are_stored_together_or_not_at_all(tmp_path):
    from rolegraph.runtime import StoreError
    from rolegraph.search.store import RunRecord

    store = SearchStore(tmp_path / "s.sqlite")
    rows = [
        (("f", "A", f"e{i}", i, "mock"), RunRecord({"i": i}, None, 1, 2, 0.5)) for i in range(3)
    ]
    store.put_runs(rows)
    again = SearchStore(tmp_path / "s.sqlite")  # (committed: another connection reads them)
    assert [again.run(key) for key, _ in rows] == [record for _, record in rows]
    broken = [(("f", "A", "e9", 9, "mock"), RunRecord({}, None, 1, 2, 0.5)), (("f",), rows[0][1])]
    with pytest.raises(StoreError):
        store.put_runs(broken)  # (a key of the wrong width: the second row fails)
    assert again.run(("f", "A", "e9", 9, "mock")) is None and again.count_runs() == 3
    store.put_runs(rows[:1])  # (the store still takes runs after a rolled back write)
    assert again.count_runs() == 3


def test_a_candidates_stored_runs_are_read_in_one_look_up_as_one_by_one(tmp_path):
    from rolegraph.search.store import RunRecord

    store = SearchStore(tmp_path / "s.sqlite")
    rows = [
        ((f, agent, f"e{i}", seed, model), RunRecord({"i": i}, None, i, 2 * i, 0.5))
        for f in ("f", "g")
        for agent in ("A", "B")
        for model in ("mock", "other")
        for i in range(3)
        for seed in (0, 1)
    ]
    store.put_runs(rows)
    wanted = [("e0", 0), ("e2", 1), ("e1", 5), ("e9", 0)]  # (the last two: not stored)
    found = store.runs("g", "B", "mock", wanted)
    assert found == {
        (example, seed): record
        for example, seed in wanted
        if (record := store.run(("g", "B", example, seed, "mock"))) is not None
    }
    assert len(found) == 2 and store.runs("h", "B", "mock", wanted) == {}


def test_random_search_evaluates_distinct_valid_candidates_and_keeps_the_front():
    store = SearchStore()
    result = search(store, 10)
    fingerprints = [s.evaluation.fingerprint for s in result.evaluated]
    assert len(result.evaluated) == 10 and len(set(fingerprints)) == 10
    for scored in result.evaluated:
        assert not errors_of(scored.module), scored.edit
    assert set(map(id, result.front)) <= set(map(id, result.evaluated))
    for scored in result.evaluated:
        assert not any(dominates(f.point, s.point) for f in result.front for s in result.front)
        assert any(
            f.point == scored.point or dominates(f.point, scored.point) for f in result.front
        )
    assert result.best.point[0] == max(s.point[0] for s in result.evaluated)
    assert result.best.point[0] >= result.start.point[0]
    # the archive replays: each candidate's edit, applied to its parent, then its test
    # blocks kept valid (search/tests_kept.py), makes it
    by_fingerprint = {c.fingerprint: c for c in store.candidates()}
    assert set(by_fingerprint) == set(fingerprints)
    for candidate in by_fingerprint.values():
        if candidate.parent is None:
            continue
        parent = rolegraph.parse(by_fingerprint[candidate.parent].source)
        edits = [edit_from_data(candidate.edit)]
        child = asyncio.run(replayed(parent, edits, str(SELF_REFINE)))
        assert rolegraph.fingerprint(child) == candidate.fingerprint


def test_a_search_started_again_repeats_no_run(tmp_path):
    path = tmp_path / "search.sqlite"
    killed = search(SearchStore(path), 5)  # stopped early, as if killed
    assert killed.calls > 0
    resumed = search(SearchStore(path), 9)
    prints = [s.evaluation.fingerprint for s in resumed.evaluated]
    assert prints[:5] == [s.evaluation.fingerprint for s in killed.evaluated]
    fresh = sum(s.evaluation.fresh_calls for s in resumed.evaluated[:5])
    # (a candidate that only adds a proven `ensure` takes its parent's runs: no call)
    made = sum(s.evaluation.fresh_calls for s in resumed.evaluated[5:])
    assert fresh == 0 and resumed.calls == made > 0
    assert search(SearchStore(path), 9).calls == 0


def test_the_front_is_written_as_agent_files(tmp_path):
    result = search(SearchStore(), 6)
    paths = write_front(result, tmp_path / "front", stem="refine")
    assert [p.name for p in paths] == [f"refine_{i}.agent" for i in range(1, len(result.front) + 1)]
    for path, scored in zip(paths, result.front, strict=True):
        text = path.read_text()
        assert text.startswith(f"// score {scored.evaluation.score:.3f}")
        assert rolegraph.fingerprint(rolegraph.parse(text)) == scored.evaluation.fingerprint


# -- the command line ------------------------------------------------------------------------


def test_the_search_command(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    data = tmp_path / "qa.jsonl"
    data.write_text(
        "".join(json.dumps({"inputs": e.inputs, "expected": "fjord"}) + "\n" for e in TASKS)
    )
    runner = CliRunner()
    args = ["search", str(SELF_REFINE), "--data", str(data), "--score", "contains", "-n", "4"]
    args += ["--store", str(tmp_path / "s.sqlite"), "-o", str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "[4/4] score" in result.output and "Pareto front" in result.output
    assert list((tmp_path / "out").glob("self_refine_*.agent"))
    plotted = runner.invoke(app, [*args, "--plot", str(tmp_path / "progress.svg")])
    assert plotted.exit_code == 0 and (tmp_path / "progress.svg").exists()
    again = runner.invoke(app, args)
    assert "0 model calls made" in again.output
    missing = runner.invoke(app, ["search", str(SELF_REFINE)])
    assert missing.exit_code == 2 and "--data" in missing.output
    data.write_text("{oops\n")
    bad = runner.invoke(app, ["search", str(SELF_REFINE), "--data", str(data)])
    assert bad.exit_code == 2 and "qa.jsonl:1: not JSON" in bad.output


def test_a_search_goes_on_past_a_front_whose_edits_are_spent():
    """The best of self-refine's neighbourhood soon has no unseen edit left (its front is
    one program); parents then come from every candidate, and the search goes on."""
    result = search(SearchStore(), 30, seed=0)
    assert len(result.evaluated) == 30
    assert len({s.evaluation.fingerprint for s in result.evaluated}) == 30


# -- the LLM meta-optimizer ------------------------------------------------------------------

VALID = '{"op": "replicate_vote", "agent": "SelfRefine", "node": "critic", "n": 3, "voter": ""}'
ALSO_VALID = '{"op": "set_model_param", "model": "fast", "name": "temperature", "value": 0.7}'


def proposing(*edits):
    from rolegraph.runtime import MockModel

    return MockModel(script={"Propose": [{"edit": e, "reason": "because"} for e in edits]})


def meta(proposer, evaluations, **options):
    from rolegraph.search import meta_search

    evaluator = Evaluator(Objective(TASKS, contains), filename=str(SELF_REFINE))
    module = rolegraph.parse_file(SELF_REFINE)
    options.setdefault("proposal", "text")  # a scripted `Propose` writes the edit's JSON
    run = meta_search(module, evaluator, proposer=proposer, evaluations=evaluations, **options)
    return asyncio.run(run)


def test_the_checker_refuses_bad_proposals_and_the_proposer_is_told_why():
    proposer = proposing(
        "not json at all",
        '{"op": "replicate_vote", "agent": "SelfRefine", "node": "nobody", "n": 3, "voter": ""}',
        '{"op": "remove_edge", "agent": "SelfRefine", "index": 1}',  # no return left
        VALID,
        VALID,  # the same program again
        ALSO_VALID,
    )
    result = meta(proposer, 3)
    assert [s.edit.to_json() if s.edit else None for s in result.evaluated] == [
        None,
        json.dumps(json.loads(VALID), separators=(",", ":")),
        json.dumps(json.loads(ALSO_VALID), separators=(",", ":")),
    ]
    for scored in result.evaluated:
        assert not errors_of(scored.module)
    reasons = [why for _, why in result.refused]
    assert len(reasons) == 4
    assert "[E06" in reasons[0] and "nobody" in reasons[1] and "would not check" in reasons[2]
    assert reasons[3] == "a program already tried"
    # what the proposer was shown: the catalogue, and every attempt with its outcome
    last = proposer.calls[-1].messages[-1]["content"]
    assert '"op": "replicate_vote"' in last and "not json at all" in last
    assert '"op": "crossover"' not in last  # (no site in this program: not offered)
    assert "-> refused: [E06" in last and "-> score" in last and "its parent: score" in last


def test_the_proposer_is_asked_a_bounded_number_of_times():
    proposer = proposing("{}")  # refused, every time
    result = meta(proposer, 5, max_proposals=7)
    assert len(result.evaluated) == 1 and len(result.refused) == 7 == len(proposer.calls)
    assert result.proposer_calls == 7 and result.calls == result.start.evaluation.calls


def test_a_failing_proposer_is_a_refusal_not_a_crash():
    from rolegraph.runtime import MockModel

    result = meta(MockModel(script={"Propose": [RuntimeError("rate limited")]}), 3, max_proposals=2)
    assert len(result.evaluated) == 1 and "proposer_failed" in result.refused[0][0]


def test_the_mock_proposer_writes_nothing_the_checker_accepts():
    result = meta("mock", 3, max_proposals=4)
    assert len(result.evaluated) == 1 and len(result.refused) == 4


def test_the_search_command_with_an_llm_proposer(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"inputs": {"task": "t"}, "expected": "x"}) + "\n")
    args = ["search", str(SELF_REFINE), "--data", str(data), "-n", "2"]
    args += ["--store", str(tmp_path / "s.sqlite"), "--optimizer", "llm"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    # the mock proposer, held to the typed proposal (an operator of the catalogue that has
    # a site in the program, then its fields, names from the program), makes an edit the
    # checker accepts, at the first try
    assert "[2/2]" in result.output and "proposals refused by the checker" not in result.output
    assert re.search(r"and \d+ by the proposer", result.output)
    wrong = CliRunner().invoke(app, [*args[:-1], "annealing"])
    assert wrong.exit_code == 2 and "random, evolve, swarm, mcts, llm" in wrong.output


# -- evolution with a quality-diversity archive ----------------------------------------------


def evolution(store, evaluations, seed=3, **options):
    from rolegraph.search import evolve

    evaluator = Evaluator(
        Objective(TASKS, contains, seeds=(0, 1)), store=store, filename=str(SELF_REFINE)
    )
    module = rolegraph.parse_file(SELF_REFINE)
    run = evolve(module, evaluator, evaluations=evaluations, seed=seed, **options)
    return asyncio.run(run)


def test_evolution_keeps_the_best_of_each_cell_and_every_child_checks():
    from rolegraph.search import better, nodes_and_calls

    result = evolution(SearchStore(), 16)
    assert len({s.evaluation.fingerprint for s in result.evaluated}) == 16
    for scored in result.evaluated:
        assert not errors_of(scored.module), scored.edit
    archive = dict(result.archive)
    assert len(archive) > 1 and list(archive) == sorted(archive)
    for scored in result.evaluated:
        elite = archive[nodes_and_calls(scored)]
        assert elite is scored or not better(scored, elite)
    assert nodes_and_calls(result.start) == (2, 4)  # writer, critic; 4 calls a run here


PIPELINE = """
model m = "mock"
type Answer { text: str, confidence: float }
role Draft(task: str) -> Answer { model m  prompt "Answer: {{ task }}" }
role Polish(task: str, draft: Answer) -> Answer { model m  prompt "Improve: {{ draft.text }}" }
agent Pipeline(task: str) -> Answer {
  first = Draft(task)
  better = Polish(task, draft: first)
  return better
}
"""


def test_crossover_grafts_subgraphs_between_elites():
    """A pipeline's variants graft each other's subgraphs (self-refine's rarely can: a
    graft into its loop breaks the order of the return, and the checker says so)."""
    from rolegraph.search import evolve

    evaluator = Evaluator(Objective(TASKS, contains), filename="pipeline.agent")
    run = evolve(rolegraph.parse(PIPELINE), evaluator, evaluations=10, seed=1, crossover_rate=1)
    result = asyncio.run(run)
    crossed = [s for s in result.evaluated if s.edit is not None and s.edit.op == "crossover"]
    assert len(crossed) >= 5
    for scored in crossed:
        assert scored.edit.donor  # the other program's source travels in the edit
        assert not errors_of(scored.module)
        parent = next(s for s in result.evaluated if s.evaluation.fingerprint == scored.parent)
        assert scored.edit.apply(parent.module) == scored.module


def test_one_cell_keeps_only_the_best():
    result = evolution(SearchStore(), 8, descriptor=lambda scored: (0,))
    ((cell, elite),) = result.archive
    assert cell == (0,)
    assert elite.point == max((s.point for s in result.evaluated), key=lambda p: (p[0], -p[1]))


def test_the_search_command_evolves_and_flies(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"inputs": {"task": "t"}, "expected": "fjord"}) + "\n")
    args = ["search", str(SELF_REFINE), "--data", str(data), "--score", "contains", "-n", "6"]
    args += ["--store", str(tmp_path / "s.sqlite"), "--optimizer", "evolve"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "[6/6] score" in result.output and "cells (nodes, calls per run)" in result.output
    for optimizer in ("swarm", "mcts"):
        flown = CliRunner().invoke(app, [*args[:-1], optimizer, "-n", "9"])
        assert flown.exit_code == 0, flown.output
        assert "[9/9] score" in flown.output


def test_with_no_model_each_role_runs_on_its_own():
    pytest.importorskip("litellm")
    from .fake_openai import FakeOpenAI

    polished = json.dumps({"text": "from openai/big", "confidence": 1.0})
    with FakeOpenAI(default=polished) as api:
        text = PIPELINE.replace(
            'model m = "mock"',
            f'model m = "mock"\nmodel big = "openai/big" {{ api_base: "{api.url}", api_key: "k" }}',
        )
        text = text.replace(
            '-> Answer { model m  prompt "Improve', '-> Answer { model big  prompt "Improve'
        )
        evaluator = Evaluator(Objective(TASKS, contains), model=None, filename="pipeline.agent")
        module = rolegraph.parse(text)
        evaluation = evaluator.evaluate_sync(module)
    assert [r.result["text"] for r in evaluation.runs] == ["from openai/big"] * 3
    # Polish ran on its declared server; Draft on its own model, the mock
    assert len(api.requests) == 3 and {r["model"] for r in api.requests} == {"big"}
    assert all("Improve" in r["messages"][-1]["content"] for r in api.requests)
    key = evaluator.runs_key(module)  # (what the runs are stored under: search/sharing.py)
    assert evaluator.store.run((key, "Pipeline", TASKS[0].key, 0, "declared"))


@pytest.mark.parametrize("command", ["run", "search"])
def test_a_store_that_cannot_be_opened_is_a_usage_error(tmp_path, command):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"inputs": {"task": "t"}}) + "\n")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_text("not a database, not at all" * 100)
    options = (
        ["--input", '{"task": "t"}', "--model", "mock"]
        if command == "run"
        else ["--data", str(data)]
    )
    for store, said in [(garbage, "file is not a database"), (data / "x.sqlite", "cannot open")]:
        result = CliRunner().invoke(
            app, [command, str(SELF_REFINE), *options, "--store", str(store)]
        )
        assert result.exit_code == 2, result.output
        assert f"cannot open the store {store}" in result.output and said in result.output


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
lines = st.one_of(
    st.text(max_size=30),
    json_values.map(json.dumps),
    st.fixed_dictionaries({"inputs": json_values}, optional={"expected": json_values}).map(
        json.dumps
    ),
)


@given(st.lists(lines, max_size=6))
def test_any_dataset_loads_or_is_refused_with_a_reason(tmp_path_factory, texts):
    data = tmp_path_factory.mktemp("data") / "any.jsonl"
    data.write_text("\n".join(t.replace("\n", " ").replace("\r", " ") for t in texts))
    try:
        examples = load_examples(data)
    except ObjectiveError as error:
        assert str(error).startswith(str(data))
    else:
        assert examples and all(isinstance(e.inputs, dict) for e in examples)


def test_a_dataset_that_is_not_text_is_refused(tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(ObjectiveError, match=r"qa\.jsonl: the dataset is not UTF-8 text"):
        load_examples(data)
    with pytest.raises(ObjectiveError, match="cannot read the dataset"):
        load_examples(tmp_path / "missing.jsonl")


# -- particle swarm over edit scripts --------------------------------------------------------

LOW_LEVEL = {
    "insert_statement",
    "remove_statement",
    "replace_statement",
    "move_statement",
    "replace_decl",
    "add_decl",
    "remove_decl",
}


def flight(store, evaluations, seed=0, source=SELF_REFINE):
    from rolegraph.search import swarm

    evaluator = Evaluator(
        Objective(TASKS, contains, seeds=(0, 1)), store=store, filename=str(source)
    )
    run = swarm(rolegraph.parse_file(source), evaluator, evaluations=evaluations, seed=seed)
    return asyncio.run(run)


def test_particles_move_along_edit_scripts_to_valid_programs():
    store = SearchStore()
    result = flight(store, 24)
    assert len({s.evaluation.fingerprint for s in result.evaluated}) == 24
    for scored in result.evaluated:
        assert not errors_of(scored.module), scored.made_by
    moves = [s for s in result.evaluated if any(e.op in LOW_LEVEL for e in s.script)]
    assert moves  # steps of `diff` scripts towards a best program
    assert any(len(s.script) > 1 for s in result.evaluated)
    # the archive replays every move: its script, applied to its parent (then its tests
    # kept valid), makes it
    by_fingerprint = {c.fingerprint: c for c in store.candidates()}
    for candidate in by_fingerprint.values():
        if candidate.parent is None:
            continue
        data = candidate.edit if isinstance(candidate.edit, list) else [candidate.edit]
        parent = rolegraph.parse(by_fingerprint[candidate.parent].source)
        moved = asyncio.run(replayed(parent, [edit_from_data(d) for d in data], str(SELF_REFINE)))
        assert rolegraph.fingerprint(moved) == candidate.fingerprint


# -- Monte Carlo tree search over edits ------------------------------------------------------


def tree_search(store, evaluations, seed=0, **options):
    from rolegraph.search import mcts

    evaluator = Evaluator(
        Objective(TASKS, contains, seeds=(0, 1)), store=store, filename=str(SELF_REFINE)
    )
    run = mcts(
        rolegraph.parse_file(SELF_REFINE), evaluator, evaluations=evaluations, seed=seed, **options
    )
    return asyncio.run(run)


def test_the_tree_grows_by_valid_edits_and_keeps_its_statistics():
    result = tree_search(SearchStore(), 20)
    assert len(result.tree) == len(result.evaluated) == 20
    assert len({s.evaluation.fingerprint for s in result.evaluated}) == 20
    (root, no_parent, root_visits, root_mean), *rest = result.tree
    assert no_parent is None and root is result.start and root_visits == 20
    for scored, parent, visits, mean in rest:
        assert not errors_of(scored.module), scored.made_by
        assert parent is not None and result.tree[parent][0].evaluation.fingerprint == scored.parent
        made = asyncio.run(replayed(result.tree[parent][0].module, [scored.edit], str(SELF_REFINE)))
        assert made == scored.module
        # a node's visits: itself and everything below it; its mean: over those
        below = [i for i, row in enumerate(result.tree) if _descends(result.tree, i, scored)]
        assert visits == len(below)
        assert mean == pytest.approx(
            sum(result.tree[i][0].evaluation.score for i in below) / visits
        )
    assert root_mean == pytest.approx(sum(s.evaluation.score for s in result.evaluated) / 20)
    depth = max(_depth(result.tree, i) for i in range(20))
    assert depth >= 2  # it goes deeper than one edit from the start


def _descends(tree, index, ancestor):
    while index is not None:
        if tree[index][0] is ancestor:
            return True
        index = tree[index][1]
    return False


def _depth(tree, index):
    depth = 0
    while tree[index][1] is not None:
        index, depth = tree[index][1], depth + 1
    return depth


# -- attribution -----------------------------------------------------------------------------

PAIR = """
model m = "mock"
type Part { text: str }
role Left(task: str) -> Part { model m  prompt "left: {{ task }}" }
role Right(task: str) -> Part { model m  prompt "right: {{ task }}" }
tool both(a: Part, b: Part) -> str = "tests.test_search:both"
agent Pair(task: str) -> str {
  left = Left(task)
  right = Right(task)
  joined = both(a: left, b: right)
  return joined
}
"""


def both(a, b):
    """Which parts said something (a blanked part says nothing)."""
    return ("L" if a["text"] else "") + ("R" if b["text"] else "")


def pair_score(result, example):
    """0.5 for the left part, 0.2 for the right, 0.3 more for both together."""
    return 0.5 * ("L" in result) + 0.2 * ("R" in result) + 0.3 * (result == "LR")


def attribute(**options):
    from rolegraph.search import shapley

    evaluator = Evaluator(Objective(TASKS, pair_score), filename="pair.agent")
    return asyncio.run(shapley(rolegraph.parse(PAIR), evaluator, **options))


def test_shapley_values_split_the_score_among_the_nodes():
    attribution = attribute()
    assert attribution.exact and attribution.players == ("left", "right")
    assert attribution.values == pytest.approx({"left": 0.65, "right": 0.35})  # 0.3 shared
    assert (attribution.full, attribution.empty, attribution.coalitions) == (1.0, 0.0, 4)


def test_sampled_shapley_values_add_up_and_come_close():
    attribution = attribute(exact_up_to=0, samples=200, seed=1)
    assert not attribution.exact
    assert sum(attribution.values.values()) == pytest.approx(attribution.full - attribution.empty)
    assert attribution.values == pytest.approx({"left": 0.65, "right": 0.35}, abs=0.1)


def test_blanked_nodes_answer_the_empty_value_of_their_type():
    from rolegraph.search import blank_value

    evaluator = Evaluator(Objective(TASKS, pair_score), filename="pair.agent")
    runs = evaluator.blanking(frozenset({"right"})).evaluate_sync(rolegraph.parse(PAIR)).runs
    assert {r.result for r in runs} == {"L"}
    assert runs[0].calls == 2  # the blank answer is still a call of its node (it costs nothing)
    schema = {
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "n": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "kind": {"enum": ["a", "b"]},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
    }
    assert blank_value(schema) == {"ok": False, "n": 0, "tags": [], "kind": "a", "note": None}


def test_attribution_of_self_refine_adds_up():
    from rolegraph.search import shapley

    evaluator = Evaluator(Objective(TASKS, contains, seeds=(0, 1)), filename=str(SELF_REFINE))
    attribution = asyncio.run(shapley(rolegraph.parse_file(SELF_REFINE), evaluator))
    assert attribution.players == ("writer", "critic")
    total = sum(attribution.values.values())
    assert total == pytest.approx(attribution.full - attribution.empty)
    with pytest.raises(ObjectiveError, match="`nobody` is not a node of `SelfRefine`"):
        asyncio.run(shapley(rolegraph.parse_file(SELF_REFINE), evaluator, players=["nobody"]))


def test_the_attribute_command(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    program = tmp_path / "pair.agent"
    program.write_text(PAIR)
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"inputs": e.inputs}) + "\n" for e in TASKS))
    args = [
        "attribute",
        str(program),
        "--data",
        str(data),
        "--score",
        "tests.test_search:pair_score",
    ]
    result = CliRunner().invoke(app, [*args, "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.output
    assert "Pair: Shapley values (exact)" in result.output
    assert result.output.index("left") < result.output.index("right")  # the larger first
    assert "+0.650" in result.output and "+0.350" in result.output
    assert "score 1.000 with every node, 0.000 with all blanked; 4 coalitions" in result.output


def test_the_plot_shows_every_candidate_and_the_best_so_far():
    import xml.etree.ElementTree as ElementTree

    from rolegraph.search import score_plot

    result = search(SearchStore(), 12)
    svg = ElementTree.fromstring(score_plot(result, "a <title> & more"))
    ns = {"svg": "http://www.w3.org/2000/svg"}
    dots = svg.findall("svg:circle", ns)
    assert len(dots) == 12
    assert sum(d.get("fill") != "white" for d in dots) == len(result.front)
    (line,) = svg.findall("svg:polyline", ns)
    heights = [float(p.split(",")[1]) for p in line.get("points").split()]
    assert heights == sorted(heights, reverse=True)  # the best so far only rises (y falls)
    assert svg.findall("svg:text", ns)[0].text == "a <title> & more"


def test_the_documented_search_runs_on_the_shipped_dataset(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    data = ROOT / "examples" / "data" / "capitals.jsonl"
    assert [e.expected for e in load_examples(data)] == [
        "Paris",
        "Tokyo",
        "Nairobi",
        "Lima",
        "Ottawa",
    ]
    args = ["search", str(SELF_REFINE), "--data", str(data), "--score", "contains", "-n", "3"]
    result = CliRunner().invoke(app, [*args, "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.output
    assert "after 3 candidates" in result.output


def test_examples_must_give_what_the_agent_takes(tmp_path):
    module = rolegraph.parse_file(SELF_REFINE)
    wrong = Objective([Example({"task": "a"}), Example({"question": "b"})], exact)
    with pytest.raises(
        ObjectiveError, match="example 2 gives `question`; agent `SelfRefine` takes: task"
    ):
        Evaluator(wrong).evaluate_sync(module)
    with pytest.raises(ObjectiveError, match="example 1 does not give `task`"):
        Evaluator(Objective([Example({})], exact)).evaluate_sync(module)
    from typer.testing import CliRunner

    from rolegraph.cli import app

    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"inputs": {"question": "q"}}) + "\n")
    result = CliRunner().invoke(
        app,
        ["search", str(SELF_REFINE), "--data", str(data), "--store", str(tmp_path / "s.sqlite")],
    )
    assert result.exit_code == 1 and "example 1 gives `question`" in result.output


def test_the_ray_backend_takes_a_model_by_name():
    from rolegraph.runtime import MockModel

    with pytest.raises(ObjectiveError, match="a string, or None"):
        Evaluator(Objective(TASKS, exact), model=MockModel(), backend="ray")
    with pytest.raises(ObjectiveError, match="local or ray, not 'dask'"):
        Evaluator(Objective(TASKS, exact), backend="dask")


@pytest.mark.parametrize(
    ("optimizer", "evaluations", "seed"),
    [("evolution", 8, 3), ("flight", 12, 5), ("tree_search", 10, 2)],
)
def test_an_optimizer_started_again_repeats_no_run(tmp_path, optimizer, evaluations, seed):
    run = globals()[optimizer]
    path = tmp_path / f"{optimizer}.sqlite"
    first = run(SearchStore(path), evaluations, seed=seed)
    again = run(SearchStore(path), evaluations, seed=seed)
    assert first.calls > 0 and again.calls == 0
    assert [s.made_by for s in again.evaluated] == [s.made_by for s in first.evaluated]
    assert [s.evaluation.fingerprint for s in again.evaluated] == [
        s.evaluation.fingerprint for s in first.evaluated
    ]
