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

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from bot.store import db

T = TypeVar("T")
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


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
                return self._write_now(work)
            except OperationalError as exc:
                if not _busy(exc):
                    raise
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

    def close(self) -> None:
        for engine in (self._reader, self._writer):
            if engine is not None:
                engine.dispose()


def _busy(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code in _BUSY or "locked" in str(exc.orig)


def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event start the transaction instead of the driver.
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
