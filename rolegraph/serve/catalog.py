"""The agents a folder serves: every `.agent` file in it, checked, with its agents' IRs.

A file is checked again when it changes (its size or modification time; the folder is
looked at again at most every `RESCAN_SECONDS`): editing an agent while the server runs
serves the new version to new runs. A file with errors
serves none of its agents; its diagnostics are kept, for `GET /files` and the web app.
Agents are named by their declared name when only one file declares it, else
`stem.Name` (the file's name without `.agent`, then the agent's).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rolegraph.compiler.diagnostics import Diagnostic, render
from rolegraph.compiler.source import Source

RESCAN_SECONDS = 0.5  # (a scan stats every file: not once per request under load)


@dataclass
class CheckedFile:
    """One `.agent` file as it was last checked."""

    path: Path
    stamp: tuple[int, int]  # (size, mtime_ns) when checked
    text: str
    checked: Any  # CheckedModule, or None when the file does not parse
    diagnostics: list[Diagnostic]
    sources: dict[str, str]
    fingerprint: str = ""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def rendered(self, diagnostic: Diagnostic) -> str:
        return render(diagnostic, Source(diagnostic.file, self.sources.get(diagnostic.file, "")))


@dataclass
class ServedAgent:
    """An agent the server runs: its name in URLs, its file, and its IR."""

    name: str
    file: CheckedFile
    ir: Any  # AgentIR
    constraints: list[Any] = field(default_factory=list)  # ConstraintResult of this agent

    @property
    def source(self) -> tuple[str, str]:
        """(file, fingerprint), as a run records it (the CLI's `rolegraph run` does too)."""
        return str(self.file.path), self.file.fingerprint


def check_file(path: Path, root: Path | None) -> CheckedFile:
    """Parse and check one file, exploring its constraints (their verdicts are drawn)."""
    from rolegraph.compiler.check import check_module
    from rolegraph.compiler.printer import fingerprint
    from rolegraph.grammar import parse_module
    from rolegraph.grammar.encoding import decode_source
    from rolegraph.grammar.imports import parse_import

    stat = path.stat()
    stamp = (stat.st_size, stat.st_mtime_ns)
    text, problem = decode_source(path.read_bytes(), str(path))
    if problem is not None:
        return CheckedFile(path, stamp, text, None, [problem], {str(path): text})
    parsed = parse_module(text, str(path))
    if parsed.module is None:
        return CheckedFile(path, stamp, text, None, list(parsed.diagnostics), {str(path): text})

    checked = check_module(parsed.module, str(path), parse_import, text, root=root)
    return CheckedFile(
        path,
        stamp,
        text,
        checked,
        list(checked.diagnostics),
        dict(checked.program.sources),
        fingerprint(checked.program.main.module),
    )


class Catalog:
    """The `.agent` files of a folder (or one file), checked on first use and whenever
    they change."""

    def __init__(self, target: Path, root: Path | None = None):
        self.target = target
        self.root = root
        self._files: dict[Path, CheckedFile] = {}
        self._agents: dict[str, ServedAgent] = {}
        self._lock = threading.Lock()  # (requests are served on one loop; tests use threads)
        self._scanned = -RESCAN_SECONDS
        self.rescan_seconds = RESCAN_SECONDS

    def paths(self) -> list[Path]:
        if self.target.is_file():
            return [self.target]
        return sorted(p for p in self.target.rglob("*.agent") if _visible(p, self.target))

    def refresh(self, *, now: bool = False) -> None:
        """Check again the files that changed, appeared or went away (`now`: whenever
        the last look was, else only when it was `rescan_seconds` ago)."""
        if not now and time.monotonic() - self._scanned < self.rescan_seconds:
            return
        with self._lock:
            self._scanned = time.monotonic()
            seen: dict[Path, CheckedFile] = {}
            changed = False
            for path in self.paths():
                try:
                    stat = path.stat()
                except OSError:
                    continue
                known = self._files.get(path)
                if known is not None and known.stamp == (stat.st_size, stat.st_mtime_ns):
                    seen[path] = known
                    continue
                try:
                    seen[path] = check_file(path, self.root)
                except OSError:
                    continue
                changed = True
            if changed or set(seen) != set(self._files):
                self._files = seen
                self._agents = _name_agents(seen.values())

    def files(self) -> list[CheckedFile]:
        self.refresh()
        return list(self._files.values())

    def agents(self) -> dict[str, ServedAgent]:
        self.refresh()
        return dict(self._agents)

    def agent(self, name: str) -> ServedAgent | None:
        return self.agents().get(name)


def _visible(path: Path, top: Path) -> bool:
    """Files under hidden folders (`.git`, `.venv`, `.rolegraph`) are not served."""
    return not any(part.startswith(".") for part in path.relative_to(top).parts[:-1])


def _name_agents(files: Any) -> dict[str, ServedAgent]:
    found: list[tuple[str, CheckedFile, Any]] = []
    for file in files:
        if file.checked is None or file.errors:
            continue
        for name, ir in file.checked.irs.items():
            found.append((name, file, ir))
    counts: dict[str, int] = {}
    for name, _file, _ir in found:
        counts[name] = counts.get(name, 0) + 1
    agents: dict[str, ServedAgent] = {}
    for name, file, ir in found:
        key = name if counts[name] == 1 else f"{file.path.stem}.{name}"
        constraints = [c for c in file.checked.constraints if c.agent == name]
        agents[key] = ServedAgent(key, file, ir, constraints)
    return agents
