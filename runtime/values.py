"""Runtime values: JSON-like data (dicts, lists, strings, numbers, bools, None), validated
against the checker's semantic types.

Each type gets a pydantic validator built once (records become pydantic models, enums
`str` enums); a model's reply is validated with it and dumped back to plain data, so
values are easy to render in prompts, compare in guards, and write to traces.
"""

from __future__ import annotations

import enum
import keyword
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from rolegraph.compiler.types import (
    AnyType,
    DictT,
    EnumT,
    ListT,
    NoneType_,
    OptionalT,
    Prim,
    RecordT,
    Type,
    json_schema,
)

from .errors import RunError

_PRIMS = {"str": str, "int": int, "float": float, "bool": bool}


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, protected_namespaces=())


# Validators are cached by the structure of the type (`_structure`: names, fields, their
# types, descriptions and defaults), not by the type object: each check of a program makes
# new type objects, and a search checks a program per candidate, so a cache by identity
# built every record's pydantic model again for each candidate's first run (~2 ms). Two
# records with one name but other fields (two `Review`s of two programs) differ in
# structure, so they never share a validator. The identity of the type object is
# remembered first (the per-value path: one dict look-up).
_TYPES: dict[int, tuple[Type, Any]] = {}
_ADAPTERS: dict[int, tuple[Type, Any]] = {}
_BY_STRUCTURE: dict[tuple[str, tuple[Any, ...]], Any] = {}


_KEPT = 4096  # entries of each cache, at most: a long search makes new types all along


def _cached(cache: dict[int, tuple[Type, Any]], t: Type, build: Any) -> Any:
    entry = cache.get(id(t))
    if entry is None or entry[0] is not t:  # the entry holds t, so its id is not reused
        key = ("type" if cache is _TYPES else "adapter", _structure(t, ()))
        built = _BY_STRUCTURE.get(key)
        if built is None:
            if len(_BY_STRUCTURE) >= _KEPT:
                _BY_STRUCTURE.clear()
            built = _BY_STRUCTURE[key] = build()
        if len(cache) >= _KEPT:
            cache.clear()
        entry = (t, built)
        cache[id(t)] = entry
    return entry[1]


def _structure(t: Type, outer: tuple[RecordT, ...]) -> tuple[Any, ...]:
    """What a validator of `t` is built from, as a hashable key: equal keys, the same
    validator. A record inside itself (by identity) is named by how far out it is."""
    if isinstance(t, RecordT):
        for depth, record in enumerate(reversed(outer)):
            if record is t:
                return ("outer", depth)
        inner = (*outer, t)
        return (
            "record",
            t.name,
            tuple(
                (
                    name,
                    _structure(field_type, inner),
                    t.descriptions.get(name),
                    name in t.defaults,
                    repr(t.default_values.get(name)),
                )
                for name, field_type in t.fields.items()
            ),
        )
    if isinstance(t, ListT):
        return ("list", _structure(t.item, outer))
    if isinstance(t, DictT):
        return ("dict", _structure(t.value, outer))
    if isinstance(t, OptionalT):
        return ("optional", _structure(t.inner, outer))
    if isinstance(t, EnumT):
        return ("enum", t.name, t.members)
    return (type(t).__name__, str(t))


def python_type(t: Type) -> Any:
    """The Python type pydantic validates values of `t` with."""
    if isinstance(t, RecordT | EnumT):
        return _cached(_TYPES, t, lambda: _python_type(t))
    return _python_type(t)


def _python_type(t: Type) -> Any:
    if isinstance(t, Prim):
        return _PRIMS[t.name]
    if isinstance(t, ListT):
        return list[python_type(t.item)]  # type: ignore[misc]
    if isinstance(t, DictT):
        return dict[str, python_type(t.value)]  # type: ignore[misc]
    if isinstance(t, OptionalT):
        return python_type(t.inner) | None
    if isinstance(t, EnumT):
        return enum.Enum(t.name.rsplit(".", 1)[-1], {m: m for m in t.members}, type=str)
    if isinstance(t, RecordT):
        fields: dict[str, Any] = {}
        for name, field_type in t.fields.items():
            python_name = _safe(name)
            default = t.default_values.get(name, ...) if name in t.defaults else ...
            fields[python_name] = (
                python_type(field_type),
                Field(default, alias=name, description=t.descriptions.get(name)),
            )
        return create_model(str(t), __base__=_Record, **fields)
    if isinstance(t, NoneType_):
        return type(None)
    return Any


def _safe(name: str) -> str:
    if keyword.iskeyword(name) or name.startswith(("_", "model_")) or hasattr(BaseModel, name):
        return f"{name}_field"
    return name


