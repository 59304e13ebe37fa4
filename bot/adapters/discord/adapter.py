"""The Discord adapter: users in DMs, moderators in a guild channel with a thread per flag.

It translates discord.py events into core calls and core values into Discord calls, and
holds no policy: the core parses commands, decides what to answer, authorises every
moderator action and keeps the flag ↔ thread mapping in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import ExitStack, suppress
from datetime import datetime
from typing import Literal, Protocol, TypeVar

import discord
from discord.utils import MISSING

from bot.adapters.discord import render
from bot.adapters.discord.client import CounselClient, endpoints
from bot.adapters.discord.components import TEXT_ACTIONS, ModeratorTextModal, moderator_view, outcome_view, user_view
from bot.adapters.discord.delivery import TRANSIENT, InFlight, deliver, log_failure
from bot.config import Settings
from bot.core.ports import PostedFlag
from bot.core.types import (
    ActionKind,
    ActionResult,
    Actor,
    FlagStatus,
    FlagView,
    Inbound,
    InboundKind,
    ModeratorAction,
    Outbound,
    Outcome,
    Platform,
    UserRef,
)
from bot.errors import ConfigError, CounselbotError, DeliveryError

log = logging.getLogger(__name__)

T = TypeVar("T")

ARCHIVE_AFTER_MINUTES: Literal[10080] = 10080  # a week, the longest Discord allows
THREAD_ARCHIVED = 50083  # "Operation cannot be performed on an archived thread"
_LOCALE_CACHE_SIZE = 10_000
_USER_MESSAGE_TYPES = (discord.MessageType.default, discord.MessageType.reply)
_RELAYED = "✅"
_SORRY = "Something went wrong on our side; please try again."


class Core(Protocol):
    """The part of `ConversationManager` the adapter calls."""

    async def handle(self, inbound: Inbound) -> None: ...

    async def act(self, action: ModeratorAction) -> ActionResult: ...

    async def moderator_text(self, actor: Actor, surface: str, ref: str, text: str) -> ActionResult | None: ...


class DiscordAdapter:
    """`UserChannel` for Discord users and the "discord" `ModeratorSurface`.

    `start()` connects inside the running loop and returns once events are flowing;
    `stop()` waits for handlers in progress, then closes the connection.
    """

    name = "discord"
    retry_delay_s = 0.5
    start_timeout_s = 60.0
    drain_timeout_s = 30.0

    def __init__(self, settings: Settings, manager: Core) -> None:
        if settings.discord_token is None:
            raise ConfigError("DISCORD_TOKEN is not set")
        if settings.discord_mod_channel_id is not None and (
            settings.discord_mod_guild_id is None or settings.discord_mod_role_id is None
        ):
            raise ConfigError("DISCORD_MOD_CHANNEL_ID needs DISCORD_MOD_GUILD_ID and DISCORD_MOD_ROLE_ID as well")
        self._settings = settings
        self._core = manager
        self._client: CounselClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._receiving = asyncio.Event()
        self._inflight = InFlight()
        self._locales: OrderedDict[int, str] = OrderedDict()
        self._mod_channel: discord.TextChannel | discord.ForumChannel | None = None
        self._exit = ExitStack()
        self._stopping = False

    @property
    def moderation_enabled(self) -> bool:
        """Whether a moderator channel is configured (register the adapter as a surface then)."""
        return self._settings.discord_mod_channel_id is not None

    # Lifecycle

    async def start(self) -> None:
        """Log in, publish the slash commands, connect the gateway; return once receiving."""
        if self._task is not None:
            raise RuntimeError("the Discord adapter is already started")
        self._exit.enter_context(endpoints(self._settings.discord_api_base, self._settings.discord_gateway_url))
        self._receiving.clear()
        self._client = CounselClient(
            self, moderation=self.moderation_enabled, mod_guild_id=self._settings.discord_mod_guild_id
        )
        self._stopping = False
        self._task = asyncio.create_task(self._run(self._client), name="discord-client")
        self._task.add_done_callback(self._client_ended)
        receiving = asyncio.create_task(self._receiving.wait())
        try:
            await asyncio.wait({self._task, receiving}, timeout=self.start_timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            receiving.cancel()
            with suppress(asyncio.CancelledError):
                await receiving
        if self._receiving.is_set():
            log.info("Discord adapter receiving")
            return
        failure = self._task.exception() if self._task.done() and not self._task.cancelled() else None
        await self._shutdown()
        raise _start_error(failure) from failure

    async def stop(self) -> None:
        """Finish the handlers in progress (up to `drain_timeout_s`), then disconnect."""
        if self._task is None:
            return
        if not await self._inflight.drained(self.drain_timeout_s):
            log.warning("stopping with %d Discord handler(s) still running", self._inflight.count)
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._stopping = True
        if self._client is not None:
            await self._client.close()
        if self._task is not None:
            try:
                await self._task
            except Exception as exc:  # reported by start() or by _client_ended
                log.debug("Discord client ended with %s", type(exc).__name__)
        self._task = None
        self._client = None
        self._mod_channel = None
        self._exit.close()

    async def _run(self, client: CounselClient) -> None:
        token = self._settings.discord_token
        assert token is not None
        async with client:
            await client.start(token.get_secret_value())

    def _client_ended(self, task: asyncio.Task[None]) -> None:
        if self._stopping or task.cancelled():
            return
        failure = task.exception()
        log.error("the Discord client stopped unexpectedly (%s)", type(failure).__name__ if failure else "closed")

    def on_receiving(self) -> None:
        self._receiving.set()

    # UserChannel

    async def send(self, message: Outbound) -> None:
        """Send one Outbound to a DM, split at 2,000 characters, buttons on the last part."""
        client = self._live_client()
        channel = client.get_partial_messageable(int(message.chat_ref), type=discord.ChannelType.private)
        chunks = render.render_text(message.text) or ([""] if message.buttons else [])
        for index, chunk in enumerate(chunks):
            view = user_view(message.buttons) if index == len(chunks) - 1 else None
            await self._deliver(_sender(channel, chunk, view), to_user=True)

    async def typing(self, chat_ref: str) -> None:
        """Show "typing…" in the DM for about 10 s (the core repeats it); never raises."""
        if self._client is None or self._client.is_closed():
            return
        channel = self._client.get_partial_messageable(int(chat_ref), type=discord.ChannelType.private)
        try:
            await channel.typing()
        except (discord.HTTPException, *TRANSIENT) as exc:
            log.debug("typing indicator failed: %s", type(exc).__name__)

    # ModeratorSurface

    async def post(self, view: FlagView) -> PostedFlag:
        """Create the flag's card and thread (a forum post in a forum channel)."""
        channel = await self._moderator_channel()
        embed = render.flag_embed(view)
        buttons = moderator_view(view.flag_id, view.actions)
        name = render.thread_name(view)
        if isinstance(channel, discord.ForumChannel):
            created = await self._deliver(
                lambda: channel.create_thread(
                    name=name,
                    embed=embed,
                    allowed_mentions=discord.AllowedMentions.none(),
                    auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                    view=buttons if buttons is not None else MISSING,
                )
            )
            thread = created.thread
        else:
            card = await self._deliver(
                lambda: channel.send(
                    embed=embed,
                    view=buttons if buttons is not None else MISSING,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            )
            thread = await self._deliver(lambda: card.create_thread(name=name, auto_archive_duration=ARCHIVE_AFTER_MINUTES))
        for chunk in render.transcript_chunks(view):
            await self._deliver(_sender(thread, chunk, None))
        return PostedFlag(render.thread_ref(thread.id))

    async def update(self, ref: str, view: FlagView) -> None:
        """Edit the card so everyone sees the status, who holds the flag and valid buttons."""
        thread_id = render.parse_thread_ref(ref)
        channel = await self._moderator_channel()
        client = self._live_client()
        card_channel_id = thread_id if isinstance(channel, discord.ForumChannel) else channel.id
        card = client.get_partial_messageable(card_channel_id).get_partial_message(thread_id)
        embed = render.flag_embed(view)
        buttons = moderator_view(view.flag_id, view.actions)

        async def edit() -> None:
            try:
                await card.edit(embed=embed, view=buttons, allowed_mentions=discord.AllowedMentions.none())
            except discord.HTTPException as exc:
                if exc.code != THREAD_ARCHIVED:
                    raise
                # A forum post's card lives inside its thread: reopen it to edit (a resolved
                # flag's thread is archived again just below).
                await self._set_archived(thread_id, archived=False)
                await card.edit(embed=embed, view=buttons, allowed_mentions=discord.AllowedMentions.none())

        await self._deliver(edit)
        if view.status is FlagStatus.RESOLVED:
            await self._deliver(lambda: self._set_archived(thread_id, archived=True))

    async def relay(self, ref: str, author: str, text: str) -> str | None:
        """Post into the flag's thread (Discord threads need no extra reply mapping)."""
        thread = self._live_client().get_partial_messageable(
            render.parse_thread_ref(ref), type=discord.ChannelType.public_thread
        )
        for chunk in render.relay_text(author, text):
            await self._deliver(_sender(thread, chunk, None))
        return None

    async def _set_archived(self, thread_id: int, *, archived: bool) -> None:
        client = self._live_client()
        thread = client.get_channel(thread_id) or await client.fetch_channel(thread_id)
        if isinstance(thread, discord.Thread) and thread.archived != archived:
            await thread.edit(archived=archived)

    async def _moderator_channel(self) -> discord.TextChannel | discord.ForumChannel:
        if self._mod_channel is not None:
            return self._mod_channel
        channel_id = self._settings.discord_mod_channel_id
        if channel_id is None:
            raise ConfigError("DISCORD_MOD_CHANNEL_ID is not set; the Discord moderator surface is off")
        client = self._live_client()
        channel = client.get_channel(channel_id) or await self._deliver(lambda: client.fetch_channel(channel_id))
        if not isinstance(channel, (discord.TextChannel, discord.ForumChannel)):
            raise ConfigError("DISCORD_MOD_CHANNEL_ID must be a text or forum channel")
        self._mod_channel = channel
        return channel

    # Inbound: messages

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id is not None or message.type not in _USER_MESSAGE_TYPES:
            return
        async with self._inflight.track():
            try:
                if message.guild is None:
                    await self._user_message(message)
                elif self.moderation_enabled:
                    await self._moderator_message(message)
            except Exception as exc:
                log_failure(log, "handling a Discord message", exc)

    async def _user_message(self, message: discord.Message) -> None:
        content = message.content.strip()
        # A link preview is an embed too; only an embed without text means nothing was typed.
        non_text = bool(
            message.attachments
            or message.stickers
            or message.poll
            or (not content and (message.embeds or message.message_snapshots))
        )
        if non_text:
            await self._core.handle(self._inbound(message.author, message.channel.id, "", message.created_at, InboundKind.NON_TEXT))
        if content:
            await self._core.handle(self._inbound(message.author, message.channel.id, message.content, message.created_at))

    async def _moderator_message(self, message: discord.Message) -> None:
        if not message.content.strip() or message.guild is None:
            return
        thread = message.channel
        if not isinstance(thread, discord.Thread):
            if getattr(thread, "type", None) is not None:
                return  # a cached channel that is not a thread
            fetched = await self._live_client().fetch_channel(thread.id)
            if not isinstance(fetched, discord.Thread):
                return
            thread = fetched
        if thread.parent_id != self._settings.discord_mod_channel_id:
            return
        actor = _actor(message.author, message.guild.id)
        result = await self._core.moderator_text(actor, self.name, render.thread_ref(thread.id), message.content)
        if result is None:
            return
        if result.ok:
            await self._deliver(lambda: message.add_reaction(_RELAYED))
        else:
            await self._deliver(
                lambda: message.reply(render.escape(result.message), allowed_mentions=discord.AllowedMentions.none())
            )

    def _inbound(
        self,
        user: discord.User | discord.Member,
        channel_id: int,
        text: str,
        received_at: datetime,
        kind: InboundKind = InboundKind.TEXT,
    ) -> Inbound:
        return Inbound(
            user=UserRef(Platform.DISCORD, str(user.id)),
            chat_ref=str(channel_id),
            text=text,
            received_at=received_at,
            locale=self._locales.get(user.id),
            kind=kind,
            display_name=user.display_name,
        )

    def _remember_locale(self, interaction: discord.Interaction) -> None:
        self._locales[interaction.user.id] = interaction.locale.value
        self._locales.move_to_end(interaction.user.id)
        while len(self._locales) > _LOCALE_CACHE_SIZE:
            self._locales.popitem(last=False)

    # Inbound: interactions

    async def user_command(self, interaction: discord.Interaction, text: str) -> None:
        """A slash command in a DM: the same as typing `text`."""
        async with self._inflight.track():
            try:
                self._remember_locale(interaction)
                await interaction.response.defer(thinking=True)
                await self._core.handle(self._interaction_inbound(interaction, text))
                await interaction.delete_original_response()
            except Exception as exc:
                await self._interaction_failed(interaction, "a Discord slash command", exc)

    async def user_pressed(self, interaction: discord.Interaction, command: str) -> None:
        """A user button: acknowledged silently, then handled as the command it carries."""
        async with self._inflight.track():
            try:
                self._remember_locale(interaction)
                await interaction.response.defer()
                await self._core.handle(self._interaction_inbound(interaction, command))
            except Exception as exc:
                await self._interaction_failed(interaction, "a Discord user button", exc)

    async def moderator_pressed(self, interaction: discord.Interaction, kind: ActionKind, flag_id: int) -> None:
        async with self._inflight.track():
            try:
                if kind is ActionKind.RESOLVE:
                    await interaction.response.send_message(
                        f"Resolve flag #{flag_id}: choose the outcome.",
                        view=outcome_view(flag_id),
                        ephemeral=True,
                        allowed_mentions=discord.AllowedMentions.none(),
                    )
                elif kind in TEXT_ACTIONS:
                    await interaction.response.send_modal(ModeratorTextModal(kind, flag_id))
                else:
                    await interaction.response.defer(ephemeral=True, thinking=True)
                    result = await self._core.act(ModeratorAction(_actor(interaction.user, interaction.guild_id), kind, flag_id))
                    await interaction.edit_original_response(
                        content=render.escape(result.message), allowed_mentions=discord.AllowedMentions.none()
                    )
            except Exception as exc:
                await self._interaction_failed(interaction, "a Discord moderator button", exc)

    async def outcome_chosen(self, interaction: discord.Interaction, flag_id: int, outcome: Outcome) -> None:
        async with self._inflight.track():
            try:
                await interaction.response.send_modal(ModeratorTextModal(ActionKind.RESOLVE, flag_id, outcome))
            except Exception as exc:
                await self._interaction_failed(interaction, "a Discord outcome choice", exc)

    async def modal_submitted(
        self, interaction: discord.Interaction, kind: ActionKind, flag_id: int, outcome: Outcome | None, text: str
    ) -> None:
        async with self._inflight.track():
            try:
                # Resolve comes from the ephemeral outcome prompt: answer by replacing it.
                # Note / message come from the shared card, which must not be edited.
                if kind is ActionKind.RESOLVE:
                    await interaction.response.defer()
                else:
                    await interaction.response.defer(ephemeral=True, thinking=True)
                action = ModeratorAction(
                    _actor(interaction.user, interaction.guild_id), kind, flag_id, text=text.strip() or None, outcome=outcome
                )
                result = await self._core.act(action)
                await interaction.edit_original_response(
                    content=render.escape(result.message), view=None, allowed_mentions=discord.AllowedMentions.none()
                )
            except Exception as exc:
                await self._interaction_failed(interaction, "a Discord moderator form", exc)

    def _interaction_inbound(self, interaction: discord.Interaction, text: str) -> Inbound:
        return Inbound(
            user=UserRef(Platform.DISCORD, str(interaction.user.id)),
            chat_ref=str(interaction.channel_id),
            text=text,
            received_at=interaction.created_at,
            locale=interaction.locale.value,
            display_name=interaction.user.display_name,
        )

    async def _interaction_failed(self, interaction: discord.Interaction, what: str, exc: Exception) -> None:
        log_failure(log, what, exc)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(_SORRY, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
            else:
                await interaction.response.send_message(_SORRY, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as answer_exc:
            log.warning("could not report the failure to Discord: %s", type(answer_exc).__name__)

    # Helpers

    def _live_client(self) -> CounselClient:
        if self._client is None or self._client.is_closed():
            raise DeliveryError("the Discord adapter is not running")
        return self._client

    async def _deliver(self, operation: Callable[[], Awaitable[T]], *, to_user: bool = False) -> T:
        return await deliver(operation, to_user=to_user, retry_delay_s=self.retry_delay_s)


def _sender(
    channel: discord.abc.Messageable, content: str, view: discord.ui.View | None
) -> Callable[[], Awaitable[discord.Message]]:
    async def send() -> discord.Message:
        if view is None:
            return await channel.send(content, allowed_mentions=discord.AllowedMentions.none())
        return await channel.send(content, view=view, allowed_mentions=discord.AllowedMentions.none())

    return send


def _actor(user: discord.User | discord.Member, guild_id: int | None) -> Actor:
    """The facts the core authorises on: where it happened and the member's role ids."""
    roles = frozenset(str(role.id) for role in user.roles) if isinstance(user, discord.Member) else frozenset()
    return Actor(
        platform=Platform.DISCORD,
        user_id=str(user.id),
        name=user.display_name,
        context=str(guild_id) if guild_id is not None else None,
        roles=roles,
    )


def _start_error(failure: BaseException | None) -> CounselbotError:
    if isinstance(failure, discord.LoginFailure):
        return ConfigError("DISCORD_TOKEN was rejected by Discord")
    if isinstance(failure, discord.PrivilegedIntentsRequired):
        return ConfigError(
            "Discord refused the Message Content intent: enable it for the bot in the developer portal"
        )
    if failure is None:
        return DeliveryError("Discord did not finish connecting in time")
    return DeliveryError(f"could not connect to Discord ({type(failure).__name__})")
