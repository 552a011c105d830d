"""Runs and calls shared between candidates (search/sharing.py): a candidate's runs are
stored by what they can depend on, and model replies by request. The oracle is the same
search with sharing off (`share=False`): every candidate's results, scores and costs
are the same, and it makes more model calls."""

import asyncio

import pytest

import rolegraph
from rolegraph.compiler.edits import RewritePrompt
from rolegraph.search import Evaluator, Objective, SearchStore, contains, random_search
from rolegraph.search.sharing import runs_fingerprint

from .test_search import SELF_REFINE, TASKS

EXTRA = """
role Unused(task: str) -> Review { model fast  prompt "Nobody calls me: {{ task }}" }
agent Other(task: str) -> Review {
  u = Unused(task)
  return u
}
"""


def module(extra=EXTRA):
    return rolegraph.parse(SELF_REFINE.read_text() + extra, str(SELF_REFINE))


def test_what_the_agent_cannot_reach_is_not_in_its_runs_fingerprint():
    base = runs_fingerprint(module(), "SelfRefine")
    unused = RewritePrompt(role="Unused", text="Changed: {{ task }}").apply(module())
    assert runs_fingerprint(unused, "SelfRefine") == base
    no_tests = module().with_changes(decls=tuple(d for d in module().decls if d.kind != "TestDecl"))
    assert runs_fingerprint(no_tests, "SelfRefine") == base
    critic = RewritePrompt(role="Critic", text="Check: {{ draft.text }}").apply(module())
    assert runs_fingerprint(critic, "SelfRefine") != base
    # the unused role's own agent does reach it
    assert runs_fingerprint(unused, "Other") != runs_fingerprint(module(), "Other")
    # a model every role uses is reached through them
    text = SELF_REFINE.read_text().replace("temperature: 0.2", "temperature: 0.3")
    assert runs_fingerprint(rolegraph.parse(text + EXTRA), "SelfRefine") != base
    assert runs_fingerprint(module(), "Nobody") is None


def evaluator(share, **options):
    objective = Objective(TASKS, contains, seeds=(0, 1), agent="SelfRefine")
    return Evaluator(
        objective, filename=str(SELF_REFINE), share=share, store=SearchStore(), **options
    )


def test_an_edit_the_agent_cannot_reach_costs_no_run():
    shared = evaluator(True)
    shared.evaluate_sync(module())
    made = shared.runs_made
    other = RewritePrompt(role="Unused", text="Changed: {{ task }}").apply(module())
    evaluation = shared.evaluate_sync(other)
    assert shared.runs_made == made and all(run.cached for run in evaluation.runs)
    assert evaluation.fingerprint == rolegraph.fingerprint(other)  # (a candidate of its own)


def outcomes(result):
    return [
        (
            s.evaluation.fingerprint,
            s.evaluation.score,
            s.evaluation.cost,
            [(r.result, r.error, r.calls, r.tokens) for r in s.evaluation.runs],
        )
        for s in result.evaluated
    ]


@pytest.mark.parametrize("max_calls", [50, 3])
def test_a_search_with_sharing_finds_what_it_finds_without_for_fewer_calls(max_calls):
    def search(share):
        ev = evaluator(share, max_calls=max_calls)
        result = asyncio.run(random_search(module(""), ev, evaluations=12, seed=5))
        return result, ev

    (plain, ev_plain), (shared, ev_shared) = search(False), search(True)
    assert outcomes(shared) == outcomes(plain)  # the same runs, scores and costs
    assert ev_shared.calls_made < ev_plain.calls_made  # for fewer calls sent
    assert shared.calls == ev_shared.calls_made
    # each evaluation says what it sent: the runs' calls less those the cache answered
    assert sum(s.evaluation.fresh_calls for s in shared.evaluated) == ev_shared.calls_made
    assert sum(s.evaluation.fresh_calls for s in plain.evaluated) == ev_plain.calls_made
    assert ev_shared.settings.cache.hits == ev_plain.calls_made - ev_shared.calls_made


def test_a_reply_from_the_cache_is_charged_to_the_run_as_the_call_would_have_been():
    """With room for 3 calls, a run whose calls the cache could answer still stops at
    the same place: it fails as the run without the cache fails."""
    parent = module("")
    child = RewritePrompt(role="Critic", text="Check: {{ draft.text }}").apply(parent)
    runs = {}
    for share in (False, True):
        ev = evaluator(share, max_calls=3)
        ev.evaluate_sync(parent)
        runs[share] = [(r.result, r.error, r.calls) for r in ev.evaluate_sync(child).runs]
    assert runs[True] == runs[False]
    assert any(error for _, error, _ in runs[True])  # (the limit did stop some runs)


