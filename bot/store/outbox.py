"""The outbox: messages for users queued by a process without the user's platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.types import Button, OutboundKind
from bot.store import db
from bot.store.crypto import Cipher
from bot.store.models import OutboxEntry


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    user_id: int
    kind: OutboundKind
    text: str
    buttons: tuple[Button, ...]


class OutboxRepository:
    def __init__(self, engine: AsyncEngine, cipher: Cipher) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._cipher = cipher

    async def put(self, user_id: int, kind: OutboundKind, text: str, buttons: tuple[Button, ...], now: datetime) -> None:
        async with db.writing(self._engine), self._sessions.begin() as s:
            s.add(
                OutboxEntry(
                    user_id=user_id,
                    kind=kind.value,
                    body=self._cipher.encrypt(text),
                    buttons=[[b.label, b.command] for b in buttons],
                    created_at=now,
                )
            )

    async def pending(self, limit: int = 100) -> list[QueuedMessage]:
        async with self._sessions() as s:
            rows = (await s.scalars(select(OutboxEntry).order_by(OutboxEntry.id).limit(limit))).all()
        return [
            QueuedMessage(r.id, r.user_id, OutboundKind(r.kind), self._cipher.decrypt(r.body), tuple(Button(*b) for b in r.buttons))
            for r in rows
        ]

    async def remove(self, entry_id: int) -> None:
        async with db.writing(self._engine), self._sessions.begin() as s:
            await s.execute(delete(OutboxEntry).where(OutboxEntry.id == entry_id))
