"""`failed(n)`: the temporal atom of a failed firing (issue 17, item 3). A failed firing
is one thing everywhere: the checker's explorer, the runtime's trace, `enforce`
shields, `test` blocks — and `failed(n)` says which firings failed, where the plain
atom `n` holds for every firing of `n`, failed or not."""

import asyncio
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.ltl import failed_proposition
from rolegraph.compiler.printer import to_source
from rolegraph.runtime import ConstraintViolation, MockModel, RunError, run_agent
from rolegraph.runtime.trace import ltl_steps

from .test_explorer_vs_runs import formulas

BACKUP = """
model m = "mock"
role Primary(q: str) -> str { model m  prompt "{{ q }}" }
role Backup(q: str) -> str { model m  prompt "{{ q }}" }
agent A(q: str) -> str {
  primary = Primary(q)
  backup = Backup(q)
  primary -> backup on error
  return primary
  return backup
  CONSTRAINTS
}
"""


def _agent(*constraints: str) -> str:
    return BACKUP.replace("CONSTRAINTS", "\n  ".join(constraints))


def _verdicts(source: str) -> dict[str, str]:
    checked = rolegraph.check_source(source, "a.agent")
    assert not checked.errors, [str(d) for d in checked.errors]
    return {c.text: c.status for c in checked.constraints}


def test_failed_parses_prints_and_reads_back():
    module = rolegraph.parse(_agent("ensure always(backup -> once failed(primary))"))
    atoms = [a for a in module.walk() if isinstance(a, ast.LtlFired)]
    assert [(a.node, a.failed) for a in atoms] == [("backup", False), ("primary", True)]
    printed = to_source(module)
    assert "ensure always(backup -> once failed(primary))" in printed
    assert rolegraph.parse(printed) == module


@pytest.mark.parametrize(
    ("text", "code"),
    [("failed(q.x)", "E0315"), ("failed(a, b)", "E0315"), ("failed()", "E0315")],
)
def test_failed_takes_one_node_name(text, code):
    from rolegraph.grammar import parse_module

    result = parse_module(_agent(f"ensure not {text}"), "a.agent")
    assert [d.code for d in result.diagnostics] == [code]
    assert "takes one node name" in result.diagnostics[0].message


def test_failed_of_an_unknown_node_is_e0502():
    checked = rolegraph.check_source(_agent("ensure not failed(nosuch)"), "a.agent")
    assert [d.code for d in checked.errors] == ["E0502"]


def test_the_checker_tells_a_failed_firing_from_a_successful_one():
    verdicts = _verdicts(
        _agent(
            "ensure always(backup -> once failed(primary))",
            "ensure always(failed(primary) -> eventually backup)",
            "ensure eventually failed(primary)",  # not so: primary may succeed
            "ensure always(primary -> failed(primary))",  # not so either
            "ensure not failed(backup)",  # backup has no handler: its failure fails the run
        )
    )
    assert verdicts == {
        "always(backup -> once failed(primary))": "proven",
        "always(failed(primary) -> eventually backup)": "proven",
        "eventually failed(primary)": "violated",
        "always(primary -> failed(primary))": "violated",
        "not failed(backup)": "proven",
    }


def _run(source: str, fails: bool):
    ir = rolegraph.check_source(source, "a.agent").irs["A"]
    script = {"Primary": [RuntimeError("down")]} if fails else {}
    return asyncio.run(run_agent(ir, {"q": "x"}, model=MockModel(script=script)))


def test_the_trace_marks_a_failed_firing_at_its_step():
    outcome = _run(_agent(), fails=True)
    steps = ltl_steps(outcome.trace.firings, [], {})
    assert steps == {1: {"primary", failed_proposition("primary")}, 2: {"backup"}}
    assert ltl_steps(_run(_agent(), fails=False).trace.firings, [], {}) == {1: {"primary"}}


def test_an_enforce_shield_reads_failed():
    # the shield forbids falling back at all: the run that needs the backup is blocked
    source = _agent("enforce always(not (once failed(primary) and backup))")
    with pytest.raises(RunError):
        _run(source, fails=True)
    assert _run(source, fails=False).result


def test_a_test_block_expects_failed(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    def outcome(expect: str) -> tuple[int, str]:
        path = tmp_path / "a.agent"
        test = f'test t {{\n  run A(q: "x")\n  mock Primary ["ok"]\n  expect {expect}\n}}\n'
        path.write_text(_agent("") + test)
        result = CliRunner().invoke(app, ["test", str(path)])
        return result.exit_code, result.output

    assert outcome("not failed(primary) and primary and not backup")[0] == 0
    code, output = outcome("eventually failed(primary)")
    assert code == 1 and "`expect eventually failed(primary)` does not hold" in output


# -- the checker against executed runs, with failures forced -------------------------------

CHAIN = """
model m = "mock"
role A(q: str) -> str { model m  prompt "a {{ q }}" }
role B(q: str) -> str { model m  prompt "b {{ q }}" }
role C(q: str) -> str { model m  prompt "c {{ q }}" }
role D(q: str) -> str { model m  prompt "d {{ q }}" }
agent Random(task: str) -> str {
  a = A(task)
  b = B(task)
  c = C(a)
  d = D(task)
  a -> b on error
  c -> d on error
  b -> return(task) on error
  return c
  return b
  return d
  ensure FORMULA
}
"""
ROLES = ("A", "B", "C", "D")
ATOMS = ["a", "b", "c", "d", "failed(a)", "failed(b)", "failed(c)", "failed(d)"]


def _execute(ir, failing: tuple[str, ...]) -> str:
    model = MockModel(script={role: [RuntimeError("down")] for role in failing})
    try:
        asyncio.run(run_agent(ir, {"task": "t"}, model=model))
    except ConstraintViolation as error:
        return f"violated {error.formula}"
    except RunError as error:
        return type(error).__name__
    return "returned"


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(formula=formulas(ATOMS))
def test_what_check_proves_about_failures_holds_of_every_run(formula):
    checked = rolegraph.check_source(CHAIN.replace("FORMULA", formula), "random.agent")
    codes = {d.code for d in checked.diagnostics}
    if "E0503" in codes:  # a past operator over a future one: refused by design
        return
    (constraint,) = checked.constraints
    ir = checked.irs["Random"]
    endings = {
        failing: _execute(ir, failing)
        for size in range(len(ROLES) + 1)
        for failing in itertools.combinations(ROLES, size)
    }
    returned = [f for f, ending in endings.items() if ending == "returned"]
    violated = [f for f, ending in endings.items() if ending.startswith("violated")]
    if constraint.status == "proven":
        assert not violated, (formula, violated)
    if constraint.status == "violated":
        # the counterexample is a run the executor makes: some forced failures violate it
        assert violated, (formula, endings)
    if "E0506" in codes:
        assert not returned, (formula, returned)


@given(st.sampled_from(ATOMS))
@settings(max_examples=8, derandomize=True, deadline=None)
def test_each_atom_round_trips(atom):
    module = rolegraph.parse(CHAIN.replace("FORMULA", f"always({atom} -> {atom})"))
    assert rolegraph.parse(to_source(module)) == module
