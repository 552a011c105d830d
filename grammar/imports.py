"""The parser the checker loads imported modules with (`compiler/resolve.py` takes it
as its `parse` argument, so the compiler never imports the front end itself).

Every entry point that checks a program (the library, the CLI, the server, the
language server, the search) passes this one function. Imported modules are parsed
once per text: the language server checks the whole program at every keystroke, and a
search checks thousands of candidates that import the same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rolegraph.compiler import ast
from rolegraph.compiler.diagnostics import Diagnostic

from .parser import parse_module


@lru_cache(maxsize=256)
def parse_import(source: str, name: str) -> tuple[ast.Module | None, Sequence[Diagnostic]]:
    """`source` (the text of the module imported as file `name`) parsed: the module, or
    None, and the diagnostics (a tuple: the result is shared by every caller)."""
    result = parse_module(source, name)
    return result.module, tuple(result.diagnostics)
