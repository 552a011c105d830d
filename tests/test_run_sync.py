"""`run_sync` (runtime/sync.py): a coroutine's result is not formatted on the way out."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from rolegraph.runtime.sync import run_sync


class Counted:
    """A result that counts how often it is formatted."""

    formatted = 0

    def __repr__(self) -> str:
        Counted.formatted += 1
        return "Counted()"


async def make() -> Counted:
    await asyncio.sleep(0)
    return Counted()


def test_the_result_is_returned_and_never_formatted():
    Counted.formatted = 0
    result = run_sync(make())
    assert isinstance(result, Counted)
    assert Counted.formatted == 0


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the quirk is Python 3.11's")
def test_asyncio_run_formats_the_result_on_3_11():
    """The reason for `run_sync`: if this starts failing, `asyncio.run` no longer formats
    its result and `run_sync` may go. It does so only where SIGINT has Python's default
    handler, which a process started in the background by a shell does not have (its
    SIGINT is ignored, so this test failed there): the handler is set for the test."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        Counted.formatted = 0
        asyncio.run(make())
    finally:
        signal.signal(signal.SIGINT, before)
    assert Counted.formatted >= 1


def test_run_sync_never_formats_the_result_whatever_sigint_does():
    """With SIGINT ignored (a process a shell started in the background), as with the
    default handler: the result is not formatted."""
    for handler in (signal.SIG_IGN, signal.default_int_handler):
        before = signal.signal(signal.SIGINT, handler)
        try:
            Counted.formatted = 0
            assert isinstance(run_sync(make()), Counted)
        finally:
            signal.signal(signal.SIGINT, before)
        assert Counted.formatted == 0


def test_an_exception_comes_through():
    async def fail() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        run_sync(fail())
