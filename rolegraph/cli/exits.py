"""How a command ends: its exit codes, usage errors, and stdout kept for its result.

Exit codes: 0 clean, 1 diagnostics (or files that `fmt --check` would change),
2 usage errors (bad options, missing files).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import TextIO

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_USAGE = 0, 1, 2


def usage_error(message: str) -> SystemExit:
    """Say what is wrong with the command line; raise what this returns. (A `SystemExit`,
    not typer's `Exit`: `check` and `run` may run without typer (fast.py); under typer,
    both end the command with their code alike.)"""
    echo(f"error: {message}", err=True)
    return SystemExit(EXIT_USAGE)


def echo(
    message: str = "", *, err: bool = False, nl: bool = True, file: TextIO | None = None
) -> None:
    """Print text as `typer.echo` does (click's `echo`), without importing typer: to
    stdout, stderr (`err`) or `file`, with a newline (`nl`), ANSI codes stripped when the
    stream is not a terminal, flushed. On a stream click would treat otherwise (one that
    is not a text file of the standard kind, or an ASCII one it would re-encode), typer's
    own `echo` prints it."""
    stream = file if file is not None else sys.stderr if err else sys.stdout
    if stream is None:
        return
    if not _plain(stream):
        import typer

        typer.echo(message, file=file, nl=nl, err=err)
        return
    text = message + "\n" if nl else message
    if text:
        if not _isatty(stream):
            text = _ANSI.sub("", text)
        stream.write(text)
    stream.flush()


def _plain(stream: TextIO) -> bool:
    """A stream click's `echo` writes to as it is: a text file on a non-ASCII encoding."""
    import codecs
    import io

    if not isinstance(stream, io.TextIOWrapper) or sys.platform.startswith("win"):
        return False
    try:
        return codecs.lookup(stream.encoding or "ascii").name != "ascii"
    except LookupError:
        return False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except Exception:
        return False


# What click strips when the stream is not a terminal (`click._compat._ansi_re`).
_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


@contextlib.contextmanager
def stdout_for_the_result() -> Iterator[TextIO]:
    """stdout carries a command's result and nothing else: while the command works, what
    libraries print there (litellm's banners, a stray `print` in a tool) goes to stderr.
    Yields the real stdout, for the result."""
    real = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield real
    finally:
        sys.stdout = real


@contextlib.contextmanager
def paused_collection() -> Iterator[None]:
    """The cyclic garbage collector paused for a command's start-up: the imports, the
    parse and the check make tens of thousands of objects that live until the command
    ends, and the collector would walk them again and again (a tenth of `rolegraph
    check`'s CPU, measured in bench/RESULTS.md). Nothing of the user's runs meanwhile;
    the collector is as it was once the block ends."""
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


#: Whether this process is one command run from the command line (`main()`), not a
#: program that calls the commands (the tests, through typer's `CliRunner`); whether
#: its collector is paused until `keep_until_exit`.
_ONE_COMMAND = {"process": False, "paused": False}


def one_command_process() -> None:
    """Say this process runs one command and ends (`main()`: the `rolegraph` script)."""
    _ONE_COMMAND["process"] = True


def pause_until_kept() -> None:
    """In a process that runs one command, the collector paused from here until
    `keep_until_exit`, which freezes what was made before the collector resumes. Else
    start-up's objects, made with the collector paused (`paused_collection`), would all
    be walked by the first collection after each pause (a tenth of a run's CPU), only to
    be frozen after. For `check` (nothing of the user's runs: until the command ends)
    and `run` (until just before the agent runs: running.py), as fast.py reads them."""
    import gc

    if _ONE_COMMAND["process"] and gc.isenabled():
        gc.disable()
        _ONE_COMMAND["paused"] = True


def keep_until_exit() -> None:
    """The objects made so far live until the process ends: the collector is to walk them
    no more (`gc.freeze`), neither in the collections while an agent runs nor in the one
    Python makes at exit, which walks every object left: a sixth of `rolegraph check`'s
    CPU, a fifth of a run's on the mock (bench/RESULTS.md, "startup"). Objects made later
    (a run's, its tools') are collected as always. Only in a process that runs one command
    (`one_command_process`): a program that calls the commands keeps its collector as
    it was."""
    if _ONE_COMMAND["process"]:
        import gc

        gc.freeze()
        if _ONE_COMMAND["paused"]:  # (`pause_until_kept`: the collector resumes now)
            _ONE_COMMAND["paused"] = False
            gc.enable()


def end_pause() -> None:
    """The collector on again if `pause_until_kept` paused it and the command ended
    before `keep_until_exit` (a usage error of `run`): a program whose `__main__` called
    `main()` and goes on must not go on without it."""
    if _ONE_COMMAND["paused"]:
        import gc

        _ONE_COMMAND["paused"] = False
        gc.enable()
