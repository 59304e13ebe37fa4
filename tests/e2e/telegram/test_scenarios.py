"""End to end: scripted Telegram users and moderators, the real PTB client started by the
adapter's own start-up code against the fake Bot API, and the real ConversationManager on
a real SQLite file (only the model is scripted)."""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram_bot import TelegramAdapter
from bot.config import Settings
from bot.core.conversation import ConversationManager
from bot.core.texts import t
from bot.core.types import ConsentState, Platform, UserRef
from bot.store.db import sqlite_path
from bot.store.records import MappingRecord
from tests.e2e.telegram.conftest import ALICE, ANA, BOB, FAST, GROUP, LEE, MALLORY, SAM
from tests.e2e.telegram.fake_api import TOKEN, FakeBotApi, Stored
from tests.e2e.telegram.tg_html import covered
from tests.support.core import ScriptedGenerator, make_manager
from tests.support.settings import make_settings

# PTB's own RetryAfter constructor warns about a future type change of retry_after.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

REPLY = "That sounds heavy. I'm here with you; what has today been like?"
CRISIS = "I want to kill myself tonight, I have the pills ready. <b>bye</b> *all* _of_ [you](http://x.example) @everyone_here"


@dataclass
class Running:
    settings: Settings
    manager: ConversationManager
    adapter: TelegramAdapter

    async def stop(self) -> None:
        await self.adapter.stop()
        await self.manager.store.close()


Boot = Callable[..., Awaitable[Running]]


@pytest.fixture
async def boot(fake: FakeBotApi, tmp_path: Path) -> AsyncIterator[Boot]:
    """Start the bot (manager + adapter) like `counselbot run` does; again for a restart."""
    alive: list[Running] = []
    # One configuration for every start: a restart keeps the database and its key.
    settings = make_settings(tmp_path, telegram_token=TOKEN, telegram_api_base=fake.base, telegram_mod_group_id=GROUP)

    async def start(generator: ScriptedGenerator) -> Running:
        manager = await make_manager(tmp_path, generator=generator, settings=settings)
        adapter = TelegramAdapter(settings, manager, FAST)
        manager.register_channel(Platform.TELEGRAM, adapter)
        manager.register_surface(adapter)
        await manager.recover()
        await adapter.start()
        running = Running(settings, manager, adapter)
        alive.append(running)
        return running

    yield start
    for running in reversed(alive):
        if running.adapter._app is not None:
            await running.stop()


def said(fake: FakeBotApi, person: dict[str, Any]) -> list[str]:
    return [m.text or "" for m in fake.sent(person["id"])]


async def hears(fake: FakeBotApi, person: dict[str, Any], text: str) -> Stored:
    """Wait until the bot has said `text` (exactly) to `person`."""
    return await fake.wait_for(lambda: next((m for m in fake.sent(person["id"]) if m.text == text), None))


async def flag_card(fake: FakeBotApi) -> tuple[int, Stored]:
    """The newest flag topic and its card."""
    (chat, thread) = await fake.wait_for(lambda: max(fake.topics, default=None))
    card = await fake.wait_for(lambda: next(iter(fake.sent(chat, thread_id=thread)), None))
    return thread, card


async def press(fake: FakeBotApi, person: dict[str, Any], card: Stored, data: str) -> dict[str, Any]:
    query = await fake.press(person, card, data)
    return dict(await fake.wait_for(lambda: fake.answers.get(query)))


def cards(fake: FakeBotApi, thread: int) -> list[Stored]:
    """The flag cards in a topic, oldest first."""
    return [m for m in fake.sent(GROUP, thread) if "Flag #" in (m.text or "")]


async def typed_and_taken(fake: FakeBotApi, person: dict[str, Any], thread: int, text: str) -> None:
    """A moderator types in a topic; wait until the bot has handled it (its 👍)."""
    typed = await fake.group_text(GROUP, person, text, thread_id=thread)
    await fake.wait_for(lambda: any(r[1] == typed.message_id for r in fake.reactions))


def as_stored_before_card_references(settings: Settings) -> None:
    """Rewrite the flags' mappings as the bot stored them when it kept cards in memory: the
    topic as the primary reference, and no card reference."""
    path = sqlite_path(settings.database_url)
    assert path is not None
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM surface_mappings WHERE ref LIKE 'card:%'")
        db.execute("UPDATE surface_mappings SET \"primary\" = 1 WHERE ref LIKE 'topic:%'")


