"""The moderator group: flag topics or cards, buttons, typed replies and notes, escaping.

The core is a recorder here (what the adapter hands it is the subject); the scenarios in
test_scenarios.py run the same paths with the real ConversationManager.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.telegram.refs import CardRef, ReplyRef, TopicRef, parse_ref
from bot.core.ports import PostedFlag
from bot.core.types import (
    ActionKind,
    ActionResult,
    FlagKind,
    FlagStatus,
    FlagView,
    Outcome,
    SessionState,
)
from bot.errors import DeliveryError
from bot.safety.levels import Category, RiskLevel
from tests.e2e.telegram.conftest import ALICE, BOB, GROUP, MALLORY, StartAdapter, telegram_settings
from tests.e2e.telegram.fake_api import FakeBotApi
from tests.support.recording_core import RecordingCore
from tests.e2e.telegram.tg_html import covered

INJECTION = "<b>bold?</b> *star* _under_ [link](http://evil.example) @all_moderators /resolve"
STYLES = {"bold", "italic", "underline", "strikethrough", "text_link", "spoiler", "blockquote", "code"}


def card_of(posted: PostedFlag | str | None) -> CardRef:
    """The card a forum-mode reference names."""
    assert posted is not None
    card = parse_ref(posted if isinstance(posted, str) else posted.ref)
    assert isinstance(card, CardRef)
    return card


def flag_view(**changes: object) -> FlagView:
    view = FlagView(
        flag_id=7,
        kind=FlagKind.RISK,
        level=RiskLevel.HIGH,
        categories=(Category.SUICIDE, Category.SELF_HARM),
        reasons=("active wish to die", "method mentioned"),
        status=FlagStatus.OPEN,
        session_state=SessionState.AI,
        user_label="telegram:3f9a2c",
        flagged_messages=(INJECTION,),
        transcript=None,
        assignee=None,
        outcome=None,
        created_at=datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        actions=(ActionKind.CLAIM, ActionKind.TAKEOVER, ActionKind.RESOLVE, ActionKind.NOTE, ActionKind.BLOCK),
    )
    return dataclasses.replace(view, **changes)  # type: ignore[arg-type]


async def test_flag_opens_a_topic_with_an_escaped_card_and_buttons(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    posted = await adapter.post(flag_view())

    (topic_key, topic), = fake.topics.items()
    card = fake.sent(GROUP, thread_id=topic_key[1])[-1]
    assert posted == PostedFlag(f"card:{GROUP}:{topic_key[1]}:{card.message_id}", (f"topic:{GROUP}:{topic_key[1]}",))
    assert topic["name"].startswith("🔴 #7 high") and topic["icon_color"] == 0xFB6F5F
    assert card.text is not None
    assert "Flag #7" in card.text and "suicide, self harm" in card.text and "active wish to die" in card.text
    assert "open, unclaimed" in card.text and "has not consented" in card.text
    assert INJECTION in card.text, "the flagged message must reach moderators verbatim"
    assert covered(card.text, card.entities, INJECTION) == {"pre"}, "user text rendered or auto-linked"
    assert [data for _, data in card.buttons()] == ["mod:claim:7", "mod:takeover:7", "mod:resolve:7", "mod:block:7"]


async def test_state_changes_edit_the_card_in_place(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    ref = (await adapter.post(flag_view())).ref
    thread = card_of(ref).thread_id
    claimed = flag_view(
        status=FlagStatus.CLAIMED,
        session_state=SessionState.HUMAN,
        assignee="Alice <admin>",
        actions=(ActionKind.RELEASE, ActionKind.RESOLVE, ActionKind.NOTE, ActionKind.BLOCK),
        transcript=("user: I can't sleep", "assistant: That sounds exhausting.", f"user: {INJECTION}"),
    )
    assert await adapter.update(ref, claimed) is None
    assert await adapter.update(ref, claimed) is None  # unchanged: Telegram's "not modified" is not an error

    card = fake.sent(GROUP, thread_id=thread)[-1]
    assert len(fake.sent(GROUP, thread_id=thread)) == 1, "the card must be edited, not re-sent"
    assert card.text is not None and "claimed by Alice <admin>" in card.text and "a moderator has the conversation" in card.text
    assert "That sounds exhausting." in card.text and covered(card.text, card.entities, "That sounds exhausting.") == {"pre"}
    assert [data for _, data in card.buttons()] == ["mod:release:7", "mod:resolve:7", "mod:block:7"]


async def test_relay_and_typed_replies_in_a_topic(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    core = RecordingCore()
    adapter = await start_adapter(telegram_settings(fake, tmp_path), core)
    posted = await adapter.post(flag_view())
    ref, thread = posted.ref, card_of(posted).thread_id

    assert await adapter.relay(ref, "User", INJECTION) is None
    relayed = fake.sent(GROUP, thread_id=thread)[-1]
    assert relayed.text == f"User\n{INJECTION}"
    assert covered(relayed.text, relayed.entities, INJECTION) == {"pre"}

    typed = await fake.group_text(GROUP, BOB, "I'm here with you. *really*", thread_id=thread)
    await core.wait_for(lambda: core.texts)
    call = core.texts[0]
    assert (call.surface, call.ref, call.text) == ("telegram", f"topic:{GROUP}:{thread}", "I'm here with you. *really*")
    assert call.ref in posted.aliases
    assert (call.actor.user_id, call.actor.name, call.actor.context, call.actor.roles) == ("502", "Bob", str(GROUP), frozenset({"member"}))
    await fake.wait_for(lambda: fake.reactions)
    assert fake.reactions == [(GROUP, typed.message_id, [{"type": "emoji", "emoji": "👍"}])]

    core.text_result = ActionResult(False, "Refused: take over the session to talk to the user.")
    typed = await fake.group_text(GROUP, MALLORY, "let me in", thread_id=thread)
    await fake.wait_for(lambda: fake.sent(GROUP, thread_id=thread)[-1].reply_to == typed.message_id)
    answer = fake.sent(GROUP, thread_id=thread)[-1]
    assert answer.text == "Refused: take over the session to talk to the user."
    assert core.texts[-1].actor.roles == frozenset({"left"})


async def test_reply_mode_maps_replies_to_the_card_and_to_relayed_messages(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    fake.chats[GROUP]["is_forum"] = False
    core = RecordingCore()
    adapter = await start_adapter(telegram_settings(fake, tmp_path), core)

    posted = await adapter.post(flag_view())
    card = fake.sent(GROUP)[-1]
    assert posted == PostedFlag(f"reply:{GROUP}:{card.message_id}") and fake.topics == {}
    ref = posted.ref
    assert card.text is not None and "Reply to this message" in card.text

    extra = await adapter.relay(ref, "User", "please answer")
    relayed = fake.sent(GROUP)[-1]
    assert extra == f"reply:{GROUP}:{relayed.message_id}" and relayed.reply_to == card.message_id

    await fake.group_text(GROUP, ALICE, "!note called the user back", reply_to=card.message_id)
    await fake.group_text(GROUP, ALICE, "I hear you", reply_to=relayed.message_id)
    await core.wait_for(lambda: len(core.texts) == 2)
    assert [(c.ref, c.text) for c in core.texts] == [(ref, "!note called the user back"), (extra, "I hear you")]
    assert core.texts[0].actor.roles == frozenset({"administrator"})

    resolved = flag_view(status=FlagStatus.RESOLVED, outcome=Outcome.REFERRED, assignee="Alice", actions=(ActionKind.NOTE,))
    assert await adapter.update(ref, resolved) is None
    assert fake.messages[(GROUP, card.message_id)].text is not None
    assert "resolved (referred) by Alice" in (fake.messages[(GROUP, card.message_id)].text or "")
    assert fake.messages[(GROUP, card.message_id)].reply_markup is None


async def test_buttons_become_actions_with_the_facts_for_authorisation(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    core = RecordingCore(action_result=ActionResult(True, "claimed"))
    adapter = await start_adapter(telegram_settings(fake, tmp_path), core)
    card = fake.sent(GROUP, thread_id=card_of(await adapter.post(flag_view())).thread_id)[-1]

    query = await fake.press(ALICE, card, "mod:claim:7")
    await fake.wait_for(lambda: query in fake.answers)
    action = core.actions[0]
    assert (action.kind, action.flag_id, action.outcome, action.text) == (ActionKind.CLAIM, 7, None, None)
    assert (action.actor.user_id, action.actor.context, action.actor.roles) == ("501", str(GROUP), frozenset({"administrator"}))
    assert fake.answers[query] == {"text": "claimed", "show_alert": False}

    core.action_result = ActionResult(False, "Refused: only moderators can do that.")
    query = await fake.press(MALLORY, card, "mod:takeover:7")
    await fake.wait_for(lambda: query in fake.answers)
    assert fake.answers[query] == {"text": "Refused: only moderators can do that.", "show_alert": True}
    assert core.actions[-1].actor.roles == frozenset({"left"})


async def test_resolve_asks_for_an_outcome_first(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    core = RecordingCore(action_result=ActionResult(True, "resolved: false positive"))
    adapter = await start_adapter(telegram_settings(fake, tmp_path), core)
    card = fake.sent(GROUP, thread_id=card_of(await adapter.post(flag_view())).thread_id)[-1]
    first = [data for _, data in card.buttons()]

    query = await fake.press(ALICE, card, "mod:resolve:7")
    await fake.wait_for(lambda: query in fake.answers and any("false_positive" in d for _, d in card.buttons()))
    assert core.actions == [], "opening the outcome menu is not an action"
    outcomes = [data for _, data in card.buttons()]
    assert outcomes[:-1] == [f"mod:resolve:7:{o.value}" for o in Outcome]
    assert outcomes[-1] == "mod:menu:7:ctvb"

    query = await fake.press(ALICE, card, "mod:menu:7:ctvb")
    await fake.wait_for(lambda: query in fake.answers and [data for _, data in card.buttons()] == first)

    await fake.press(ALICE, card, "mod:resolve:7")
    await fake.wait_for(lambda: any("false_positive" in d for _, d in card.buttons()))
    query = await fake.press(ALICE, card, "mod:resolve:7:false_positive")
    await fake.wait_for(lambda: query in fake.answers)
    assert (core.actions[-1].kind, core.actions[-1].outcome) == (ActionKind.RESOLVE, Outcome.FALSE_POSITIVE)


async def test_after_a_restart_the_card_is_edited_in_place_and_the_topic_still_works(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    settings = telegram_settings(fake, tmp_path)
    first = await start_adapter(settings, RecordingCore())
    posted = await first.post(flag_view())
    thread = card_of(posted).thread_id
    card = fake.sent(GROUP, thread_id=thread)[-1]
    await first.stop()

    core = RecordingCore(action_result=ActionResult(True, "claimed"))
    second = await start_adapter(settings, core)
    assert await second.update(posted.ref, flag_view(status=FlagStatus.CLAIMED, assignee="Alice")) is None
    assert fake.sent(GROUP, thread_id=thread) == [card], "the card must be edited, not sent again"
    assert "claimed by Alice" in (card.text or "")

    await fake.group_text(GROUP, BOB, "still relayed after a restart", thread_id=thread)
    await core.wait_for(lambda: core.texts)
    assert core.texts[0].ref in posted.aliases
    query = await fake.press(ALICE, card, "mod:takeover:7")
    await fake.wait_for(lambda: query in fake.answers)
    assert (core.actions[0].kind, core.actions[0].flag_id) == (ActionKind.TAKEOVER, 7)


async def test_a_deleted_card_is_sent_afresh_once_and_its_reference_returned(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    settings = telegram_settings(fake, tmp_path)
    first = await start_adapter(settings, RecordingCore())
    posted = await first.post(flag_view())
    old = card_of(posted)
    fake.delete(GROUP, old.message_id)
    await first.stop()

    second = await start_adapter(settings, RecordingCore())
    fresh = card_of(await second.update(posted.ref, flag_view(status=FlagStatus.CLAIMED, assignee="Bob")))
    (card,) = fake.sent(GROUP, thread_id=old.thread_id)
    assert fresh == CardRef(GROUP, old.thread_id, card.message_id) and fresh != old
    assert "claimed by Bob" in (card.text or "")

    resolved = flag_view(status=FlagStatus.RESOLVED, assignee="Bob", outcome=Outcome.SUPPORTED, actions=())
    assert await second.update(str(fresh), resolved) is None
    assert fake.sent(GROUP, thread_id=old.thread_id) == [card] and "resolved (supported)" in (card.text or "")


async def test_in_reply_mode_a_deleted_card_is_sent_afresh_once_and_its_reference_returned(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    fake.chats[GROUP]["is_forum"] = False
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    posted = await adapter.post(flag_view())
    old = parse_ref(posted.ref)
    assert isinstance(old, ReplyRef)
    fake.delete(GROUP, old.message_id)

    fresh = parse_ref(await adapter.update(posted.ref, flag_view(status=FlagStatus.CLAIMED, assignee="Bob")) or "")
    (card,) = fake.sent(GROUP)
    assert fresh == ReplyRef(GROUP, card.message_id) and fresh != old
    assert "claimed by Bob" in (card.text or "") and card.buttons()
    resolved = flag_view(status=FlagStatus.RESOLVED, assignee="Bob", outcome=Outcome.SUPPORTED, actions=())
    assert await adapter.update(str(fresh), resolved) is None
    assert fake.sent(GROUP) == [card] and "resolved (supported)" in (card.text or "")


async def test_a_legacy_topic_reference_gets_one_fresh_card_and_a_card_reference(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    old = card_of(await adapter.post(flag_view()))
    legacy = str(TopicRef(GROUP, old.thread_id))  # what the bot stored before cards had references

    fresh = card_of(await adapter.update(legacy, flag_view(status=FlagStatus.CLAIMED, assignee="Bob")))
    assert fresh.topic == old.topic and fresh.message_id != old.message_id
    resolved = flag_view(status=FlagStatus.RESOLVED, assignee="Bob", outcome=Outcome.SUPPORTED, actions=())
    assert await adapter.update(str(fresh), resolved) is None
    cards = fake.sent(GROUP, thread_id=old.thread_id)
    assert [m.message_id for m in cards] == [old.message_id, fresh.message_id]
    assert "resolved (supported)" in (cards[-1].text or "")
    assert await adapter.relay(legacy, "User", "a relay to a legacy reference lands in the topic") is None
    assert fake.sent(GROUP, thread_id=old.thread_id)[-1].text == "User\na relay to a legacy reference lands in the topic"


async def test_a_group_without_topic_rights_falls_back_to_reply_mode(
    fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path
) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    fake.fail_next("createForumTopic", 400, "Bad Request: not enough rights to create a topic")
    posted = await adapter.post(flag_view())
    assert posted.ref.startswith(f"reply:{GROUP}:") and posted.aliases == () and fake.topics == {}


async def test_long_flagged_text_and_transcript_fit_one_card(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    adapter = await start_adapter(telegram_settings(fake, tmp_path), RecordingCore())
    huge = "I keep thinking about it. " * 400
    transcript = tuple(f"user: line {i} " + "x" * 300 for i in range(40))
    ref = (await adapter.post(flag_view(flagged_messages=(huge, huge), transcript=transcript))).ref
    thread = card_of(ref).thread_id
    card = fake.sent(GROUP, thread_id=thread)[-1]
    assert card.text is not None and "line 39" in card.text and "line 0 " not in card.text
    assert [data for _, data in card.buttons()][0] == "mod:claim:7"

    long_relay = "word " * 2000
    await adapter.relay(ref, "User", long_relay)
    pieces = fake.sent(GROUP, thread_id=thread)[1:]
    assert len(pieces) == 3 and " ".join((p.text or "").removeprefix("User\n") for p in pieces).split() == long_relay.split()
    assert all(STYLES & covered(p.text or "", p.entities, "word") == set() for p in pieces)


async def test_without_a_moderator_group_the_surface_says_so(fake: FakeBotApi, start_adapter: StartAdapter, tmp_path: Path) -> None:
    core = RecordingCore()
    adapter = await start_adapter(telegram_settings(fake, tmp_path, telegram_mod_group_id=None), core)
    assert not adapter.moderation_enabled
    with pytest.raises(DeliveryError, match="TELEGRAM_MOD_GROUP_ID"):
        await adapter.post(flag_view())
    await fake.group_text(GROUP, ALICE, "anyone?", reply_to=1)
    await fake.private_text(BOB, "hi")
    await core.wait_for(lambda: core.inbounds)
    assert core.texts == [] and fake.calls_of("getChat") == []
