"""A candidate's canonical source and fingerprint, printed once while the program lives.

A search asks for both many times of one program object: the trail fingerprints every
program it draws (is it new?), the evaluator fingerprints the candidate again to find
its IR, its runs and its proofs, and the archive stores its source. An AST is never
changed in place, so a program's text is fixed for its life: it is remembered by the
program's identity, weakly (the entry goes with the program), with the program itself
compared on every look-up, so that a new program at a reused address is printed anew.

    fingerprint_of(module) == printer.fingerprint(module)
    source_of(module) == printer.to_source(module)
"""

from __future__ import annotations

import hashlib
import weakref
from functools import partial

from rolegraph.compiler import ast
from rolegraph.compiler.printer import to_source

# id(module) → (the module, weakly, its canonical source, its fingerprint)
_PRINTED: dict[int, tuple[weakref.ref[ast.Module], str, str]] = {}
_PRINTED_MAX = 4096


def _printed(module: ast.Module) -> tuple[str, str]:
    key = id(module)
    known = _PRINTED.get(key)
    if known is not None and known[0]() is module:
        return known[1], known[2]
    source = to_source(module)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()  # (printer.fingerprint's)
    if len(_PRINTED) >= _PRINTED_MAX:
        _PRINTED.clear()
    _PRINTED[key] = (weakref.ref(module, partial(_forget, key)), source, digest)
    return source, digest


def _forget(key: int, gone: object) -> None:
    known = _PRINTED.get(key)
    if known is not None and known[0] is gone:  # (not a newer program at that address)
        _PRINTED.pop(key, None)  # (another thread may have emptied the table since)


def fingerprint_of(module: ast.Module) -> str:
    """`printer.fingerprint(module)`, printed once while `module` lives."""
    return _printed(module)[1]


def source_of(module: ast.Module) -> str:
    """`printer.to_source(module)`, printed once while `module` lives."""
    return _printed(module)[0]
