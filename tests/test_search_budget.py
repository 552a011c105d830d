"""A hard budget for a whole search (search/budget.py, `rolegraph search --budget`).

The oracle is the fault-injecting OpenAI-compatible server (tests/fake_openai.py): it
counts the requests it receives and the tokens it reports with its own tokenizer. Over
random searches (optimizer, examples, seeds, evaluations, concurrency, limits, reply
lengths and latencies), what the server saw never exceeds the budget."""

import asyncio
import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("litellm")

import rolegraph
from rolegraph.cli import app
from rolegraph.search import (
    Allotment,
    BudgetSpent,
    Evaluator,
    Example,
    Objective,
    SearchBudget,
    SearchBudgetError,
    SearchStore,
    contains,
    evolve,
    mcts,
    random_search,
    swarm,
)

from .fake_openai import FakeOpenAI

AGENT = """model fake = "openai/fake" {{
  api_base: "{url}", api_key: "k", retries: 0, timeout: 10, max_tokens: {max_tokens}
}}
type Answer {{ text: str }}
type Review {{ ok: bool, feedback: str }}
role Writer(task: str, feedback: str = "") -> Answer {{
  model fake
  prompt "Task: {{{{ task }}}} {{{{ feedback }}}}"
}}
role Critic(task: str, draft: Answer) -> Review {{
  model fake
  prompt "Task: {{{{ task }}}} Draft: {{{{ draft.text }}}}"
}}
agent Refine(task: str) -> Answer {{
  writer = Writer(task)
  critic = Critic(task, draft: writer)
  critic -> writer(feedback: critic.feedback) when not critic.ok max 2
  critic -> return(writer) else
}}
"""

SCHEMA_SAID = "JSON schema, and nothing else:\n"


def schema_of(body: dict) -> dict:
    """The result schema the request states (in its prompt: the runtime's json_object mode)."""
    for message in body.get("messages", []):
        content = message.get("content") or ""
        if isinstance(content, str) and SCHEMA_SAID in content:
            return json.loads(content.split(SCHEMA_SAID, 1)[1])
    return {"type": "object", "properties": {"text": {"type": "string"}}}


def filled(schema: dict, defs: dict, rng: random.Random) -> object:
    """A value valid for `schema`, strings of a random number of words (the server's
    reply, written without the runtime's code)."""
    if "$ref" in schema:
        return filled(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, rng)
    if "anyOf" in schema:
        return filled(schema["anyOf"][0], defs, rng)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: filled(sub, defs, rng) for name, sub in props.items()}
    if kind == "array":
        return [filled(schema.get("items", {}), defs, rng) for _ in range(rng.randint(0, 3))]
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "number"):
        return rng.randint(0, 9)
    return " ".join(["tide"] * rng.randint(0, 120))


def replier(seed: int):
    rng = random.Random(seed)

    def reply(body: dict) -> str:
        schema = schema_of(body)
        return json.dumps(filled(schema, schema.get("$defs", {}), rng))

    return reply


OPTIMIZERS = {"random": random_search, "evolve": evolve, "swarm": swarm, "mcts": mcts}


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    optimizer=st.sampled_from(sorted(OPTIMIZERS)),
    examples=st.integers(1, 3),
    seeds=st.integers(1, 2),
    evaluations=st.integers(2, 6),
    concurrency=st.integers(1, 4),
    calls=st.integers(4, 40),
    tokens=st.one_of(st.none(), st.integers(2_000, 60_000)),
    prompt=st.integers(40, 600),
    max_tokens=st.integers(20, 200),
    latencies=st.lists(st.sampled_from([None, "slow:0.03", "slow:0.01"]), max_size=10),
    reply_seed=st.integers(0, 2**16),
    search_seed=st.integers(0, 3),
)
def test_a_search_never_spends_more_than_its_budget_as_the_server_counts_it(
    tmp_path_factory,
    optimizer,
    examples,
    seeds,
    evaluations,
    concurrency,
    calls,
    tokens,
    prompt,
    max_tokens,
    latencies,
    reply_seed,
    search_seed,
):
    budget = SearchBudget(calls=calls, tokens=tokens, prompt=prompt)
    server = FakeOpenAI(faults=latencies, default=replier(reply_seed))
    with server as api:
        text = AGENT.format(url=api.url, max_tokens=max_tokens)
        module = rolegraph.parse(text, "refine.agent")
        objective = Objective(
            [Example({"task": f"task {i}"}, "tide") for i in range(examples)],
            contains,
            seeds=tuple(range(seeds)),
        )
        store = SearchStore(tmp_path_factory.mktemp("s") / "search.sqlite")
        evaluator = Evaluator(
            objective,
            model=None,
            store=store,
            filename="refine.agent",
            concurrency=concurrency,
            budget=budget,
        )
        search = OPTIMIZERS[optimizer](module, evaluator, evaluations=evaluations, seed=search_seed)
        try:
            result = asyncio.run(search)
        except BudgetSpent:  # the start did not fit: nothing may have been sent
            assert not api.requests
            result = None
    assert len(api.requests) <= calls
    if tokens is not None:
        assert api.reported_tokens <= tokens
    # what the budget counted covers what the server saw, and nothing is left reserved
    assert budget.spent.calls >= len(api.requests)
    assert budget.spent.tokens >= api.reported_tokens
    assert budget.reserved == Allotment()
    if result is not None:
        assert result.calls == len(api.requests)


