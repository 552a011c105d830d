"""One text of a document, parsed and checked, and what the features read from it.

An `Analysis` holds the text it was made from, the parse, the checker's result and its
diagnostics. A text that does not parse has no module; the document then answers
hover, definition and completion from its last analysis that parsed (`Document.good`),
mapping offsets between the two texts (`positions.OffsetMap`).
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from rolegraph.compiler import ast
from rolegraph.compiler.check import CheckedModule, check_module
from rolegraph.compiler.diagnostics import Diagnostic
from rolegraph.compiler.paths import ConstraintResult
from rolegraph.compiler.printer import to_source
from rolegraph.grammar.imports import parse_import

from .incremental import IncrementalParser
from .index import ConstraintSite, Index, build_index, constraint_sites
from .positions import LineIndex
from .tokens import Tokens


@dataclass
class Analysis:
    filename: str
    text: str
    version: int | None
    module: ast.Module | None
    checked: CheckedModule | None
    diagnostics: tuple[Diagnostic, ...]
    seconds: float = 0.0  # how long the parse and the check took
    _lines: dict[str, LineIndex] = field(default_factory=dict, repr=False)
    _index: Index | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def parsed(self) -> bool:
        return self.module is not None

    @cached_property
    def tokens(self) -> Tokens:
        return Tokens(self.text)

    @property
    def index(self) -> Index:
        """Definitions and references; empty without a parse and a resolved program.
        Built on first use (by whichever thread asks first), not with the diagnostics:
        a keystroke's diagnostics do not wait for it, the first hover after it does."""
        with self._lock:
            if self._index is None:
                if self.module is None or self.checked is None:
                    self._index = Index()
                else:
                    self._index = build_index(self.module, self.checked.program, self.tokens)
            return self._index

    def verdicts(self) -> list[tuple[ConstraintSite, ConstraintResult]]:
        """Each constraint of the document with the checker's verdict (agents whose
        graph was not explored, after an error, have none)."""
        if self.checked is None:
            return []
        results: dict[str, list[ConstraintResult]] = {}
        for result in self.checked.constraints:
            results.setdefault(result.agent, []).append(result)
        paired = []
        for site in constraint_sites(self.module) if self.module is not None else []:
            mine = results.get(site.agent, [])
            # (a pattern's expansion could add constraints: pair by text, to be sure)
            if site.index < len(mine) and mine[site.index].text == to_source(site.node.formula):
                paired.append((site, mine[site.index]))
        return paired

    def lines(self, encoding: str) -> LineIndex:
        if encoding not in self._lines:
            self._lines[encoding] = LineIndex(self.text, encoding)
        return self._lines[encoding]

    def source_of(self, file: str) -> str:
        """The text of a file of the program (the document's own, or an imported one)."""
        if file == self.filename:
            return self.text
        if self.checked is not None and file in self.checked.program.sources:
            return self.checked.program.sources[file]
        try:
            return Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError):
            return ""


def analyse(
    text: str,
    filename: str,
    parser: IncrementalParser,
    *,
    version: int | None = None,
    root: str | Path | None = None,
) -> Analysis:
    """Parse (incrementally) and check `text`: what `rolegraph check` reports for it."""
    began = time.perf_counter()
    parsed = parser.parse(text)
    if parsed.module is None:
        return Analysis(
            filename,
            text,
            version,
            None,
            None,
            tuple(parsed.diagnostics),
            time.perf_counter() - began,
        )
    collecting = gc.isenabled()
    gc.disable()  # as the parser does: a check makes many short-lived objects, no cycles
    try:
        checked = check_module(parsed.module, filename, parse_import, text, root=root)
    finally:
        if collecting:
            gc.enable()
    return Analysis(
        filename,
        text,
        version,
        parsed.module,
        checked,
        tuple(checked.diagnostics),
        time.perf_counter() - began,
    )
