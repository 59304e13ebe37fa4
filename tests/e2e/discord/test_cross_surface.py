"""Both platforms in one process, as `counselbot run` has them: a flag raised by a Telegram
user reaches the Discord moderator channel too, and one claim wins on both surfaces.

Real everything except the model: the manager on a real SQLite file, the Discord adapter
(discord.py) against the fake Discord, the Telegram adapter (python-telegram-bot) against
the Telegram team's fake Bot API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord_bot import DiscordAdapter
from bot.adapters.telegram_bot import TelegramAdapter
from bot.core.conversation import ConversationManager
from bot.core.types import Platform
from tests.e2e.discord.conftest import discord_settings
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.e2e.discord.stack import card_fields, flag_id_of
from tests.e2e.telegram.conftest import FAST, GROUP, LEE
from tests.e2e.telegram.fake_api import TOKEN, FakeBotApi, Stored, user
from tests.support.core import ScriptedGenerator, make_manager

# PTB's own RetryAfter constructor warns about a future type change of retry_after.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

CRISIS = "I'm going to kill myself tonight, I have the pills ready"
TOM = user(503, "Tom")  # a moderator in the Telegram group


@dataclass
class Both:
    discord: FakeDiscord
    telegram: FakeBotApi
    manager: ConversationManager


@pytest.fixture
async def both(tmp_path: Path, fake: FakeDiscord) -> AsyncIterator[Both]:
    telegram = FakeBotApi()
    await telegram.start()
    telegram.add_private(LEE)
    telegram.add_group(GROUP, "Moderators", forum=True)
    telegram.set_member(GROUP, TOM, "administrator")
    settings = discord_settings(
        tmp_path, fake, telegram_token=TOKEN, telegram_api_base=telegram.base, telegram_mod_group_id=GROUP
    )
    manager = await make_manager(tmp_path, generator=ScriptedGenerator("I'm here with you."), settings=settings)
    on_discord = DiscordAdapter(settings, manager)
    on_telegram = TelegramAdapter(settings, manager, FAST)
    for platform, adapter in ((Platform.DISCORD, on_discord), (Platform.TELEGRAM, on_telegram)):
        manager.register_channel(platform, adapter)
        manager.register_surface(adapter)
    await on_discord.start()
    await on_telegram.start()
    try:
        yield Both(fake, telegram, manager)
    finally:
        await on_telegram.stop()
        await on_discord.stop()
        await manager.store.close()
        await telegram.stop()


async def telegram_card(telegram: FakeBotApi) -> Stored:
    (chat, thread) = await telegram.wait_for(lambda: max(telegram.topics, default=None))
    card: Stored = await telegram.wait_for(lambda: next(iter(telegram.sent(chat, thread_id=thread)), None))
    return card


async def discord_card(fake: FakeDiscord) -> dict[str, Any]:
    return await fake.wait_for(
        lambda: next((m for m in fake.bot_messages_in(fake.mod_channel_id) if int(m["id"]) in fake.channels), None)
    )


async def test_a_telegram_flag_reaches_discord_and_one_claim_wins_on_both(both: Both) -> None:
    fake, telegram = both.discord, both.telegram
    alice = fake.add_member("alice", moderator=True)

    await telegram.private_text(LEE, CRISIS)
    card = await discord_card(fake)
    tg_card = await telegram_card(telegram)
    flag_id = flag_id_of(card)
    assert f"mod:claim:{flag_id}" in [c["custom_id"] for row in card["components"] for c in row["components"]]
    assert CRISIS in card["embeds"][0]["description"] and CRISIS in (tg_card.text or "")
    tg_claim = next(data for _, data in tg_card.buttons() if data.startswith("mod:claim:"))

    on_discord, query = await asyncio.gather(
        fake.press(alice, int(card["id"]), f"mod:claim:{flag_id}"),
        telegram.press(TOM, tg_card, tg_claim),
    )
    discord_answer = (await fake.answered(on_discord))["content"]
    telegram_answer = (await telegram.wait_for(lambda: telegram.answers.get(query)))["text"] or ""

    assert sorted(answer == "claimed" for answer in (discord_answer, telegram_answer)) == [False, True]
    winner = "Alice" if discord_answer == "claimed" else "Tom"
    loser_answer = telegram_answer if winner == "Alice" else discord_answer
    assert f"already claimed by {winner}" in loser_answer
    await fake.wait_for(lambda: card_fields(fake.messages[int(card["id"])])["Held by"] == winner)
    await telegram.wait_for(lambda: f"claimed by {winner}" in (tg_card.text or ""))
