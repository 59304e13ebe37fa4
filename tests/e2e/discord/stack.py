"""The whole bot for Discord scenarios: the real manager on a real SQLite file, the real
adapter and discord.py, the fake Discord, a scripted generator in place of the model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.adapters.discord_bot import DiscordAdapter
from bot.config import Settings
from bot.core.conversation import ConversationManager
from bot.core.ports import ModeratorSurface
from bot.core.types import Platform
from tests.e2e.discord.conftest import discord_settings
from tests.e2e.discord.fake_discord import FakeDiscord, Person
from tests.support.core import ScriptedGenerator, make_manager

_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_FLAG_BUTTON = re.compile(r"mod:[a-z_]+:(\d+)")

Json = dict[str, Any]


def shown(content: str) -> str:
    """What Discord displays for escaped content (the backslashes disappear)."""
    return _ESCAPED.sub(r"\1", content)


@dataclass
class Stack:
    fake: FakeDiscord
    settings: Settings
    generator: ScriptedGenerator
    manager: ConversationManager
    adapter: DiscordAdapter

    async def restart(self, tmp_path: Path, *surfaces: ModeratorSurface) -> None:
        """Stop the adapter and drop the manager, then start both afresh on the same database."""
        await self.adapter.stop()
        await self.manager.store.close()
        self.manager, self.adapter = await _start(self.fake, self.settings, self.generator, tmp_path, surfaces)

    async def close(self) -> None:
        await self.adapter.stop()
        await self.manager.store.close()

    # What people see

    def dm_messages(self, person: Person) -> list[Json]:
        """The bot's messages in the DM, without interaction placeholders ("thinking…")."""
        return [m for m in self.fake.bot_messages_in(person.dm_channel_id) if "interaction_metadata" not in m]

    async def next_dm(self, person: Person, after: int) -> Json:
        """The first bot message in the person's DM beyond the first `after` ones."""
        def arrived() -> Json | None:
            sent = self.dm_messages(person)
            return sent[after] if len(sent) > after else None

        return await self.fake.wait_for(arrived)

    async def dm_shown(self, person: Person, count: int) -> list[str]:
        """Wait for `count` bot messages in the DM; return them as displayed."""
        await self.fake.wait_for(lambda: len(self.dm_messages(person)) >= count)
        return [shown(m["content"]) for m in self.dm_messages(person)]

    async def card(self, index: int = 0) -> Json:
        """The `index`-th flag card in the moderator channel, once its thread exists."""

        def posted() -> Json | None:
            cards = [m for m in self.fake.bot_messages_in(self.fake.mod_channel_id) if m["embeds"]]
            if len(cards) <= index or int(cards[index]["id"]) not in self.fake.channels:
                return None
            return cards[index]

        return await self.fake.wait_for(posted)

    def card_now(self, card_id: int) -> Json:
        return self.fake.messages[card_id]


def message_bodies(fake: FakeDiscord) -> list[tuple[str, Json]]:
    """Every message body the client sent (with its call): posts, edits, forum starters,
    interaction answers."""
    bodies: list[tuple[str, Json]] = []
    for call in fake.calls:
        body = call.body if isinstance(call.body, dict) else {}
        if call.path.endswith("/callback"):
            body = body.get("data") or {}
        elif call.path.endswith("/threads"):
            body = body.get("message") or {}
        if "content" in body or "embeds" in body:
            bodies.append((f"{call.method} {call.path}", body))
    return bodies


def flag_id_of(card: Json) -> int:
    for row in card["components"]:
        for component in row["components"]:
            if match := _FLAG_BUTTON.fullmatch(component["custom_id"]):
                return int(match[1])
    raise AssertionError("the card has no moderator buttons")


def buttons(message: Json) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


def card_fields(card: Json) -> dict[str, str]:
    return {field["name"]: field["value"] for field in card["embeds"][0]["fields"]}


async def open_stack(tmp_path: Path, fake: FakeDiscord, *surfaces: ModeratorSurface, **overrides: Any) -> Stack:
    settings = discord_settings(tmp_path, fake, **overrides)
    generator = ScriptedGenerator("That sounds hard. I'm here with you.")
    manager, adapter = await _start(fake, settings, generator, tmp_path, surfaces)
    return Stack(fake, settings, generator, manager, adapter)


async def _start(
    fake: FakeDiscord,
    settings: Settings,
    generator: ScriptedGenerator,
    tmp_path: Path,
    surfaces: tuple[ModeratorSurface, ...],
) -> tuple[ConversationManager, DiscordAdapter]:
    manager = await make_manager(tmp_path, generator=generator, settings=settings)
    adapter = DiscordAdapter(settings, manager)
    adapter.retry_delay_s = 0.01
    manager.register_channel(Platform.DISCORD, adapter)
    manager.register_surface(adapter)
    for surface in surfaces:
        manager.register_surface(surface)
    await adapter.start()
    return manager, adapter
