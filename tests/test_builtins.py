"""Built-in functions of expressions (issue 17, item 7): typed by the checker, total at
run time, usable in guards, arguments and returns — argmax, consensus and "every
citation was retrieved" written in the language instead of as Python tools."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler.builtins import IMPLEMENTATIONS
from rolegraph.compiler.diagnostics import DiagnosticError
from rolegraph.runtime import MockModel, run_agent

numbers = st.lists(st.integers(-50, 50) | st.floats(-1e6, 1e6, allow_nan=False), max_size=8)
words = st.lists(st.sampled_from(["a", "b", "c", "dd"]), max_size=8)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(numbers)
def test_numeric_builtins_agree_with_python_and_are_total(values):
    assert IMPLEMENTATIONS["sum"](values) == sum(values)
    assert IMPLEMENTATIONS["min"](values) == (min(values) if values else None)
    assert IMPLEMENTATIONS["max"](values) == (max(values) if values else None)
    assert IMPLEMENTATIONS["len"](values) == len(values)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(words, st.sampled_from(["a", "b", "z"]))
def test_list_builtins_agree_with_python_and_are_total(values, item):
    assert IMPLEMENTATIONS["count"](values, item) == values.count(item)
    assert IMPLEMENTATIONS["contains"](values, item) == (item in values)
    assert IMPLEMENTATIONS["same"](values) == (len(set(values)) <= 1)
    common = IMPLEMENTATIONS["most_common"](values)
    if values:
        assert values.count(common) == max(values.count(v) for v in values)
        assert common == next(v for v in values if values.count(v) == values.count(common))
    else:
        assert common is None
    assert IMPLEMENTATIONS["contains_all"](values, [item]) == (item in values)
    assert IMPLEMENTATIONS["any"]([v == item for v in values]) == (item in values)
    assert IMPLEMENTATIONS["all"]([v == item for v in values]) == all(v == item for v in values)


def test_max_by_picks_the_record_with_the_largest_field():
    drafts = [{"text": "a", "score": 0.2}, {"text": "b", "score": 0.9}, {"text": "c", "score": 0.9}]
    assert IMPLEMENTATIONS["max_by"](drafts, "score")["text"] == "b"  # the first on a tie
    assert IMPLEMENTATIONS["min_by"](drafts, "score")["text"] == "a"
    assert IMPLEMENTATIONS["max_by"]([], "score") is None


PRELUDE = """model m = "mock"
type Draft { text: str, score: float, cites: list[str] }
type Docs { ids: list[str] }
type Verdict { label: str }
role Write(task: str, feedback: str = "") -> Draft { model m  prompt "{{ task }} {{ feedback }}" }
role Retrieve(task: str) -> Docs { model m  prompt "{{ task }}" }
role Answer(task: str, docs: Docs, feedback: str = "") -> Draft {
  model m
  prompt "{{ task }} {{ docs.ids }} {{ feedback }}"
}
role Vote(task: str) -> Verdict { model m  prompt "{{ task }}" }
role Pick(best: Draft?, agreed: bool) -> Draft { model m  prompt "{{ best }} {{ agreed }}" }
"""


def run(body: str, script: dict):
    ir = rolegraph.load_agent("b.agent", text=PRELUDE + body)
    return asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel(script)))


def draft(text: str, score: float = 0.5, cites: tuple[str, ...] = ()) -> dict:
    return {"text": text, "score": score, "cites": list(cites)}


def test_a_guard_checks_every_citation_was_retrieved():
    body = """agent Rag(task: str) -> Draft {
  docs = Retrieve(task)
  answer = Answer(task, docs: docs)
  answer -> answer(feedback: "cite only what was retrieved")
    when not contains_all(docs.ids, answer.cites) max 2
  answer -> return(answer) else
}
"""
    script = {
        "Retrieve": [{"ids": ["d1", "d2"]}],
        "Answer": [draft("made up", cites=("d1", "d9")), draft("grounded", cites=("d1",))],
    }
    outcome = run(body, script)
    assert outcome.result["text"] == "grounded"
    assert sum(1 for r in outcome.trace.firings if r.node == "answer") == 2


def test_argmax_and_consensus_in_arguments_and_guards():
    body = """agent Best(task: str) -> Draft {
  drafts = Write(task) x 3
  votes = Vote(task) x 3
  best = Pick(best: max_by(drafts, "score"), agreed: same(votes))
  return best
}
"""
    script = {
        "Write": [draft("a", 0.2), draft("b", 0.9), draft("c", 0.5)],
        "Vote": [{"label": "yes"}] * 3,
        "Pick": [draft("picked")],
    }
    outcome = run(body, script)
    (pick,) = [r for r in outcome.trace.firings if r.node == "best"]
    assert pick.inputs["best"]["text"] == "b" and pick.inputs["agreed"] is True


def test_an_ordering_with_none_is_false_not_an_error():
    """`max` of an empty list is none, and an ordering with none is false: the guard
    routes to `else` instead of failing the run."""
    body = """agent A(task: str) -> Draft {
  d = Write(task)
  e = Write(task, feedback: "no citations")
  d -> return(d) when max(d.cites) > "d0"
  d -> e else
  return e
}
"""
    outcome = run(body, {"Write": [draft("uncited"), draft("fallback")]})
    assert outcome.result["text"] == "fallback"


def checked_errors(body: str) -> list[str]:
    try:
        rolegraph.load_agent("b.agent", text=PRELUDE + body)
    except DiagnosticError as error:
        return [f"{d.code} {d.message}" for d in error.diagnostics]
    return []


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("sum(drafts)", "`sum` needs a list of numbers, found `list[Draft]`"),
        ('max_by(drafts, "text")', "`max_by` compares numbers, and `Draft.text` is a `str`"),
        ('max_by(drafts, "nope")', "`max_by` `Draft` has no field `nope`"),
        ("count(drafts)", "`count` takes 2 argument(s)"),
        ("lower(3)", "`lower` needs a string, found `int`"),
    ],
)
def test_builtins_are_type_checked(expr, message):
    body = f"""agent A(task: str) -> Draft {{
  drafts = Write(task) x 3
  d = Write(task)
  d -> return(d) when {expr} == {expr}
  return d
}}
"""
    found = checked_errors(body)
    assert any(message in f for f in found), found


@pytest.mark.parametrize(
    ("written", "meant"), [("True", "true"), ("False", "false"), ("None", "none")]
)
def test_python_literals_get_a_hint(written, meant):
    body = "agent A(task: str) -> Draft {\n  d = Write(task)\n"
    body += f"  d -> return(d) when d.score == {written}\n  return d\n}}\n"
    with pytest.raises(DiagnosticError) as caught:
        rolegraph.load_agent("b.agent", text=PRELUDE + body)
    (problem,) = [d for d in caught.value.diagnostics if d.code == "E0201"]
    assert problem.hints == (f"write `{meant}`: rolegraph's literals are lower case",)