def test_each_run_is_held_to_its_allotment_whatever_the_server_replies():
    """A critic that never approves and a writer that writes to its last token: the runs
    take their worst case, and a budget of one evaluation's worst case pays for them."""
    never_ok = {"type": "never"}

    def reply(body: dict) -> str:
        schema = schema_of(body)
        if "ok" in schema.get("properties", {}):
            never_ok["type"] = "seen"
            return json.dumps({"ok": False, "feedback": "again " * 300})
        return json.dumps({"text": "tide " * 300})

    with FakeOpenAI(default=reply) as api:
        module = rolegraph.parse(AGENT.format(url=api.url, max_tokens=50), "refine.agent")
        objective = Objective([Example({"task": "t"}, "tide")], contains)
        probe = Evaluator(objective, model=None, filename="refine.agent")
        per_run = probe.allotment(module)
        budget = SearchBudget(calls=per_run.calls, tokens=per_run.tokens, prompt=2048)
        evaluator = Evaluator(objective, model=None, filename="refine.agent", budget=budget)
        evaluation = evaluator.evaluate_sync(module)
    assert per_run.calls == 6  # writer 3 times, critic 3 times: the checker's bound
    assert len(api.requests) <= per_run.calls
    assert api.reported_tokens <= per_run.tokens
    assert evaluation.calls == len(api.requests)
    assert budget.reserved == Allotment()


def test_the_allotment_is_the_checkers_worst_case_of_calls():
    module = rolegraph.parse(AGENT.format(url="http://127.0.0.1:9/v1", max_tokens=64), "r.agent")
    evaluator = Evaluator(Objective([Example({"task": "t"})], contains), model=None)
    ir = evaluator.ir_of(module)
    per_run = evaluator.allotment(module)
    assert per_run.calls == ir.worst_case_calls()
    assert per_run.tokens == per_run.calls * (2048 + 64)  # prompt allowance + max_tokens


def test_a_search_whose_start_cannot_fit_is_refused_before_any_call():
    with FakeOpenAI(default='{"text": "tide"}') as api:
        module = rolegraph.parse(AGENT.format(url=api.url, max_tokens=64), "refine.agent")
        objective = Objective([Example({"task": f"t{i}"}, "tide") for i in range(3)], contains)
        budget = SearchBudget(calls=17)  # the start's 3 runs may take 18 calls
        evaluator = Evaluator(objective, model=None, filename="refine.agent", budget=budget)
        with pytest.raises(BudgetSpent, match="18 calls"):
            asyncio.run(random_search(module, evaluator, evaluations=5))
    assert api.requests == []
    assert budget.spent == Allotment() and budget.reserved == Allotment()


def test_runs_the_store_holds_reserve_nothing(tmp_path):
    module = rolegraph.parse(AGENT.format(url="http://127.0.0.1:9/v1", max_tokens=64), "r.agent")
    store = SearchStore(tmp_path / "s.sqlite")
    objective = Objective([Example({"task": "t"}, "x")], contains)
    Evaluator(objective, model="mock", store=store).evaluate_sync(module)
    budget = SearchBudget(calls=0)  # nothing at all: the store answers every run
    again = Evaluator(objective, model="mock", store=store, budget=budget)
    assert again.evaluate_sync(module).fresh_calls == 0
    assert budget.spent == Allotment()


def test_a_cost_limit_on_an_unpriced_model_is_refused_in_words():
    module = rolegraph.parse(AGENT.format(url="http://127.0.0.1:9/v1", max_tokens=64), "r.agent")
    budget = SearchBudget(cost=1.0)
    evaluator = Evaluator(Objective([Example({"task": "t"})], contains), model=None, budget=budget)
    with pytest.raises(SearchBudgetError, match="price of openai/fake"):
        evaluator.allotment(module)


