"""The files a command reads and writes: `.agent` sources (checked for the command, their
errors ending it), output paths refused before the work starts, and stores."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exits import EXIT_DIAGNOSTICS, echo, paused_collection, usage_error
from .render import print_diagnostics, print_in_sources, source_of

if TYPE_CHECKING:
    from rolegraph.compiler.diagnostics import Diagnostic


def read_source(path: Path) -> tuple[str, Diagnostic | None]:
    """A file's text ('-': stdin), with the E0114 diagnostic when it is not UTF-8 text;
    a missing, unreadable or folder path is a usage error."""
    from rolegraph.grammar.encoding import decode_source

    if str(path) == "-":
        return decode_source(sys.stdin.buffer.read(), "-")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise usage_error(f"no such file: {path}") from None
    except IsADirectoryError:
        raise usage_error(f"{path} is a directory") from None
    except OSError as error:
        raise usage_error(f"cannot read {path}: {error.strerror}") from None
    return decode_source(data, str(path))


def read(path: Path) -> str:
    """A file's text; one that is not UTF-8 text ends the command with its diagnostic."""
    text, problem = read_source(path)
    if problem is not None:
        print_diagnostics((problem,), source_of(problem.file, text))
        raise SystemExit(EXIT_DIAGNOSTICS)
    return text


def agent_files(paths: list[Path]) -> list[Path]:
    """The files named, and the `.agent` files under the folders named, in order."""
    files: list[Path] = []
    for path in paths:
        if str(path) == "-":
            files.append(path)
        elif path.is_dir():
            files.extend(sorted(path.rglob("*.agent")))
        elif path.exists():
            files.append(path)
        else:
            raise usage_error(f"no such file or directory: {path}")
    return files


def check_file(
    path: Path,
    *,
    explore: bool = True,
    root: Path | None = None,
    keep: bool = False,
    keep_parse: bool = False,
) -> Any:
    """Parse and check one file: (CheckedModule or None, diagnostics, sources by file).
    `keep`: a clean check is a `KeptCheck`, loaded when an earlier process kept it and
    it still holds, else kept for the next (kept_checks.py). `keep_parse`: the file's
    clean parse likewise, loaded or kept (kept_parse.py), and the module checked."""
    with paused_collection():
        if keep:
            from .kept_checks import load

            found = load(path, explore=explore, root=root)
            if found is not None:
                return found, found.diagnostics, found.sources
        return _check_file(path, explore=explore, root=root, keep=keep, keep_parse=keep_parse)


def _check_file(
    path: Path, *, explore: bool, root: Path | None, keep: bool, keep_parse: bool = False
) -> Any:
    from rolegraph.compiler.check import check_module
    from rolegraph.compiler.reads import noting
    from rolegraph.grammar.imports import parse_import

    text, problem = read_source(path)
    if problem is not None:
        return None, [problem], {str(path): text}
    with noting() as noted:
        module, diagnostics = _parsed(path, text, keep_parse)
        if module is None:
            return None, diagnostics, {str(path): text}
        checked = check_module(module, str(path), parse_import, text, explore=explore, root=root)
    if not keep or checked.errors:
        return checked, checked.diagnostics, checked.program.sources
    from .kept_checks import kept, save

    made = kept(checked)
    save(path, explore=explore, root=root, checked=made, noted=noted)
    return made, made.diagnostics, made.sources


def _parsed(path: Path, text: str, keep: bool) -> tuple[Any, list[Any]]:
    """The module `text` (read from `path`) parses to, or None and the syntax errors;
    `keep`: loaded from a former process's parse, or kept for the next (kept_parse.py)."""
    from rolegraph.grammar import parse_module

    if keep:
        from . import kept_parse

        module = kept_parse.load(path, text)
        if module is not None:
            # (the parser too, as a parse would have loaded it: a search's edits parse
            # fragments, and what start-up loads is kept out of the collector's way)
            from rolegraph.grammar.lexer import grammar_parser

            grammar_parser()
            return module, []
    result = parse_module(text, str(path))
    if keep and result.module is not None:
        kept_parse.save(path, text, result.module)
    return result.module, list(result.diagnostics)


def checked_or_exit(
    path: Path, root: Path | None = None, *, keep: bool = False, keep_parse: bool = False
) -> Any:
    """A file checked for running (no exploration): its errors end the command. `keep`,
    `keep_parse`: as `check_file`'s."""
    checked, diagnostics, sources = check_file(
        path, explore=False, root=root, keep=keep, keep_parse=keep_parse
    )
    errors = [d for d in diagnostics if d.is_error]
    if checked is None or errors:
        print_in_sources(errors, sources)
        raise SystemExit(EXIT_DIAGNOSTICS)
    return checked


def check_output(path: Path | None, option: str, *, folder: bool = False) -> None:
    """Refuse, as a usage error, an output path that cannot be written — before the work
    starts, so a typo never throws away a finished run or search. A file goes into a
    folder that exists (and is not itself a folder); a `folder` output may be made, but
    not where a file is."""
    if path is None or str(path) == "-":
        return
    if folder:
        if path.exists() and not path.is_dir():
            raise usage_error(f"{option} {path} is a file: give a folder (made if missing)")
        existing = next(p for p in (path, *path.parents) if p.exists())
        if not existing.is_dir():
            raise usage_error(f"{option} {path}: {existing} is a file, not a folder")
    else:
        if path.is_dir():
            raise usage_error(f"{option} {path} is a folder: give a file name")
        existing = path.parent
        if not existing.is_dir():
            what = "a file, not a folder" if existing.exists() else "missing"
            raise usage_error(f"{option} {path}: there is no folder {existing} ({what})")
    if not os.access(existing, os.W_OK):
        raise usage_error(f"{option} {path}: {existing} is not writable")


def write_output(path: Path, text: str) -> None:
    """Write a command's output file; a failure now (a full disk) is one line, exit 1."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        echo(f"error: cannot write {path}: {error.strerror or error}", err=True)
        raise SystemExit(EXIT_DIAGNOSTICS) from None


def open_store(kind: Any, path: Path) -> Any:
    """A SQLite store, or a usage error saying why it cannot be opened there."""
    from rolegraph.runtime import StoreError

    try:
        return kind(path)
    except OSError as error:
        raise usage_error(f"cannot open the store {path}: {error.strerror or error}") from None
    except StoreError as error:  # (damaged before anything ran: the option must change)
        raise usage_error(f"cannot open the store {path}: {error.reason}") from None
