"""LTLf with past operators: semantics over finite traces, and progression.

A *trace* is a non-empty sequence of steps; a step is the set of propositions true at
it: the names of the nodes that fired, `return` when the run returned, and the
conditions on outputs (`critic.ok`) that held. `start` holds at the first step only.

- `evaluate(formula, trace)` is the reference semantics (docs/ltl.md), by recursion.
- `Monitor` follows a trace step by step by *formula progression*: future operators are
  rewritten into an obligation on the rest of the trace; past operators are evaluated
  incrementally. The two agree on every trace (tests/test_ltl.py checks 2,000 pairs).

Formulas are translated once into small tuples (`Formula` AST → `F`), which hash and
simplify cheaply during progression.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import TypeAlias

from . import ast
from .identity import IdentityTable

# The internal form: ("true",) ("false",) ("ap", name) ("start",) ("not", f) ("and", f, g)
# ("or", f, g) ("X", f) ("WX", f) ("F", f) ("G", f) ("U", f, g) ("R", f, g) ("Y", f)
# ("O", f) ("H", f) ("S", f, g); progression adds ("strong", f) and ("weak", f): an
# obligation on the next step, false (strong) or true (weak) if there is none.
F: TypeAlias = tuple
Step = frozenset[str]

TRUE: F = ("true",)
FALSE: F = ("false",)
RETURN = "return"

_UNARY = {
    "next": "X",
    "wnext": "WX",
    "eventually": "F",
    "always": "G",
    "once": "O",
    "historically": "H",
    "yesterday": "Y",
}
_BINARY = {"until": "U", "release": "R", "since": "S"}
_PAST = {"Y", "O", "H", "S"}
_FUTURE = {"X", "WX", "F", "G", "U", "R"}


def failed_proposition(node: str) -> str:
    """What holds at a step where `node` fired and failed (`failed(node)`)."""
    return "failed:" + node


def proposition(atom: ast.Node) -> str:
    """The proposition an atom stands for: a node name, `return`, or a condition's text."""
    from .printer import to_source

    if isinstance(atom, ast.LtlFired):
        return failed_proposition(atom.node) if atom.failed else atom.node
    if isinstance(atom, ast.LtlReturn):
        return RETURN
    if isinstance(atom, ast.LtlHolds):
        return "cond:" + to_source(atom.expr)
    raise TypeError(f"not an atom: {type(atom).__name__}")


def translate(formula: ast.Node) -> F:
    """The internal form of a formula AST."""
    if isinstance(formula, ast.LtlConst):
        return TRUE if formula.value else FALSE
    if isinstance(formula, ast.LtlStart):
        return ("start",)
    if isinstance(formula, ast.LtlFired | ast.LtlReturn | ast.LtlHolds):
        return ("ap", proposition(formula))
    if isinstance(formula, ast.LtlUnary):
        operand = translate(formula.operand)
        return ("not", operand) if formula.op == "not" else (_UNARY[formula.op], operand)
    if isinstance(formula, ast.LtlBinary):
        left, right = translate(formula.left), translate(formula.right)
        if formula.op == "implies":
            return ("or", ("not", left), right)
        if formula.op in ("and", "or"):
            return (formula.op, left, right)
        return (_BINARY[formula.op], left, right)
    raise TypeError(f"not a formula: {type(formula).__name__}")


def operators(f: F) -> set[str]:
    found = {f[0]}
    for child in f[1:]:
        if isinstance(child, tuple):
            found |= operators(child)
    return found


def future_under_past(formula: ast.Node) -> ast.Node | None:
    """The first past operator whose operand uses a future operator, or None.

    Such formulas have a meaning (`evaluate` handles them) but no incremental monitor:
    the checker rejects them (E0503).
    """
    for node in formula.walk():
        if isinstance(node, ast.LtlUnary) and _UNARY.get(node.op) in _PAST:
            operands = [node.operand]
        elif isinstance(node, ast.LtlBinary) and node.op == "since":
            operands = [node.left, node.right]
        else:
            continue
        if any(operators(translate(operand)) & _FUTURE for operand in operands):
            return node
    return None


