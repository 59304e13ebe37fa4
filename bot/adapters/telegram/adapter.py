"""The Telegram adapter: private chats for users, a group for moderators.

It translates and nothing more: a private message becomes an `Inbound`, a button press
in the moderator group a `ModeratorAction`, text typed in a flag's topic (or in reply to
its card) a `moderator_text` call; the core decides everything, including who may act.
Outbound messages are rendered verbatim (no parse mode for users; escaped HTML for
moderators), split at Telegram's 4096-character limit.

The python-telegram-bot `Application` runs inside the caller's event loop: `start()`
initialises it, publishes the command menu and starts long polling (or a webhook when
TELEGRAM_WEBHOOK_URL is set) and returns; `stop()` stops receiving, waits for handlers in
progress and shuts down.
"""

from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    Message,
    ReactionTypeEmoji,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.telegram.delivery import RetryPolicy, deliver, map_startup_error
from bot.adapters.telegram.render import (
    FlagCallback,
    actions_in,
    clip_answer,
    flag_keyboard,
    outcome_keyboard,
    parse_callback,
    split_text,
    user_keyboard,
)
from bot.adapters.telegram.surface import NO_PREVIEW, ModeratorGroup
from bot.config import Settings
from bot.core.commands import USER_COMMANDS
from bot.core.ports import PostedFlag
from bot.core.types import (
    ActionKind,
    ActionResult,
    Actor,
    FlagView,
    Inbound,
    InboundKind,
    ModeratorAction,
    Outbound,
    Platform,
    UserRef,
)
from bot.errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)

MENU_LANGUAGES = ("en", "fr", "es")  # "en" is also published as the default menu
_ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY)


class Core(Protocol):
    """What the adapter calls on the core (`bot.core.conversation.ConversationManager`)."""

    async def handle(self, inbound: Inbound) -> None: ...

    async def act(self, action: ModeratorAction) -> ActionResult: ...

    async def moderator_text(self, actor: Actor, surface: str, ref: str, text: str) -> ActionResult | None: ...


@dataclass(frozen=True)
class TelegramOptions:
    """Knobs that are not settings: timings, concurrency, retries (tests shorten them)."""

    poll_timeout_s: int = 30  # long-poll duration of one getUpdates call
    poll_interval_s: float = 0.0  # pause between getUpdates calls
    request_timeout_s: float = 10.0  # connect / read / write timeout of one API call
    max_concurrent_updates: int = 64  # updates handled at once (the core orders each user's)
    rate_limit_retries: int = 5  # 429 answers waited out per call (AIORateLimiter)
    max_per_second: int = 30  # Telegram's broadcast limit, applied before sending (0: off)
    group_max_per_minute: int = 20  # Telegram's per-group limit (the moderator group; 0: off)
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # network errors and 5xx


