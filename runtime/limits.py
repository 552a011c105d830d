"""Concurrency limits per model endpoint, shared by every event loop of the process.

An `asyncio.Semaphore` belongs to the loop that first waits on it, so a model object
shared across `asyncio.run` calls (a search evaluates many runs, a notebook runs many
agents) fails on the second loop. A `Gate` keeps its count under a thread lock and
wakes each waiter on the waiter's own loop.

The limit adapts (additive increase, multiplicative decrease): a call that times out
halves it — a single-slot server queueing eight requests times them all out otherwise —
and each run of `limit` calls that answered in time raises it by one, up to the
configured limit.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Gate:
    def __init__(self, limit: int):
        self.configured = max(1, limit)
        self.limit = self.configured
        self.active = 0
        self._lock = threading.Lock()
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        self._successes = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self._acquire()
        try:
            yield
        finally:
            self._release()

    def configure(self, limit: int) -> None:
        """A new configured limit (the latest caller's word holds)."""
        with self._lock:
            self.configured = max(1, limit)
            self.limit = self.configured
        self._wake()

    def timed_out(self) -> None:
        with self._lock:
            self.limit = max(1, self.limit // 2)
            self._successes = 0

    def answered(self) -> None:
        with self._lock:
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.configured:
                self.limit += 1
                self._successes = 0
        self._wake()

    async def _acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.active < self.limit and not self._waiters:
                self.active += 1
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, future))
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                granted = future.done() and not future.cancelled()
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))
            if granted:
                self._release()
            raise

    def _release(self) -> None:
        with self._lock:
            self.active -= 1
        self._wake()

    def _wake(self) -> None:
        """Hand free slots to waiters, each on its own loop."""
        while True:
            with self._lock:
                if not self._waiters or self.active >= self.limit:
                    return
                loop, future = self._waiters.popleft()
                if future.done() or loop.is_closed():
                    continue
                self.active += 1
            try:
                loop.call_soon_threadsafe(self._grant, future)
            except RuntimeError:  # the loop closed meanwhile
                self._release()

    def _grant(self, future: asyncio.Future[None]) -> None:
        if future.done():  # cancelled before the slot arrived: give it back
            self._release()
        else:
            future.set_result(None)


_gates: dict[tuple[str, str], Gate] = {}
_gates_lock = threading.Lock()


def gate(model: str, endpoint: str, limit: int) -> Gate:
    """The gate of a model at an endpoint (its `api_base`, or "" for the provider's own)."""
    key = (model, endpoint)
    with _gates_lock:
        found = _gates.get(key)
        if found is None:
            found = _gates[key] = Gate(limit)
            return found
    if found.configured != limit:
        found.configure(limit)
    return found
