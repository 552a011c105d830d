"""`rolegraph check`, `run` and `search`, given plainly, without typer (issue 15).

Importing typer, building a command's click options and typer's pydantic adapters for
them cost more than the check itself. The commands a user runs most are read here
from `sys.argv` directly, when their arguments take only the plain forms listed below;
anything else (`--help`, a usage error, `--opt=value` for a flag, short options run
together, `--`, an option given twice, a value that starts with `-` or is empty, the
options whose values typer converts to numbers, but for whole numbers written in digits
alone, a shell-completion request) goes to typer, unchanged, so every help and usage
message is typer's own. What the command then does is the same code either way
(checking.py, running.py, searching.py); tests/test_cli_fast.py compares both ways byte
for byte.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn


@dataclass(frozen=True)
class _Form:
    """The plain forms of a command's arguments: its flags, its options that take one
    value (`repeated`: that may be given again, each adding one; `numbers`: whose value
    is a whole number in digits alone), by the name the command's function takes, and how
    many positional arguments it takes."""

    flags: dict[str, str]
    values: dict[str, str]
    least: int
    most: int | None
    repeated: frozenset[str] = field(default=frozenset())
    numbers: frozenset[str] = field(default=frozenset())


_DIGITS = re.compile(r"[0-9]+")


def _whole_number(text: str) -> bool:
    """Whether `text` is a whole number in digits alone that `int` converts (no more
    digits than `sys.get_int_max_str_digits` allows, 0: any): else typer refuses it."""
    most = sys.get_int_max_str_digits()
    return _DIGITS.fullmatch(text) is not None and (not most or len(text) <= most)


_CHECK = _Form(
    flags={"--json": "as_json", "--strict": "strict", "--cost": "cost", "--connect": "connect"},
    values={"--root": "root"},
    least=1,
    most=None,
)


def _run_form() -> _Form:
    """`run`'s plain forms, from its options' record."""
    from .run_options import option_forms

    return _form_of(option_forms(), most=2)


def _search_form() -> _Form:
    """`search`'s plain forms, from its options' record."""
    from .search_options import option_forms

    return _form_of(option_forms(), most=2)


def _form_of(forms: dict[str, tuple[str, tuple[str, ...]]], most: int) -> _Form:
    """The plain forms of a command with one or two positional arguments, from its
    options' record: a flag for each yes-or-no option, a value for each other, repeated
    for those that take a list, digits alone for the whole numbers."""
    flags: dict[str, str] = {}
    values: dict[str, str] = {}
    for name, (kind, given) in forms.items():
        for form in given:
            (flags if kind == "flag" else values)[form] = name
    repeated = frozenset(name for name, (kind, _) in forms.items() if kind == "values")
    numbers = frozenset(name for name, (kind, _) in forms.items() if kind == "number")
    return _Form(flags, values, least=1, most=most, repeated=repeated, numbers=numbers)


def read_arguments(form: _Form, args: list[str]) -> tuple[list[str], dict[str, Any]] | None:
    """The positional arguments and the options (name → True, a value, or a list of
    values), when `args` take only plain forms; else None (typer reads them)."""
    positional: list[str] = []
    options: dict[str, Any] = {}
    rest = iter(args)
    for token in rest:
        if not token:
            return None
        if token == "-" or not token.startswith("-"):
            positional.append(token)
            continue
        name, equals, value = token.partition("=")
        given: Any
        if name in form.flags and not equals:
            key, given = form.flags[name], True
        elif name in form.values and (not equals or name.startswith("--")):
            # (`-i=x` gives click the value "=x": not a plain form)
            given = value if equals else next(rest, "")
            if not given or given.startswith("-"):
                return None
            key = form.values[name]
            if key in form.numbers and not _whole_number(given):
                return None  # (a sign, a space, `1_000`: typer reads, or refuses, it)
        else:
            return None
        if key in form.repeated:
            options.setdefault(key, []).append(given)
        elif key in options:
            return None
        else:
            options[key] = given
    if len(positional) < form.least or (form.most is not None and len(positional) > form.most):
        return None
    return positional, options


def _check(args: list[str]) -> Callable[[], object] | None:
    read = read_arguments(_CHECK, args)
    if read is None:
        return None
    files, options = read

    def check() -> NoReturn:
        from .checking import check_files

        root = options.get("root")
        check_files(
            [Path(f) for f in files],
            as_json="as_json" in options,
            strict="strict" in options,
            cost="cost" in options,
            root=None if root is None else Path(root),
            connect="connect" in options,
        )

    return check


def _run(args: list[str]) -> Callable[[], object] | None:
    read = read_arguments(_run_form(), args)
    if read is None:
        return None
    (file, *agent), options = read

    def run() -> None:
        from .run_options import RunOptions
        from .running import run_file_command

        run_file_command(RunOptions.from_text(file, agent[0] if agent else None, options))

    return run


def _search(args: list[str]) -> Callable[[], object] | None:
    read = read_arguments(_search_form(), args)
    if read is None:
        return None
    (file, *agent), options = read

    def search() -> None:
        from .search_options import SearchOptions
        from .searching import search_file_command

        search_file_command(SearchOptions.from_text(file, agent[0] if agent else None, options))

    return search


_COMMANDS = {"check": _check, "run": _run, "search": _search}


def run_fast(argv: list[str]) -> bool:
    """Run `check`, `run` or `search` when `argv` (without the program) gives it plainly, ending as
    typer would end it (`SystemExit`); False when typer is to read `argv`."""
    if not argv or argv[0] not in _COMMANDS or os.name == "nt":
        return False
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ):
        return False  # (a shell-completion request: typer answers it)
    command = _COMMANDS[argv[0]](argv[1:])
    if command is None:
        return False
    if "--connect" not in argv:  # (`check --connect` starts the MCP servers)
        from .exits import pause_until_kept

        pause_until_kept()
    try:
        command()
    except KeyboardInterrupt:
        sys.exit(130)
    except EOFError:
        from .exits import echo

        echo(err=True)
        _aborted()
    except OSError as error:
        if error.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
        sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
        sys.exit(1)
    except Exception as error:
        _click_ending(error)
        raise
    sys.exit(0)


def _click_ending(error: Exception) -> None:
    """End as typer ends on one of click's exceptions that code the command calls may
    raise (it then imported typer); return on any other."""
    if "typer" not in sys.modules:
        return
    from typer._click.exceptions import ClickException
    from typer.exceptions import Abort, Exit

    if isinstance(error, Exit):
        sys.exit(error.exit_code)
    if isinstance(error, ClickException):
        from typer.core import DEFAULT_MARKUP_MODE, HAS_RICH

        if HAS_RICH and DEFAULT_MARKUP_MODE is not None:
            from typer import rich_utils

            rich_utils.rich_format_error(error)
        else:
            error.show()
        sys.exit(error.exit_code)
    if isinstance(error, Abort):
        _aborted()


def _aborted() -> NoReturn:
    from typer.core import DEFAULT_MARKUP_MODE, HAS_RICH

    if HAS_RICH and DEFAULT_MARKUP_MODE is not None:
        from typer import rich_utils

        rich_utils.rich_abort_error()
    else:
        from .exits import echo

        echo("Aborted!", err=True)
    sys.exit(1)
