"""Cache files written whole or not at all: Lark's parser, the lexer's patterns and the
AST's schemas (grammar/lexer.py, grammar/patterns.py, compiler/kept_schemas.py)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from typing import IO


def write_atomically(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write `path` by `write` into a new file beside it, then rename that over `path`: a
    reader sees the old file or the new, never part of one. Whatever fails (an unwritable
    folder, a full disk, an object that cannot be written) leaves `path` as it was and no
    file behind; a cache that is not written costs only the next process's time."""
    try:
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except Exception:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
