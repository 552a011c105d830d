"""Every identity a graph entry's key names (memo.py `store_graph`) is of an object the
entry holds, or one it goes with: a node's part freed while its entry lives would let a
new part at the same address meet the old entry's errors."""

from __future__ import annotations

import gc
import random

from rolegraph.compiler import identity
from rolegraph.compiler.incremental import CheckSession

from .edit_walks import edit_walk, generated_module


def _watched(table: identity.IdentityTable, key: object) -> set[int]:
    """The identities of the live objects `table`'s entry `key` goes with."""
    found = set()
    for watch in identity._WATCHES.values():
        entries = watch.entries
        if watch() is not None and any(
            entries[i] == table.index and entries[i + 1] == key for i in range(0, len(entries), 2)
        ):
            found.add(watch.ident)
    return found


def test_each_graph_entry_holds_or_goes_with_what_its_key_names() -> None:
    session = CheckSession("gen.agent")
    root = generated_module(4, 12)
    kept = []
    for step, module in enumerate(edit_walk(root, random.Random(5), 30)):
        session.check(module, errors_only=True)
        if step % 3 == 0:
            kept.append(module)  # (some programs stay alive, the rest are let go)
    del module
    gc.collect()
    graphs = session.memo.graphs
    assert graphs
    for key, (held, _) in list(graphs.items()):
        named = {id(item) for item in held} | _watched(graphs, key)
        for item in key[1:]:
            if type(item) is int:
                assert item in named, "an identity the entry neither holds nor goes with"
