"""Persistence: SQLAlchemy models, the engine, encryption and the repositories."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.store import db
from bot.store.crypto import Cipher
from bot.store.direct import Direct
from bot.store.flags import FlagRepository
from bot.store.outbox import OutboxRepository
from bot.store.users import UserRepository


@dataclass
class Store:
    """The repositories over one engine. Open with `open_store`, close with `close()`."""

    engine: AsyncEngine
    cipher: Cipher
    users: UserRepository
    flags: FlagRepository
    outbox: OutboxRepository

    def label(self, platform: str, platform_user_id: str) -> str:
        """The pseudonym moderators see for a user."""
        return self.cipher.label(platform, platform_user_id)

    async def close(self) -> None:
        await db.checkpoint(self.engine)
        self.users.direct.close()
        await self.engine.dispose()


async def open_store(settings: Settings, *, check_migrated: bool = True) -> Store:
    """Connect, refuse an unmigrated database, and build the repositories."""
    cipher = Cipher(settings.require_transcript_key())
    engine = db.create_engine(settings.database_url)
    try:
        if check_migrated:
            await db.ensure_migrated(engine)
    except BaseException:
        await engine.dispose()
        raise
    direct = Direct(engine)
    return Store(
        engine=engine,
        cipher=cipher,
        users=UserRepository(engine, cipher, direct),
        flags=FlagRepository(engine, cipher, direct),
        outbox=OutboxRepository(engine, cipher),
    )