async def test_first_contact_and_consent_by_button(fake: FakeBotApi, boot: Boot) -> None:
    bot = await boot(ScriptedGenerator(REPLY))
    await fake.private_text(SAM, "Bonjour")

    notice = await hears(fake, SAM, t("notice", "fr", days=bot.settings.retention_days))
    assert notice.buttons() == [(t("button_agree", "fr"), "/agree"), (t("button_decline", "fr"), "/decline")]
    await hears(fake, SAM, REPLY)

    query = await fake.press(SAM, notice, "/agree")
    await hears(fake, SAM, t("consent_granted", "fr", days=bot.settings.retention_days))
    assert fake.answers[query] == {"text": None, "show_alert": False}
    record = await bot.manager.store.users.find(UserRef(Platform.TELEGRAM, str(SAM["id"])))
    assert record is not None and record.consent is ConsentState.GRANTED and record.locale == "fr"


async def test_a_normal_exchange_shows_typing_then_the_reply(fake: FakeBotApi, boot: Boot) -> None:
    generator = ScriptedGenerator(REPLY)
    generator.delay_s = 0.3
    await boot(generator)
    await fake.private_text(LEE, "Work has been rough lately and I can't switch off at night.")

    await hears(fake, LEE, REPLY)
    methods = [c.method for c in fake.calls if c.params.get("chat_id") == LEE["id"]]
    assert "sendChatAction" in methods and methods.index("sendChatAction") < len(methods) - 1
    assert generator.requests[-1].history[-1].text == "Work has been rough lately and I can't switch off at night."
    assert said(fake, LEE).count(REPLY) == 1


async def test_crisis_goes_to_the_user_and_a_topic_with_buttons_then_the_full_moderation_cycle(
    fake: FakeBotApi, boot: Boot
) -> None:
    generator = ScriptedGenerator(REPLY)
    await boot(generator)
    await fake.private_text(LEE, CRISIS)

    thread, card = await flag_card(fake)
    crisis_texts = [text for text in said(fake, LEE) if text not in (REPLY,) and not text.startswith("Hi.")]
    assert crisis_texts, "the user got no crisis resources"
    assert card.text is not None and CRISIS in card.text
    assert covered(card.text, card.entities, CRISIS) == {"pre"}, "user markup reached moderators rendered"
    assert [d.split(":")[1] for _, d in card.buttons()] == ["claim", "takeover", "resolve", "block"]
    topic = fake.topics[(GROUP, thread)]
    assert topic["icon_color"] == 0xFB6F5F

    refused = await press(fake, MALLORY, card, card.buttons()[0][1])
    assert refused["show_alert"] and "only moderators" in refused["text"]
    assert "open, unclaimed" in (card.text or "")

    claimed = await press(fake, ALICE, card, card.buttons()[0][1])
    assert claimed == {"text": "claimed", "show_alert": False}
    await fake.wait_for(lambda: "claimed by Alice" in (card.text or ""))

    takeover = next(d for _, d in card.buttons() if ":takeover:" in d)
    await press(fake, ALICE, card, takeover)
    await hears(fake, LEE, t("moderator_joined", "en"))
    await fake.wait_for(lambda: "a moderator has the conversation" in (card.text or ""))

    requests = len(generator.requests)
    await fake.private_text(LEE, "are you a real person? <i>please</i>")
    relayed = await fake.wait_for(lambda: next((m for m in fake.sent(GROUP, thread) if "are you a real person?" in (m.text or "")), None))
    assert relayed.text == "User\nare you a real person? <i>please</i>"
    assert covered(relayed.text, relayed.entities, "<i>please</i>") == {"pre"}

    typed = await fake.group_text(GROUP, ALICE, "Yes, I'm Alice, a volunteer. Are you safe right now?", thread_id=thread)
    await hears(fake, LEE, f"{t('moderator_label', 'en')}: Yes, I'm Alice, a volunteer. Are you safe right now?")
    await fake.wait_for(lambda: any(r[1] == typed.message_id for r in fake.reactions))

    await fake.group_text(GROUP, ALICE, "!note user has pills at hand; stayed on chat", thread_id=thread)
    await fake.wait_for(lambda: any("(note)" in (m.text or "") for m in fake.sent(GROUP, thread)))
    assert not any("pills at hand" in text for text in said(fake, LEE)), "a note reached the user"

    intruder = await fake.group_text(GROUP, BOB, "Hi, Bob here", thread_id=thread)
    refusal = await fake.wait_for(lambda: next((m for m in fake.sent(GROUP, thread) if m.reply_to == intruder.message_id), None))
    assert (refusal.text or "").startswith("Refused:")
    assert not any("Bob here" in text for text in said(fake, LEE))
    assert len(generator.requests) == requests, "the model answered during a take-over"

    release = next(d for _, d in card.buttons() if ":release:" in d)
    await press(fake, ALICE, card, release)
    await hears(fake, LEE, t("moderator_left", "en"))

    resolve = next(d for _, d in card.buttons() if d.split(":")[1] == "resolve")
    await press(fake, ALICE, card, resolve)
    await fake.wait_for(lambda: any(d.endswith(":referred") for _, d in card.buttons()))
    answer = await press(fake, ALICE, card, next(d for _, d in card.buttons() if d.endswith(":referred")))
    assert answer["text"] == "resolved: referred"
    await fake.wait_for(lambda: "resolved (referred) by Alice" in (card.text or "") and not card.buttons())


