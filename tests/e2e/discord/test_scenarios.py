"""Issue 6's scenarios, end to end: scripted Discord users and moderators, the real
discord.py client started by the adapter's own start-up code, the real manager on a
real SQLite file, and the fake Discord in between. Only the model is scripted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.texts import t
from bot.core.types import Platform, UserRef
from bot.safety.levels import RiskLevel
from bot.safety.resources import crisis_message, resources_for
from tests.e2e.discord.fake_discord import FakeDiscord, Person
from tests.e2e.discord.stack import Stack, buttons, card_fields, flag_id_of, message_bodies, open_stack, shown

CRISIS = "I'm going to kill myself tonight, I have the pills ready"
NO_PINGS: dict[str, list[str]] = {"parse": []}


@pytest.fixture
async def stack(tmp_path: Path, fake: FakeDiscord) -> AsyncIterator[Stack]:
    opened = await open_stack(tmp_path, fake)
    yield opened
    await opened.close()


async def test_first_dm_shows_the_notice_and_consent_is_given_by_button(stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")

    await fake.dm(sam, "hi, is anyone there?")
    notice = await stack.next_dm(sam, 0)
    assert shown(notice["content"]) == t("notice", "en", days=stack.settings.retention_days)
    assert buttons(notice) == ["/agree", "/decline"]
    reply = await stack.next_dm(sam, 1)
    assert shown(reply["content"]) == "That sounds hard. I'm here with you."

    await fake.press(sam, int(notice["id"]), "/agree")
    confirmation = await stack.next_dm(sam, 2)
    assert shown(confirmation["content"]) == t("consent_granted", "en", days=stack.settings.retention_days)


async def test_a_normal_exchange_types_while_the_model_works(stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")
    stack.generator.gate = asyncio.Event()

    await fake.dm(sam, "exams are stressing me out")
    await fake.wait_for(lambda: fake.calls_to("POST", rf"/channels/{sam.dm_channel_id}/typing"))
    assert len(stack.dm_messages(sam)) == 1  # only the notice: the reply is still being written
    stack.generator.gate.set()
    reply = await stack.next_dm(sam, 1)

    assert shown(reply["content"]) == "That sounds hard. I'm here with you."
    assert stack.generator.requests[-1].history[-1].text == "exams are stressing me out"
    posts = [c for c in fake.calls if c.method in ("POST", "PATCH") and c.path.endswith("/messages")]
    assert posts and all(c.body and c.body["allowed_mentions"] == NO_PINGS for c in posts)


async def test_a_reply_with_everyone_goes_out_verbatim_and_pings_nobody(stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")
    stack.generator.reply = "@everyone should hear this: <@1> **you** matter"

    await fake.dm(sam, "tell everyone")
    reply = await stack.next_dm(sam, 1)

    assert reply["content"] == "\\@everyone should hear this: \\<@1> \\*\\*you\\*\\* matter"
    assert shown(reply["content"]) == stack.generator.reply
    call = fake.calls_to("POST", rf"/channels/{sam.dm_channel_id}/messages")[-1]
    assert call.body is not None and call.body["allowed_mentions"] == NO_PINGS


async def test_a_429_on_send_is_retried_and_delivered_once(stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")
    path = rf"/channels/{sam.dm_channel_id}/messages"
    fake.fail_next("POST", path, 429)

    await fake.dm(sam, "hello")
    await stack.dm_shown(sam, 2)
    await fake.settle()

    assert [c.status for c in fake.calls_to("POST", path)] == [429, 200, 200]
    assert [shown(m["content"]) for m in stack.dm_messages(sam)][1:] == ["That sounds hard. I'm here with you."]


async def test_attachments_get_the_text_only_note_and_slash_commands_carry_the_locale(stack: Stack) -> None:
    fake = stack.fake
    francoise = fake.add_user("francoise")  # the fake gives "fr…" users a French client

    command = await fake.slash(francoise, "help")
    notice = await stack.next_dm(francoise, 0)
    assert shown(notice["content"]) == t("notice", "fr", days=stack.settings.retention_days)
    await fake.wait_for(lambda: fake.interactions[command].deleted)  # "thinking…" gone once handled
    count = len(stack.dm_messages(francoise))

    await fake.dm(francoise, "", attachments=("selfie.png",))
    note = await stack.next_dm(francoise, count)
    assert shown(note["content"]) == t("non_text", "fr")


async def test_a_crisis_dm_answers_the_user_and_opens_a_thread_with_buttons(stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")

    await fake.dm(sam, CRISIS)
    card = await stack.card()

    embed = card["embeds"][0]
    flag_id = flag_id_of(card)
    level = RiskLevel.parse(embed["title"].split(" · ")[1])
    assert level >= RiskLevel.HIGH
    expected = crisis_message(level, resources_for(None, None, stack.settings.default_country), "en")
    assert expected in [shown(m["content"]) for m in stack.dm_messages(sam)]
    [thread] = fake.threads()
    assert thread["id"] == card["id"] and thread["parent_id"] == str(fake.mod_channel_id)
    assert shown(embed["description"]) == f"> {CRISIS}"
    assert "suicide" in card_fields(card)["Categories"]
    await fake.settle()
    assert fake.bot_messages_in(int(card["id"])) == []  # no consent: no transcript
    assert {f"mod:claim:{flag_id}", f"mod:takeover:{flag_id}", f"mod:resolve:{flag_id}"} <= set(buttons(card))


async def test_moderators_claim_take_over_relay_release_and_resolve(stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")
    alice = fake.add_member("alice", moderator=True)
    card_id, flag_id = await start_crisis_for(stack, sam)
    [transcript] = fake.bot_messages_in(card_id)  # Sam consented: the thread opens with the transcript
    assert shown(transcript["content"]).startswith("**Transcript (consented)") and CRISIS in shown(transcript["content"])

    claimed = await fake.press(alice, card_id, f"mod:claim:{flag_id}")
    assert (await fake.answered(claimed))["content"] == "claimed"
    await fake.wait_for(lambda: card_fields(stack.card_now(card_id))["Held by"] == "Alice")
    assert f"mod:claim:{flag_id}" not in buttons(stack.card_now(card_id))

    before = len(stack.dm_messages(sam))
    took = await fake.press(alice, card_id, f"mod:takeover:{flag_id}")
    assert fake.is_ephemeral(await fake.answered(took))
    joined = await stack.next_dm(sam, before)
    assert shown(joined["content"]) == t("moderator_joined", "en")

    requests = len(stack.generator.requests)
    await fake.dm(sam, "is this a real person?")
    relayed = await fake.wait_for(lambda: [m for m in fake.bot_messages_in(card_id) if "real person" in m["content"]])
    assert shown(relayed[0]["content"]) == "**User:** is this a real person?"  # "User:" in bold

    said = await fake.say_in_thread(alice, card_id, "Yes, I'm Alice. I'm here with you.")
    to_user = await stack.next_dm(sam, before + 1)
    assert shown(to_user["content"]) == f"{t('moderator_label', 'en')}: Yes, I'm Alice. I'm here with you."
    await fake.wait_for(lambda: (said, "✅") in fake.reactions)

    await fake.say_in_thread(alice, card_id, "!note she has her sister nearby")
    await fake.wait_for(lambda: [m for m in fake.bot_messages_in(card_id) if "sister" in m["content"]])
    assert len(stack.generator.requests) == requests  # no model call during the take-over

    released = await fake.press(alice, card_id, f"mod:release:{flag_id}")
    await fake.answered(released)
    messages = await stack.dm_shown(sam, before + 3)
    assert messages[before + 2] == t("moderator_left", "en")
    assert not [m for m in messages if "sister" in m]

    resolving = await fake.press(alice, card_id, f"mod:resolve:{flag_id}")
    prompt = await fake.answered(resolving)
    chosen = await fake.choose(alice, int(prompt["id"]), f"mod:outcome:{flag_id}", "referred")
    await fake.wait_for(lambda: fake.interactions[chosen].modal)
    await fake.submit(alice, chosen, "gave her the crisis line")
    await fake.wait_for(lambda: card_fields(stack.card_now(card_id)).get("Outcome") == "referred")
    await fake.wait_for(lambda: fake.channels[card_id]["thread_metadata"]["archived"])
    await fake.settle()
    assert fake.channels[card_id]["thread_metadata"]["archived"] is True
    assert buttons(stack.card_now(card_id)) == [f"mod:note:{flag_id}"]
    assert fake.messages[int(prompt["id"])]["content"] and fake.messages[int(prompt["id"])]["components"] == []
    bodies = message_bodies(fake)
    assert len(bodies) > 20
    assert [call for call, body in bodies if body.get("allowed_mentions") != NO_PINGS] == []


async def test_a_member_without_the_role_is_refused(stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")
    mallory = fake.add_member("mallory", moderator=False)
    card_id, flag_id = await start_crisis_for(stack, sam)
    card_before = stack.card_now(card_id)["embeds"]

    pressed = await fake.press(mallory, card_id, f"mod:claim:{flag_id}")
    answer = await fake.answered(pressed)
    assert fake.is_ephemeral(answer) and "only moderators can do that" in answer["content"]
    await fake.settle()
    assert stack.card_now(card_id)["embeds"] == card_before

    before = len(stack.dm_messages(sam))
    await fake.say_in_thread(mallory, card_id, "hello from a stranger")
    await fake.settle()
    assert len(stack.dm_messages(sam)) == before


async def test_after_a_restart_mid_takeover_threads_relay_and_old_buttons_work(tmp_path: Path, stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")
    alice = fake.add_member("alice", moderator=True)
    card_id, flag_id = await start_crisis_for(stack, sam)
    await fake.answered(await fake.press(alice, card_id, f"mod:takeover:{flag_id}"))
    await fake.settle()

    await stack.restart(tmp_path)

    before = len(stack.dm_messages(sam))
    await fake.say_in_thread(alice, card_id, "Still here after the restart.")
    to_user = await stack.next_dm(sam, before)
    assert shown(to_user["content"]).endswith("Still here after the restart.")
    await fake.dm(sam, "thank you")
    await fake.wait_for(lambda: [m for m in fake.bot_messages_in(card_id) if "thank you" in m["content"]])

    released = await fake.press(alice, card_id, f"mod:release:{flag_id}")  # a button from before the restart
    assert (await fake.answered(released))["content"] == "released to the AI"


async def test_a_user_with_closed_dms_is_marked_unreachable_not_failed(stack: Stack) -> None:
    fake = stack.fake
    sam = fake.add_user("sam")
    fake.closed_dms.add(sam.dm_channel_id)

    await fake.dm(sam, CRISIS)
    card = await stack.card()  # the turn went on: the flag reached the moderators

    refused = fake.calls_to("POST", rf"/channels/{sam.dm_channel_id}/messages")
    assert refused and {c.status for c in refused} == {403}  # 50007, not retried
    record = await stack.manager.store.users.find(UserRef(Platform.DISCORD, str(sam.id)))
    assert record is not None and record.unreachable
    assert flag_id_of(card) > 0


async def start_crisis_for(stack: Stack, person: Person) -> tuple[int, int]:
    """`person` consents, then sends a crisis message; returns (card id, flag id)."""
    fake = stack.fake
    await fake.dm(person, "hi")
    notice = await stack.next_dm(person, 0)
    await stack.next_dm(person, 1)
    await fake.press(person, int(notice["id"]), "/agree")
    await stack.next_dm(person, 2)
    await fake.dm(person, CRISIS)
    card = await stack.card()
    await fake.settle()
    return int(card["id"]), flag_id_of(card)
