"""Start-up and shutdown of the real discord.py client against the fake Discord."""

from __future__ import annotations

import asyncio

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord_bot import DiscordAdapter
from bot.core.commands import USER_COMMANDS
from bot.core.types import ActionKind, Button, FlagStatus, Inbound, Outbound, OutboundKind, Platform, UserRef
from bot.errors import ConfigError, DeliveryError
from tests.e2e.discord.conftest import StartAdapter
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.support.recording_core import RecordingCore
from tests.e2e.discord.test_moderators import flag_view


async def test_start_logs_in_publishes_commands_and_stop_restores_endpoints(
    fake: FakeDiscord, start_adapter: StartAdapter
) -> None:
    default_base, default_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    adapter = await start_adapter(fake, RecordingCore())

    assert [c.path for c in fake.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    assert len(fake.identifies) == 1
    assert {c["name"] for c in fake.commands} == {spec.command.value for spec in USER_COMMANDS}
    await adapter.stop()
    assert (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == (default_base, default_gateway)


async def test_a_rejected_token_is_a_config_error(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN was rejected"):
        await start_adapter(fake, RecordingCore(), discord_token="not-the-token")
    assert Route.BASE == "https://discord.com/api/v10"


async def test_stop_waits_for_a_turn_in_progress_and_its_reply_goes_out(
    fake: FakeDiscord, start_adapter: StartAdapter
) -> None:
    release = asyncio.Event()
    adapter: DiscordAdapter | None = None

    async def slow_turn(inbound: Inbound) -> None:
        await release.wait()
        assert adapter is not None
        await adapter.send(Outbound(inbound.user, inbound.chat_ref, OutboundKind.REPLY, "Thanks for waiting."))

    core = RecordingCore(on_handle=slow_turn)
    adapter = await start_adapter(fake, core)
    sam = fake.add_user("sam")
    await fake.dm(sam, "hello?")
    await core.wait_for(lambda: bool(core.inbounds))

    stopping = asyncio.create_task(adapter.stop())
    await asyncio.sleep(0.3)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert [m["content"] for m in fake.bot_messages_in(sam.dm_channel_id)] == ["Thanks for waiting."]


async def test_after_a_restart_old_buttons_and_threads_still_work(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    first = await start_adapter(fake, RecordingCore())
    sam = fake.add_user("sam")
    alice = fake.add_member("alice", moderator=True)
    user = UserRef(Platform.DISCORD, str(sam.id))
    await first.send(Outbound(user, str(sam.dm_channel_id), OutboundKind.NOTICE, "Notice", (Button("I agree", "/agree"),)))
    notice_id = int(fake.bot_messages_in(sam.dm_channel_id)[-1]["id"])
    ref = (await first.post(flag_view())).ref
    card_id = int(ref.split(":")[1])
    await first.stop()

    core = RecordingCore()
    await start_adapter(fake, core)
    assert len(fake.identifies) == 2
    await fake.press(sam, notice_id, "/agree")
    await fake.press(alice, card_id, "mod:claim:7")
    await fake.say_in_thread(alice, card_id, "still relayed")
    await core.wait_for(lambda: bool(core.inbounds and core.actions and core.texts))
    assert core.inbounds[0].text == "/agree"
    assert (core.actions[0].kind, core.actions[0].flag_id) == (ActionKind.CLAIM, 7)
    assert core.texts[0].ref == ref


async def test_a_gateway_reconnect_resumes_the_session(fake: FakeDiscord, start_adapter: StartAdapter) -> None:
    core = RecordingCore()
    await start_adapter(fake, core)
    sam = fake.add_user("sam")

    await fake.request_reconnect()
    await fake.wait_for(lambda: fake.resumes == 1)
    await fake.dm(sam, "are you there?")
    await core.wait_for(lambda: len(core.inbounds) == 1)
    assert len(fake.identifies) == 1


@pytest.mark.parametrize("announced", [True, False], ids=["thread-update", "uncached-thread"])
async def test_writing_in_an_archived_flag_thread_after_a_restart_still_reaches_the_core(
    fake: FakeDiscord, start_adapter: StartAdapter, announced: bool
) -> None:
    first = await start_adapter(fake, RecordingCore())
    ref = (await first.post(flag_view())).ref
    await first.update(ref, flag_view(status=FlagStatus.RESOLVED, actions=(ActionKind.NOTE,)))
    await first.stop()

    core = RecordingCore()
    await start_adapter(fake, core)  # archived threads are not in GUILD_CREATE: not cached
    alice = fake.add_member("alice", moderator=True)
    await fake.say_in_thread(alice, int(ref.split(":")[1]), "!note followed up by phone", announce_unarchive=announced)
    await core.wait_for(lambda: bool(core.texts))
    assert (core.texts[0].ref, core.texts[0].text) == (ref, "!note followed up by phone")
    assert bool(fake.calls_to("GET", rf"/channels/{ref.split(':')[1]}")) is not announced


async def test_a_fatal_gateway_close_is_logged_and_sends_then_fail_honestly(
    fake: FakeDiscord, start_adapter: StartAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = await start_adapter(fake, RecordingCore())
    sam = fake.add_user("sam")

    await fake.close_gateway(4004)
    for _ in range(100):  # the log is not a fake event: poll it
        if "stopped unexpectedly" in caplog.text:
            break
        await asyncio.sleep(0.05)
    assert "the Discord client stopped unexpectedly (ConnectionClosed)" in caplog.text
    with pytest.raises(DeliveryError, match="not running"):
        await adapter.send(Outbound(UserRef(Platform.DISCORD, str(sam.id)), str(sam.dm_channel_id), OutboundKind.REPLY, "hi"))
