"""The lexer's compiled patterns, kept across processes beside Lark's own cache.

Lark's contextual lexer compiles one regular expression per set of terminals that a
parser state accepts, on first use: ~55 for a small file, a tenth of the start-up of
`rolegraph check` spent in Python's regular-expression compiler. A compiled pattern
cannot be saved (pickling one compiles it again), but what the compiler hands to
`_sre.compile` (a list of ints, the group names) can: it is kept in a JSON file keyed by
the interpreter, and a later process passes it straight to `_sre`. Whatever goes wrong
(another interpreter, a damaged or unwritable file) falls back to `re.compile`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from rolegraph.compiler.cache_files import open_kept, write_atomically

try:  # CPython's regular-expression internals (3.11 to 3.13 alike)
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another interpreter
    _sre = None  # type: ignore[assignment]


class PatternCache:
    """Stands in for the `re` module in Lark's lexers (`compile`, `match`, `error`)."""

    error = re.error

    def __init__(self, path: str | None):
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        # Each pattern made once a process: building a state's lexer matches each string
        # terminal against each pattern terminal (`re.match`), the same ~60 patterns
        # ~1,700 times for a small file (~3 ms of `check`). (A pattern does not change.)
        self.compiled: dict[str, re.Pattern] = {}
        self.added = False
        if path is not None and _sre is not None:
            try:
                with open_kept(path) as file:
                    loaded = json.load(file)
                if isinstance(loaded, dict):
                    self.entries = loaded
            except (OSError, ValueError):
                pass

    def compile(self, pattern: Any, flags: int = 0) -> re.Pattern:
        if _sre is None or not isinstance(pattern, str):
            return re.compile(pattern, flags)
        key = f"{flags}:{pattern}"
        made = self.compiled.get(key)
        if made is not None:
            return made
        try:
            entry = self.entries.get(key)
            if entry is None:
                entry = self.entries[key] = _compiled_form(pattern, flags)
                self.added = True
            flags_, code, groups, groupindex, indexgroup = entry
            compiled = _sre.compile(pattern, flags_, code, groups, groupindex, tuple(indexgroup))
            if compiled.pattern == pattern:
                self.compiled[key] = compiled
                return compiled
        except Exception:  # a damaged entry: compile as Python does
            pass
        self.entries.pop(key, None)
        return re.compile(pattern, flags)

    def match(self, pattern: str, string: str, flags: int = 0) -> re.Match | None:
        return self.compile(pattern, flags).match(string)

    def save(self) -> None:
        """Write the patterns compiled since the file was read (atomically; a failure to
        write costs only the next process's time)."""
        if not self.added or self.path is None:
            return
        self.added = False
        entries = dict(self.entries)  # (a copy: another thread's parse may add to them)
        write_atomically(self.path, lambda file: file.write(json.dumps(entries).encode()))


def _compiled_form(pattern: str, flags: int) -> list[Any]:
    """What `re._compiler.compile` passes to `_sre.compile`, as JSON can hold it."""
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return [flags | parsed.state.flags, list(code), parsed.state.groups - 1, groupindex, indexgroup]


def cache_file(grammar_cache: str | bool) -> str | None:
    """The patterns' file beside Lark's cache file, for this interpreter."""
    if not isinstance(grammar_cache, str):
        return None
    tag = f"{sys.implementation.cache_tag}-sre{getattr(_sre, 'MAGIC', 0)}"
    return f"{grammar_cache}.patterns-{tag}.json"
