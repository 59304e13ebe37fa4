"""A fake Telegram Bot API on 127.0.0.1 for driving the real python-telegram-bot client.

It answers every method the adapter uses the way the Bot API does (full objects, the
same error codes and descriptions), keeps the chats' messages, feeds scripted updates by
long polling (or to a webhook once one is set) and records every call. Faults are
scripted: `fail_next` answers a method with an error once (a 429 with `retry_after`, a
5xx), `block` makes a user's private chat answer 403.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from tests.e2e.telegram.tg_html import EntityParseError, parse, utf16_len

T = TypeVar("T")
TOKEN = "123456:TEST-token"
BOT = {"id": 4242, "is_bot": True, "first_name": "Counsel", "username": "counsel_test_bot"}
TOPIC_COLORS = {0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F}
# Parameters whose value is a string even when it looks like JSON ("123", "true").
_STRINGS = {"text", "parse_mode", "name", "callback_query_id", "language_code", "url", "secret_token", "action", "icon_custom_emoji_id"}


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200


@dataclass
class Stored:
    """A message as the fake keeps it: `text` is plain (after parsing), `html` what was sent."""

    chat_id: int
    message_id: int
    sender: dict[str, Any]
    text: str | None
    entities: list[dict[str, Any]] = field(default_factory=list)
    html: str | None = None
    thread_id: int | None = None
    reply_to: int | None = None
    reply_markup: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # sticker, photo, forum_topic_created ...
    date: int = field(default_factory=lambda: int(time.time()))

    @property
    def by_bot(self) -> bool:
        return bool(self.sender.get("id") == BOT["id"])

    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def user(user_id: int, first_name: str, language_code: str | None = "en") -> dict[str, Any]:
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        person["language_code"] = language_code
    return person


class FakeBotApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], Stored] = {}
        self.members: dict[tuple[int, int], str] = {}
        self.blocked: set[int] = set()
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.answers: dict[str, dict[str, Any]] = {}
        self.topics: dict[tuple[int, int], dict[str, Any]] = {}
        self.reactions: list[tuple[int, int, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self._failures: dict[str, list[ApiError]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.base = ""

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._endpoint)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # Scripting ---------------------------------------------------------------------------

    def add_private(self, person: dict[str, Any]) -> None:
        self.chats[person["id"]] = {"id": person["id"], "type": "private", "first_name": person["first_name"]}

    def add_group(self, chat_id: int, title: str, *, forum: bool) -> None:
        self.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title, "is_forum": forum}

    def set_member(self, chat_id: int, person: dict[str, Any], status: str) -> None:
        self.members[(chat_id, person["id"])] = status

    def block(self, user_id: int) -> None:
        self.blocked.add(user_id)

    def delete(self, chat_id: int, message_id: int) -> None:
        """A moderator deletes a message (the bot is not told, as in Telegram)."""
        del self.messages[(chat_id, message_id)]

    def fail_next(self, method: str, status: int, description: str, *, retry_after: int | None = None, times: int = 1) -> None:
        self._failures.setdefault(method.lower(), []).extend(ApiError(status, description, retry_after) for _ in range(times))

    async def private_text(self, person: dict[str, Any], text: str) -> Stored:
        return await self._incoming(person["id"], person, text=text)

    async def private_sticker(self, person: dict[str, Any]) -> Stored:
        sticker = {
            "file_id": "CAACAgIAAxk", "file_unique_id": "AgAD", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "🙂",
        }
        return await self._incoming(person["id"], person, text=None, extra={"sticker": sticker})

    async def group_text(
        self, chat_id: int, person: dict[str, Any], text: str, *, thread_id: int | None = None, reply_to: int | None = None
    ) -> Stored:
        return await self._incoming(chat_id, person, text=text, thread_id=thread_id, reply_to=reply_to)

    async def press(self, person: dict[str, Any], message: Stored, data: str) -> str:
        """A button press on `message`; returns the callback query id (see `answers`)."""
        if (message.chat_id, message.message_id) not in self.messages:
            raise KeyError("no such message")
        if data not in [d for _, d in message.buttons()]:
            raise AssertionError(f"the message has no button with data {data!r}")
        query_id = str(next(self._query_ids))
        await self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": person,
                    "chat_instance": f"ci{message.chat_id}",
                    "data": data,
                    "message": self._message_json(message),
                }
            }
        )
        return query_id

    # Inspection --------------------------------------------------------------------------

    def sent(self, chat_id: int, thread_id: int | None = None) -> list[Stored]:
        """The bot's text messages in a chat (or one topic), oldest first, as they are now."""
        found = [
            m for m in self.messages.values()
            if m.chat_id == chat_id and m.by_bot and m.text is not None and (thread_id is None or m.thread_id == thread_id)
        ]
        return sorted(found, key=lambda m: m.message_id)

    def calls_of(self, method: str, *, ok: bool | None = True) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower() and (ok is None or (c.status == 200) == ok)]

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until `predicate()` is truthy (checked after every call); returns its value."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                return value

    # The API -----------------------------------------------------------------------------

    async def _endpoint(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            queued = self._failures.get(method.lower())
            if queued:
                raise queued.pop(0)
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            call.status = exc.status
            body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            await self._notify()
            return web.json_response(body, status=exc.status)
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _api_getme(self, params: dict[str, Any]) -> Any:
        return {**BOT, "can_join_groups": True, "can_read_all_group_messages": True, "supports_inline_queries": False}

    async def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    async def _api_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and int(params.get("timeout") or 0) > 0:
            try:
                async with asyncio.timeout(float(params["timeout"])), self._changed:
                    while not self._updates and not self._closing:
                        await self._changed.wait()
            except TimeoutError:
                pass
        return self._updates[:limit]

    async def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        for command in params["commands"]:
            if not (1 <= len(command["command"]) <= 32 and command["command"].islower() and 1 <= len(command["description"]) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = (params.get("scope") or {"type": "default"})["type"]
        self.commands[(scope, params.get("language_code") or "")] = params["commands"]
        return True

    async def _api_getchat(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    async def _api_getchatmember(self, params: dict[str, Any]) -> Any:
        chat, user_id = self._chat(params["chat_id"]), int(params["user_id"])
        status = self.members.get((chat["id"], user_id), "left")
        return _member(status, {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"})

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        self._check_reachable(chat)
        text, entities = self._parse_text(params)
        thread = params.get("message_thread_id")
        if thread is not None and (chat["id"], int(thread)) not in self.topics:
            raise ApiError(400, "Bad Request: message thread not found")
        reply = (params.get("reply_parameters") or {}).get("message_id") or params.get("reply_to_message_id")
        if reply is not None and (chat["id"], int(reply)) not in self.messages:
            if not (params.get("reply_parameters") or {}).get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            reply = None
        stored = Stored(
            chat["id"], self._next_id(chat["id"]), BOT, text, entities, html=params["text"],
            thread_id=int(thread) if thread is not None else None,
            reply_to=int(reply) if reply is not None else None,
            reply_markup=self._markup(params),
        )
        self.messages[(stored.chat_id, stored.message_id)] = stored
        return self._message_json(stored)

    async def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        stored = self._editable(params)
        text, entities = self._parse_text(params)
        markup = self._markup(params)
        if text == stored.text and entities == stored.entities and markup == stored.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
        stored.text, stored.entities, stored.html, stored.reply_markup = text, entities, params["text"], markup
        return self._message_json(stored)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        stored = self._editable(params)
        markup = self._markup(params)
        if markup == stored.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        stored.reply_markup = markup
        return self._message_json(stored)

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = str(params["callback_query_id"])
        if query_id in self.answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answers[query_id] = {"text": text, "show_alert": bool(params.get("show_alert"))}
        return True

    async def _api_sendchataction(self, params: dict[str, Any]) -> Any:
        self._check_reachable(self._chat(params["chat_id"]))
        return True

    async def _api_createforumtopic(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        if not chat.get("is_forum"):
            raise ApiError(400, "Bad Request: the chat is not a forum")
        name, color = params["name"], int(params.get("icon_color") or 0x6FB9F0)
        if not 1 <= len(name) <= 128 or color not in TOPIC_COLORS:
            raise ApiError(400, "Bad Request: TOPIC_NAME_INVALID" if color in TOPIC_COLORS else "Bad Request: invalid icon color")
        thread = self._next_id(chat["id"])
        created = {"forum_topic_created": {"name": name, "icon_color": color}}
        service = Stored(chat["id"], thread, BOT, None, thread_id=thread, extra=created)
        self.messages[(chat["id"], thread)] = service
        self.topics[(chat["id"], thread)] = {"name": name, "icon_color": color}
        return {"message_thread_id": thread, "name": name, "icon_color": color}

    async def _api_setmessagereaction(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        if (chat["id"], int(params["message_id"])) not in self.messages:
            raise ApiError(400, "Bad Request: message to react not found")
        self.reactions.append((chat["id"], int(params["message_id"]), params.get("reaction")))
        return True

    # Helpers -----------------------------------------------------------------------------

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        try:
            return self.chats[int(chat_id)]
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    def _check_reachable(self, chat: dict[str, Any]) -> None:
        if chat["type"] == "private" and chat["id"] in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _parse_text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        try:
            text, entities = parse(str(params.get("text") or ""), params.get("parse_mode"))
        except EntityParseError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup or None

    def _editable(self, params: dict[str, Any]) -> Stored:
        stored = self.messages.get((self._chat(params["chat_id"])["id"], int(params["message_id"])))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not stored.by_bot or stored.text is None:
            raise ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _next_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _message_json(self, m: Stored, *, nested: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"message_id": m.message_id, "date": m.date, "chat": self.chats[m.chat_id], "from": m.sender, **m.extra}
        if m.text is not None:
            body["text"] = m.text
            if m.entities:
                body["entities"] = m.entities
        if m.thread_id is not None and self.chats[m.chat_id].get("is_forum"):
            body["message_thread_id"], body["is_topic_message"] = m.thread_id, True
        if m.reply_markup:
            body["reply_markup"] = m.reply_markup
        reply_to = m.reply_to if m.reply_to is not None else (m.thread_id if m.thread_id != m.message_id else None)
        if reply_to is not None and not nested and (m.chat_id, reply_to) in self.messages:
            body["reply_to_message"] = self._message_json(self.messages[(m.chat_id, reply_to)], nested=True)
        return body

    async def _incoming(
        self, chat_id: int, person: dict[str, Any], *, text: str | None, extra: dict[str, Any] | None = None,
        thread_id: int | None = None, reply_to: int | None = None,
    ) -> Stored:
        if chat_id == person["id"] and chat_id not in self.chats:
            self.add_private(person)
        entities = parse(text, None)[1] if text is not None else []
        stored = Stored(chat_id, self._next_id(chat_id), person, text, entities, thread_id=thread_id, reply_to=reply_to, extra=extra or {})
        self.messages[(chat_id, stored.message_id)] = stored
        await self._push({"message": self._message_json(stored)})
        return stored

    async def _push(self, body: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), **body}
        if self.webhook is not None:
            if self._client is None:
                self._client = aiohttp.ClientSession()
            headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook["secret_token"] or ""}
            async with self._client.post(self.webhook["url"], json=update, headers=headers) as response:
                if response.status != 200:
                    raise AssertionError(f"the webhook answered {response.status}")
            return
        self._updates.append(update)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    form = await request.post() if request.can_read_body else {}
    params: dict[str, Any] = {}
    for key, value in form.items():
        if not isinstance(value, str) or key in _STRINGS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def _member(status: str, person: dict[str, Any]) -> dict[str, Any]:
    if status == "creator":
        return {"status": status, "user": person, "is_anonymous": False}
    if status == "administrator":
        rights = (
            "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
            "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
            "can_post_stories", "can_edit_stories", "can_delete_stories",
        )
        return {"status": status, "user": person, **dict.fromkeys(rights, False), "can_manage_topics": True}
    if status == "kicked":
        return {"status": status, "user": person, "until_date": 0}
    if status in ("member", "left"):
        return {"status": status, "user": person}
    raise ValueError(f"the fake does not model chat-member status {status!r}")
