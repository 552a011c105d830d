"""Does a Python function fit a `tool` declaration? Names, kinds and annotations.

The function is described as data (`PythonSignature`, with each annotation a `Hint`),
read from its source without running it (compiler/pysource.py): the checker never
imports a tool's module, so checking a file runs none of its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from .types import BOOL, FLOAT, INT, STR, AnyType, DictT, EnumT, ListT, OptionalT, RecordT, Type

if TYPE_CHECKING:
    from .typecheck import Signature


class HintKind(Enum):
    """What an annotation is, as far as its source tells."""

    ANY = "any"  # typing.Any, object
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    NONE = "none"
    SEQUENCE = "sequence"  # list, List, Sequence: its one argument is the item
    MAPPING = "mapping"  # dict, Dict, Mapping: its last argument is the value
    UNION = "union"  # Union, Optional, X | Y: its arguments are the members
    CLASS = "class"  # some other class (a pydantic model, a dataclass, tuple, ...)
    UNKNOWN = "unknown"  # nothing can be said without running the module: it fits


@dataclass(frozen=True)
class Hint:
    """A Python annotation: its kind, its arguments, and how it reads in the source."""

    kind: HintKind
    text: str
    args: tuple[Hint, ...] = ()


class ParamKind(Enum):
    POSITIONAL_ONLY = "positional-only"
    NAMED = "positional or keyword"
    KEYWORD_ONLY = "keyword-only"
    VAR_POSITIONAL = "*args"
    VAR_KEYWORD = "**kwargs"


@dataclass(frozen=True)
class PythonParam:
    name: str
    kind: ParamKind
    has_default: bool
    hint: Hint | None  # None: not annotated


@dataclass(frozen=True)
class PythonSignature:
    """A Python function's parameters and result annotation."""

    params: tuple[PythonParam, ...]
    returns: Hint | None


def compare_python_signature(python: PythonSignature, signature: Signature) -> str | None:
    """Why a Python function does not fit a tool declaration, or None if it does.

    A tool is called with keyword arguments (`function(**arguments)`), so the
    declaration's parameters must be the function's first named parameters, in order,
    none positional-only, and any further parameter must have a default."""
    named = [p for p in python.params if p.kind not in _VARIADIC]
    takes_var = any(p.kind in _VARIADIC for p in python.params)
    declared = signature.params or []
    wanted = [name for name, _, _ in declared]
    names = [p.name for p in named]
    if names[: len(wanted)] != wanted and not takes_var:
        return (
            f"the declaration has parameters ({', '.join(wanted)}), "
            f"the callable has ({', '.join(names)})"
        )
    extra = [p.name for p in named[len(wanted) :] if not p.has_default]
    if extra:
        return f"the callable also requires `{extra[0]}`"
    by_name = {p.name: p for p in named}
    for name, t, _ in declared:
        param = by_name.get(name)
        if param is None:
            continue  # (taken by **kwargs)
        if param.kind is ParamKind.POSITIONAL_ONLY:
            return (
                f"parameter `{name}` is positional-only, but a tool is called with "
                "keyword arguments"
            )
        if param.hint is not None and not hint_fits(param.hint, t):
            return f"parameter `{name}` is declared `{t}` but annotated `{param.hint.text}`"
    if python.returns is not None and not hint_fits(python.returns, signature.returns):
        return f"the result is declared `{signature.returns}` but annotated `{python.returns.text}`"
    return None


_VARIADIC = (ParamKind.VAR_POSITIONAL, ParamKind.VAR_KEYWORD)

_PRIMITIVE_FITS: dict[Type, tuple[HintKind, ...]] = {
    STR: (HintKind.STR,),
    INT: (HintKind.INT,),
    FLOAT: (HintKind.FLOAT, HintKind.INT),
    BOOL: (HintKind.BOOL,),
}


def hint_fits(hint: Hint, t: Type) -> bool:
    """Whether a value of the declared type `t` fits a Python annotation (and a result
    so annotated fits `t`). What cannot be told from the source fits."""
    if hint.kind in (HintKind.ANY, HintKind.UNKNOWN) or isinstance(t, AnyType):
        return True
    if hint.kind is HintKind.UNION:
        if isinstance(t, OptionalT) and any(a.kind is HintKind.NONE for a in hint.args):
            others = [a for a in hint.args if a.kind is not HintKind.NONE]
            return any(hint_fits(a, t.inner) for a in others)
        return any(hint_fits(a, t) for a in hint.args)
    if isinstance(t, OptionalT):
        return hint_fits(hint, t.inner)
    if t in _PRIMITIVE_FITS:
        return hint.kind in _PRIMITIVE_FITS[t]
    if isinstance(t, ListT):
        return hint.kind is HintKind.SEQUENCE and (not hint.args or hint_fits(hint.args[0], t.item))
    if isinstance(t, DictT):
        return hint.kind is HintKind.MAPPING and (
            not hint.args or hint_fits(hint.args[-1], t.value)
        )
    if isinstance(t, EnumT):
        return hint.kind in (HintKind.STR, HintKind.CLASS)
    if isinstance(t, RecordT):
        return hint.kind in (HintKind.MAPPING, HintKind.CLASS)
    return True
