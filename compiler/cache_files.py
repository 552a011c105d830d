"""The folder of rolegraph's caches across processes, and cache files written whole or
not at all: Lark's parser, the lexer's patterns, the AST's schemas and the command line's
kept checks (grammar/lexer.py, grammar/patterns.py, compiler/kept_schemas.py,
rolegraph/cli/kept_checks.py, rolegraph/cli/kept_parse.py), each read only where it may
be trusted (`open_kept`)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from typing import IO


def write_atomically(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write `path` by `write` into a new file beside it, then rename that over `path`: a
    reader sees the old file or the new, never part of one. Whatever fails (an unwritable
    folder, a full disk, an object that cannot be written) leaves `path` as it was and no
    file behind; a cache that is not written costs only the next process's time."""
    import tempfile

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


def open_kept(path: str) -> IO[bytes]:
    """A cache file `path`, opened to read, where it may be trusted: a plain file (not a
    pipe, which would wait for a writer, nor a device) that this user owns and no one
    else may write to. Raises `OSError` otherwise, as for a missing file: a cache not
    read costs only this process's time. Never waits."""
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    file = os.fdopen(handle, "rb")
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"{path} is not a plain file")
        if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise OSError(f"others may write to {path}")
        if hasattr(os, "getuid") and status.st_uid != os.getuid():
            raise OSError(f"{path} is another user's")
    except BaseException:
        file.close()
        raise
    return file


def cache_folder() -> str | None:
    """The folder of this user's caches: `$XDG_CACHE_HOME/rolegraph` (else
    `~/.cache/rolegraph`), made if missing, else a folder of this user's own in the temp
    folder; None when neither can be used. Its cache files are pickles, which run code
    when loaded, so a folder others may write to (a shared `XDG_CACHE_HOME`, one another
    user made, one a group may write to) is not used."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "rolegraph")
    if _usable(folder):
        return folder
    import tempfile

    user = os.getuid() if hasattr(os, "getuid") else ""  # (elsewhere: a temp folder per user)
    folder = os.path.join(tempfile.gettempdir(), f"rolegraph-{user}")  # (made for this user)
    return folder if _usable(folder) else None


def _usable(folder: str) -> bool:
    """Whether `folder` is (or now is, made) a folder only this user may write in."""
    with contextlib.suppress(OSError):
        os.makedirs(folder, mode=0o700, exist_ok=True)
        return _private(folder)
    return False


def _private(folder: str) -> bool:
    """Whether only this user may write in `folder`."""
    if not os.access(folder, os.W_OK):
        return False
    if not hasattr(os, "getuid"):
        return True
    mode = os.stat(folder)
    return mode.st_uid == os.getuid() and not mode.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