class TelegramAdapter:
    """`UserChannel` for Telegram users and the `ModeratorSurface` named "telegram"."""

    name = "telegram"
    platform = Platform.TELEGRAM

    def __init__(self, settings: Settings, manager: Core, options: TelegramOptions | None = None) -> None:
        if settings.telegram_token is None:
            raise ConfigError("TELEGRAM_TOKEN is not set")
        self._settings = settings
        self._core = manager
        self._options = options or TelegramOptions()
        self._group = ModeratorGroup(settings.telegram_mod_group_id, self._options.retry)
        self._app: Application | None = None  # type: ignore[type-arg]

    @property
    def moderation_enabled(self) -> bool:
        """Whether TELEGRAM_MOD_GROUP_ID is set: register this as a surface only then."""
        return self._group.chat_id is not None

    # Lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect inside the running loop; return once updates are being received."""
        if self._app is not None:
            raise RuntimeError("the Telegram adapter is already running")
        app = self._build()
        try:
            await app.initialize()
        except TelegramError as exc:
            await app.bot.shutdown()  # initialize() leaves the HTTP clients open when getMe fails
            # Not chained: PTB's InvalidToken message quotes the token.
            raise map_startup_error(exc) from None
        self._app = app  # handlers may run as soon as polling starts
        try:
            await self._publish_commands(app)
            await self._group.bind(app.bot)
            await app.start()
            assert app.updater is not None
            if self._settings.telegram_webhook_url:
                await self._start_webhook(app)
            else:
                await app.updater.start_polling(
                    poll_interval=self._options.poll_interval_s,
                    timeout=self._options.poll_timeout_s,
                    allowed_updates=list(_ALLOWED_UPDATES),
                )
        except BaseException as exc:
            self._app = None
            if app.running:
                await app.stop()
            await app.shutdown()
            if isinstance(exc, TelegramError):
                raise map_startup_error(exc) from exc
            raise
        log.info("telegram adapter started as @%s", app.bot.username)

    async def stop(self) -> None:
        """Stop receiving, finish the updates being handled, then disconnect."""
        app = self._app
        if app is None:
            return
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()  # waits for handlers in progress
        finally:
            await app.shutdown()
            self._app = None
            log.info("telegram adapter stopped")

    def _build(self) -> Application:  # type: ignore[type-arg]
        assert self._settings.telegram_token is not None
        timeout = self._options.request_timeout_s
        builder = (
            Application.builder()
            .token(self._settings.telegram_token.get_secret_value())
            .rate_limiter(
                AIORateLimiter(
                    overall_max_rate=self._options.max_per_second,
                    group_max_rate=self._options.group_max_per_minute,
                    max_retries=self._options.rate_limit_retries,
                )
            )
            .concurrent_updates(self._options.max_concurrent_updates)
            .job_queue(None)
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .write_timeout(timeout)
            .get_updates_connect_timeout(timeout)
            .get_updates_read_timeout(timeout)
        )
        if self._settings.telegram_api_base:
            root = self._settings.telegram_api_base.rstrip("/").removesuffix("/bot")
            builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
        app = builder.build()
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL, self._on_private))
        if self._group.chat_id is not None:
            app.add_handler(MessageHandler(filters.Chat(self._group.chat_id) & filters.TEXT, self._on_group_text))
        app.add_error_handler(self._on_error)
        return app

    async def _start_webhook(self, app: Application) -> None:  # type: ignore[type-arg]
        assert app.updater is not None and self._settings.telegram_webhook_url is not None
        url = self._settings.telegram_webhook_url
        await app.updater.start_webhook(
            listen=self._settings.telegram_webhook_listen,
            port=self._settings.telegram_webhook_port,
            url_path=urlsplit(url).path.lstrip("/"),
            webhook_url=url,
            allowed_updates=list(_ALLOWED_UPDATES),
            # A fresh secret each start: setWebhook is repeated each start, so it always matches.
            secret_token=secrets.token_urlsafe(32),
        )

    async def _publish_commands(self, app: Application) -> None:  # type: ignore[type-arg]
        """The command menu of private chats, in each language (best effort)."""
        scope = BotCommandScopeAllPrivateChats()
        for language in (None, *MENU_LANGUAGES):
            commands = [BotCommand(spec.command.value, spec.description(language or "en")) for spec in USER_COMMANDS]
            try:
                await deliver(
                    functools.partial(app.bot.set_my_commands, commands, scope=scope, language_code=language),
                    self._options.retry,
                    "setMyCommands",
                )
            except DeliveryError as exc:
                log.warning("could not publish the command menu (%s): %s", language or "default", exc)

    # UserChannel -----------------------------------------------------------------------

    async def send(self, message: Outbound) -> None:
        """Deliver `message` verbatim, split at 4096 characters, buttons on the last piece.

        Raises `UserUnreachable` if the user blocked the bot, `DeliveryError` otherwise.
        """
        app = self._require_app()
        chat_id = _chat_id(message.chat_ref)
        pieces = split_text(message.text)
        if not pieces:
            raise DeliveryError("telegram: refusing to send an empty message")
        try:
            markup = user_keyboard(message.buttons)
        except ValueError as exc:
            raise DeliveryError(f"telegram: {exc}") from None
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            await deliver(
                functools.partial(
                    app.bot.send_message,
                    chat_id,
                    piece,
                    reply_markup=markup if last else None,
                    link_preview_options=NO_PREVIEW,
                ),
                self._options.retry,
                "sendMessage",
            )

    async def typing(self, chat_ref: str) -> None:
        """Show "typing…" (Telegram keeps it about 5 s; the core repeats it). Never raises."""
        app = self._app
        if app is None:
            return
        try:
            await app.bot.send_chat_action(_chat_id(chat_ref), ChatAction.TYPING)
        except (TelegramError, DeliveryError) as exc:
            log.debug("typing indicator failed: %s", type(exc).__name__)

    # ModeratorSurface ------------------------------------------------------------------

    async def post(self, view: FlagView) -> PostedFlag:
        """Open the flag's topic and card (or only a card) in the moderator group; returns the
        card's reference, with the topic's as an alias."""
        return await self._group.post(view)

    async def update(self, ref: str, view: FlagView) -> str | None:
        """Edit the flag's card in place (state, holder, valid buttons); returns the reference
        of a fresh card where the old one is gone."""
        return await self._group.update(ref, view)

    async def relay(self, ref: str, author: str, text: str) -> str | None:
        """Post into the flag's topic, or as a reply to its card (then returns its reference)."""
        return await self._group.relay(ref, author, text)

    # Incoming --------------------------------------------------------------------------

    async def _on_private(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot:
            return
        text = message.text
        await self._core.handle(
            Inbound(
                user=UserRef(Platform.TELEGRAM, str(user.id)),
                chat_ref=str(message.chat_id),
                text=text if text is not None else "",
                received_at=message.date,
                locale=user.language_code,
                kind=InboundKind.TEXT if text is not None else InboundKind.NON_TEXT,
                display_name=user.first_name,
            )
        )

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        data = query.data if isinstance(query.data, str) else ""
        message = query.message
        chat = message.chat if message is not None else None
        if chat is not None and chat.type == ChatType.PRIVATE and data.startswith("/"):
            await _answer(query)
            await self._core.handle(
                Inbound(
                    user=UserRef(Platform.TELEGRAM, str(query.from_user.id)),
                    chat_ref=str(chat.id),
                    text=data,
                    received_at=datetime.now(UTC),
                    locale=query.from_user.language_code,
                    display_name=query.from_user.first_name,
                )
            )
            return
        parsed = parse_callback(data)
        if parsed is None or chat is None:
            await _answer(query)  # a stale or foreign button: only stop the spinner
            return
        await self._on_flag_button(query, parsed, message if isinstance(message, Message) else None, chat.id)

    async def _on_flag_button(self, query: CallbackQuery, press: FlagCallback, message: Message | None, chat_id: int) -> None:
        if press.kind is None or (press.kind is ActionKind.RESOLVE and press.outcome is None):
            # Only a menu change on this message; the action itself is the core's.
            current = actions_in(message.reply_markup) if message is not None else []
            markup = flag_keyboard(press.flag_id, press.restore) if press.kind is None else outcome_keyboard(press.flag_id, current)
            await _answer(query, "Choose an outcome" if press.kind is not None else None)
            if message is not None:
                try:
                    await message.edit_reply_markup(reply_markup=markup)
                except TelegramError as exc:
                    log.warning("could not change the flag keyboard: %s", type(exc).__name__)
            return
        actor = await self._actor(query.from_user, chat_id)
        result = await self._core.act(ModeratorAction(actor, press.kind, press.flag_id, None, press.outcome))
        await _answer(query, result.message, alert=not result.ok)

    async def _on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot or not message.text:
            return
        ref = self._group.ref_for(message)
        if ref is None:
            return
        actor = await self._actor(user, message.chat_id)
        result = await self._core.moderator_text(actor, self.name, str(ref), message.text)
        if result is None:
            return
        try:
            if result.ok:
                await message.set_reaction(ReactionTypeEmoji("👍"))
            else:
                await message.reply_text(result.message, do_quote=True)
        except TelegramError as exc:
            log.warning("could not acknowledge a moderator message: %s", type(exc).__name__)

    async def _actor(self, user: User, chat_id: int) -> Actor:
        """The facts the core authorises on: where, who, and their status in the group."""
        roles: frozenset[str] = frozenset()
        app = self._require_app()
        if self._group.chat_id is not None:
            try:
                member = await deliver(
                    functools.partial(app.bot.get_chat_member, self._group.chat_id, user.id),
                    self._options.retry,
                    "getChatMember",
                )
                roles = frozenset({member.status})
            except DeliveryError as exc:
                log.info("no membership facts for a moderator action: %s", exc)
        return Actor(Platform.TELEGRAM, str(user.id), user.full_name, context=str(chat_id), roles=roles)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Never log the update itself: it holds the user's words.
        error = context.error
        log.error(
            "handling a telegram update failed: %s",
            type(error).__name__,
            exc_info=(type(error), error, error.__traceback__) if error is not None else None,
        )

    def _require_app(self) -> Application:  # type: ignore[type-arg]
        if self._app is None:
            raise DeliveryError("telegram adapter is not running")
        return self._app


async def _answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    try:
        await query.answer(clip_answer(text) if text else None, show_alert=alert)
    except TelegramError as exc:
        log.info("could not answer a button press: %s", type(exc).__name__)


def _chat_id(chat_ref: str) -> int:
    try:
        return int(chat_ref)
    except ValueError:
        raise DeliveryError(f"not a telegram chat id: {chat_ref!r}") from None
