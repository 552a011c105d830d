"""Runs and model calls shared between candidates: what a candidate's edit cannot change
is not made again.

Two levels, both exact (a shared result is the one the candidate's own run would have
had, on a model whose reply depends on its request only: the mock, or a served model
with a fixed seed):

- **Runs, by the declarations a run can reach.** `runs_fingerprint` hashes, in the
  program's order, the canonical text of the declarations the objective's agent can
  reach (the agent, then every declaration a reached one names: roles, agents, types,
  models, tools; imports and other unnamed declarations always), not the whole program.
  A candidate whose edit touched only what the agent cannot reach (another agent, a
  role or model nobody it reaches uses, a `test` block) has the parent's fingerprint,
  and the store answers its runs. A name is "reached" when it appears as a word in a
  reached declaration's text: a prompt that mentions another role's name reaches it
  too. That over-approximates, which costs sharing, never correctness.
- **Calls, by request.** `ResponseCache` answers a model call whose request (model,
  role, messages, schema, parameters, tools, and its place in the run: firing, call,
  replica, attempt) was answered before in this search, so two candidates that differ
  after a node make that node's calls once. A run's record still counts the calls the
  cache answered (what the run costs, the objective's measure, is the same with or
  without the cache); what the search spent (`Evaluator.calls_made`, its budget) counts
  only the calls sent.

A candidate's `test` blocks are run on their mocks by the test pass (search/tests_kept.py):
a test's verdict is kept in the store by `test_fingerprint`, the test's text and the
`runs_fingerprint` of the agent it runs, so a test is not run again on a program whose
reach is the same (a search started again on its store runs none of them again).

(An `ensure` edit the checker proves changes the agent's text but no run: that case is
`candidates.unchanged_runs`.)
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections import OrderedDict
from functools import partial

from rolegraph.compiler import ast
from rolegraph.compiler.printer import declaration_source
from rolegraph.runtime import DEFAULT_MAX_TOKENS, ModelReply, ModelRequest
from rolegraph.runtime.budget import Budget, BudgetError, prompt_bound
from rolegraph.runtime.store import Store

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# id(declaration) → (the declaration, weakly, its text, the words in it): a declaration
# lives on in the candidates made from its program, so each is scanned once
_WORDS: dict[int, tuple[weakref.ref, str, frozenset[str]]] = {}


def _words(decl: ast.Decl) -> tuple[str, frozenset[str]]:
    """`declaration_source(decl)`, and the words in it (the names it may reach)."""
    known = _WORDS.get(id(decl))
    if known is not None and known[0]() is decl:
        return known[1], known[2]
    text = declaration_source(decl)
    words = frozenset(WORD.findall(text))
    key = id(decl)
    _WORDS[key] = (weakref.ref(decl, partial(_forget, key)), text, words)
    return text, words


def _forget(key: int, _: object) -> None:
    _WORDS.pop(key, None)


# (the agent, the ids of a program's declarations but its tests) → (those declarations,
# held so that the ids stay theirs, and the agent's `runs_fingerprint`): a program is
# asked about twice, by the test pass (its tests' keys) and by the evaluator (its runs')
_REACHES: OrderedDict[tuple[str, tuple[int, ...]], tuple[tuple[ast.Decl, ...], str | None]] = (
    OrderedDict()
)
_REACHES_MAX = 32


def runs_fingerprint(module: ast.Module, agent: str) -> str | None:
    """A hash of what runs of `agent` can depend on in `module` (see above); None when
    `agent` is not declared in `module` (an imported one: then nothing is shared).
    Computed once for the latest programs' declarations (tests aside: they are not in it)."""
    decls = tuple(d for d in module.decls if not isinstance(d, ast.TestDecl))
    key = (agent, tuple(map(id, decls)))
    found = _REACHES.get(key)
    if found is not None:
        return found[1]
    digest = _reach(decls, agent)
    _REACHES[key] = (decls, digest)
    if len(_REACHES) > _REACHES_MAX:
        _REACHES.popitem(last=False)
    return digest


