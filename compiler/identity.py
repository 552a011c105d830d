"""Tables keyed by the identities of objects, whose entries go when those objects go.

The compiler remembers what it made from immutable parts (an AST statement, an IR edge)
by the parts' identities: an edited program shares all but a few of its parts with the
program it was made from, so its check finds most of them made. An identity may be
reused once its object is freed, so an entry must not outlive the objects its key names.
An `IdentityTable` drops an entry when any of the objects it was kept for is freed: it
holds only what a later check can still meet (the parts of programs still alive), and
an editor's candidates, let go one after the other, take their entries with them
instead of piling them up for the cyclic collector to walk (bench/RESULTS.md
`edits-s8-gc`).

Each object watched has one weak reference, shared by every table (`_WATCHES`); it names
the entries kept for the object, and frees them when the object is freed (CPython calls
it before the object's memory, and so its identity, can be reused)."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _TableRef(weakref.ref):  # type: ignore[type-arg]
    """A table, as the watches reach it (by its number: a table let go is let go)."""

    __slots__ = ("index",)
    index: int


def _table_gone(ref: _TableRef) -> None:
    del _TABLES[ref.index]


# every table alive, by its number (never reused: an entry named by a number gone is gone)
_TABLES: dict[int, _TableRef] = {}
_NUMBERS = itertools.count()


class _Watch(weakref.ref):  # type: ignore[type-arg]
    """The weak reference to an object that keys entries: the entries kept for it, flat
    (table index, key, table index, key, …: most objects key one or two entries, and a
    list of them is a third of a set of pairs), and how long the list may grow before
    the entries already gone are let go."""

    __slots__ = ("entries", "ident", "limit")
    ident: int
    entries: list[Hashable]
    limit: int


# the one weak reference of each object watched, by its identity
_WATCHES: dict[int, _Watch] = {}


def _gone(watch: _Watch) -> None:
    """The object is being freed: its entries go (those of every table)."""
    del _WATCHES[watch.ident]
    entries = iter(watch.entries)
    for index, key in zip(entries, entries, strict=False):
        ref = _TABLES.get(index)  # type: ignore[call-overload]
        table = ref() if ref is not None else None
        if table is not None:
            table.pop(key, None)


def _holds(index: int, key: Hashable) -> bool:
    ref = _TABLES.get(index)
    table = ref() if ref is not None else None
    return table is not None and key in table


def _held(entries: list[Hashable]) -> list[Hashable]:
    """The flat entries still in their tables, each once."""
    pairs = iter(entries)
    held = dict.fromkeys(pair for pair in zip(pairs, pairs, strict=False) if _holds(*pair))  # type: ignore[arg-type]
    return [part for pair in held for part in pair]


class IdentityTable(dict[K, V]):
    """A dict whose entries are kept (`keep`) for the objects their keys name by identity,
    each dropped when one of those objects is freed; emptied at `cap` entries (the rest:
    objects that stay alive)."""

    __slots__ = ("__weakref__", "cap", "index")

    def __init__(self, cap: int = 65_536) -> None:
        super().__init__()
        self.index = next(_NUMBERS)
        self.cap = cap
        ref = _TABLES[self.index] = _TableRef(self, _table_gone)
        ref.index = self.index

    def keep(self, key: K, value: V, *objects: object) -> V:
        """`self[key] = value` until any of `objects` (those `key` names by identity; None
        is never freed) is freed. Returns `value`."""
        if len(self) >= self.cap:
            self.clear()
        self[key] = value
        index = self.index
        for item in objects:
            if item is None:
                continue
            watch = _WATCHES.get(id(item))
            if watch is None:
                watch = _Watch(item, _gone)
                watch.ident, watch.entries, watch.limit = id(item), [index, key], 16
                _WATCHES[id(item)] = watch
                continue
            entries = watch.entries
            entries.append(index)
            entries.append(key)
            if len(entries) > watch.limit:  # (an object that stays: some entries went)
                watch.entries = entries = _held(entries)
                watch.limit = 2 * len(entries) + 16
        return value
