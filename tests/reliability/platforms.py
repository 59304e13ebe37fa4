"""The whole bot on each platform for the reliability tests: the real manager on a real
SQLite file, the real adapter and platform client, and the adapters' own fake servers
(tests/e2e/discord/fake_discord.py, tests/e2e/telegram/fake_api.py). Only the model is
scripted. One interface for both, so a test runs the same script on each."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.adapters.discord_bot import DiscordAdapter
from bot.adapters.telegram_bot import TelegramAdapter
from bot.config import Settings
from bot.core.conversation import ConversationManager
from bot.core.types import Platform
from tests.e2e.discord.conftest import discord_settings
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.e2e.telegram.conftest import ALICE, BOB, FAST, GROUP
from tests.e2e.telegram.fake_api import TOKEN, FakeBotApi, user
from tests.support.core import ScriptedGenerator, make_manager
from tests.support.settings import make_settings

_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_ids = itertools.count(5000)


@dataclass
class Stack:
    """A running bot on one platform. `person()` adds a user who can DM it; `say()` sends
    their message through the platform; `said()` is what the bot said to them, as shown."""

    platform: Platform
    settings: Settings
    manager: ConversationManager
    generator: ScriptedGenerator
    fake: Any
    adapter: Any
    _close: Callable[[], Any] = field(repr=False, default=lambda: None)

    def person(self, name: str) -> Any:
        if self.platform is Platform.TELEGRAM:
            person = user(next(_ids), name)
            self.fake.add_private(person)
            return person
        return self.fake.add_user(name)

    def user_id(self, person: Any) -> str:
        return str(person["id"]) if self.platform is Platform.TELEGRAM else str(person.id)

    async def say(self, person: Any, text: str) -> None:
        if self.platform is Platform.TELEGRAM:
            await self.fake.private_text(person, text)
        else:
            await self.fake.dm(person, text)

    def said(self, person: Any) -> list[str]:
        if self.platform is Platform.TELEGRAM:
            return [m.text or "" for m in self.fake.sent(person["id"])]
        return [
            _ESCAPED.sub(r"\1", m["content"])
            for m in self.fake.bot_messages_in(person.dm_channel_id)
            if "interaction_metadata" not in m
        ]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        return await self.fake.wait_for(predicate, timeout)

    async def close(self) -> None:
        await self.adapter.stop()
        await self.manager.store.close()
        await self._close()


async def telegram_stack(tmp_path: Path, generator: ScriptedGenerator, **overrides: Any) -> Stack:
    fake = FakeBotApi()
    await fake.start()
    fake.add_group(GROUP, "Moderators", forum=True)
    fake.set_member(GROUP, ALICE, "administrator")
    fake.set_member(GROUP, BOB, "member")
    settings = make_settings(
        tmp_path, telegram_token=TOKEN, telegram_api_base=fake.base, telegram_mod_group_id=GROUP, **overrides
    )
    manager = await make_manager(tmp_path, generator=generator, settings=settings)
    adapter = TelegramAdapter(settings, manager, FAST)
    manager.register_channel(Platform.TELEGRAM, adapter)
    manager.register_surface(adapter)
    await adapter.start()
    return Stack(Platform.TELEGRAM, settings, manager, generator, fake, adapter, fake.stop)


async def discord_stack(tmp_path: Path, generator: ScriptedGenerator, **overrides: Any) -> Stack:
    fake = FakeDiscord()
    await fake.start()
    settings = discord_settings(tmp_path, fake, **overrides)
    manager = await make_manager(tmp_path, generator=generator, settings=settings)
    adapter = DiscordAdapter(settings, manager)
    adapter.retry_delay_s = 0.01
    manager.register_channel(Platform.DISCORD, adapter)
    manager.register_surface(adapter)
    await adapter.start()
    return Stack(Platform.DISCORD, settings, manager, generator, fake, adapter, fake.close)


async def open_stack(platform: str, tmp_path: Path, generator: ScriptedGenerator, **overrides: Any) -> Stack:
    opener = telegram_stack if platform == "telegram" else discord_stack
    return await opener(tmp_path, generator, **overrides)