async def test_a_rate_limited_reply_is_retried_and_delivered_once(fake: FakeBotApi, boot: Boot) -> None:
    await boot(ScriptedGenerator(REPLY))
    await fake.private_text(LEE, "hello")
    await hears(fake, LEE, REPLY)

    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await fake.private_text(LEE, "still there?")
    await fake.wait_for(lambda: said(fake, LEE).count(REPLY) == 2, timeout=8)
    await asyncio.sleep(0.3)
    assert said(fake, LEE).count(REPLY) == 2
    assert [c.status for c in fake.calls_of("sendMessage", ok=None)][-2:] == [429, 200]


async def test_a_restart_mid_takeover_still_relays_both_ways(fake: FakeBotApi, boot: Boot) -> None:
    first = await boot(ScriptedGenerator(REPLY))
    await fake.private_text(LEE, CRISIS)
    thread, card = await flag_card(fake)
    await press(fake, ALICE, card, next(d for _, d in card.buttons() if ":takeover:" in d))
    await hears(fake, LEE, t("moderator_joined", "en"))
    await first.stop()

    generator = ScriptedGenerator(REPLY)
    await boot(generator)
    await fake.private_text(LEE, "did you leave?")
    await fake.wait_for(lambda: any((m.text or "").endswith("did you leave?") for m in fake.sent(GROUP, thread)))
    await fake.group_text(GROUP, ALICE, "No, I'm still here.", thread_id=thread)
    await hears(fake, LEE, f"{t('moderator_label', 'en')}: No, I'm still here.")
    assert generator.requests == []

    # The moderator's message above refreshed the card: it was edited, not sent again, and
    # its buttons still work.
    await press(fake, ALICE, card, next(d for _, d in card.buttons() if ":release:" in d))
    await hears(fake, LEE, t("moderator_left", "en"))
    await fake.wait_for(lambda: "the AI is answering" in (card.text or ""))
    assert cards(fake, thread) == [card]


async def test_after_a_restart_a_note_and_a_claim_edit_the_original_card(fake: FakeBotApi, boot: Boot) -> None:
    first = await boot(ScriptedGenerator(REPLY))
    await fake.private_text(LEE, CRISIS)
    thread, card = await flag_card(fake)
    await first.stop()

    await boot(ScriptedGenerator(REPLY))
    await typed_and_taken(fake, ALICE, thread, "!note looked at this after the restart")
    assert any("looked at this after the restart" in (m.text or "") for m in fake.sent(GROUP, thread))
    claimed = await press(fake, ALICE, card, card.buttons()[0][1])
    assert claimed == {"text": "claimed", "show_alert": False}
    await fake.wait_for(lambda: "claimed by Alice" in (card.text or ""))
    await press(fake, ALICE, card, next(d for _, d in card.buttons() if ":takeover:" in d))
    await hears(fake, LEE, t("moderator_joined", "en"))
    await typed_and_taken(fake, ALICE, thread, "I'm Alice, still here after the restart.")
    await hears(fake, LEE, f"{t('moderator_label', 'en')}: I'm Alice, still here after the restart.")
    assert cards(fake, thread) == [card], "the card must be edited, not sent again"