# --- reference semantics ----------------------------------------------------------------


def evaluate(formula: ast.Node | F, trace: Sequence[Iterable[str]]) -> bool:
    """Whether a non-empty finite trace satisfies the formula at its first step."""
    steps = tuple(frozenset(step) for step in trace)
    if not steps:
        raise ValueError("a trace is never empty")
    f = translate(formula) if isinstance(formula, ast.Node) else formula
    return _holds(f, steps, 0, {})


def _holds(f: F, trace: tuple[Step, ...], i: int, memo: dict) -> bool:
    key = (f, i)
    if key in memo:
        return memo[key]
    op = f[0]
    last = len(trace) - 1
    if op == "true":
        value = True
    elif op == "false":
        value = False
    elif op == "ap":
        value = f[1] in trace[i]
    elif op == "start":
        value = i == 0
    elif op == "not":
        value = not _holds(f[1], trace, i, memo)
    elif op == "and":
        value = _holds(f[1], trace, i, memo) and _holds(f[2], trace, i, memo)
    elif op == "or":
        value = _holds(f[1], trace, i, memo) or _holds(f[2], trace, i, memo)
    elif op == "X":
        value = i < last and _holds(f[1], trace, i + 1, memo)
    elif op == "WX":
        value = i == last or _holds(f[1], trace, i + 1, memo)
    elif op == "F":
        value = any(_holds(f[1], trace, j, memo) for j in range(i, last + 1))
    elif op == "G":
        value = all(_holds(f[1], trace, j, memo) for j in range(i, last + 1))
    elif op == "U":
        value = any(
            _holds(f[2], trace, j, memo) and all(_holds(f[1], trace, k, memo) for k in range(i, j))
            for j in range(i, last + 1)
        )
    elif op == "R":
        value = all(
            _holds(f[2], trace, j, memo) or any(_holds(f[1], trace, k, memo) for k in range(i, j))
            for j in range(i, last + 1)
        )
    elif op == "Y":
        value = i > 0 and _holds(f[1], trace, i - 1, memo)
    elif op == "O":
        value = any(_holds(f[1], trace, j, memo) for j in range(0, i + 1))
    elif op == "H":
        value = all(_holds(f[1], trace, j, memo) for j in range(0, i + 1))
    elif op == "S":
        value = any(
            _holds(f[2], trace, j, memo)
            and all(_holds(f[1], trace, k, memo) for k in range(j + 1, i + 1))
            for j in range(0, i + 1)
        )
    else:  # pragma: no cover
        raise ValueError(f"unknown operator {op!r}")
    memo[key] = value
    return value


# --- progression ----------------------------------------------------------------------------


def _not(f: F) -> F:
    if f == TRUE:
        return FALSE
    if f == FALSE:
        return TRUE
    if f[0] == "not":
        return f[1]
    return ("not", f)


def _and(f: F, g: F) -> F:
    if f == FALSE or g == FALSE:
        return FALSE
    if f == TRUE:
        return g
    if g == TRUE or f == g:
        return f
    return ("and", f, g)


def _or(f: F, g: F) -> F:
    if f == TRUE or g == TRUE:
        return TRUE
    if f == FALSE:
        return g
    if g == FALSE or f == g:
        return f
    return ("or", f, g)


@cache
def _past_subformulas(f: F) -> tuple[F, ...]:
    """Past subformulas in post-order (operands before the operators that use them)."""
    found: list[F] = []
    for child in f[1:]:
        if isinstance(child, tuple):
            for sub in _past_subformulas(child):
                if sub not in found:
                    found.append(sub)
    if f[0] in _PAST and f not in found:
        found.append(f)
    return tuple(found)


# formulas translated, by the identity of their (immutable) AST, while it lives
# (identity.py: an explorer makes a monitor per constraint, and the editor's checks explore
# the same constraints again)
_TRANSLATED: IdentityTable[int, F] = IdentityTable(4096)


