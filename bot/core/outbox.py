"""Delivery from processes that hold no platform connection.

`counselbot mod` runs beside the bot on the same database. What it says to a user
(take-over notices, a moderator's words) is queued in the outbox; the bot process, which
holds the user's platform, delivers it on its next tick. Nothing is lost across restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core.types import Outbound
from bot.store import Store


class OutboxChannel:
    """A UserChannel that queues messages for the bot process to deliver."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def send(self, message: Outbound) -> None:
        user = await self._store.users.find(message.user)
        if user is not None:
            await self._store.outbox.put(user.id, message.kind, message.text, message.buttons, self._clock())

    async def typing(self, chat_ref: str) -> None:
        return None
