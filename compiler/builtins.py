"""The built-in functions of expressions: each one's type rule and its implementation,
in one place — the checker types calls with `result_type`, the runtime evaluates them
with `IMPLEMENTATIONS`.

They are pure and total: no loops a program can make unbounded, no exceptions. An
empty list has a defined answer (`sum([])` is 0, `all([])` is true, `min([])` and
`most_common([])` are none), and so does every value the types allow.

`latest(x)` and `history(x)` read a node's outputs over time (compiler/dataflow.py);
they are typed in the scope, not here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from .types import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    STR,
    AnyType,
    DictT,
    ListT,
    OptionalT,
    RecordT,
    Type,
    assignable,
    comparable,
    is_numeric,
    strip_optional,
)

# what each takes, in words, for messages and `docs/language.md`
SIGNATURES: dict[str, str] = {
    "len": "len(list | dict | str) -> int",
    "min": "min(list[number | str]) -> item?, or min(a, b, ...) -> number",
    "max": "max(list[number | str]) -> item?, or max(a, b, ...) -> number",
    "sum": "sum(list[number]) -> number",
    "any": "any(list[bool]) -> bool",
    "all": "all(list[bool]) -> bool",
    "abs": "abs(number) -> number",
    "round": "round(number) -> int, or round(number, digits) -> float",
    "lower": "lower(str) -> str",
    "upper": "upper(str) -> str",
    "contains": "contains(list | dict | str, item) -> bool",
    "contains_all": "contains_all(list | str, list) -> bool: every item is in the first",
    "count": "count(list[T], T) -> int",
    "same": "same(list) -> bool: every item equal (true for [] and one item)",
    "most_common": "most_common(list[T]) -> T?: the most frequent item, the first on a tie",
    "max_by": 'max_by(list[Record], "field") -> Record?: the item with the largest field',
    "min_by": 'min_by(list[Record], "field") -> Record?: the item with the smallest field',
}

TypeRule = Callable[[Sequence[Type], Sequence[Any]], Type | str]


def result_type(name: str, args: Sequence[Type], literals: Sequence[Any]) -> Type | str:
    """The type of a call, or a message saying what is wrong with it. `literals` holds
    each argument's value when it is a literal (the field name of `max_by`), else None."""
    return _RULES[name](args, literals)


def _number(t: Type) -> bool:
    return is_numeric(strip_optional(t))


def _items(t: Type) -> Type | None:
    """The item type of a list (ANY after an error), or None when `t` is not a list."""
    t = strip_optional(t)
    if isinstance(t, AnyType):
        return ANY
    return t.item if isinstance(t, ListT) else None


def _arity(args: Sequence[Type], *counts: int) -> str | None:
    return None if len(args) in counts else f"takes {' or '.join(map(str, counts))} argument(s)"


def _len(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 1):
        return problem
    t = strip_optional(args[0])
    if isinstance(t, ListT | DictT | AnyType) or t == STR:
        return INT
    return f"needs a list, dict or string, found `{args[0]}`"


