"""Start-up and shutdown of the real discord.py client against the fake Discord."""

from __future__ import annotations

from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.core.commands import USER_COMMANDS
from tests.e2e.discord.conftest import StartAdapter
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.e2e.discord.recording_core import RecordingCore


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
