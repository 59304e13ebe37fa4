"""The moderator side of the adapter, call by call: cards, threads, buttons, forms, thread text.

A recording core stands in for the manager (it answers whatever the test sets), so the
adapter's translation is checked exactly; test_scenarios.py uses the real manager.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.types import (
    ActionKind,
    ActionResult,
    FlagKind,
    FlagStatus,
    FlagView,
    ModeratorAction,
    Outcome,
    SessionState,
)
from bot.safety.levels import Category, RiskLevel
from tests.e2e.discord.conftest import StartAdapter
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.support.recording_core import RecordingCore

NO_PINGS: dict[str, list[str]] = {"parse": []}
OPEN_ACTIONS = (ActionKind.CLAIM, ActionKind.TAKEOVER, ActionKind.RESOLVE, ActionKind.NOTE, ActionKind.BLOCK)


def flag_view(flag_id: int = 7, **changes: Any) -> FlagView:
    values: dict[str, Any] = {
        "flag_id": flag_id,
        "kind": FlagKind.RISK,
        "level": RiskLevel.HIGH,
        "categories": (Category.SUICIDE,),
        "reasons": ("active wish to die", "a plan"),
        "status": FlagStatus.OPEN,
        "session_state": SessionState.AI,
        "user_label": "discord:3f9a1c",
        "flagged_messages": ("I have the pills here @everyone",),
        "transcript": None,
        "assignee": None,
        "outcome": None,
        "created_at": datetime.now(UTC),
        "actions": OPEN_ACTIONS,
    }
    values.update(changes)
    return FlagView(**values)


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def test_post_creates_a_card_and_its_thread_in_a_text_channel(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore())

    ref = (await adapter.post(flag_view(transcript=("user: hello", "assistant: hi, I'm here")))).ref

    [card] = fake.bot_messages_in(fake.mod_channel_id)
    [thread] = fake.threads()
    assert ref == f"thread:{card['id']}" and thread["id"] == card["id"]
    assert thread["parent_id"] == str(fake.mod_channel_id) and thread["name"] == "#7 · high · suicide"
    embed = card["embeds"][0]
    assert embed["title"] == "Flag #7 · HIGH · URGENT"
    assert "\\@everyone" in embed["description"]
    assert {f["name"]: f["value"] for f in embed["fields"]}["Held by"] == "nobody"
    assert custom_ids(card) == [f"mod:{kind.value}:7" for kind in OPEN_ACTIONS]
    [transcript] = fake.bot_messages_in(int(thread["id"]))
    assert "user: hello" in transcript["content"]
    bodies = [c.body for c in fake.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert bodies and all(body and body["allowed_mentions"] == NO_PINGS for body in bodies)


async def test_no_transcript_is_posted_without_consent(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    ref = (await adapter.post(flag_view(transcript=None))).ref
    assert fake.bot_messages_in(int(ref.split(":")[1])) == []


async def test_post_in_a_forum_channel_creates_a_forum_post(fake_forum: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake_forum, RecordingCore())

    ref = (await adapter.post(flag_view())).ref
    await adapter.update(ref, flag_view(status=FlagStatus.CLAIMED, assignee="Alice", actions=(ActionKind.RESOLVE,)))

    [thread] = fake_forum.threads()
    assert ref == f"thread:{thread['id']}"
    [card] = fake_forum.bot_messages_in(int(thread["id"]))
    assert card["id"] == thread["id"]
    assert {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}["Held by"] == "Alice"
    assert custom_ids(card) == ["mod:resolve:7"]


async def test_a_resolved_forum_post_is_reopened_only_to_edit_its_card(
    fake_forum: FakeDiscord, start_adapter: StartAdapter
) -> None:
    adapter = await start_adapter(fake_forum, RecordingCore())
    ref = (await adapter.post(flag_view())).ref
    thread_id = int(ref.split(":")[1])
    await adapter.update(ref, flag_view(status=FlagStatus.RESOLVED, outcome=Outcome.SUPPORTED, actions=(ActionKind.NOTE,)))
    assert fake_forum.channels[thread_id]["thread_metadata"]["archived"] is True

    await adapter.update(ref, flag_view(status=FlagStatus.RESOLVED, outcome=Outcome.FALSE_POSITIVE, actions=()))

    assert {f["name"]: f["value"] for f in fake_forum.messages[thread_id]["embeds"][0]["fields"]}["Outcome"] == "false positive"
    assert fake_forum.channels[thread_id]["thread_metadata"]["archived"] is True
    edits = [c.status for c in fake_forum.calls_to("PATCH", rf"/channels/{thread_id}/messages/{thread_id}")]
    assert edits == [200, 400, 200]


async def test_update_edits_the_card_and_resolving_archives_the_thread(
    fake: FakeDiscord, start_adapter: StartAdapter
) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    ref = (await adapter.post(flag_view())).ref
    card_id = int(ref.split(":")[1])

    await adapter.update(ref, flag_view(status=FlagStatus.CLAIMED, assignee="<@1> Alice", actions=(ActionKind.RELEASE,)))
    card = fake.messages[card_id]
    assert {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}["Held by"] == "\\<@1> Alice"
    assert custom_ids(card) == ["mod:release:7"]

    await adapter.update(ref, flag_view(status=FlagStatus.RESOLVED, outcome=Outcome.REFERRED, actions=()))
    assert fake.messages[card_id]["components"] == []
    assert fake.channels[card_id]["thread_metadata"]["archived"] is True

    await adapter.relay(ref, "User", "are you still there?")  # posting unarchives, as Discord does
    assert fake.channels[card_id]["thread_metadata"]["archived"] is False


async def test_relay_posts_escaped_text_in_the_thread(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    ref = (await adapter.post(flag_view())).ref

    assert await adapter.relay(ref, "User", "**help** @here " + "x" * 2100) is None

    relayed = fake.bot_messages_in(int(ref.split(":")[1]))
    assert relayed[0]["content"].startswith("**User:** \\*\\*help\\*\\* \\@here")
    assert len(relayed) == 2 and all(len(m["content"]) <= 2000 for m in relayed)


async def test_a_button_press_carries_the_members_facts_and_shows_the_answer_ephemerally(
    fake: FakeDiscord, start_adapter: StartAdapter
) -> None:
    core = RecordingCore(action_result=ActionResult(False, "Only moderators can do that."))
    adapter = await start_adapter(fake, core)
    ref = (await adapter.post(flag_view())).ref
    mallory = fake.add_member("mallory", moderator=False)

    interaction = await fake.press(mallory, int(ref.split(":")[1]), "mod:claim:7")
    await core.wait_for(lambda: len(core.actions) == 1)
    action = core.actions[0]
    assert (action.kind, action.flag_id, action.text, action.outcome) == (ActionKind.CLAIM, 7, None, None)
    assert action.actor.user_id == str(mallory.id) and action.actor.context == str(fake.guild_id)
    assert str(fake.mod_role_id) not in action.actor.roles

    answer = await fake.answered(interaction)
    assert answer["content"] == "Only moderators can do that." and fake.is_ephemeral(answer)

    alice = fake.add_member("alice", moderator=True)
    await fake.press(alice, int(ref.split(":")[1]), "mod:takeover:7")
    await core.wait_for(lambda: len(core.actions) == 2)
    assert str(fake.mod_role_id) in core.actions[1].actor.roles


async def test_resolve_asks_for_an_outcome_then_a_note(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    core = RecordingCore(action_result=ActionResult(True, "Flag #7 resolved."))
    adapter = await start_adapter(fake, core)
    ref = (await adapter.post(flag_view())).ref
    alice = fake.add_member("alice", moderator=True)

    pressed = await fake.press(alice, int(ref.split(":")[1]), "mod:resolve:7")
    prompt = await fake.wait_for(lambda: fake.answer(pressed))
    assert fake.is_ephemeral(prompt) and custom_ids(prompt) == ["mod:outcome:7"]
    options = prompt["components"][0]["components"][0]["options"]
    assert [o["value"] for o in options] == [outcome.value for outcome in Outcome]

    chosen = await fake.choose(alice, int(prompt["id"]), "mod:outcome:7", "referred")
    await fake.wait_for(lambda: fake.interactions[chosen].modal)
    submitted = await fake.submit(alice, chosen, "  gave the 988 number  ")
    await core.wait_for(lambda: len(core.actions) == 1)
    assert core.actions[0] == ModeratorAction(
        core.actions[0].actor, ActionKind.RESOLVE, 7, text="gave the 988 number", outcome=Outcome.REFERRED
    )
    await fake.wait_for(lambda: fake.messages[int(prompt["id"])]["content"] == "Flag #7 resolved.")
    assert fake.messages[int(prompt["id"])]["components"] == []
    assert fake.interactions[submitted].callbacks == [{"type": 6}]


async def test_note_button_opens_a_form_and_the_card_is_left_alone(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    core = RecordingCore(action_result=ActionResult(True, "Note saved."))
    adapter = await start_adapter(fake, core)
    ref = (await adapter.post(flag_view())).ref
    card_id = int(ref.split(":")[1])
    alice = fake.add_member("alice", moderator=True)
    card_before = dict(fake.messages[card_id])

    pressed = await fake.press(alice, card_id, "mod:note:7")
    await fake.wait_for(lambda: fake.interactions[pressed].modal)
    submitted = await fake.submit(alice, pressed, "called her sister")
    await core.wait_for(lambda: len(core.actions) == 1)
    assert (core.actions[0].kind, core.actions[0].text) == (ActionKind.NOTE, "called her sister")
    answer = await fake.answered(submitted)
    assert answer["content"] == "Note saved." and fake.is_ephemeral(answer)
    assert fake.messages[card_id] == card_before


async def test_text_in_a_flag_thread_goes_to_the_core_with_its_ref(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    core = RecordingCore()
    adapter = await start_adapter(fake, core)
    ref = (await adapter.post(flag_view())).ref
    thread_id = int(ref.split(":")[1])
    alice = fake.add_member("alice", moderator=True)

    relayed = await fake.say_in_thread(alice, thread_id, "Hi, I'm Alice, a volunteer here.")
    await core.wait_for(lambda: len(core.texts) == 1)
    call = core.texts[0]
    assert (call.surface, call.ref, call.text) == ("discord", ref, "Hi, I'm Alice, a volunteer here.")
    assert str(fake.mod_role_id) in call.actor.roles and call.actor.context == str(fake.guild_id)
    await fake.wait_for(lambda: (relayed, "✅") in fake.reactions)

    core.text_result = ActionResult(False, "Take the session over first.")
    refused = await fake.say_in_thread(alice, thread_id, "hello?")
    reply = await fake.wait_for(
        lambda: next((m for m in fake.bot_messages_in(thread_id) if m.get("message_reference")), None)
    )
    assert reply["content"] == "Take the session over first." and reply["message_reference"]["message_id"] == str(refused)

    core.text_result = None
    await fake.say_in_thread(alice, thread_id, "chatting")
    await core.wait_for(lambda: len(core.texts) == 3)
    await fake.settle()
    assert len(fake.bot_messages_in(thread_id)) == 1 and len(fake.reactions) == 1


async def test_text_outside_flag_threads_is_not_moderator_text(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    core = RecordingCore()
    await start_adapter(fake, core)
    alice = fake.add_member("alice", moderator=True)

    await fake.say_in_thread(alice, fake.mod_channel_id, "general chatter in the channel itself")
    await fake.dm(alice, "a moderator DMing the bot is a user")
    await core.wait_for(lambda: len(core.inbounds) == 1)
    await fake.settle()
    assert core.texts == [] and core.inbounds[0].text == "a moderator DMing the bot is a user"


async def test_intents_are_minimal(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    await start_adapter(fake, RecordingCore())
    dm_messages, guilds, guild_messages, message_content = 1 << 12, 1 << 0, 1 << 9, 1 << 15
    assert fake.identifies[-1]["intents"] == dm_messages | guilds | guild_messages | message_content


async def test_without_a_moderator_channel_only_dms_are_received(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore(), discord_mod_channel_id=None, discord_mod_guild_id=None)
    assert not adapter.moderation_enabled
    dm_messages, guilds = 1 << 12, 1 << 0
    assert fake.identifies[-1]["intents"] == dm_messages | guilds
