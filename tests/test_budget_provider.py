"""Budgets that a provider cannot make us exceed. The oracle is the server: it counts
tokens with its own tokenizer and reports its own `usage`; the budget must hold against
what it reports, across fan-outs, latencies, truncated replies and repairs."""

import asyncio
import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("litellm")

import rolegraph
from rolegraph.runtime import Budget, BudgetExceeded, RunError, Store, UnpricedModel, run_agent

from .fake_openai import FakeOpenAI

FAN_OUT = """model fake = "openai/fake" {{
  api_base: "{url}", api_key: "k", retries: 1, backoff: 0.01, timeout: 5{extra}
}}
type Draft {{ text: str }}
role Writer(task: str) -> Draft {{ model fake  prompt "Write about {{{{ task }}}}" }}
role Judge(drafts: list[Draft]) -> Draft {{
  model fake
  prompt "Pick one: {{% for d in drafts %}}{{{{ d.text }}}} {{% endfor %}}"
}}
agent Fan(task: str) -> Draft {{
  drafts = Writer(task) x {n}
  best = Judge(drafts)
  return best
}}
"""


def fan_out(url: str, n: int, extra: str = "") -> object:
    return rolegraph.load_agent("fan.agent", text=FAN_OUT.format(url=url, n=n, extra=extra))


def words(count: int) -> str:
    return json.dumps({"text": " ".join(["tide"] * count)})


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 6),
    lengths=st.lists(st.integers(0, 400), min_size=1, max_size=12),
    slow=st.lists(st.sampled_from([None, "slow:0.05", "slow:0.01"]), max_size=8),
    tokens=st.integers(50, 3000),
    calls=st.integers(1, 10),
)
def test_a_token_and_call_budget_is_never_exceeded_by_what_the_server_reports(
    n, lengths, slow, tokens, calls
):
    budget = Budget(calls=calls, tokens=tokens)
    replies = [words(length) for length in lengths]
    server = FakeOpenAI(replies=replies, faults=slow, default=words(3))
    # out of budget, or replies cut short until they no longer validate: a RunError
    with server as api, contextlib.suppress(RunError):
        asyncio.run(run_agent(fan_out(api.url, n), {"task": "t"}, budget=budget))
    assert len(api.requests) <= calls
    assert api.reported_tokens <= tokens
    # and what the budget charged covers what the server says was spent (a call cancelled
    # before its request left is charged all the same: the budget cannot know)
    assert budget.spent_tokens >= api.reported_tokens
    assert budget.spent_calls >= len(api.requests)


def test_the_prompt_bound_holds_for_the_servers_tokenizer():
    from rolegraph.runtime.budget import prompt_bound

    budget = Budget(tokens=100_000)
    seen = []
    with FakeOpenAI(default=words(5)) as api:
        ir = fan_out(api.url, 3)

        class Recording:
            def __init__(self, inner):
                self.inner = inner

            async def complete(self, request):
                seen.append(prompt_bound(request))
                return await self.inner.complete(request)

            def price(self, request):
                return self.inner.price(request)

        from rolegraph.runtime import ModelsByName

        asyncio.run(run_agent(ir, {"task": "ünïcödé " * 50}, model=Recording(ModelsByName()),
                              budget=budget))  # fmt: skip
    reported = [usage[0] for usage in api.usage]
    assert len(seen) == len(reported) == 4
    assert all(bound >= told for bound, told in zip(sorted(seen), sorted(reported), strict=True))


def test_a_cost_budget_over_an_unpriced_model_is_refused_before_any_call():
    with FakeOpenAI(default=words(3)) as api, pytest.raises(RunError) as caught:
        asyncio.run(run_agent(fan_out(api.url, 2), {"task": "t"}, budget=Budget(cost=0.2)))
    assert isinstance(caught.value.__cause__ or caught.value, UnpricedModel | RunError)
    assert "price of openai/fake is not known" in str(caught.value)
    assert api.requests == []