def test_a_reply_is_saved_under_the_key_its_request_was_asked_by(monkeypatch):
    """A request the cache did not answer is encoded once: its reply is saved under the
    key computed when it was asked. The oracle is the key computed afresh: an equal
    request (another object) finds the reply; a request saved without being asked, or
    asked while another was pending, is keyed as always."""
    from rolegraph.runtime import ModelReply, ModelRequest
    from rolegraph.runtime.store import Store
    from rolegraph.search.sharing import ResponseCache

    def request(text):
        return ModelRequest("R", "r", "mock", ({"role": "user", "content": text},), {})

    encoded = []
    key = Store.request_key
    monkeypatch.setattr(Store, "request_key", staticmethod(lambda r: encoded.append(r) or key(r)))
    cache = ResponseCache()
    first, second = request("a"), request("b")
    assert cache.reply(first) is None and cache.reply(second) is None
    cache.save(second, ModelReply('"B"'))
    cache.save(first, ModelReply('"A"'))
    assert encoded == [first, second]  # (each encoded once, when asked)
    assert cache.reply(request("a")).content == '"A"'  # (an equal request: the same key)
    assert cache.reply(request("b")).content == '"B"'
    unasked = request("c")
    cache.save(unasked, ModelReply('"C"'))  # (never asked: encoded now)
    assert encoded[-1] is unasked and cache.reply(request("c")).content == '"C"'
    assert not cache._missed  # (nothing pending)


def _cold(module, agent):
    """`runs_fingerprint` with nothing remembered: the path the memo replaces."""
    from rolegraph.search import sharing

    reaches, words = dict(sharing._REACHES), dict(sharing._WORDS)
    sharing._REACHES.clear()
    sharing._WORDS.clear()
    try:
        return runs_fingerprint(module, agent)
    finally:
        sharing._REACHES.clear()
        sharing._REACHES.update(reaches)
        sharing._WORDS.update(words)


def test_a_remembered_runs_fingerprint_is_the_cold_one_on_seeded_edit_walks():
    """Held to the fingerprint computed with nothing remembered, for every agent of every
    program of seeded edit walks, asked in a shuffled order, twice, with and without the
    programs' tests (the test pass asks with them, the evaluator without), and for
    programs alive at once that share most declarations."""
    import random

    from .edit_walks import edit_walk

    for seed in range(3):
        rng = random.Random(seed)
        walk = edit_walk(module(), rng, 24)
        asked = [(program, agent.name) for program in walk for agent in program.agents] + [
            (walk[-1], "Nobody")
        ]
        expected = {(id(p), a): _cold(p, a) for p, a in asked}
        for _ in range(2):
            rng.shuffle(asked)
            for program, agent in asked:
                bare = program.with_changes(
                    decls=tuple(d for d in program.decls if d.kind != "TestDecl")
                )
                assert runs_fingerprint(program, agent) == expected[id(program), agent]
                assert runs_fingerprint(bare, agent) == expected[id(program), agent]


def _reach_by_fixed_point(module, agent):
    """`runs_fingerprint` by its definition, computed another way: the names reached grow
    until no reached declaration's text has a word naming one more (every name tried
    against every text, each round), then the reached and the unnamed declarations' texts
    are hashed in the program's order."""
    import hashlib
    import re

    from rolegraph.compiler.printer import declaration_source

    decls = [d for d in module.decls if d.kind != "TestDecl"]
    named = {}
    for decl in decls:
        if isinstance(getattr(decl, "name", None), str):
            named.setdefault(decl.name, decl)
    if agent not in named:
        return None
    reached = {agent}
    while True:
        more = {
            name
            for name in named
            for text in (declaration_source(named[r]) for r in reached)
            if re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])", text)
        }
        if more <= reached:
            break
        reached |= more
    kept = {id(named[name]) for name in reached}
    digest = hashlib.sha256()
    for decl in decls:
        if id(decl) in kept or not isinstance(getattr(decl, "name", None), str):
            digest.update(declaration_source(decl).encode("utf-8") + b"\0")
    return digest.hexdigest()


@pytest.mark.parametrize(
    "example", sorted(SELF_REFINE.parent.glob("*.agent")), ids=lambda path: path.stem
)
def test_runs_fingerprint_is_its_definition_on_every_example_and_its_edits(example):
    """Held to `_reach_by_fixed_point` (a brute force) on every example and the programs
    of a seeded edit walk from each, for every agent and one not declared."""
    import random

    from .edit_walks import edit_walk

    start = rolegraph.parse(example.read_text(), str(example))
    for program in edit_walk(start, random.Random(7), 12):
        for agent in [a.name for a in program.agents] + ["Nobody"]:
            assert _cold(program, agent) == _reach_by_fixed_point(program, agent)
