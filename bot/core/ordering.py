"""Per-user arrival order.

Adapters may hand the core several messages of one user at once (discord.py runs each
event in a task of its own; the Telegram adapter handles updates concurrently). The
database calls that receive a message complete in no fixed order, so without a queue
a user's second message could be accepted before their first. `ArrivalOrder` is that
queue: a FIFO lock per user, taken before the first await of `handle`, so messages are
received (assessed, stored, merged) in the order `handle` was called.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class ArrivalOrder:
    """FIFO exclusion per key; a key's lock is dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        # asyncio.Lock wakes waiters in the order they called acquire(), and acquire()
        # registers the caller before suspending: callers get in in call order.
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
