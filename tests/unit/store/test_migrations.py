"""Migrations: upgrade on an empty file, no drift between models and revisions, round trip."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from bot.errors import DatabaseNotMigrated
from bot.store import db, open_store
from bot.store.models import Base
from tests.support.settings import make_settings


def _tables(url: str) -> set[str]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url.replace("+aiosqlite", ""))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    db.upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)
    command.check(db.alembic_config(url))  # raises if models and migrations differ
    db.downgrade(url, "base")
    assert _tables(url) == set()
    db.upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)


async def test_store_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(DatabaseNotMigrated, match="counselbot db upgrade"):
        await open_store(settings)
    await asyncio.to_thread(db.upgrade, settings.database_url)
    store = await open_store(settings)
    await store.close()


async def test_store_refuses_an_outdated_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    await asyncio.to_thread(db.upgrade, settings.database_url)
    engine = db.create_engine(settings.database_url)
    async with engine.begin() as connection:
        from sqlalchemy import text

        await connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    await engine.dispose()
    with pytest.raises(DatabaseNotMigrated, match="at revision 0000"):
        await open_store(settings)


async def test_sqlite_runs_in_wal_with_foreign_keys_and_secure_delete(tmp_path: Path) -> None:
    from sqlalchemy import text

    settings = make_settings(tmp_path)
    await asyncio.to_thread(db.upgrade, settings.database_url)
    store = await open_store(settings)
    async with store.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("PRAGMA secure_delete"))).scalar() == 1
    await store.close()
