"""The checker's explorer against executed runs (issue 17, item 3): what `check` says of
every run must hold of each run the executor makes. Random well-typed agents, random
LTL constraints, and runs whose guard outcomes vary with the mock's seed."""

import asyncio

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.runtime import ConstraintViolation, MockModel, RunError, Stalled, run_agent

from .checking import PRELUDE
from .test_check_property import well_typed_agents

SEEDS = range(4)


def formulas(atoms: list[str]) -> st.SearchStrategy[str]:
    leaf = st.sampled_from([*atoms, "return", "start"])

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        unary = st.tuples(
            st.sampled_from(
                ["not", "always", "eventually", "once", "historically", "next", "wnext",
                 "yesterday"]
            ),
            inner,
        ).map(lambda t: f"{t[0]}({t[1]})")  # fmt: skip
        binary = st.tuples(inner, st.sampled_from(["and", "or", "->", "until", "since"]), inner)
        return unary | binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})")

    return st.recursive(leaf, extend, max_leaves=4)


@st.composite
def agents_with_a_constraint(draw) -> tuple[str, str]:
    agent = draw(well_typed_agents())
    nodes = sorted({line.split("=")[0].strip() for line in agent.splitlines() if " = " in line})
    formula = draw(formulas(nodes))
    return agent.replace("\n}\n", f"\n  ensure {formula}\n}}\n"), formula


def execute(ir, seed: int) -> tuple[str, set[str]]:
    """How a run ended (returned, violated, stalled, or another run error), and the
    nodes that fired in it; calls take latencies drawn from the seed, and the mock's
    replies (so the guards' outcomes) vary with it."""
    delays = (0.0, 0.001, 0.003)
    model = MockModel(latency=lambda r: delays[hash((r.node, r.replica, seed)) % len(delays)])
    try:
        outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=model, params={"seed": seed}))
    except ConstraintViolation as error:
        ending, trace = f"violated {error.formula}", error.trace
    except RunError as error:
        ending = "stalled" if isinstance(error, Stalled) else type(error).__name__
        trace = error.trace
    else:
        ending, trace = "returned", outcome.trace
    fired = {name for _, names in trace.steps() for name in names} if trace else set()
    return ending, fired


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(agents_with_a_constraint())
def test_what_check_says_of_every_run_holds_of_each_executed_run(case):
    agent, _ = case
    checked = rolegraph.check_source(PRELUDE + agent, "random.agent")
    codes = {d.code for d in checked.diagnostics}
    assume("E0503" not in codes)  # a past operator over a future one: refused by design
    blocking = [d for d in checked.errors if d.code != "E0506"]
    assert not blocking, [str(d) for d in blocking]
    ir = checked.irs["Random"]  # built before the verdicts: it runs even under E0506
    proven = {c.text for c in checked.constraints if c.status == "proven"}
    always = {
        d.message.split("`")[1].removeprefix("ensure ")
        for d in checked.diagnostics
        if d.code == "E0506"
    }
    never_fire = {d.message.split("`")[1] for d in checked.diagnostics if d.code == "W0404"}
    for seed in SEEDS:
        ending, fired = execute(ir, seed)
        assert ending.split()[0] in ("returned", "violated", "stalled"), (agent, seed, ending)
        violated = ending.removeprefix("violated ") if ending.startswith("violated") else None
        assert violated not in proven, (agent, seed, violated)
        if always and ending == "returned":
            raise AssertionError((agent, seed, "returned, yet every run violates", always))
        if "W0406" not in codes:
            assert ending != "stalled", (agent, seed)
        assert not fired & never_fire, (agent, seed, fired & never_fire)
