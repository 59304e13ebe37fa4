"""The user side of the adapter, call by call: DMs in, Outbounds out, buttons, slash commands.

A recording core stands in for the manager here so every translation is checked exactly;
tests/e2e/discord/test_scenarios.py runs the same paths with the real manager.
"""

from __future__ import annotations

import pytest

from bot.adapters.discord.render import MESSAGE_LIMIT
from bot.core.types import Button, Inbound, InboundKind, Outbound, OutboundKind, Platform, UserRef
from bot.errors import DeliveryError, UserUnreachable
from tests.e2e.discord.conftest import StartAdapter
from tests.e2e.discord.fake_discord import FakeDiscord, Person
from tests.support.recording_core import RecordingCore

NO_PINGS: dict[str, list[str]] = {"parse": []}


def outbound(person: Person, text: str, *buttons: Button, kind: OutboundKind = OutboundKind.REPLY) -> Outbound:
    return Outbound(UserRef(Platform.DISCORD, str(person.id)), str(person.dm_channel_id), kind, text, buttons)


async def test_dm_text_becomes_inbound_and_own_echo_is_ignored(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    core = RecordingCore()
    adapter = await start_adapter(fake, core)
    sam = fake.add_user("sam")

    await fake.dm(sam, "I can't sleep lately")
    await core.wait_for(lambda: len(core.inbounds) == 1)
    inbound = core.inbounds[0]
    assert inbound.user == UserRef(Platform.DISCORD, str(sam.id))
    assert inbound.chat_ref == str(sam.dm_channel_id)
    assert (inbound.text, inbound.kind, inbound.display_name) == ("I can't sleep lately", InboundKind.TEXT, "Sam")
    assert inbound.received_at.tzinfo is not None

    await adapter.send(outbound(sam, "That sounds exhausting."))
    await fake.settle()  # the fake echoes the bot's own message on the gateway, as Discord does
    assert len(core.inbounds) == 1


async def test_attachments_and_stickers_are_non_text_and_text_alongside_is_still_read(
    fake: FakeDiscord, start_adapter: StartAdapter
) -> None:
    core = RecordingCore()
    await start_adapter(fake, core)
    sam = fake.add_user("sam")

    await fake.dm(sam, "", attachments=("photo.png",))
    await fake.dm(sam, "look at this", stickers=("wave",))
    await core.wait_for(lambda: len(core.inbounds) == 3)
    assert [(i.kind, i.text) for i in core.inbounds] == [
        (InboundKind.NON_TEXT, ""),
        (InboundKind.NON_TEXT, ""),
        (InboundKind.TEXT, "look at this"),
    ]


async def test_long_reply_is_split_escaped_and_never_pings(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    sam = fake.add_user("sam")
    paragraph = "You matter. " * 60  # 720 characters
    text = "@everyone <@123> **not bold** [link](https://evil.example)\n\n" + "\n\n".join([paragraph] * 5)

    await adapter.send(outbound(sam, text, Button("Agree", "/agree")))

    sent = fake.bot_messages_in(sam.dm_channel_id)
    assert len(sent) == 3
    assert all(len(m["content"]) <= MESSAGE_LIMIT for m in sent)
    first = sent[0]["content"]
    assert first.startswith("\\@everyone \\<@123> \\*\\*not bold\\*\\* \\[link](https://evil.example)")
    assert [m["components"] != [] for m in sent] == [False, False, True]
    assert sent[-1]["components"][0]["components"][0]["custom_id"] == "/agree"
    posts = fake.calls_to("POST", rf"/channels/{sam.dm_channel_id}/messages")
    assert len(posts) == 3 and all(call.body and call.body["allowed_mentions"] == NO_PINGS for call in posts)
    joined = " ".join(m["content"] for m in sent).replace("\\", "")
    assert joined.count("You matter.") == 300


async def test_closed_dms_make_the_user_unreachable(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    sam = fake.add_user("sam")
    fake.closed_dms.add(sam.dm_channel_id)

    with pytest.raises(UserUnreachable):
        await adapter.send(outbound(sam, "hello"))
    await adapter.typing(str(sam.dm_channel_id))  # best effort: never raises
    assert len(fake.calls_to("POST", rf"/channels/{sam.dm_channel_id}/messages")) == 1  # not retried


async def test_429_is_waited_out_and_delivered_once(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    sam = fake.add_user("sam")
    fake.fail_next("POST", rf"/channels/{sam.dm_channel_id}/messages", 429)

    await adapter.send(outbound(sam, "hello"))

    assert [c.status for c in fake.calls_to("POST", rf"/channels/{sam.dm_channel_id}/messages")] == [429, 200]
    assert [m["content"] for m in fake.bot_messages_in(sam.dm_channel_id)] == ["hello"]


async def test_a_transient_failure_is_retried_once_then_reported(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    sam = fake.add_user("sam")
    path = rf"/channels/{sam.dm_channel_id}/messages"

    fake.fail_next("POST", path, 503)
    await adapter.send(outbound(sam, "first"))
    assert [m["content"] for m in fake.bot_messages_in(sam.dm_channel_id)] == ["first"]

    fake.fail_next("POST", path, 503, times=2)
    with pytest.raises(DeliveryError) as failure:
        await adapter.send(outbound(sam, "second"))
    assert not isinstance(failure.value, UserUnreachable)
    assert [c.status for c in fake.calls_to("POST", path)] == [503, 200, 503, 503]


async def test_typing_triggers_the_indicator(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    sam = fake.add_user("sam")
    await adapter.typing(str(sam.dm_channel_id))
    assert len(fake.calls_to("POST", rf"/channels/{sam.dm_channel_id}/typing")) == 1


async def test_slash_commands_are_dm_only_localised_and_become_command_text(
    fake: FakeDiscord, start_adapter: StartAdapter
) -> None:
    core = RecordingCore()
    await start_adapter(fake, core)
    country = next(c for c in fake.commands if c["name"] == "country")
    assert country["contexts"] == [1]  # bot DMs only
    assert country["description_localizations"]["fr"].startswith("Choisir votre pays")
    assert [o["name"] for o in country["options"]] == ["code"]

    francoise = fake.add_user("francoise")
    interaction = await fake.slash(francoise, "country", code="FR")
    await core.wait_for(lambda: len(core.inbounds) == 1)
    assert (core.inbounds[0].text, core.inbounds[0].locale) == ("/country FR", "fr")
    await fake.wait_for(lambda: fake.interactions[interaction].deleted)  # "thinking…" removed once handled


async def test_a_button_press_is_the_command_it_carries_and_sets_later_locales(
    fake: FakeDiscord, start_adapter: StartAdapter
) -> None:
    core = RecordingCore()
    adapter = await start_adapter(fake, core)
    fran = fake.add_user("fran")
    await adapter.send(outbound(fran, "Before we start...", Button("I agree", "/agree"), Button("No thanks", "/decline")))
    notice = fake.bot_messages_in(fran.dm_channel_id)[-1]

    interaction = await fake.press(fran, int(notice["id"]), "/agree")
    await core.wait_for(lambda: len(core.inbounds) == 1)
    assert core.inbounds[0].text == "/agree"
    assert fake.interactions[interaction].callbacks == [{"type": 6}]  # acknowledged, nothing shown

    await fake.dm(fran, "merci")
    await core.wait_for(lambda: len(core.inbounds) == 2)
    assert core.inbounds[1].locale == "fr"


async def test_a_failing_core_answers_the_interaction_keeps_running_and_logs_no_user_text(
    fake: FakeDiscord, start_adapter: StartAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(inbound: Inbound) -> None:
        raise RuntimeError(f"failed on {inbound.text}")

    core = RecordingCore(on_handle=explode)
    await start_adapter(fake, core)
    sam = fake.add_user("sam")
    await fake.dm(sam, "my private words")
    await core.wait_for(lambda: len(core.inbounds) == 1)
    interaction = await fake.slash(sam, "help")
    await fake.wait_for(lambda: len(fake.interactions[interaction].callbacks) == 1 and fake.answer(interaction))
    await fake.settle()
    answer = fake.answer(interaction)
    assert answer is not None and "went wrong" in answer["content"]

    assert "failed: RuntimeError" in caplog.text and "private words" not in caplog.text and "/help" not in caplog.text

    core.on_handle = None
    await fake.dm(sam, "still there?")
    await core.wait_for(lambda: len(core.inbounds) == 3)