async def test_a_flag_stored_with_only_its_topic_gets_one_fresh_card_on_its_first_change(fake: FakeBotApi, boot: Boot) -> None:
    first = await boot(ScriptedGenerator(REPLY))
    await fake.private_text(LEE, CRISIS)
    thread, old = await flag_card(fake)
    await first.stop()
    as_stored_before_card_references(first.settings)

    bot = await boot(ScriptedGenerator(REPLY))
    (flag,) = await bot.manager.store.flags.by_status()
    claimed = await press(fake, ALICE, old, old.buttons()[0][1])  # the old card's buttons still work
    assert claimed == {"text": "claimed", "show_alert": False}
    fresh = await fake.wait_for(lambda: next((m for m in cards(fake, thread) if m is not old), None))
    assert "claimed by Alice" in (fresh.text or "")
    assert await bot.manager.store.flags.mappings(flag.id) == [
        MappingRecord(flag.id, "telegram", f"card:{GROUP}:{thread}:{fresh.message_id}", True)
    ]
    assert await bot.manager.store.flags.find_mapping("telegram", f"topic:{GROUP}:{thread}") == MappingRecord(
        flag.id, "telegram", f"topic:{GROUP}:{thread}", False
    )

    await press(fake, ALICE, fresh, next(d for _, d in fresh.buttons() if ":takeover:" in d))
    await hears(fake, LEE, t("moderator_joined", "en"))
    await fake.wait_for(lambda: "a moderator has the conversation" in (fresh.text or ""))
    await typed_and_taken(fake, ALICE, thread, "Hello from the old topic.")
    await hears(fake, LEE, f"{t('moderator_label', 'en')}: Hello from the old topic.")
    assert cards(fake, thread) == [old, fresh], "one fresh card, then edits"


async def test_a_deleted_card_is_sent_afresh_once_and_edited_after_a_restart(fake: FakeBotApi, boot: Boot) -> None:
    first = await boot(ScriptedGenerator(REPLY))
    await fake.private_text(LEE, CRISIS)
    thread, old = await flag_card(fake)
    fake.delete(GROUP, old.message_id)
    await first.stop()

    second = await boot(ScriptedGenerator(REPLY))
    await typed_and_taken(fake, ALICE, thread, "!note where did the card go?")
    (fresh,) = cards(fake, thread)
    (flag,) = await second.manager.store.flags.by_status()
    assert [m.ref for m in await second.manager.store.flags.mappings(flag.id)] == [f"card:{GROUP}:{thread}:{fresh.message_id}"]
    await second.stop()

    await boot(ScriptedGenerator(REPLY))
    await typed_and_taken(fake, ALICE, thread, "!note and after another restart?")
    claimed = await press(fake, ALICE, fresh, fresh.buttons()[0][1])
    assert claimed == {"text": "claimed", "show_alert": False}
    await fake.wait_for(lambda: "claimed by Alice" in (fresh.text or ""))
    assert cards(fake, thread) == [fresh], "the fresh card must be edited, not sent again"


async def test_reply_mode_sends_a_deleted_card_afresh_and_replies_to_old_relays_still_reach_the_flag(
    fake: FakeBotApi, boot: Boot
) -> None:
    fake.chats[GROUP]["is_forum"] = False

    def card_buttons() -> list[Stored]:
        return [m for m in fake.sent(GROUP) if m.buttons()]

    first = await boot(ScriptedGenerator(REPLY))
    await fake.private_text(LEE, CRISIS)
    (old,) = await fake.wait_for(lambda: card_buttons() or None)
    await press(fake, ALICE, old, next(d for _, d in old.buttons() if ":takeover:" in d))
    await hears(fake, LEE, t("moderator_joined", "en"))
    await fake.private_text(LEE, "are you still there?")
    relay = await fake.wait_for(lambda: next((m for m in fake.sent(GROUP) if m.reply_to == old.message_id), None))
    fake.delete(GROUP, old.message_id)
    await first.stop()

    second = await boot(ScriptedGenerator(REPLY))
    await fake.group_text(GROUP, ALICE, "!note the card was deleted", reply_to=relay.message_id)
    (fresh,) = await fake.wait_for(lambda: card_buttons() or None)
    assert fresh.message_id > relay.message_id and "a moderator has the conversation" in (fresh.text or "")
    (flag,) = await second.manager.store.flags.by_status()
    assert [m.ref for m in await second.manager.store.flags.mappings(flag.id)] == [f"reply:{GROUP}:{fresh.message_id}"]
    await second.stop()

    await boot(ScriptedGenerator(REPLY))
    await fake.group_text(GROUP, ALICE, "Still here for you.", reply_to=relay.message_id)  # an old relay, after a restart
    await hears(fake, LEE, f"{t('moderator_label', 'en')}: Still here for you.")
    await press(fake, ALICE, fresh, next(d for _, d in fresh.buttons() if ":release:" in d))
    await fake.wait_for(lambda: "a moderator has the conversation" not in (fresh.text or ""))
    assert card_buttons() == [fresh], "the fresh card must be edited, not sent again"


