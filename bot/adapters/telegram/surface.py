"""The moderator group as a `ModeratorSurface`: flag topics (or cards to reply to).

In a forum group each flag gets its own topic, opened by the flag card; the card is the
flag's primary reference (`card:`, with its message id, so it is edited in place after a
restart too) and the topic an alias (`topic:`: all that a message typed in it carries).
Elsewhere the card is a message moderators reply to, and every relayed message is another
reference they may reply to. The core stores the references; this class keeps none.
When a card is gone (deleted by a moderator), or the flag was stored with only its topic
(by a version of the bot that kept cards in memory), `update` sends a fresh card, in the
topic or to the group, and returns its reference, which the core stores in place of the
old one (the old one stays an alias: replies to earlier relays still reach the flag).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.adapters.telegram.delivery import RetryPolicy, deliver
from bot.adapters.telegram.refs import CardRef, FlagRef, ReplyRef, TopicRef, parse_ref
from bot.adapters.telegram.render import flag_card, flag_keyboard, relay_html, topic_color, topic_name
from bot.core.ports import PostedFlag
from bot.core.types import FlagView
from bot.errors import DeliveryError

log = logging.getLogger(__name__)

T = TypeVar("T")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_NOT_MODIFIED = "message is not modified"
_CARD_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")


class ModeratorGroup:
    """Posts, edits and relays flags in the configured moderator group."""

    def __init__(self, chat_id: int | None, policy: RetryPolicy) -> None:
        self.chat_id = chat_id
        self._policy = policy
        self._bot: Bot | None = None
        self.forum = False

    async def bind(self, bot: Bot) -> None:
        """Use `bot` from now on and find out whether the group has topics."""
        self._bot = bot
        if self.chat_id is None:
            return
        try:
            chat = await self._call(lambda: bot.get_chat(self._require_chat()), "getChat")
        except DeliveryError as exc:
            log.error("moderator group %s is not reachable (%s); flags will fail until it is", self.chat_id, exc)
            return
        self.forum = bool(chat.is_forum)
        log.info("moderator group %s: %s", self.chat_id, "forum topics" if self.forum else "reply mode")

    def ref_for(self, message: Message) -> FlagRef | None:
        """The reference a moderator's message in the group answers to, if any."""
        if message.is_topic_message and message.message_thread_id is not None:
            return TopicRef(message.chat_id, message.message_thread_id)
        if message.reply_to_message is not None:
            return ReplyRef(message.chat_id, message.reply_to_message.message_id)
        return None

    async def post(self, view: FlagView) -> PostedFlag:
        bot, chat = self._require_bot(), self._require_chat()
        if self.forum:
            try:
                topic = await self._call(
                    lambda: bot.create_forum_topic(chat, topic_name(view), icon_color=topic_color(view)),
                    "createForumTopic",
                )
            except DeliveryError as exc:
                if not isinstance(exc.__cause__, BadRequest):
                    raise
                log.warning("cannot create topics in group %s (%s); replying to cards instead", chat, exc)
                self.forum = False
            else:
                topic_ref = TopicRef(chat, topic.message_thread_id)
                card_ref = await self._send_card(bot, topic_ref, view)
                return PostedFlag(str(card_ref), (str(topic_ref),))
        return PostedFlag(str(await self._send_reply_card(bot, chat, view)))

    async def update(self, ref: str, view: FlagView) -> str | None:
        """Edit the card; where it is gone, or given a topic's (legacy) reference, send a
        fresh card (in the topic, or to the group in reply mode) and return its reference."""
        bot, parsed = self._require_bot(), _parse(ref)
        if isinstance(parsed, TopicRef):  # stored before cards had references of their own
            return str(await self._send_card(bot, parsed, view))
        forum = isinstance(parsed, CardRef)
        try:
            await self._edit_card(bot, parsed.chat_id, parsed.message_id, view, forum=forum)
            return None
        except DeliveryError as exc:
            if not _card_gone(exc):
                raise
        if isinstance(parsed, CardRef):
            log.info("the card of flag %s is gone; sending a fresh one in its topic", view.flag_id)
            return str(await self._send_card(bot, parsed.topic, view))
        log.info("the card of flag %s is gone; sending a fresh one to the group", view.flag_id)
        return str(await self._send_reply_card(bot, parsed.chat_id, view))

    async def relay(self, ref: str, author: str, text: str) -> str | None:
        bot, parsed = self._require_bot(), _parse(ref)
        topic = None if isinstance(parsed, ReplyRef) else parsed.thread_id
        answer_to = (
            ReplyParameters(parsed.message_id, allow_sending_without_reply=True) if isinstance(parsed, ReplyRef) else None
        )
        last: Message | None = None
        for piece in relay_html(author, text):
            last = await self._call(
                functools.partial(
                    bot.send_message,
                    parsed.chat_id,
                    piece,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=topic,
                    reply_parameters=answer_to,
                    link_preview_options=NO_PREVIEW,
                ),
                "sendMessage",
            )
        if isinstance(parsed, ReplyRef) and last is not None:
            return str(ReplyRef(parsed.chat_id, last.message_id))
        return None

    async def _send_reply_card(self, bot: Bot, chat: int, view: FlagView) -> ReplyRef:
        card = await self._call(
            lambda: bot.send_message(
                chat,
                flag_card(view, forum=False),
                parse_mode=ParseMode.HTML,
                reply_markup=flag_keyboard(view.flag_id, view.actions),
                link_preview_options=NO_PREVIEW,
            ),
            "sendMessage",
        )
        return ReplyRef(chat, card.message_id)

    async def _send_card(self, bot: Bot, ref: TopicRef, view: FlagView) -> CardRef:
        card = await self._call(
            lambda: bot.send_message(
                ref.chat_id,
                flag_card(view, forum=True),
                parse_mode=ParseMode.HTML,
                message_thread_id=ref.thread_id,
                reply_markup=flag_keyboard(view.flag_id, view.actions),
                link_preview_options=NO_PREVIEW,
            ),
            "sendMessage",
        )
        return CardRef(ref.chat_id, ref.thread_id, card.message_id)

    async def _edit_card(self, bot: Bot, chat_id: int, message_id: int, view: FlagView, *, forum: bool) -> None:
        try:
            await self._call(
                lambda: bot.edit_message_text(
                    flag_card(view, forum=forum),
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=flag_keyboard(view.flag_id, view.actions),
                    link_preview_options=NO_PREVIEW,
                ),
                "editMessageText",
            )
        except DeliveryError as exc:
            if _NOT_MODIFIED not in str(exc).lower():
                raise

    async def _call(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        return await deliver(call, self._policy, what)

    def _require_bot(self) -> Bot:
        if self._bot is None:
            raise DeliveryError("telegram adapter is not running")
        return self._bot

    def _require_chat(self) -> int:
        if self.chat_id is None:
            raise DeliveryError("TELEGRAM_MOD_GROUP_ID is not set: no Telegram moderator group")
        return self.chat_id


def _parse(ref: str) -> FlagRef:
    try:
        return parse_ref(ref)
    except ValueError as exc:
        raise DeliveryError(str(exc)) from None


def _card_gone(exc: DeliveryError) -> bool:
    return any(marker in str(exc).lower() for marker in _CARD_GONE)
