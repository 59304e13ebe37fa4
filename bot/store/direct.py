"""The hot path's database access: short reads and writes run on the event loop itself.

Through the async driver (aiosqlite) every statement costs three or four hand-offs
between the event loop and the connection's thread (cursor, execute, fetch, close), and
each waits for a turn of a busy loop; a write transaction held SQLite's only write lock
through a dozen of them. Under load those waits, not SQLite, bounded the messages per
second (bench/load.py, docs/reliability.md). A SQLite statement on a small indexed table
takes microseconds, so `Direct` runs the per-message work synchronously on a plain
`sqlite3` connection, with a busy timeout of zero so that it can never stall the loop:
when another process holds a lock (a write by `counselbot mod`, a backup) the attempt
fails at once and the same work is run again through the async engine, whose thread
waits out the usual busy timeout. Writes are serialised in the process by
`db.writing`, so they never contend with one another.

Other databases (PostgreSQL) always take the async engine, through `run_sync`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from bot.store import db

T = TypeVar("T")
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
CHECKPOINT_EVERY = 100  # writes; one can add tens of pages (indexes), SQLite checkpoints every 1000 pages
WAL_RESTART_BYTES = 64 * 2**20  # a restart holds writers back (a few hundred ms here): rarely


class Direct:
    """`await direct.read(work)` / `await direct.write(work)` call `work(connection)` (plain,
    synchronous SQLAlchemy Core) and return its result; a write runs in one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader: Engine | None = None
        self._writer: Engine | None = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            url = engine.url.set(drivername="sqlite")
            nowait = partial(db._sqlite_pragmas, busy_timeout_ms=0)
            self._reader = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0)
            event.listen(self._reader, "connect", nowait)
            # The write lock is taken when the transaction begins, so "busy" can only
            # happen before any of the work ran, and the work can be run again elsewhere.
            self._writer = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0)
            event.listen(self._writer, "connect", nowait)
            event.listen(self._writer, "connect", _autocommit_driver)
            event.listen(self._writer, "begin", _begin_immediate)
        self._writes = 0
        self._path = None if self._writer is None else str(engine.url.database)

    async def read(self, work: Callable[[Connection], T]) -> T:
        if self._reader is not None:
            try:
                with self._reader.connect() as connection:
                    return work(connection)
            except OperationalError as exc:
                if not _busy(exc):
                    raise
        async with self._engine.connect() as connection:
            return await connection.run_sync(work)

    async def write(self, work: Callable[[Connection], T]) -> T:
        # Run at once when no other write of this process is under way: the work has no
        # await, so nothing can start meanwhile. Queueing on the lock even when it is free
        # would cost a turn of the event loop per write, and writes would go one per turn.
        if self._writer is not None and not db.write_locked(self._engine):
            try:
                result = self._write_now(work)
            except OperationalError as exc:
                if not _busy(exc):
                    raise
            else:
                await self._checkpoint_now_and_then()
                return result
        async with db.writing(self._engine):
            if self._writer is not None:
                try:
                    return self._write_now(work)
                except OperationalError as exc:
                    if not _busy(exc):
                        raise
            async with self._engine.begin() as connection:
                return await connection.run_sync(work)

    def _write_now(self, work: Callable[[Connection], T]) -> T:
        assert self._writer is not None
        with self._writer.begin() as connection:
            return work(connection)

    async def _checkpoint_now_and_then(self) -> None:
        """Checkpoint every `CHECKPOINT_EVERY` writes, in a thread on a connection of its own:
        SQLite's automatic checkpoint runs inside a commit, which here is on the event loop,
        and stalled it (200 ms was measured under load, most of it an fsync).

        A passive checkpoint never holds writers back, but while writes keep coming it never
        finds the log fully copied, so the log never starts over; past `WAL_RESTART_BYTES`
        a RESTART checkpoint holds new writers back for the time of the copy (they wait off
        the loop) and lets the log start over.
        """
        self._writes += 1
        if self._writes >= CHECKPOINT_EVERY and self._path is not None:
            self._writes = 0
            await asyncio.to_thread(_checkpoint, self._path)

    def close(self) -> None:
        for engine in (self._reader, self._writer):
            if engine is not None:
                engine.dispose()


def _checkpoint(path: str) -> None:
    wal = Path(f"{path}-wal")
    connection = sqlite3.connect(path, timeout=db.BUSY_TIMEOUT_MS / 1000)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        if wal.exists() and wal.stat().st_size > WAL_RESTART_BYTES:
            # Only what was written during the passive pass is left to copy: writers wait briefly.
            connection.execute("PRAGMA wal_checkpoint(RESTART)")
    finally:
        connection.close()


def _busy(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code in _BUSY or "locked" in str(exc.orig)


def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event start the transaction instead of the driver, and leave
    # checkpoints to Direct (off the event loop).
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
