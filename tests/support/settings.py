"""Settings for tests: a SQLite file in tmp_path, a fresh key, no .env."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.config import Settings, load_settings
from bot.store import db
from bot.store.crypto import generate_key


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings on a SQLite file in tmp_path with a fresh key; no .env is read."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'counselbot.db'}",
        "transcript_key": generate_key(),
        "model_cache_dir": tmp_path / "cache",
        "generation_timeout_s": 5.0,
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


async def migrate(settings: Settings) -> None:
    await asyncio.to_thread(db.upgrade, settings.database_url)