def _adapter(t: Type) -> TypeAdapter:
    return _cached(_ADAPTERS, t, lambda: TypeAdapter(python_type(t)))


def coerce(t: Type, value: Any) -> Any:
    """Validate `value` against `t` and return it as plain data. Raises pydantic's
    ValidationError."""
    if isinstance(t, AnyType):
        return value
    if isinstance(t, Prim):  # the common case, without pydantic: the value already fits
        kind = type(value)
        if kind is _PRIMS[t.name]:
            return value
        if t.name == "float" and kind is int:
            return float(value)
    validated = _adapter(t).validate_python(value)
    return plain(validated)


def coercer(t: Type) -> Callable[[Any], Any]:
    """`coerce(t, value)` for one type, specialised once: what a run calls per value. Plain
    data that already fits `t` is returned as it is, without pydantic."""
    if isinstance(t, AnyType):
        return _same
    if isinstance(t, Prim):  # (the common case, in one test)
        kind = _PRIMS[t.name]
        return lambda value: value if type(value) is kind else coerce(t, value)
    fits = _fits(t)
    if fits is None:
        return lambda value: coerce(t, value)
    return lambda value: value if fits(value) else coerce(t, value)


def as_is(t: Type) -> type:
    """The Python type of the values that `coercer(t)` and `result_coercer(t)` return as
    they are, by the same exact test (`type(value) is as_is(t)`): a primitive's own; for
    any other type, one that no value has (each value goes to the coercer). A caller
    that makes this test first calls the coercer only for the values it must look at: a
    frame fewer for most (runtime/scheduler.py `fire_inline`)."""
    if isinstance(t, Prim):
        return _PRIMS[t.name]
    return _NoValue


class _NoValue:
    """The type of no value (`as_is` of a type whose every value its coercer looks at)."""


def result_coercer(t: Type) -> Callable[[Any], Any]:
    """`coerce(t, plain(value))` for one type: a Python tool's result as plain data."""
    if isinstance(t, Prim):
        kind = _PRIMS[t.name]
        return lambda value: value if type(value) is kind else coerce(t, plain(value))
    fits = _fits(t)
    if fits is None:
        return lambda value: coerce(t, plain(value))
    return lambda value: value if fits(value) else coerce(t, plain(value))


def _fits(t: Type) -> Callable[[Any], bool] | None:
    """A test that plain data is already a value of `t` as `coerce` would give it (no
    conversion to make), for primitives and lists, dicts and optionals of them; None
    for records and enums, which pydantic validates."""
    if isinstance(t, AnyType):
        return lambda value: True
    if isinstance(t, Prim):
        kind = _PRIMS[t.name]
        return lambda value: type(value) is kind
    if isinstance(t, ListT) and isinstance(t.item, Prim):
        # (a list of one primitive: its items' types, gathered in C, are that one; no
        # test called per item)
        kinds = frozenset({_PRIMS[t.item.name]})
        return lambda value: type(value) is list and set(map(type, value)) <= kinds
    if isinstance(t, ListT | DictT | OptionalT):
        inner = _fits(
            t.item if isinstance(t, ListT) else t.value if isinstance(t, DictT) else t.inner
        )
        if inner is None:
            return None
        if isinstance(t, ListT):
            return lambda value: type(value) is list and all(map(inner, value))
        if isinstance(t, DictT):
            return lambda value: (
                type(value) is dict
                and all(type(k) is str for k in value)
                and all(map(inner, value.values()))
            )
        return lambda value: value is None or inner(value)
    return None


def _same(value: Any) -> Any:
    return value


def plain(value: Any) -> Any:
    """Plain data: models dumped by alias, enums as their values, tuples as lists."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def schema(t: Type) -> dict:
    return json_schema(t)


def agent_inputs(ir: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """An agent's inputs (`ir`: its `AgentIR`) checked against its parameters: defaults
    filled in, no unknown names, none missing, each value coerced to its type. Raises
    `RunError` saying what is wrong."""
    values = dict(ir.param_defaults)
    values.update(inputs)
    types = ir.param_types
    if not values.keys() <= types.keys():  # (set tests of the keys, in C, at every run)
        unknown = set(values) - set(types)
        raise RunError(
            f"agent `{ir.name}` has no parameter "
            f"`{sorted(unknown)[0]}`; it takes: {', '.join(types)}"
        )
    if len(values) != len(types):  # (none unknown: some missing)
        missing = [p for p in types if p not in values]
        raise RunError(f"agent `{ir.name}` needs the input `{missing[0]}`")
    try:
        checked = {}
        for name, value in values.items():  # (a loop: no comprehension's frame)
            checked[name] = coerce(types[name], value)
        return checked
    except ValidationError as error:
        raise RunError(f"invalid input for agent `{ir.name}`: {error}") from None
