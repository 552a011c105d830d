"""What a check learned from the file system beyond the `.agent` texts it loaded, noted
for whoever asks (the command line keeps a file's check across processes while each
answer stays the same: rolegraph/cli/kept_checks.py).

A check reads the texts of the modules it imports (`Program.sources`), and it asks
questions whose answers are not in those texts: where a path import and the project's
root lead once their symbolic links are followed (resolve.py), where a Python tool's
module is found and which bytes of Python source it read (pysource.py). Each such
answer is noted here, inside `noting()`; elsewhere `note` does nothing.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

#: A path followed: a path import's target (the path as written, joined to its folder),
#: or the project's root (compiler/resolve.py `project_root`); where it leads.
PATH = "path"
#: A Python module looked for: (its name, the folder looked from; its spec's origin, and
#: whether it is a package).
MODULE = "module"
#: A file of Python source read: (its path; the SHA-256 of the bytes read).
SOURCE = "source"

Read = tuple[str, ...]

_NOTES: contextvars.ContextVar[list[Read] | None] = contextvars.ContextVar(
    "rolegraph_reads", default=None
)


def note(kind: str, *what: str) -> None:
    """Note one answer (`kind`: PATH, MODULE or SOURCE) while `noting()`."""
    notes = _NOTES.get()
    if notes is not None:
        notes.append((kind, *what))


@contextmanager
def noting() -> Iterator[list[Read]]:
    """The answers noted inside this block (this thread or task), in order."""
    notes: list[Read] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)
