"""Trivial node bodies shared by the rolegraph and LangGraph sides of bench_runtime."""

from __future__ import annotations

import asyncio

try:
    from rolegraph import nonblocking
except ImportError:  # (a baseline tree from before `@nonblocking`: run them in threads)

    def nonblocking(function):  # type: ignore[no-redef]
        return function


def step(value: int) -> int:
    return value + 1


def total(values: list) -> int:
    return sum(values)


@nonblocking
def nstep(value: int) -> int:
    """`step`, marked non-blocking: rolegraph calls it on the loop, inline."""
    return value + 1


@nonblocking
def ntotal(values: list) -> int:
    return sum(values)


async def astep(value: int) -> int:
    """`step` as a coroutine function: rolegraph runs it on the event loop, where a
    plain function runs in a worker thread."""
    return value + 1


async def atotal(values: list) -> int:
    return sum(values)


async def sleep10(value: int) -> int:
    await asyncio.sleep(0.010)
    return value + 1


async def sleep30(value: int) -> int:
    await asyncio.sleep(0.030)
    return value + 1
