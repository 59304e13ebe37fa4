"""Fixtures: a fake Discord on loopback and the real adapter (real discord.py) pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord_bot import Core, DiscordAdapter
from bot.config import Settings
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.support.settings import make_settings

StartAdapter = Callable[..., Awaitable[DiscordAdapter]]


def discord_settings(tmp_path: Path, fake: FakeDiscord, **overrides: Any) -> Settings:
    """Settings for the adapter under test: the fake's endpoints, guild, channel and role."""
    values: dict[str, Any] = {
        "discord_token": fake.token,
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        "discord_mod_guild_id": fake.guild_id,
        "discord_mod_channel_id": fake.mod_channel_id,
        "discord_mod_role_id": fake.mod_role_id,
    }
    values.update(overrides)
    return make_settings(tmp_path, **values)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def fake_forum() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(forum=True)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def start_adapter(tmp_path: Path) -> AsyncIterator[StartAdapter]:
    """Start adapters with `await start_adapter(fake, core, **settings)`; all are stopped after."""
    started: list[DiscordAdapter] = []

    async def start(fake: FakeDiscord, core: Core, *, settings: Settings | None = None, **overrides: Any) -> DiscordAdapter:
        adapter = DiscordAdapter(settings or discord_settings(tmp_path, fake, **overrides), core)
        adapter.retry_delay_s = 0.01
        await adapter.start()
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        await adapter.stop()
