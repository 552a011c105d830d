"""Does a Python callable fit a `tool` declaration? Names, arity and type hints."""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from typing import TYPE_CHECKING

from .types import BOOL, FLOAT, INT, STR, AnyType, DictT, EnumT, ListT, OptionalT, RecordT, Type

if TYPE_CHECKING:
    from .typecheck import Signature


_PY_TYPES: dict[Type, tuple[object, ...]] = {
    STR: (str,),
    INT: (int,),
    FLOAT: (float, int),
    BOOL: (bool,),
}


def compare_python_signature(function: object, signature: Signature) -> str | None:
    """Why a Python callable does not fit a tool declaration, or None if it does."""
    try:
        python = inspect.signature(function)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # builtins without signatures: trust the declaration
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    declared = signature.params or []
    positional = [
        p
        for p in python.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    takes_var = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in python.parameters.values())
    names = [p.name for p in positional]
    wanted = [name for name, _, _ in declared]
    if names[: len(wanted)] != wanted and not takes_var:
        return (
            f"the declaration has parameters ({', '.join(wanted)}), "
            f"the callable has ({', '.join(names)})"
        )
    extra = [p.name for p in positional[len(wanted) :] if p.default is p.empty]
    if extra:
        return f"the callable also requires `{extra[0]}`"
    for name, t, _ in declared:
        if name in hints and not _python_fits(hints[name], t):
            return f"parameter `{name}` is declared `{t}` but annotated `{_hint_name(hints[name])}`"
    if "return" in hints and not _python_fits(hints["return"], signature.returns):
        return (
            f"the result is declared `{signature.returns}` but annotated "
            f"`{_hint_name(hints['return'])}`"
        )
    return None


def _python_fits(hint: object, t: Type) -> bool:
    if hint is typing.Any or isinstance(t, AnyType):
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and isinstance(t, OptionalT):
            others = [a for a in args if a is not type(None)]
            return any(_python_fits(a, t.inner) for a in others)
        return any(_python_fits(a, t) for a in args)
    if isinstance(t, OptionalT):
        return _python_fits(hint, t.inner)
    if t in _PY_TYPES:
        return hint in _PY_TYPES[t]
    if isinstance(t, ListT):
        return (origin or hint) in (
            list,
            typing.Sequence,
            __import__("collections.abc").abc.Sequence,
        ) and (not args or _python_fits(args[0], t.item))
    if isinstance(t, DictT):
        return (origin or hint) in (dict, typing.Mapping, collections.abc.Mapping) and (
            not args or _python_fits(args[-1], t.value)
        )
    if isinstance(t, EnumT):
        return hint is str or isinstance(hint, type)
    if isinstance(t, RecordT):
        return (origin or hint) in (dict,) or isinstance(hint, type)
    return True


def _hint_name(hint: object) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