def _translated(formula: ast.Node) -> F:
    found = _TRANSLATED.get(id(formula))
    if found is None:
        found = _TRANSLATED.keep(id(formula), translate(formula), formula)
    return found


# monitor steps remembered, at most: (formula, state, propositions) -> (obligation, values)
_MAX_STEPS = 50_000


class _Moment:
    """A monitor's state (`Monitor.state`, with its formula), met by some monitor, and
    the steps taken from it: per step's propositions, the obligation and past values it
    leads to, and the state after it. A step is a function of the state and the
    propositions, so a monitor in this state looks its step up here, without hashing
    its formula and state again. Shared by every monitor of the formula in this state
    (`_MOMENTS`); those of an older `_AGE` take no new steps (the memory is bounded)."""

    __slots__ = ("after", "age", "state")

    def __init__(self, state: tuple, age: int):
        self.state = state
        self.age = age
        self.after: dict[Step, tuple[F, dict[F, bool], _Moment]] = {}


# the moments met, by formula and state, and the steps remembered from them (at most
# `_MAX_STEPS`, then they are forgotten, and a new age begins)
_MOMENTS: dict[tuple, _Moment] = {}
_TAKEN = [0, 0]  # steps remembered in this age, the age


def _moment(formula: F, state: tuple) -> _Moment:
    key = (formula, state)
    found = _MOMENTS.get(key)
    if found is None:
        found = _MOMENTS[key] = _Moment(state, _TAKEN[1])
    return found


def _remember(moment: _Moment, step: Step, found: tuple[F, dict[F, bool], _Moment]) -> None:
    if moment.age != _TAKEN[1]:
        return
    if _TAKEN[0] >= _MAX_STEPS:
        _MOMENTS.clear()
        _TAKEN[0] = 0
        _TAKEN[1] += 1
        return
    _TAKEN[0] += 1
    moment.after[step] = found


