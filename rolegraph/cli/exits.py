"""How a command ends: its exit codes, usage errors, and stdout kept for its result.

Exit codes: 0 clean, 1 diagnostics (or files that `fmt --check` would change),
2 usage errors (bad options, missing files).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO

import typer

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_USAGE = 0, 1, 2


def usage_error(message: str) -> typer.Exit:
    """Say what is wrong with the command line; raise what this returns."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


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