def _reach(decls: tuple[ast.Decl, ...], agent: str) -> str | None:
    """`runs_fingerprint` of a program's declarations but its tests, computed."""
    named: dict[str, ast.Decl] = {}
    for decl in decls:
        name = getattr(decl, "name", None)
        if isinstance(name, str):
            named.setdefault(name, decl)
    texts: dict[int, str] = {}
    reached: set[str] = set()
    if agent not in named:
        return None
    todo = [agent]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        source, words = _words(named[name])
        texts[id(named[name])] = source
        todo.extend(word for word in words if word in named)
    digest = hashlib.sha256()
    for decl in decls:
        text = texts.get(id(decl))
        if text is None and not isinstance(getattr(decl, "name", None), str):
            text = declaration_source(decl)  # (an import, or what has no name: always counted)
        if text is not None:
            digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def test_fingerprint(
    test: ast.TestDecl, module: ast.Module, reach: str | None = None
) -> str | None:
    """A hash of what a run of `test` (on its mocks) can depend on in `module`: the test's
    text and the `runs_fingerprint` of the agent it runs (`reach`, when known); None when
    that agent is not declared in `module`."""
    if reach is None and test.run is not None:
        reach = runs_fingerprint(module, test.run.agent)
    if reach is None:
        return None
    text = f"{reach}\0{declaration_source(test)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResponseCache:
    """Model replies by request, shared by every run of one search (in memory, the
    latest `size` kept). `hits`: calls answered here."""

    MISSED = 1024  # requests asked about and not found, whose keys wait for their reply

    def __init__(self, size: int = 100_000):
        self.size = size
        self.hits = 0
        self._replies: OrderedDict[str, ModelReply] = OrderedDict()
        # A request the cache did not answer is sent, and its reply saved here under the
        # key computed when it was asked: the request (held, so that its address is not
        # reused meanwhile) and its key, by identity, until then. (A call that fails is
        # never saved: its entry goes when the table is full.)
        self._missed: dict[int, tuple[ModelRequest, str]] = {}

    def reply(self, request: ModelRequest) -> ModelReply | None:
        key = Store.request_key(request)
        found = self._replies.get(key)
        if found is not None:
            self._replies.move_to_end(key)
            return found
        if len(self._missed) >= self.MISSED:
            self._missed.clear()
        self._missed[id(request)] = (request, key)
        return None

    def save(self, request: ModelRequest, reply: ModelReply) -> None:
        missed = self._missed.pop(id(request), None)
        key = missed[1] if missed is not None and missed[0] is request else None
        self._replies[key or Store.request_key(request)] = reply
        if len(self._replies) > self.size:
            self._replies.popitem(last=False)


class RunsCache:
    """The response cache as one run sees it (runtime/calls.py's `Cache`). A reply it
    gives is charged to the run's `budget` as the call would have been (the run stops
    where it would have stopped without the cache: a reply that would not have fit is
    not given, and the call is made, or refused, as usual); it counts what it answered,
    so the run's record counts those calls, and the search's spending does not."""

    def __init__(self, shared: ResponseCache, budget: Budget | None = None):
        self.shared, self.budget = shared, budget
        self.calls = 0
        self.tokens = 0
        self.dollars = 0.0

    def cached_reply(self, request: ModelRequest) -> ModelReply | None:
        reply = self.shared.reply(request)
        if reply is None:
            return None
        budget = self.budget
        if budget is not None:
            if budget.cost is not None:  # (the call's price is not known here)
                return None
            asked = int(request.params.get("max_tokens", DEFAULT_MAX_TOKENS))
            try:
                reservation, allowed = budget.reserve(
                    request.model, prompt_bound(request), asked, None
                )
            except BudgetError:
                return None
            if allowed < reply.output_tokens:  # (the call would have been cut shorter)
                budget.release(reservation)
                return None
            budget.settle(reservation, reply.input_tokens + reply.output_tokens, reply.cost)
        self.shared.hits += 1
        self.calls += 1
        self.tokens += reply.input_tokens + reply.output_tokens
        self.dollars += reply.cost
        return reply

    def save_reply(self, request: ModelRequest, reply: ModelReply) -> None:
        self.shared.save(request, reply)
