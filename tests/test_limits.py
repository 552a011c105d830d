"""Concurrency limits per endpoint: shared by every event loop, adaptive to timeouts."""

import asyncio
import threading

from rolegraph.runtime.limits import Gate


def test_a_gate_never_admits_more_than_its_limit():
    gate = Gate(3)
    peak = 0

    async def one() -> None:
        nonlocal peak
        async with gate.slot():
            peak = max(peak, gate.active)
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    async def many() -> None:
        await asyncio.gather(*(one() for _ in range(20)))

    asyncio.run(many())
    assert peak == 3 and gate.active == 0


def test_a_gate_works_on_a_second_event_loop_and_across_threads():
    gate = Gate(1)
    inside = 0
    overlaps: list[int] = []
    lock = threading.Lock()

    async def one() -> None:
        nonlocal inside
        async with gate.slot():
            with lock:
                inside += 1
                overlaps.append(inside)
            await asyncio.sleep(0.001)
            with lock:
                inside -= 1

    async def several() -> None:
        await asyncio.gather(*(one() for _ in range(5)))

    asyncio.run(several())
    asyncio.run(several())  # a new loop: an asyncio.Semaphore would refuse here
    threads = [threading.Thread(target=asyncio.run, args=(several(),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(overlaps) == 25 and max(overlaps) == 1 and gate.active == 0


def test_a_cancelled_waiter_leaves_no_slot_behind():
    gate = Gate(1)

    async def scenario() -> None:
        async with gate.slot():
            waiter = asyncio.ensure_future(gate.slot().__aenter__())
            await asyncio.sleep(0)
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
        async with gate.slot():  # free again
            assert gate.active == 1

    asyncio.run(scenario())
    assert gate.active == 0


def test_timeouts_halve_the_limit_and_answers_raise_it_back():
    gate = Gate(8)
    gate.timed_out()
    assert gate.limit == 4
    gate.timed_out()
    gate.timed_out()
    gate.timed_out()
    assert gate.limit == 1  # never below one
    for _ in range(1 + 2 + 3 + 4 + 5 + 6 + 7):
        gate.answered()
    assert gate.limit == 8  # additive increase, one step per `limit` answers
    gate.answered()
    assert gate.limit == 8  # never above the configured limit