def test_a_declared_price_makes_the_cost_allotment():
    text = AGENT.format(url="http://127.0.0.1:9/v1", max_tokens=100).replace(
        "timeout: 10,", "timeout: 10, cost_per_input_token: 0.001, cost_per_output_token: 0.002,"
    )
    module = rolegraph.parse(text, "r.agent")
    budget = SearchBudget(cost=1.0, prompt=500)
    evaluator = Evaluator(Objective([Example({"task": "t"})], contains), model=None, budget=budget)
    assert evaluator.allotment(module).cost == pytest.approx(6 * (500 * 0.001 + 100 * 0.002))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("calls=x", "takes a number"),
        ("time=3", "unknown budget"),
        ("calls=-1", "at least 0"),
        ("cost=nan", "at least 0"),
        ("prompt=100", "limits calls, tokens or cost"),
        ("calls=3,attempts=0", "attempts is at least 1"),
    ],
)
def test_a_malformed_budget_is_refused_in_words(text, said):
    with pytest.raises(SearchBudgetError, match=said):
        SearchBudget.parse(text)


def test_a_budget_parses_its_limits():
    budget = SearchBudget.parse("calls=20, tokens=5000,cost=0.5,prompt=300")
    assert (budget.calls, budget.tokens, budget.cost, budget.prompt) == (20, 5000, 0.5, 300)
    assert budget.text() == "calls=20,tokens=5000,cost=0.5"


def test_an_evaluation_reserves_all_or_nothing_and_releases_what_it_did_not_use():
    budget = SearchBudget(calls=10)
    hold = budget.reserve(Allotment(4, 100, 0.0), 2)
    assert budget.left.calls == 2
    with pytest.raises(BudgetSpent, match="calls: needs 4 > 2 left"):
        budget.reserve(Allotment(4, 100, 0.0), 1)
    hold.settle(1, 30, 0.0)
    hold.close()
    assert budget.spent == Allotment(1, 30, 0.0)
    assert budget.reserved == Allotment()
    assert budget.left.calls == 9


# -- the command ------------------------------------------------------------------------------


def _cli(args, tmp_path):
    from typer.testing import CliRunner

    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(json.dumps({"inputs": {"task": f"t{i}"}, "expected": "x"}) + "\n" for i in range(2))
    )
    return CliRunner().invoke(
        app,
        [
            "search",
            "examples/self_refine.agent",
            "--data",
            str(data),
            "--store",
            str(tmp_path / "s.sqlite"),
            *args,
        ],
    )


def test_the_command_prints_the_worst_case_and_refuses_a_start_that_cannot_fit(tmp_path):
    result = _cli(["--budget", "calls=10", "-n", "5"], tmp_path)
    assert result.exit_code == 2
    said = re.sub(r"\s+", " ", result.output)
    assert "worst case of one run of the start (static bound): 8 calls" in said
    assert "the search cannot start: its first evaluation (2 runs of the start)" in said
    assert "16 calls" in said


def test_the_command_stays_within_its_budget_and_says_what_it_spent(tmp_path):
    result = _cli(["--budget", "calls=40", "-n", "12", "--seed", "1"], tmp_path)
    assert result.exit_code == 0, result.output
    found = re.search(r"spent (\d+) calls", result.output)
    assert found is not None and int(found.group(1)) <= 40
    made = re.search(r"(\d+) model calls made", result.output)
    assert made is not None and int(made.group(1)) <= 40


class Counting:
    """A model that counts the calls that reach it (not the budget's code)."""

    def __init__(self):
        from rolegraph.runtime import MockModel

        self.inner, self.calls = MockModel(), 0

    async def complete(self, request):
        self.calls += 1
        return await self.inner.complete(request)


@pytest.mark.parametrize("calls", [9, 14, 23, 40])
def test_the_proposers_calls_come_out_of_the_budget_too(calls):
    from rolegraph.search import meta_search

    model, proposer = Counting(), Counting()
    module = rolegraph.parse_file("examples/self_refine.agent")
    budget = SearchBudget(calls=calls)
    evaluator = Evaluator(
        Objective([Example({"task": "t"}, "x")], contains),
        model=model,
        filename="examples/self_refine.agent",
        budget=budget,
    )
    result = asyncio.run(meta_search(module, evaluator, proposer=proposer, evaluations=50))
    assert model.calls + proposer.calls <= calls
    assert budget.spent.calls == model.calls + proposer.calls
    assert result.stopped is not None


def test_parallel_evaluations_share_one_budget():
    with FakeOpenAI(default='{"text": "tide", "ok": true, "feedback": ""}') as api:
        text = AGENT.format(url=api.url, max_tokens=32)
        modules = [
            rolegraph.parse(text.replace("Task:", f"Task {i}:"), "r.agent") for i in range(4)
        ]
        budget = SearchBudget(calls=14)  # two evaluations of 6 calls at most fit
        evaluator = Evaluator(
            Objective([Example({"task": "t"}, "tide")], contains),
            model=None,
            filename="r.agent",
            budget=budget,
        )

        async def all_at_once():
            return await asyncio.gather(
                *(evaluator.evaluate(m) for m in modules), return_exceptions=True
            )

        outcomes = asyncio.run(all_at_once())
    refused = [o for o in outcomes if isinstance(o, BudgetSpent)]
    assert len(refused) == 2 and len(api.requests) <= 14
    assert budget.reserved == Allotment()