async def test_reply_mode_relays_through_replies(fake: FakeBotApi, boot: Boot) -> None:
    fake.chats[GROUP]["is_forum"] = False
    await boot(ScriptedGenerator(REPLY))
    await fake.private_text(LEE, CRISIS)
    card = await fake.wait_for(lambda: next((m for m in fake.sent(GROUP) if m.buttons()), None))
    assert fake.topics == {}
    await press(fake, ALICE, card, next(d for _, d in card.buttons() if ":takeover:" in d))
    await hears(fake, LEE, t("moderator_joined", "en"))

    def relayed(text: str) -> bool:
        return any((m.text or "").endswith(text) for m in fake.sent(GROUP))

    for text in ("first while held", "second while held"):
        await fake.private_text(LEE, text)
        await fake.wait_for(functools.partial(relayed, text))
    await asyncio.sleep(0.3)
    relays = [m for m in fake.sent(GROUP) if (m.text or "").startswith("User\n")]
    assert [m.text for m in relays] == ["User\nfirst while held", "User\nsecond while held"], "each message relayed once"
    assert all(m.reply_to == card.message_id for m in relays)

    await fake.group_text(GROUP, ALICE, "Replying to your message", reply_to=relays[-1].message_id)
    await hears(fake, LEE, f"{t('moderator_label', 'en')}: Replying to your message")
    await fake.group_text(GROUP, ALICE, "And to the card", reply_to=card.message_id)
    await hears(fake, LEE, f"{t('moderator_label', 'en')}: And to the card")
    assert "User\n" not in (card.text or ""), "a relayed message was edited into a card"


async def test_a_sticker_gets_the_text_only_note(fake: FakeBotApi, boot: Boot) -> None:
    await boot(ScriptedGenerator(REPLY))
    await fake.private_sticker(SAM)
    await hears(fake, SAM, t("non_text", "fr"))


async def test_a_user_who_blocked_the_bot_is_marked_unreachable(
    fake: FakeBotApi, boot: Boot, caplog: pytest.LogCaptureFixture
) -> None:
    generator = ScriptedGenerator(REPLY)
    generator.gate = asyncio.Event()
    bot = await boot(generator)
    await fake.private_text(LEE, "hello there")
    await fake.wait_for(lambda: generator.requests)
    fake.block(LEE["id"])
    with caplog.at_level(logging.ERROR, logger="bot.adapters.telegram"):
        generator.gate.set()
        record = None
        for _ in range(50):
            record = await bot.manager.store.users.find(UserRef(Platform.TELEGRAM, str(LEE["id"])))
            if record is not None and record.unreachable:
                break
            await asyncio.sleep(0.05)
    assert record is not None and record.unreachable
    assert not [r for r in caplog.records if "handling a telegram update failed" in r.getMessage()]


async def test_moderators_see_a_transcript_only_for_consenting_users(fake: FakeBotApi, boot: Boot) -> None:
    bot = await boot(ScriptedGenerator(REPLY))
    await fake.private_text(LEE, "I've been feeling low for weeks.")
    notice = await hears(fake, LEE, t("notice", "en", days=bot.settings.retention_days))
    await hears(fake, LEE, REPLY)
    await fake.press(LEE, notice, "/agree")
    await hears(fake, LEE, t("consent_granted", "en", days=bot.settings.retention_days))
    await fake.private_text(LEE, "Some days I can barely get out of bed.")
    await fake.wait_for(lambda: said(fake, LEE).count(REPLY) == 2)
    await fake.private_text(LEE, CRISIS)
    _, card = await flag_card(fake)
    assert card.text is not None and "Recent transcript (consented)" in card.text
    assert "Some days I can barely get out of bed." in card.text
    assert covered(card.text, card.entities, "Some days I can barely get out of bed.") == {"pre"}

    await fake.private_text(ANA, CRISIS)  # never answered the notice: no transcript
    await fake.wait_for(lambda: len(fake.topics) == 2)
    _, other = await flag_card(fake)
    assert other.text is not None and "has not consented" in other.text and "Recent transcript" not in other.text