class Monitor:
    """Follows a trace step by step; says whether the formula is satisfied so far,
    violated for good, or satisfied for good.

        monitor = Monitor(formula)
        for step in steps:
            monitor.step(step)
            if monitor.verdict() is False: ...   # no continuation can satisfy it
        monitor.accepts()                        # the trace ends here: satisfied?
    """

    def __init__(self, formula: ast.Node | F):
        self.formula: F = _translated(formula) if isinstance(formula, ast.Node) else formula
        self.obligation: F = self.formula
        self._pasts = _past_subformulas(self.formula)
        self._index = 0
        self._previous: tuple[Step, dict[F, bool]] | None = None
        self._yesterday = any(f[0] == "Y" for f in self._pasts)
        self._state: tuple | None = None  # `state()`, until the next step
        self._moment: _Moment | None = None  # the state's moment, once looked up

    def copy(self) -> Monitor:
        twin = Monitor.__new__(Monitor)
        twin.formula, twin.obligation, twin._pasts = self.formula, self.obligation, self._pasts
        twin._index, twin._previous = self._index, self._previous  # never mutated in place
        twin._yesterday, twin._state = self._yesterday, self._state
        twin._moment = self._moment
        return twin

    def state(self) -> tuple:
        """Everything the future verdict depends on, hashable: two monitors with equal
        states accept exactly the same continuations."""
        if self._state is not None:
            return self._state
        previous = self._previous
        values = tuple(previous[1][f] for f in self._pasts) if previous else None
        self._state = (
            self.obligation,
            # no step yet, one step (then `yesterday start` holds next), or more
            min(self._index, 2),
            values,
            previous[0] if self._yesterday and previous else None,
        )
        return self._state

    def step(self, propositions: Iterable[str]) -> None:
        step = propositions if isinstance(propositions, frozenset) else frozenset(propositions)
        # the step is a function of the state (which says all the future depends on) and
        # the propositions: an explorer meets the same pair in many runs, and looks it up
        # in the state's moment
        moment = self._moment
        if moment is None:
            moment = _moment(self.formula, self.state())
        found = moment.after.get(step)
        if found is not None:
            self.obligation, known, after = found  # (shared, and never mutated in place)
            self._previous = (step, known)
            self._index += 1
            self._state, self._moment = after.state, after
            return
        values: dict[F, bool] = {}
        for sub in self._pasts:  # operands first, so each sees its operands' values
            values[sub] = self._past_value(sub, step, values)
        self.obligation = self._progress(self.obligation, step, values)
        self._previous = (step, values)
        self._index += 1
        self._state = None
        after = self._moment = _moment(self.formula, self.state())
        _remember(moment, step, (self.obligation, values, after))

    def _past_value(self, f: F, step: Step, values: dict[F, bool]) -> bool:
        previous = self._previous
        op = f[0]
        if op == "Y":
            if previous is None:
                return False
            return _now(f[1], previous[0], self._index - 1, previous[1])
        now_left = _now(f[1], step, self._index, values)
        before = previous is not None and previous[1][f]
        if op == "O":
            return now_left or before
        if op == "H":
            return now_left and (previous is None or before)
        # since: the right side held at some step, and the left at every step after it
        return _now(f[2], step, self._index, values) or (now_left and before)

    def _progress(self, f: F, step: Step, current: dict[F, bool]) -> F:
        op = f[0]
        if op in ("true", "false"):
            return f
        if op == "ap":
            return TRUE if f[1] in step else FALSE
        if op == "start":
            return TRUE if self._index == 0 else FALSE
        if op in _PAST:
            return TRUE if current[f] else FALSE
        if op == "not":
            return _not(self._progress(f[1], step, current))
        if op == "and":
            return _and(self._progress(f[1], step, current), self._progress(f[2], step, current))
        if op == "or":
            return _or(self._progress(f[1], step, current), self._progress(f[2], step, current))
        if op in ("X", "strong"):
            return ("strong", f[1]) if op == "X" else self._progress(f[1], step, current)
        if op in ("WX", "weak"):
            return ("weak", f[1]) if op == "WX" else self._progress(f[1], step, current)
        if op == "F":
            return _or(self._progress(f[1], step, current), ("strong", f))
        if op == "G":
            return _and(self._progress(f[1], step, current), ("weak", f))
        if op == "U":
            now_right = self._progress(f[2], step, current)
            now_left = self._progress(f[1], step, current)
            return _or(now_right, _and(now_left, ("strong", f)))
        if op == "R":
            now_right = self._progress(f[2], step, current)
            now_left = self._progress(f[1], step, current)
            return _and(now_right, _or(now_left, ("weak", f)))
        raise ValueError(f"unknown operator {op!r}")  # pragma: no cover

    def accepts(self) -> bool:
        """Whether the trace seen so far, ending here, satisfies the formula."""
        if self._index == 0:
            raise ValueError("a trace is never empty")
        return _at_end(self.obligation)

    def may_accept(self, dead: frozenset[str]) -> bool:
        """Whether some continuation of the trace (one step or more) on which no
        proposition of `dead` ever holds could end with the formula satisfied.

        An over-approximation: False is a proof that none can (the explorer then cuts
        the run, docs/semantics.md "Errors-only exploration"); True proves nothing. Each
        subformula is given two bits, whether it may be true and whether it may be false
        at some step of the continuation (`_may`); a proposition of `dead` may only be
        false, and the past operators start from their values at the last step."""
        key = (self.formula, self.state(), dead)
        found = _MAY_ACCEPT.get(key)
        if found is None:
            values = self._previous[1] if self._previous is not None else None
            found = _may_top(self.obligation, dead, values, self._index)[0]
            if len(_MAY_ACCEPT) >= _MAX_STEPS:
                _MAY_ACCEPT.clear()
            _MAY_ACCEPT[key] = found
        return found

    def verdict(self) -> bool | None:
        """True or False once every continuation agrees; None while it depends on them."""
        if self.obligation == TRUE:
            return True
        if self.obligation == FALSE:
            return False
        return None


