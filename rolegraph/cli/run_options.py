"""`rolegraph run`'s options as one record: what typer reads (run.py) and what the fast
path reads (fast.py) are made into a `RunOptions`, and running.py takes that.

An option is a field here. Its `flags` are the command-line forms the fast path reads
plainly (fast.py builds its reading of `run` from them); a field without flags (a number
typer converts) sends the command to typer whenever it is given. run.py declares the
same options for typer, by the same names, with their help; tests/test_cli_fast.py holds
the two to each other."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

#: Where runs are cached and checkpointed when `--store` is not given.
DEFAULT_STORE = Path(".rolegraph/store.sqlite")


def _read(*flags: str, kind: str = "value") -> dict[str, Any]:
    """How the fast path reads an option: its forms, and its `kind` (a `flag` is given
    alone, a `value` is followed by its text, a `path` too, `values` may be given
    again)."""
    return {"flags": flags, "kind": kind}


@dataclass(frozen=True)
class RunOptions:
    """What `rolegraph run FILE [AGENT] ...` was asked (a resumed run is asked too: it
    names the run, its file and agent)."""

    file: Path
    agent: str | None = None
    input: str = field(default="{}", metadata=_read("--input", "-i"))
    model: str | None = field(default=None, metadata=_read("--model", "-m"))
    trace: Path | None = field(default=None, metadata=_read("--trace", kind="path"))
    quiet: bool = field(default=False, metadata=_read("--quiet", "-q", kind="flag"))
    events: str | None = field(default=None, metadata=_read("--events"))
    budget: str | None = field(default=None, metadata=_read("--budget"))
    store: Path = field(default=DEFAULT_STORE, metadata=_read("--store", kind="path"))
    no_store: bool = field(default=False, metadata=_read("--no-store", kind="flag"))
    resume: str | None = field(default=None, metadata=_read("--resume"))
    api_base: str | None = field(default=None, metadata=_read("--api-base"))
    param: list[str] | None = field(default=None, metadata=_read("--param", kind="values"))
    timeout: float | None = None
    concurrency: int | None = None
    root: Path | None = field(default=None, metadata=_read("--root", kind="path"))

    @classmethod
    def from_text(cls, file: str, agent: str | None, given: dict[str, Any]) -> RunOptions:
        """The options as the fast path read them (`converted`)."""
        return cls(file=Path(file), agent=agent, **converted(cls, given))


def option_forms() -> dict[str, tuple[str, tuple[str, ...]]]:
    """`run`'s options as the fast path reads them (`forms_of`)."""
    return forms_of(RunOptions)


def forms_of(record: type) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each option of a command's `record` (RunOptions, SearchOptions) by name → how the
    fast path reads it and its forms (a field without them: typer reads it whenever it
    is given)."""
    return {
        f.name: (f.metadata["kind"], f.metadata["flags"])
        for f in fields(record)
        if "kind" in f.metadata
    }


def converted(record: type, given: dict[str, Any]) -> dict[str, Any]:
    """What the fast path read of a command's `record`, converted: `given` maps an
    option's name to the text given (a list of texts for a repeatable one); a `path`
    becomes a `Path`, a `number` an `int`."""
    kinds = {name: kind for name, (kind, _) in forms_of(record).items()}
    made: dict[str, Any] = {}
    for name, text in given.items():
        kind = kinds[name]
        made[name] = Path(text) if kind == "path" else int(text) if kind == "number" else text
    return made
