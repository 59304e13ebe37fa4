"""The discord.py client: intents, endpoints, slash commands and event wiring.

Nothing here decides anything; events are handed to a `ClientHandler` (the adapter).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord.components import DYNAMIC_ITEMS, ComponentHandler
from bot.core.commands import USER_COMMANDS, CommandSpec

log = logging.getLogger(__name__)


class ClientHandler(ComponentHandler, Protocol):
    """Everything the client forwards to the adapter."""

    async def on_message(self, message: discord.Message) -> None: ...

    async def user_command(self, interaction: discord.Interaction, text: str) -> None: ...

    def on_receiving(self) -> None:
        """The gateway session is up (and the moderator guild, if any, is cached)."""
        ...


def intents_for(moderation: bool) -> discord.Intents:
    """Only what the adapter uses.

    DMs need `dm_messages` (DM content is delivered without the privileged intent);
    `guilds` keeps discord.py's cache sound (channels, threads, the roles that moderator
    facts are read from). The moderator channel adds `guild_messages` and the privileged
    `message_content`, to read what moderators type in flag threads. Interactions need
    no intent at all.
    """
    intents = discord.Intents.none()
    intents.dm_messages = True
    intents.guilds = True
    if moderation:
        intents.guild_messages = True
        intents.message_content = True
    return intents


@contextmanager
def endpoints(api_base: str | None, gateway_url: str | None) -> Iterator[None]:
    """Point discord.py at another REST base / gateway (a proxy, a test server).

    discord.py keeps both as class attributes (`Route.BASE` also serves interaction
    webhooks), so they are set for the life of the client and restored afterwards.
    """
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    if api_base:
        Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


class _DescriptionTranslator(app_commands.Translator):
    """Serves the core's command descriptions in French and Spanish to Discord's menus."""

    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        if context.location is not app_commands.TranslationContextLocation.command_description:
            return None
        spec = string.extras.get("spec")
        language = locale.value.split("-")[0]
        if isinstance(spec, CommandSpec) and language in spec.descriptions and language != "en":
            return spec.descriptions[language]
        return None


def _slash_command(spec: CommandSpec, handler: ClientHandler) -> app_commands.Command[Any, ..., None]:
    name = spec.command.value
    description = app_commands.locale_str(spec.description("en"), spec=spec)
    callback: Callable[..., Coroutine[Any, Any, None]]
    if spec.takes_argument:

        @app_commands.describe(code="two-letter country code, e.g. FR, US, ES")
        async def with_argument(interaction: discord.Interaction, code: str) -> None:
            await handler.user_command(interaction, f"/{name} {code}")

        callback = with_argument
    else:

        async def without_argument(interaction: discord.Interaction) -> None:
            await handler.user_command(interaction, f"/{name}")

        callback = without_argument
    return app_commands.Command(
        name=name,
        description=description,
        callback=callback,
        allowed_contexts=app_commands.AppCommandContext(guild=False, dm_channel=True, private_channel=False),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
    )


class CounselClient(discord.Client):
    """A discord.py client that forwards to one handler and publishes the user commands."""

    def __init__(self, handler: ClientHandler, *, moderation: bool, mod_guild_id: int | None) -> None:
        # The bot never joins voice: discord.py's "voice will NOT be supported" warnings are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=intents_for(moderation),
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None,  # no message cache: user text is not kept in memory
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
        )
        self.component_handler: ClientHandler = handler
        self.tree = app_commands.CommandTree(self)
        self._mod_guild_id = mod_guild_id
        self._connected = False
        for spec in USER_COMMANDS:
            self.tree.add_command(_slash_command(spec, handler))

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.tree.set_translator(_DescriptionTranslator())
        # A bulk overwrite is idempotent: unchanged commands cost nothing on Discord's side.
        # Menus are a convenience (typed `/word` works the same), so a failure is not fatal.
        try:
            await self.tree.sync()
        except discord.HTTPException as exc:
            log.warning("publishing the slash commands failed (HTTP %s); typed commands still work", exc.status)

    async def on_connect(self) -> None:
        self._connected = True
        if self._mod_guild_id is None:
            self.component_handler.on_receiving()

    async def on_guild_available(self, guild: discord.Guild) -> None:
        if guild.id == self._mod_guild_id and self._connected:
            self.component_handler.on_receiving()

    async def on_ready(self) -> None:
        if self._mod_guild_id is not None and self.get_guild(self._mod_guild_id) is None:
            log.warning("the bot is not a member of DISCORD_MOD_GUILD_ID; moderator features will fail")
        self.component_handler.on_receiving()

    async def on_message(self, message: discord.Message) -> None:
        await self.component_handler.on_message(message)
