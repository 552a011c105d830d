"""`rolegraph search`'s options as one record: what typer reads (search.py) and what the
fast path reads (fast.py) are made into a `SearchOptions`, and searching.py takes that.

An option is a field here, as in run_options.py: its `flags` are the forms the fast path
reads plainly, its `kind` how (run_options.py `_read`; a `number` is a whole number
written in digits alone, which typer would read as the same `int`; any other text, a
sign included, goes to typer, whose message says what is wrong). A field without flags
(`--timeout`, a decimal number) sends the command to typer whenever it is given.
search.py declares the same options for typer, by the same names, with their help;
tests/test_cli_fast.py holds the two to each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .run_options import _read, converted, forms_of

#: The search's store when `--store` is not given.
SEARCH_STORE = Path(".rolegraph/search.sqlite")


@dataclass(frozen=True)
class SearchOptions:
    """What `rolegraph search FILE [AGENT] ...` was asked."""

    file: Path
    agent: str | None = None
    data: Path | None = field(default=None, metadata=_read("--data", "-d", kind="path"))
    score: str = field(default="exact", metadata=_read("--score"))
    evaluations: int = field(default=20, metadata=_read("--evaluations", "-n", kind="number"))
    seeds: int = field(default=1, metadata=_read("--seeds", kind="number"))
    seed: int = field(default=0, metadata=_read("--seed", kind="number"))
    cost: str = field(default="tokens", metadata=_read("--cost"))
    model: str = field(default="mock", metadata=_read("--model", "-m"))
    store: Path = field(default=SEARCH_STORE, metadata=_read("--store", kind="path"))
    output: Path | None = field(default=None, metadata=_read("--output", "-o", kind="path"))
    optimizer: str = field(default="random", metadata=_read("--optimizer"))
    proposer: str = field(default="mock", metadata=_read("--proposer"))
    proposal: str = field(default="structured", metadata=_read("--proposal"))
    plot: Path | None = field(default=None, metadata=_read("--plot", kind="path"))
    backend: str = field(default="local", metadata=_read("--backend"))
    quiet: bool = field(default=False, metadata=_read("--quiet", "-q", kind="flag"))
    verbose: bool = field(default=False, metadata=_read("--verbose", "-v", kind="flag"))
    api_base: str | None = field(default=None, metadata=_read("--api-base"))
    param: list[str] | None = field(default=None, metadata=_read("--param", kind="values"))
    timeout: float | None = None
    concurrency: int | None = field(default=None, metadata=_read("--concurrency", kind="number"))
    allow_tool: list[str] | None = field(
        default=None, metadata=_read("--allow-tool", kind="values")
    )
    allow_import: list[str] | None = field(
        default=None, metadata=_read("--allow-import", kind="values")
    )
    root: Path | None = field(default=None, metadata=_read("--root", kind="path"))
    held_out: Path | None = field(default=None, metadata=_read("--held-out", kind="path"))
    budget: str | None = field(default=None, metadata=_read("--budget"))

    @classmethod
    def from_text(cls, file: str, agent: str | None, given: dict[str, Any]) -> SearchOptions:
        """The options as the fast path read them (run_options.py `converted`)."""
        return cls(file=Path(file), agent=agent, **converted(cls, given))


def option_forms() -> dict[str, tuple[str, tuple[str, ...]]]:
    """`search`'s options as the fast path reads them (run_options.py `forms_of`)."""
    return forms_of(SearchOptions)
