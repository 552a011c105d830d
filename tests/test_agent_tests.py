"""`test` blocks in `.agent` files: parsed, printed, checked, and run by `rolegraph test`."""

import asyncio

import pytest
from typer.testing import CliRunner

import rolegraph
from rolegraph.cli import app
from rolegraph.runtime.testblocks import run_test

from .conftest import EXAMPLES, ROOT, STDLIB

REFINE = """model m = "mock"
type Draft { text: str }
type Review { ok: bool, feedback: str }
role Writer(task: str, feedback: str = "") -> Draft {
  model m
  prompt "{{ task }} {{ feedback }}"
}
role Critic(task: str, draft: Draft) -> Review {
  model m
  prompt "{{ task }} {{ draft.text }}"
}
agent Refine(task: str) -> Draft {
  writer = Writer(task)
  critic = Critic(task, draft: writer)
  critic -> writer(feedback: critic.feedback) when not critic.ok max 3
  critic -> return(writer) else
}
"""

runner = CliRunner()


def outcomes(text):
    checked = rolegraph.check_source(text, "t.agent")
    assert not checked.errors, [str(d) for d in checked.errors]
    return {
        t.name: asyncio.run(run_test(t, checked.irs[t.run.agent]))
        for t in checked.program.main.module.tests
    }


def test_a_test_block_round_trips_through_the_printer():
    text = (
        REFINE
        + """
test third_draft {
  run Refine(task: "t")
  mock Critic [{ok: false, feedback: "a"}, {ok: true, feedback: ""}]
  expect calls(Critic) == 2
  expect always(return -> once critic)
}
"""
    )
    module = rolegraph.parse(text)
    (test,) = module.tests
    assert [type(s).__name__ for s in test.body] == [
        "TestRun",
        "TestMock",
        "TestExpect",
        "TestExpect",
    ]
    assert rolegraph.parse(rolegraph.to_source(module)) == module
    assert rolegraph.format_source(text).endswith(text.split("\n\n")[-1])


def test_expectations_hold_or_fail_with_the_values_and_the_trace():
    results = outcomes(
        REFINE
        + """
test passes {
  run Refine(task: "t")
  mock Writer [{text: "one"}, {text: "two"}]
  mock Critic [{ok: false, feedback: "again"}, {ok: true, feedback: ""}]
  expect result.text == "two"
  expect calls(Critic) == 2 and firings(writer) == 2
  expect always(return -> once critic)
  expect eventually critic.ok
  expect always(writer -> not critic.ok or true)
}

test fails {
  run Refine(task: "t")
  mock Critic [{ok: true, feedback: ""}]
  expect calls(Writer) == 2
  expect result.text == "never"
  expect eventually(critic and not critic.ok)
}
"""
    )
    assert results["passes"].passed, results["passes"].failures
    failed = results["fails"]
    assert not failed.passed and len(failed.failures) == 3
    assert "calls(Writer) is 1" in failed.failures[0]
    assert "the trace: writer | critic | return" in failed.failures[0]
    assert "result.text is " in failed.failures[1]


def test_a_run_that_fails_fails_the_test_with_its_reason():
    text = REFINE.replace("  critic -> return(writer) else\n", "  return critic\n").replace(
        "-> Draft {\n  writer", "-> Review {\n  writer"
    )
    results = outcomes(text + '\ntest budget {\n  run Refine(task: "t")\n  expect true\n}\n')
    assert results["budget"].passed  # a sanity run: the agent returns its review
    broken = text.replace("return critic", "return critic\n  ensure always(not critic)")
    checked = rolegraph.check_source(broken + '\ntest t {\n  run Refine(task: "t")\n}\n')
    (test,) = checked.program.main.module.tests
    outcome = asyncio.run(run_test(test, checked.irs["Refine"]))
    assert not outcome.passed and "the run failed" in outcome.failures[0]


def test_mistakes_in_tests_are_diagnostics_with_codes_and_places():
    text = (
        REFINE
        + """
test broken {
  run Refine(tsk: 3)
  mock Writer [{text: 1}, {txt: "x"}]
  mock Wrter [{text: "x"}]
  expect eventually writr
  expect reslt.text == "x" and calls(Ghost) == 1
}

test empty {
  expect true
}
"""
    )
    checked = rolegraph.check_source(text, "t.agent")
    got = [(d.code, d.line) for d in checked.diagnostics]
    assert got == [
        ("E0302", 20),  # no parameter `tsk`
        ("E0303", 20),  # `task` missing
        ("E0802", 21),  # 1 is not a str
        ("E0802", 21),  # no field `txt`
        ("E0201", 22),  # no role `Wrter`
        ("E0803", 23),  # no node `writr`
        ("E0803", 24),  # no role `Ghost`
        ("E0803", 24),  # no name `reslt`
        ("E0801", 27),  # no run
    ]


def test_the_test_words_are_keywords_only_inside_tests():
    text = """model m = "mock"
type test { run: str, expect: int }
role mock(run: str) -> test {
  model m
  prompt "{{ run }}"
}
agent expect(test: str) -> test {
  run = mock(run: test)
  return run
}
test test {
  run expect(test: "x")
  mock mock [{run: "a", expect: 1}]
  expect result.run == "a" and eventually run
}
"""
    assert all(o.passed for o in outcomes(text).values())


def test_rolegraph_test_exit_codes(tmp_path):
    result = runner.invoke(app, ["test", str(ROOT / "examples")])
    assert result.exit_code == 0, result.output
    written = sum(p.read_text().count("\ntest ") for p in (ROOT / "examples").glob("*.agent"))
    assert f"{written} passed" in result.output
    assert "6 passed" in runner.invoke(app, ["test", str(ROOT / "stdlib")]).output
    failing = tmp_path / "failing.agent"
    failing.write_text(
        REFINE + '\ntest t {\n  run Refine(task: "t")\n  expect calls(Writer) == 9\n}\n'
    )
    result = runner.invoke(app, ["test", str(failing)])
    assert result.exit_code == 1 and "FAILED" in result.output and "1 failed" in result.output
    none = tmp_path / "none.agent"
    none.write_text(REFINE)
    assert runner.invoke(app, ["test", str(none)]).exit_code == 5
    selected = runner.invoke(app, ["test", str(ROOT / "examples"), "-k", "majority"])
    assert "1 passed" in selected.output


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_the_tests_of_the_examples_and_the_standard_library_pass(path):
    checked = rolegraph.check_source(path.read_text(), str(path))
    for test in checked.program.main.module.tests:
        outcome = asyncio.run(run_test(test, checked.irs[test.run.agent]))
        assert outcome.passed, outcome.failures


def test_a_test_may_run_an_imported_pattern_and_mock_its_roles():
    text = """
from std.self_refine import SelfRefine

test refine_from_the_library {
  run SelfRefine(task: "t")
  mock Review [{ok: false, feedback: "x"}, {ok: true, feedback: ""}]
  expect calls(Write) == 2 and calls(Review) == 2
  expect always(return -> once critic)
}
"""
    assert all(o.passed for o in outcomes(text).values())
