"""`run_sync` (runtime/sync.py): a coroutine's result is not formatted on the way out."""

from __future__ import annotations

import asyncio
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
    its result and `run_sync` may go."""
    Counted.formatted = 0
    asyncio.run(make())
    assert Counted.formatted >= 1


def test_an_exception_comes_through():
    async def fail() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        run_sync(fail())
