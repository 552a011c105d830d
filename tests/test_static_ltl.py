"""The static checker proves constraints that hold on every run, and finds the planted
counterexample in those that do not."""

import pytest

from rolegraph.compiler.ltl import evaluate

from .checking import PRELUDE, check

REFINE = """agent A(task: str) -> Draft {{
  w = Writer(task)
  c = Critic(task, draft: w)
  c -> w(feedback: c.feedback) when not c.ok max 3
  c -> return(w) else
  ensure {}
}}
"""
HASTY = """agent A(task: str) -> Draft {{
  w = Writer(task)
  c = Critic(task, draft: w)
  return w
  ensure {}
}}
"""
CHAIN = """agent A(task: str) -> Draft {{
  a = Writer(task)
  b = Critic(task, draft: a)
  c = Writer(task, feedback: b.feedback)
  return c
  ensure {}
}}
"""
ROUTER_EXCLUSIVE = """agent A(task: str) -> Draft {{
  r = Router(task)
  fast = Writer(task, feedback: "be quick")
  slow = Writer(task, feedback: "be thorough")
  r -> fast when r.route == Route.fast
  r -> slow else
  return fast
  return slow
  ensure {}
}}
"""
ROUTER_OVERLAPPING = ROUTER_EXCLUSIVE.replace("r -> slow else", 'r -> slow when r.why != ""')
OPTIONAL_FIX = """agent A(task: str) -> Draft {{
  w = Writer(task)
  c = Critic(task, draft: w)
  fix = Writer(task, feedback: c.feedback)
  c -> return(w) when c.ok
  return fix
  ensure {}
}}
"""
FALLBACK = """agent A(task: str) -> Draft {{
  w = Writer(task)
  backup = Writer(task, feedback: "plain")
  w -> backup on error
  backup -> return(backup)
  w -> return(w)
  ensure {}
}}
"""

PANEL = """agent A(task: str) -> Draft {{
  drafts = Writer(task) x 3
  merged = Merger(task, drafts: drafts)
  return merged
  ensure {}
}}
"""
PARALLEL = """agent A(task: str) -> Draft {{
  left = Writer(task, feedback: "left")
  right = Writer(task, feedback: "right")
  review = Critic(task, draft: left)
  merged = Merger(task, drafts: [left, right])
  return merged
  ensure {}
}}
"""
GATED = """agent A(task: str) -> Draft {{
  r = Router(task)
  w = Writer(task, feedback: r.why)
  c = Critic(task, draft: w)
  c -> return(w) when c.ok
  c -> w max 1
  ensure {}
}}
"""
RETRY = """agent A(task: str) -> Draft {{
  w = Writer(task)
  c = Critic(task, draft: w)
  c -> w(feedback: c.feedback) when c.score < 0.5 max 2
  c -> return(w) when c.score >= 0.5
  return w
  ensure {}
}}
"""

PROVEN = [
    (REFINE, "always(return -> once c)"),
    (REFINE, "always(c -> once w)"),
    (REFINE, "always(return -> yesterday c)"),
    (REFINE, "always(not (w and c))"),
    (REFINE, "w"),  # the writer fires at the first step
    (REFINE, "eventually c"),
    (CHAIN, "always(c -> yesterday b) and always(b -> yesterday a)"),
    (CHAIN, "not return until c"),
    (CHAIN, "eventually(return and yesterday c)"),
    (ROUTER_EXCLUSIVE, "always(not (fast and slow))"),
    (ROUTER_EXCLUSIVE, "always(return -> once r)"),
    (OPTIONAL_FIX, "always(fix -> once c)"),
    (FALLBACK, "always(backup -> once w)"),
    (FALLBACK, "eventually w"),  # w fires at step 1, whether it fails or not
    (PANEL, "always(merged -> yesterday drafts)"),
    (PARALLEL, "always(merged -> once left and once right)"),
    (GATED, "always(w -> once r)"),
    (RETRY, "always(return -> once w)"),
    (GATED, "always(return -> yesterday c.ok)"),  # the return edge is gated on c.ok
    (HASTY, "always(return -> once w)"),
]

COUNTEREXAMPLES = [
    (HASTY, "always(return -> once c)"),  # returns before the critic fires
    (REFINE, "eventually c.ok"),  # the loop can end by exhausting its bound
    (REFINE, "always(w -> once c)"),  # the first draft comes before any review
    (REFINE, "always(c -> next w)"),  # the last review is followed by the return
    (REFINE, "always(w -> historically not c)"),  # a revision follows a review
    (REFINE, "always(c.ok)"),
    (ROUTER_OVERLAPPING, "always(not (fast and slow))"),  # both guards may hold
    (OPTIONAL_FIX, "eventually fix"),  # an accepted draft needs no fix
    (FALLBACK, "always(not backup)"),  # the writer may fail
    (CHAIN, "always(not return)"),
    (CHAIN, "next return"),
    (PANEL, "eventually(drafts and merged)"),  # they fire at different steps
    (PARALLEL, "always(not (review and merged))"),  # they fire at the same step
    (GATED, "eventually r.route == Route.fast"),  # the router may choose either route
    (RETRY, "always(return -> once c)"),  # `return w` does not wait for the critic
]


def verdict(template: str, formula: str):
    result = check(PRELUDE + template.format(formula))
    # a constraint every run violates is a verdict too, as an error
    errors = [str(d) for d in result.diagnostics if d.is_error and d.code != "E0506"]
    assert not errors, errors
    (constraint,) = result.constraints
    return constraint


@pytest.mark.parametrize(("template", "formula"), PROVEN, ids=[f for _, f in PROVEN])
def test_constraint_is_proven(template, formula):
    constraint = verdict(template, formula)
    assert constraint.status == "proven"
    assert constraint.states >= 1


@pytest.mark.parametrize(
    ("template", "formula"), COUNTEREXAMPLES, ids=[f for _, f in COUNTEREXAMPLES]
)
def test_counterexample_is_found(template, formula):
    constraint = verdict(template, formula)
    assert constraint.status == "violated"
    run = constraint.counterexample
    assert run is not None and run.returned
    # the counterexample really violates the formula, and reads in source terms
    result = check(PRELUDE + template.format(formula))
    formula_ast = result.irs["A"].constraints[0].formula
    assert not evaluate(formula_ast, run.trace)
    assert run.story[0].startswith("step 1: ")


def test_at_least_ten_agents_of_each():
    assert len({t for t, _ in PROVEN}) >= 10
    assert len({t for t, _ in COUNTEREXAMPLES}) >= 10


def test_counterexample_is_shown_in_the_diagnostic():
    result = check(PRELUDE + HASTY.format("always(return -> once c)"))
    # every run of HASTY violates it: certain, so an error (E0506), shown the same way
    (diagnostic,) = [d for d in result.diagnostics if d.code == "E0506"]
    assert diagnostic.notes == ("a run that violates it:", "step 1: w", "step 2: return")