def _now(f: F, step: Step, index: int, values: dict[F, bool]) -> bool:
    """The value at one step of a formula with no future operator, given the values of
    its past subformulas at that step."""
    op = f[0]
    if op == "true":
        return True
    if op == "false":
        return False
    if op == "ap":
        return f[1] in step
    if op == "start":
        return index == 0
    if op == "not":
        return not _now(f[1], step, index, values)
    if op == "and":
        return _now(f[1], step, index, values) and _now(f[2], step, index, values)
    if op == "or":
        return _now(f[1], step, index, values) or _now(f[2], step, index, values)
    if op in _PAST:
        return values[f]
    raise ValueError(f"future operator {op!r} under a past operator")


# (formula, state, dead propositions) -> `Monitor.may_accept`
_MAY_ACCEPT: dict[tuple, bool] = {}
_BOTH = (True, True)


def _may_top(
    f: F, dead: frozenset[str], values: dict[F, bool] | None, index: int
) -> tuple[bool, bool]:
    """(may be true, may be false) for an obligation on the continuation, whose first
    step exists (a run's last step, its return, is still to come): an obligation on
    the next step, strong or weak, is one on that first step."""
    op = f[0]
    if op == "true":
        return True, False
    if op == "false":
        return False, True
    if op in ("strong", "weak"):
        return _may(f[1], dead, values, index)
    if op == "not":
        true, false = _may_top(f[1], dead, values, index)
        return false, true
    if op in ("and", "or"):
        left = _may_top(f[1], dead, values, index)
        right = _may_top(f[2], dead, values, index)
        return _combine(op, left, right)
    return _may(f, dead, values, index)  # (no step yet: the formula itself)


def _combine(op: str, left: tuple[bool, bool], right: tuple[bool, bool]) -> tuple[bool, bool]:
    if op == "and":
        return left[0] and right[0], left[1] or right[1]
    return left[0] or right[0], left[1] and right[1]


def _may(f: F, dead: frozenset[str], values: dict[F, bool] | None, index: int) -> tuple[bool, bool]:
    """(may be true, may be false) at some step of the continuation. Sound: a subformula
    true (false) at some step of some continuation is given True in that place."""
    op = f[0]
    if op == "true":
        return True, False
    if op == "false":
        return False, True
    if op == "ap":
        return (False, True) if f[1] in dead else _BOTH
    if op == "start":  # the continuation's first step is the trace's first when none yet
        return (True, True) if index == 0 else (False, True)
    if op == "not":
        true, false = _may(f[1], dead, values, index)
        return false, true
    if op in ("and", "or"):
        return _combine(op, _may(f[1], dead, values, index), _may(f[2], dead, values, index))
    if op in ("X", "strong"):  # false at the last step
        return _may(f[1], dead, values, index)[0], True
    if op in ("WX", "weak"):  # true at the last step
        return True, _may(f[1], dead, values, index)[1]
    if op in ("F", "G"):  # true (false) at a step: the operand is, at that step or later
        return _may(f[1], dead, values, index)
    if op in ("U", "R"):  # either way the right side decides the step itself first
        return _may(f[2], dead, values, index)
    if op in ("O", "H") and (values is None or f in values):
        operand = _may(f[1], dead, values, index)
        now = None if values is None else values[f]  # (None: no step yet)
        if op == "O":  # true once the operand was: for good
            return (now is True) or operand[0], (now is not True) and operand[1]
        return (now is not False) and operand[0], (now is not True) or operand[1]
    return _BOTH  # yesterday, since: either


def _at_end(f: F) -> bool:
    op = f[0]
    if op == "true":
        return True
    if op == "false":
        return False
    if op == "strong":
        return False
    if op == "weak":
        return True
    if op == "not":
        return not _at_end(f[1])
    if op == "and":
        return _at_end(f[1]) and _at_end(f[2])
    if op == "or":
        return _at_end(f[1]) or _at_end(f[2])
    raise ValueError(f"unprogressed operator {op!r}")  # pragma: no cover


def monitor_accepts(formula: ast.Node | F, trace: Sequence[Iterable[str]]) -> bool:
    """`evaluate` by progression: feed every step to a `Monitor`, then ask it."""
    monitor = Monitor(formula)
    for step in trace:
        monitor.step(step)
    return monitor.accepts()
