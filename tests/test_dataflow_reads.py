"""Reads that do not wait (`latest(x)`) and state that accumulates (`history(x)`):
the dataflow real agent designs need (issue 17, items 4 and 5)."""

import asyncio
import random

import pytest

import rolegraph
from rolegraph.compiler.diagnostics import DiagnosticError
from rolegraph.runtime import MockModel, Stalled, run_agent

TYPES = """model m = "mock"
type Draft { text: str }
type Review { ok: bool, feedback: str }
type Lesson { lesson: str }
type Spec { rules: str }
role Write(task: str, lessons: list[Lesson] = [], feedback: str = "") -> Draft {
  model m
  prompt "{{ task }}{% for l in lessons %} {{ l.lesson }}{% endfor %} {{ feedback }}"
}
role Check(draft: Draft) -> Review { model m  prompt "{{ draft.text }}" }
role Reflect(draft: Draft, feedback: str) -> Lesson { model m  prompt "{{ feedback }}" }
role Specify(task: str) -> Spec { model m  prompt "{{ task }}" }
role Judge(spec: Spec, draft: Draft) -> Review { model m  prompt "{{ spec.rules }}" }
"""

REFLEXION = (
    TYPES
    + """agent Reflexion(task: str) -> Draft {
  w = Write(task, lessons: history(r))
  c = Check(draft: w)
  r = Reflect()
  c -> r(draft: w, feedback: c.feedback) when not c.ok max 3
  r -> w max 3
  c -> return(w) else
}
"""
)

FAILING_TWICE = {
    "Check": [
        {"ok": False, "feedback": "too long"},
        {"ok": False, "feedback": "too vague"},
        {"ok": True, "feedback": ""},
    ],
    "Reflect": [{"lesson": "be brief"}, {"lesson": "be precise"}],
}


def run(text: str, agent: str, script: dict, latency=None):
    ir = rolegraph.load_agent("reads.agent", agent, text=text)
    return asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel(script, latency=latency)))


def test_history_keeps_every_output_so_far_in_order():
    outcome = run(REFLEXION, "Reflexion", FAILING_TWICE)
    writes = [r.inputs["lessons"] for r in outcome.trace.firings if r.node == "w"]
    assert writes == [
        [],
        [{"lesson": "be brief"}],
        [{"lesson": "be brief"}, {"lesson": "be precise"}],
    ]


def test_history_does_not_join():
    """`w` reads `history(r)` and is still an entry node: it does not wait for `r`."""
    ir = rolegraph.load_agent("reads.agent", "Reflexion", text=REFLEXION)
    assert ir.nodes["w"].entry and "r" not in ir.nodes["w"].deps


def test_history_is_the_same_whatever_the_latencies():
    shapes = set()
    for seed in range(10):
        rng = random.Random(seed)
        outcome = run(REFLEXION, "Reflexion", FAILING_TWICE, lambda r, rng=rng: rng.random() / 500)
        shapes.add(repr(outcome.trace.shape()))
    assert len(shapes) == 1


REVIEW_LOOP = """agent Revise(task: str) -> Draft {{
  spec = Specify(task)
  w = Write(task: spec.rules)
  j = Judge(spec: {spec}, draft: w)
  j -> w(feedback: j.feedback) when not j.ok max 2
  j -> return(w) else
}}
"""

REJECT_ONCE = {"Judge": [{"ok": False, "feedback": "again"}, {"ok": True, "feedback": ""}]}


def test_a_node_joining_a_node_that_fires_once_stalls_on_the_first_revision():
    """The natural form: `j` joins `spec` and `w`, so the revised draft waits for a new
    spec that never comes."""
    with pytest.raises(Stalled, match="`j` has `w` and waits for `spec`"):
        run(TYPES + REVIEW_LOOP.format(spec="spec"), "Revise", REJECT_ONCE)


def test_latest_reads_without_waiting_for_a_new_output():
    outcome = run(TYPES + REVIEW_LOOP.format(spec="latest(spec)"), "Revise", REJECT_ONCE)
    judged = [r for r in outcome.trace.firings if r.node == "j"]
    assert len(judged) == 2  # the revision was judged, against the one spec
    assert judged[0].inputs["spec"] == judged[1].inputs["spec"]


def errors(text: str) -> list[str]:
    with pytest.raises(DiagnosticError) as caught:
        rolegraph.load_agent("reads.agent", text=text)
    return [d.code for d in caught.value.diagnostics]


def test_latest_of_a_node_that_does_not_come_before_is_a_race():
    text = TYPES + "agent A(task: str) -> Draft {\n  w = Write(task)\n"
    text += "  c = Check(draft: latest(d))\n  d = Write(task)\n  return w\n}\n"
    assert "E0403" in errors(text)


def test_latest_and_history_are_for_node_arguments_only():
    text = TYPES + "agent A(task: str) -> Draft {\n  w = Write(task)\n  c = Check(draft: w)\n"
    text += "  c -> return(w) when len(history(c)) > 1\n  return w\n}\n"
    assert "E0413" in errors(text)


@pytest.mark.parametrize(
    ("argument", "code"),
    [("latest(w.text)", "E0301"), ("history(nobody)", "E0201"), ("latest()", "E0301")],
)
def test_latest_and_history_take_a_node_name(argument, code):
    text = TYPES + f"agent A(task: str) -> Draft {{\n  w = Write(task)\n  v = Write({argument})\n"
    text += "  return w\n}\n"
    assert code in errors(text)


def test_history_is_typed_a_list_of_the_outputs():
    text = TYPES + "agent A(task: str) -> Draft {\n  w = Write(task)\n"
    text += "  c = Check(draft: history(w))\n  return w\n}\n"
    assert errors(text) == ["E0301"]  # a `list[Draft]` where a `Draft` is wanted


def test_the_fallback_reads_the_current_plan_after_a_replan():
    """examples/failure_recovery.agent: the fallback reads `latest(plan)`; a plain
    `plan` would join the planner and read the first plan after a replan."""
    from .conftest import ROOT

    script = {
        "Planner": [
            {"key": "lima", "why": "the city"},
            {"key": "cusco", "why": "another city"},
            {"key": "peru", "why": "the country"},
        ],
        "Recall": [{"text": "", "source": "", "found": False}],
    }
    path = ROOT / "examples" / "failure_recovery.agent"
    outcome = asyncio.run(
        rolegraph.arun(path, {"task": "Capital of Peru?"}, model=MockModel(script))
    )
    recalled = [r.inputs["plan"]["key"] for r in outcome.trace.firings if r.node == "recall"]
    assert recalled == ["lima", "cusco"]
    assert outcome.result["source"] == "facts:peru"
