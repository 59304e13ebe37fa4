"""Calling the Bot API reliably, and mapping its errors to the project's.

429 `retry_after` is handled below this layer by PTB's `AIORateLimiter` (every call waits
out the server's delay, up to its retry count). Here network failures, timeouts and 5xx
answers are retried with exponential backoff; a request that timed out may have reached
Telegram, so a retried send can, rarely, arrive twice: delivering twice beats losing a
message. Errors leave as `bot.errors` types whose messages never contain user text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.errors import ConfigError, DeliveryError, UserUnreachable

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bad-request descriptions that mean the user can no longer be reached.
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of network failures (429s are the rate limiter's)."""

    attempts: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0


async def with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy, what: str) -> T:
    """Await `call()`, retrying network errors and timeouts with exponential backoff."""
    delay = policy.backoff_s
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except BadRequest:
            raise
        except NetworkError as exc:
            if attempt >= policy.attempts:
                raise
            log.warning("telegram %s failed (%s), retry %d in %.1fs", what, type(exc).__name__, attempt, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, policy.max_backoff_s)
    raise AssertionError("unreachable: the loop returns or raises")


def map_error(exc: TelegramError, what: str) -> DeliveryError:
    """The project's error for a Bot API failure (`raise map_error(e, ...) from e`)."""
    description = exc.message
    if isinstance(exc, Forbidden) or (
        isinstance(exc, BadRequest) and any(gone in description.lower() for gone in _GONE)
    ):
        return UserUnreachable(f"telegram {what}: the chat cannot be reached ({description})")
    if isinstance(exc, RetryAfter):
        return DeliveryError(f"telegram {what}: still rate limited after retries")
    return DeliveryError(f"telegram {what} failed: {type(exc).__name__}: {description}")


def map_startup_error(exc: TelegramError) -> Exception:
    """Start-up failures: a rejected token is a configuration error, the rest delivery errors."""
    if isinstance(exc, InvalidToken):
        return ConfigError("TELEGRAM_TOKEN: Telegram rejected the token (check it with @BotFather)")
    return DeliveryError(f"telegram: could not start ({type(exc).__name__}: {exc.message})")


async def deliver(call: Callable[[], Awaitable[T]], policy: RetryPolicy, what: str) -> T:
    """`with_retries`, with Bot API errors mapped to `DeliveryError` / `UserUnreachable`."""
    try:
        return await with_retries(call, policy, what)
    except TelegramError as exc:
        raise map_error(exc, what) from exc
