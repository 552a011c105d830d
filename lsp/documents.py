"""The open documents: the text the editor holds, and the analyses made of it.

`latest` is the analysis of the most recent text analysed (it may not parse); `good` is
the last one that parsed, which answers hover, definition and completion while the user
is in the middle of typing. `view()` pairs it with the offset map from its text to the
text the editor holds now.
"""

from __future__ import annotations

from pathlib import Path

from .analysis import Analysis
from .incremental import IncrementalParser
from .positions import LineIndex, OffsetMap


class Document:
    def __init__(self, uri: str, filename: str, text: str, version: int | None):
        self.uri = uri
        self.filename = filename
        self.text = text
        self.version = version
        self.parser = IncrementalParser(filename)
        self.latest: Analysis | None = None
        self.good: Analysis | None = None
        self.published: set[str] = set()  # the files this document published diagnostics for
        self._lines: dict[str, LineIndex] = {}
        self._map: OffsetMap | None = None

    def update(self, text: str, version: int | None) -> None:
        self.text = text
        self.version = version
        self._lines = {}
        self._map = None

    def accept(self, analysis: Analysis) -> None:
        self.latest = analysis
        if analysis.parsed:
            self.good = analysis
            self._map = None

    @property
    def current(self) -> Analysis | None:
        """The analysis of exactly the text the editor holds, if there is one yet."""
        latest = self.latest
        return latest if latest is not None and latest.text == self.text else None

    def lines(self, encoding: str) -> LineIndex:
        if encoding not in self._lines:
            self._lines[encoding] = LineIndex(self.text, encoding)
        return self._lines[encoding]

    def view(self) -> tuple[Analysis, OffsetMap] | None:
        good = self.good
        if good is None:
            return None
        if self._map is None or self._map.old is not good.text or self._map.new is not self.text:
            self._map = OffsetMap(good.text, self.text)
        return good, self._map

    def imports(self, filename: str) -> bool:
        """Whether this document's program reads `filename` (an imported file)."""
        checked = self.good.checked if self.good is not None else None
        if checked is None:
            return False
        wanted = str(Path(filename).resolve())
        return any(
            module.filename == wanted or str(Path(module.filename).resolve()) == wanted
            for module in checked.program.modules.values()
            if module is not checked.program.main
        )
