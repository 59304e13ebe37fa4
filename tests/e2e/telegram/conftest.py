"""Fixtures for driving the real PTB client, through the adapter, against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram_bot import RetryPolicy, TelegramAdapter, TelegramOptions
from bot.config import Settings
from tests.e2e.telegram.fake_api import TOKEN, FakeBotApi, user

GROUP = -1001500000001
SAM = user(1001, "Sam", "fr")
ANA = user(1002, "Ana", "es")
LEE = user(1003, "Lee", "en")
ALICE = user(501, "Alice")  # a moderator: administrator of the group
BOB = user(502, "Bob")  # a moderator: member of the group
MALLORY = user(777, "Mallory")  # not in the group

# Fast but real: long polling stays on (the fake answers as soon as an update exists).
# The per-group pacing (20 a minute, as Telegram asks) would make a moderation scenario
# take minutes; 429 answers are still retried, which is what the tests check.
FAST = TelegramOptions(
    group_max_per_minute=0,
    poll_timeout_s=2,
    request_timeout_s=5.0,
    retry=RetryPolicy(attempts=3, backoff_s=0.05, max_backoff_s=0.2),
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    api.add_private(SAM)
    api.add_private(ANA)
    api.add_private(LEE)
    api.add_group(GROUP, "Moderators", forum=True)
    api.set_member(GROUP, ALICE, "administrator")
    api.set_member(GROUP, BOB, "member")
    yield api
    await api.stop()


def telegram_settings(fake: FakeBotApi, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": TOKEN,
        "telegram_api_base": fake.base,
        "telegram_mod_group_id": GROUP,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'counselbot.db'}",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


StartAdapter = Callable[..., Awaitable[TelegramAdapter]]


@pytest.fixture
async def start_adapter() -> AsyncIterator[StartAdapter]:
    """Start adapters through their own start-up code; every one is stopped at the end."""
    running: list[TelegramAdapter] = []

    async def start(settings: Settings, core: Any, options: TelegramOptions = FAST) -> TelegramAdapter:
        adapter = TelegramAdapter(settings, core, options)
        await adapter.start()
        running.append(adapter)
        return adapter

    yield start
    for adapter in reversed(running):
        await adapter.stop()