@pytest.mark.parametrize(("n", "limit"), [(2, 1.0), (6, 0.5)])
def test_a_cost_budget_is_charged_at_the_declared_price(n, limit):
    prices = ", cost_per_input_token: 0.0001, cost_per_output_token: 0.0002"
    budget = Budget(cost=limit)
    server = FakeOpenAI(default=words(30))
    with server as api, contextlib.suppress(BudgetExceeded):
        asyncio.run(run_agent(fan_out(api.url, n, prices), {"task": "t"}, budget=budget))
    spent = sum(i * 0.0001 + o * 0.0002 for i, o in api.usage)  # at the server's own counts
    assert spent <= limit
    assert budget.spent_cost >= spent
    if len(api.usage) == n + 1:  # every call answered: charged exactly what it cost
        assert budget.spent_cost == pytest.approx(spent)


LOOP = """model fake = "openai/fake" {{ api_base: "{url}", api_key: "k", retries: 0 }}
type Draft {{ text: str }}
type Review {{ ok: bool }}
role Writer(task: str) -> Draft {{ model fake  prompt "Write {{{{ task }}}}" }}
role Critic(draft: Draft) -> Review {{ model fake  prompt "Check {{{{ draft.text }}}}" }}
agent Loop(task: str) -> Draft {{
  w = Writer(task)
  c = Critic(draft: w)
  c -> w when not c.ok max 5
  c -> return(w) else
}}
"""


def never_ok(body: dict) -> str:
    return json.dumps({"ok": False}) if '"ok"' in body["messages"][-1]["content"] else words(2)


@pytest.mark.parametrize("again", ["the same budget", "no budget (the run's own)"])
def test_a_resumed_run_goes_on_from_what_it_spent(tmp_path, again):
    store = Store(tmp_path / "s.sqlite")
    with FakeOpenAI(default=never_ok) as api:
        ir = rolegraph.load_agent("loop.agent", text=LOOP.format(url=api.url))
        with pytest.raises(BudgetExceeded) as first:
            asyncio.run(run_agent(ir, {"task": "t"}, budget=Budget(calls=5), store=store))
        run_id = first.value.run_id
        assert len(api.requests) == 5
        budget = Budget(calls=5) if again == "the same budget" else None
        with pytest.raises(BudgetExceeded):
            asyncio.run(run_agent(ir, {}, budget=budget, store=store, resume=run_id))
    assert len(api.requests) == 5  # the resumed run had nothing left to spend
    assert store.run_info(run_id).spent_calls == 5


SLOW_AND_FAST = """model fake = "openai/fake" {{ api_base: "{url}", api_key: "k", retries: 0 }}
type Draft {{ text: str }}
role Slow(task: str) -> Draft {{ model fake  prompt "slowly {{{{ task }}}}" }}
role Fast(task: str) -> Draft {{ model fake  prompt "quickly {{{{ task }}}}" }}
role Judge(a: Draft) -> Draft {{ model fake  prompt "judge {{{{ a.text }}}}" }}
agent Race(task: str) -> Draft {{
  slow = Slow(task)
  fast = Fast(task)
  judge = Judge(a: fast)
  return judge
  return slow
}}
"""


def test_calls_cancelled_in_flight_are_charged():
    """A slow call is at the server when the budget refuses the next one: the run fails,
    and the call the provider is serving is charged, not forgotten."""
    import threading
    import time

    slow_arrived = threading.Event()

    def reply(body: dict) -> str:
        # The server answers each request on its own thread. The fast reply waits until
        # the slow request is at the server, so the judge is refused while the slow call
        # is being served, however loaded the machine is.
        if "slowly" in body["messages"][-1]["content"]:
            slow_arrived.set()
            time.sleep(0.5)
        else:
            slow_arrived.wait(timeout=30)
        return words(2)

    budget = Budget(calls=2)
    server = FakeOpenAI(default=reply)
    with server as api, pytest.raises(BudgetExceeded) as caught:
        ir = rolegraph.load_agent("race.agent", text=SLOW_AND_FAST.format(url=api.url))
        asyncio.run(run_agent(ir, {"task": "t"}, budget=budget))
    assert len(api.requests) == 2  # the slow one and the fast one; the judge was refused
    assert budget.spent_calls == 2
    slow = next(r for r in caught.value.trace.firings if r.node == "slow")
    assert slow.status == "cancelled" and slow.calls == 1