def _extreme(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if len(args) >= 2:
        if all(_number(a) for a in args):
            return FLOAT if any(strip_optional(a) == FLOAT for a in args) else INT
        return "of several values needs numbers"
    if problem := _arity(args, 1):
        return problem
    item = _items(args[0])
    if item is None or not (_number(item) or strip_optional(item) == STR):
        return f"needs a list of numbers or strings, found `{args[0]}`"
    return OptionalT(strip_optional(item)) if not isinstance(item, AnyType) else ANY


def _sum(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 1):
        return problem
    item = _items(args[0])
    if item is None or not _number(item):
        return f"needs a list of numbers, found `{args[0]}`"
    return FLOAT if strip_optional(item) == FLOAT else INT


def _booleans(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 1):
        return problem
    item = _items(args[0])
    if item is None or not assignable(item, BOOL):
        return f"needs a list of bools, found `{args[0]}`"
    return BOOL


def _abs(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 1):
        return problem
    return strip_optional(args[0]) if _number(args[0]) else f"needs a number, found `{args[0]}`"


def _round(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 1, 2):
        return problem
    if not _number(args[0]):
        return f"needs a number, found `{args[0]}`"
    if len(args) == 2:
        return FLOAT if assignable(args[1], INT) else "takes its digits as an int"
    return INT


def _text(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 1):
        return problem
    return STR if assignable(args[0], STR) else f"needs a string, found `{args[0]}`"


def _contains(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 2):
        return problem
    container = strip_optional(args[0])
    if isinstance(container, AnyType):
        return BOOL
    if container == STR:
        return BOOL if assignable(args[1], STR) else "looks for a string in a string"
    if isinstance(container, ListT | DictT):
        key = container.item if isinstance(container, ListT) else STR
        return BOOL if comparable(args[1], key) else f"a `{args[1]}` is never in a `{args[0]}`"
    return f"needs a list, dict or string, found `{args[0]}`"


def _contains_all(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 2):
        return problem
    items = _items(args[1])
    if items is None:
        return f"takes the items as a list, found `{args[1]}`"
    return _contains([args[0], items], ())


def _count(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 2):
        return problem
    item = _items(args[0])
    if item is None:
        return f"needs a list, found `{args[0]}`"
    return INT if comparable(args[1], item) else f"a `{args[1]}` is never in a `{args[0]}`"


def _same(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 1):
        return problem
    return BOOL if _items(args[0]) is not None else f"needs a list, found `{args[0]}`"


def _most_common(args: Sequence[Type], _: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 1):
        return problem
    item = _items(args[0])
    if item is None:
        return f"needs a list, found `{args[0]}`"
    return ANY if isinstance(item, AnyType) else OptionalT(strip_optional(item))


def _by_field(args: Sequence[Type], literals: Sequence[Any]) -> Type | str:
    if problem := _arity(args, 2):
        return problem
    item = _items(args[0])
    if item is None:
        return f"needs a list of records, found `{args[0]}`"
    if isinstance(item, AnyType):
        return ANY
    record = strip_optional(item)
    field = literals[1] if len(literals) > 1 else None
    if not isinstance(record, RecordT):
        return f"needs a list of records, found `{args[0]}`"
    if not isinstance(field, str):
        return 'takes the field\'s name as a string, like `max_by(drafts, "score")`'
    found = record.fields.get(field)
    if found is None:
        return f"`{record}` has no field `{field}`"
    if not _number(found):
        return f"compares numbers, and `{record}.{field}` is a `{found}`"
    return OptionalT(record)


_RULES: dict[str, TypeRule] = {
    "len": _len,
    "min": _extreme,
    "max": _extreme,
    "sum": _sum,
    "any": _booleans,
    "all": _booleans,
    "abs": _abs,
    "round": _round,
    "lower": _text,
    "upper": _text,
    "contains": _contains,
    "contains_all": _contains_all,
    "count": _count,
    "same": _same,
    "most_common": _most_common,
    "max_by": _by_field,
    "min_by": _by_field,
}


# -- implementations: total over the values the types allow ----------------------------------


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _present(values: Any) -> list[Any]:
    return [v for v in (values or []) if v is not None]


def _min(*args: Any) -> Any:
    values = _present(args[0] if len(args) == 1 else args)
    return min(values) if values else None


def _max(*args: Any) -> Any:
    values = _present(args[0] if len(args) == 1 else args)
    return max(values) if values else None


def _most_common_value(values: Any) -> Any:
    present = _present(values)
    if not present:
        return None
    keys = [repr(v) for v in present]  # records and lists are not hashable
    counts = Counter(keys)
    best = max(counts.values())
    return next(v for v, k in zip(present, keys, strict=True) if counts[k] == best)


def _extreme_by(values: Any, name: str, pick: Callable[..., Any]) -> Any:
    scored = [v for v in (values or []) if isinstance(_field(v, name), int | float)]
    return pick(scored, key=lambda v: _field(v, name)) if scored else None


def _round_value(number: Any, digits: Any = None) -> Any:
    if number is None:
        return None
    return round(number) if digits is None else round(float(number), int(digits))


def _same_values(values: Any) -> bool:
    items = [repr(v) for v in values or []]
    return len(set(items)) <= 1


IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    "len": lambda value: len(value) if value is not None else 0,
    "min": _min,
    "max": _max,
    "sum": lambda values: sum(_present(values)),
    "any": lambda values: any(bool(v) for v in values or []),
    "all": lambda values: all(bool(v) for v in values or []),
    "abs": lambda number: abs(number) if number is not None else None,
    "round": _round_value,
    "lower": lambda text: (text or "").lower(),
    "upper": lambda text: (text or "").upper(),
    "contains": lambda container, item: container is not None and item in container,
    "contains_all": lambda container, items: (
        container is not None and all(item in container for item in items or [])
    ),
    "count": lambda values, item: sum(1 for v in values or [] if v == item),
    "same": _same_values,
    "most_common": _most_common_value,
    "max_by": lambda values, name: _extreme_by(values, name, max),
    "min_by": lambda values, name: _extreme_by(values, name, min),
}

# which arguments (by position) each implementation takes none at, whatever values the
# types allow for the others: there a none (an `x.error` of a node that did not fail,
# compiler/paths.py "Reading `x.error`") is defined, and needs no proof. Held to the
# implementations by running each on none (tests/test_error_reads.py).
TAKES_NONE: dict[str, frozenset[int]] = {
    "len": frozenset({0}),
    "min": frozenset({0}),  # (and every argument of `min(a, b, ...)`: `takes_none`)
    "max": frozenset({0}),
    "sum": frozenset({0}),
    "any": frozenset({0}),
    "all": frozenset({0}),
    "abs": frozenset({0}),
    "round": frozenset({0, 1}),
    "lower": frozenset({0}),
    "upper": frozenset({0}),
    "contains": frozenset({0}),  # (`none in "text"` fails: not the item)
    "contains_all": frozenset({0, 1}),
    "count": frozenset({0, 1}),
    "same": frozenset({0}),
    "most_common": frozenset({0}),
    "max_by": frozenset({0}),
    "min_by": frozenset({0}),
}

_VARIADIC = frozenset({"min", "max"})  # (none of their arguments counts)


def takes_none(name: str, place: int) -> bool:
    """Whether built-in `name` takes none as its argument at `place` (`TAKES_NONE`)."""
    return name in _VARIADIC or place in TAKES_NONE.get(name, ())


assert set(IMPLEMENTATIONS) == set(_RULES) == set(SIGNATURES) == set(TAKES_NONE)
