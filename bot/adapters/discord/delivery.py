"""Sending to Discord: library errors mapped to the project's, one retry, draining.

discord.py already waits out 429s and retries some 5xx itself; what escapes it
(a 503, a reset connection, a timeout) is retried once here, then reported as
`DeliveryError`. A closed DM (50007) is `UserUnreachable`, never retried.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import aiohttp
import discord

from bot.errors import DeliveryError, UserUnreachable

log = logging.getLogger(__name__)

T = TypeVar("T")

CANNOT_MESSAGE_USER = 50007  # DMs closed, bot blocked, no shared server
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013
_UNREACHABLE_CODES = frozenset({CANNOT_MESSAGE_USER, UNKNOWN_CHANNEL, UNKNOWN_USER})
TRANSIENT = (discord.DiscordServerError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log a failure with its type and frames but not its message (it may hold user text)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed: %s\n%s", what, type(exc).__name__, frames)


async def deliver(operation: Callable[[], Awaitable[T]], *, to_user: bool, retry_delay_s: float) -> T:
    """Run one Discord call; retry it once on a transient failure.

    `to_user`: the call delivers to a user's DM, so "cannot reach" codes mean the user
    is unreachable (`UserUnreachable`) rather than a broken moderator channel.
    """
    for attempt in (1, 2):
        try:
            return await operation()
        except discord.HTTPException as exc:
            if to_user and exc.code in _UNREACHABLE_CODES:
                raise UserUnreachable(f"Discord cannot deliver to this user (code {exc.code})") from exc
            if not isinstance(exc, discord.DiscordServerError):
                raise DeliveryError(f"Discord refused the call (HTTP {exc.status}, code {exc.code})") from exc
            failure: BaseException = exc
        except TRANSIENT as exc:
            failure = exc
        if attempt == 1:
            log.warning("transient Discord failure (%s); retrying once", type(failure).__name__)
            await asyncio.sleep(retry_delay_s)
    raise DeliveryError(f"Discord call failed after a retry ({type(failure).__name__})") from failure


class InFlight:
    """Counts handlers in progress so shutdown can wait for them."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def drained(self, timeout_s: float) -> bool:
        """Wait until nothing is in progress; False if `timeout_s` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True
