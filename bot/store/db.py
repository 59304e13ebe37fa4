"""Engine creation, SQLite pragmas, and the migration gate.

SQLite runs in WAL mode with foreign keys on, `secure_delete` on (erased rows are
overwritten, not left in free pages) and a busy timeout so a briefly locked database
waits instead of failing. PostgreSQL works through the same DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.errors import DatabaseNotMigrated

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
BUSY_TIMEOUT_MS = 5000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_engine(url: str) -> AsyncEngine:
    """An async engine with the project's SQLite pragmas; creates the file's folder."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, pool_pre_ping=not is_sqlite(url))
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold around every write transaction: on SQLite, one at a time per process.

    SQLite has one writer at a time; pooled connections that race for the lock wait in its
    busy handler, which sleeps in growing steps (1 ms ... 100 ms), so under load most of a
    write's time was spent asleep with the lock free. A FIFO lock in the event loop hands
    the write lock over without sleeping; the busy timeout still covers other processes
    (`counselbot mod`, a backup) holding it. Readers are not held (WAL lets them run).
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _WRITE_LOCKS.get(engine.sync_engine)
    if lock is None:
        lock = _WRITE_LOCKS[engine.sync_engine] = asyncio.Lock()
    async with lock:
        yield


def write_locked(engine: AsyncEngine) -> bool:
    """Whether a write transaction holds (or waits for) `writing(engine)` right now."""
    lock = _WRITE_LOCKS.get(engine.sync_engine)
    return lock is not None and lock.locked()


def alembic_config(url: str) -> Config:
    """Alembic configuration built in code (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "migrations/versions holds no revision"
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations (synchronous; Alembic's env runs its own event loop)."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Refuse to run on a database whose schema is missing or behind the code."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_revision)
    head = head_revision()
    if current != head:
        where = "empty" if current is None else f"at revision {current}"
        raise DatabaseNotMigrated(
            f"the database is {where} but this version needs {head}: run `counselbot db upgrade`"
        )


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def checkpoint(engine: AsyncEngine) -> None:
    """Fold the WAL into the database file and truncate it (after an erase)."""
    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
