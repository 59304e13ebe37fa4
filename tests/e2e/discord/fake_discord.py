"""A fake Discord: REST API and gateway websocket on 127.0.0.1, recording every call.

The real discord.py client talks to it unmodified (pointed here by the adapter's
`discord_api_base` / `discord_gateway_url` settings). It keeps channels, threads and
messages, validates what Discord validates (2,000 characters, embed limits, one
acknowledgement per interaction), answers 403/50007 for closed DMs, can fail chosen
calls (429 with the headers discord.py needs to retry, 5xx), and lets scenarios inject
MESSAGE_CREATE / INTERACTION_CREATE dispatches as scripted users and moderators.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from tests.e2e.discord import payloads as p
from tests.e2e.discord.interactions import InteractionsMixin
from tests.e2e.discord.wire import LOADING, error, reply, validate_message

Json = dict[str, Any]
T = TypeVar("T")
Handler = Callable[[web.Request, re.Match[str], Any], Awaitable[web.Response]]

@dataclass
class Call:
    method: str
    path: str  # after /api/v10, without the query string
    body: Any  # a JSON object, a JSON list (command sync) or None
    status: int = 0


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int


@dataclass
class Person:
    """A scripted Discord user: their user object, DM channel and guild member record."""

    id: int
    payload: Json
    dm_channel_id: int
    member: Json | None = None


@dataclass
class Gateway:
    socket: web.WebSocketResponse
    sequence: int = 0
    identified: bool = False


class FakeDiscord(InteractionsMixin):
    token = "fake-bot-token"

    def __init__(self, *, forum: bool = False) -> None:
        self.bot = p.user(p.snowflake(), "counselbot", bot=True)
        self.bot_id = int(self.bot["id"])
        self.application_id = p.snowflake()
        self.owner = p.user(p.snowflake(), "operator")
        self.guild_id = p.snowflake()
        self.mod_role_id = p.snowflake()
        self.mod_channel_id = p.snowflake()
        self.forum = forum
        self.calls: list[Call] = []
        self.identifies: list[Json] = []
        self.resumes = 0
        self.commands: list[Json] = []
        self.channels: dict[int, Json] = {
            self.mod_channel_id: p.guild_channel(
                self.mod_channel_id, self.guild_id, "flags", p.FORUM_CHANNEL if forum else p.TEXT_CHANNEL
            )
        }
        self.messages: dict[int, Json] = {}
        self.reactions: list[tuple[int, str]] = []
        self.closed_dms: set[int] = set()
        self.failures: list[Failure] = []
        self.people: dict[int, Person] = {}
        self._gateways: list[Gateway] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/users/@me"), self._me),
            ("GET", re.compile(r"/oauth2/applications/@me"), self._application),
            ("GET", re.compile(r"/gateway(/bot)?"), self._gateway_info),
            ("PUT", re.compile(r"/applications/(?P<app>\d+)/commands"), self._sync_commands),
            ("GET", re.compile(r"/applications/(?P<app>\d+)/commands"), self._list_commands),
            ("POST", re.compile(r"/channels/(?P<cid>\d+)/messages"), self._create_message),
            ("PATCH", re.compile(r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)"), self._edit_message),
            ("POST", re.compile(r"/channels/(?P<cid>\d+)/typing"), self._typing),
            ("POST", re.compile(r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/threads"), self._thread_from_message),
            ("POST", re.compile(r"/channels/(?P<cid>\d+)/threads"), self._forum_post),
            ("GET", re.compile(r"/channels/(?P<cid>\d+)"), self._get_channel),
            ("PATCH", re.compile(r"/channels/(?P<cid>\d+)"), self._edit_channel),
            ("PUT", re.compile(r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me"), self._react),
            ("POST", re.compile(r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback"), self._callback),
            ("PATCH", re.compile(r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original"), self._edit_original),
            ("DELETE", re.compile(r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original"), self._delete_original),
            ("POST", re.compile(r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"), self._followup),
        ]
        super().__init__()

    # Server lifecycle

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for gateway in self._gateways:
            await gateway.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # Scripting: people and failures

    def add_user(self, name: str) -> Person:
        """Someone who DMs the bot."""
        person = Person(p.snowflake(), p.user(p.snowflake(), name), p.snowflake())
        person.payload["id"] = str(person.id)
        self.channels[person.dm_channel_id] = p.dm_channel(person.dm_channel_id, person.payload)
        self.people[person.id] = person
        return person

    def add_member(self, name: str, *, moderator: bool) -> Person:
        """A member of the moderator guild, with the moderator role or without."""
        person = self.add_user(name)
        person.member = p.member(person.payload, [self.mod_role_id] if moderator else [])
        return person

    def fail_next(self, method: str, path: str, status: int, *, times: int = 1) -> None:
        """Answer the next `times` calls matching `path` (a regex) with `status`."""
        self.failures.append(Failure(method, re.compile(path), status, times))

    # Scripting: what users and moderators do

    async def dm(
        self, person: Person, content: str, *, attachments: tuple[str, ...] = (), stickers: tuple[str, ...] = ()
    ) -> int:
        message_id = p.snowflake()
        message = p.message(
            message_id,
            person.dm_channel_id,
            person.payload,
            content,
            attachments=[p.attachment(name) for name in attachments],
            sticker_items=[p.sticker_item(name) for name in stickers],
        )
        await self._store_and_dispatch(message)
        return message_id

    async def say_in_thread(self, person: Person, thread_id: int, content: str, *, announce_unarchive: bool = True) -> int:
        """A member writes in a guild channel or thread; writing reopens an archived thread
        (Discord dispatches THREAD_UPDATE first, unless `announce_unarchive` is False)."""
        channel = self.channels[thread_id]
        if channel["type"] == p.PUBLIC_THREAD and channel["thread_metadata"]["archived"]:
            if announce_unarchive:
                await self._set_archived(channel, False)
            else:
                channel["thread_metadata"]["archived"] = False
        message_id = p.snowflake()
        message = p.message(
            message_id, thread_id, person.payload, content, guild_id=self.guild_id, author_member=person.member
        )
        await self._store_and_dispatch(message)
        return message_id

    async def request_reconnect(self) -> None:
        """Op 7: the client must reconnect and RESUME, as after a Discord gateway restart."""
        await self._send(self._gateways[-1], {"op": 7, "d": None})

    async def close_gateway(self, code: int) -> None:
        """Close the client's gateway connection with `code` (4004: authentication failed)."""
        await self._gateways[-1].socket.close(code=code)

    # Inspection

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until `predicate()` is truthy (re-checked after every change); return it."""

        async def check() -> T:
            async with self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                assert value is not None
                return value

        return await asyncio.wait_for(check(), timeout)

    async def settle(self, quiet_s: float = 0.15) -> None:
        """Wait until no call has arrived for `quiet_s` (the client has nothing left to do)."""
        while True:
            count = len(self.calls)
            await asyncio.sleep(quiet_s)
            if len(self.calls) == count:
                return

    def messages_in(self, channel_id: int) -> list[Json]:
        return [m for m in self.messages.values() if int(m["channel_id"]) == channel_id]

    def bot_messages_in(self, channel_id: int) -> list[Json]:
        return [m for m in self.messages_in(channel_id) if m["author"]["id"] == str(self.bot_id)]

    def threads(self) -> list[Json]:
        return [c for c in self.channels.values() if c["type"] == p.PUBLIC_THREAD]

    def calls_to(self, method: str, path: str) -> list[Call]:
        pattern = re.compile(path)
        return [c for c in self.calls if c.method == method and pattern.fullmatch(c.path)]

    # Gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        gateway = Gateway(socket)
        self._gateways.append(gateway)
        await self._send(gateway, {"op": 10, "d": {"heartbeat_interval": 1000}})
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                break
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await self._send(gateway, {"op": 11, "d": None})
            elif payload["op"] == 2:
                self.identifies.append(payload["d"])
                await self._identified(gateway)
            elif payload["op"] == 6:
                self.resumes += 1
                gateway.sequence = payload["d"].get("seq") or 0
                gateway.identified = True
                await self._dispatch_to(gateway, "RESUMED", {})
            await self._notify()
        self._gateways.remove(gateway)
        return socket

    async def _identified(self, gateway: Gateway) -> None:
        gateway.identified = True
        ready = {
            "v": 10,
            "user": self.bot,
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._dispatch_to(gateway, "READY", ready)
        await self._dispatch_to(gateway, "GUILD_CREATE", self._guild())

    def _guild(self) -> Json:
        channels = [c for c in self.channels.values() if c.get("guild_id") and c["type"] != p.PUBLIC_THREAD]
        active = [c for c in self.threads() if not c["thread_metadata"]["archived"]]
        return {
            "id": str(self.guild_id),
            "name": "Support staff",
            "icon": None,
            "owner_id": self.owner["id"],
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [p.role(self.guild_id, "@everyone", 0), p.role(self.mod_role_id, "moderator", 1)],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "joined_at": p.iso_now(),
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "members": [p.member(self.bot, [])],
            "channels": channels,
            "threads": active,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
        }

    async def dispatch(self, event: str, data: Json) -> None:
        """Send a dispatch (op 0) to the connected, identified client."""
        live = [g for g in self._gateways if g.identified and not g.socket.closed]
        if not live:
            raise AssertionError("no client is connected to the fake gateway")
        await self._dispatch_to(live[-1], event, data)

    async def _dispatch_to(self, gateway: Gateway, event: str, data: Json) -> None:
        gateway.sequence += 1
        await self._send(gateway, {"op": 0, "t": event, "s": gateway.sequence, "d": data})

    @staticmethod
    async def _send(gateway: Gateway, payload: Json) -> None:
        if not gateway.socket.closed:
            await gateway.socket.send_str(json.dumps(payload))

    async def _store_and_dispatch(self, message: Json) -> None:
        self.messages[int(message["id"])] = message
        await self.dispatch("MESSAGE_CREATE", message)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # REST

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        call = Call(request.method, path, body)
        self.calls.append(call)
        response = self._injected_failure(call) or await self._route(request, call)
        call.status = response.status
        await self._notify()
        return response

    def _injected_failure(self, call: Call) -> web.Response | None:
        for failure in self.failures:
            if failure.times and failure.method == call.method and failure.pattern.fullmatch(call.path):
                failure.times -= 1
                if failure.status == 429:
                    headers = {"Via": "1.1 google", "X-RateLimit-Scope": "user", "Retry-After": "1"}
                    return reply({"message": "You are being rate limited.", "retry_after": 0.05, "global": False}, 429, headers)
                return error(failure.status, 0, "injected failure")
        return None

    async def _route(self, request: web.Request, call: Call) -> web.Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(call.path)
            if match and method == call.method:
                return await handler(request, match, call.body)
        return error(404, 0, f"the fake has no route for {call.method} {call.path}")

    async def _me(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return error(401, 0, "401: Unauthorized")
        return reply(self.bot)

    async def _application(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        return reply(p.application(self.application_id, self.owner))

    async def _gateway_info(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        return reply({"url": self.gateway_url, "shards": 1})

    async def _sync_commands(self, request: web.Request, match: re.Match[str], body: list[Json] | None) -> web.Response:
        self.commands = [
            {**command, "id": str(p.snowflake()), "application_id": str(self.application_id), "version": "1"}
            for command in body or []
        ]
        return reply(self.commands)

    async def _list_commands(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        return reply(self.commands)

    async def _create_message(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        channel_id = int(match["cid"])
        channel = self.channels.get(channel_id)
        if channel is None:
            return error(404, 10003, "Unknown Channel")
        if channel_id in self.closed_dms:
            return error(403, 50007, "Cannot send messages to this user")
        invalid = validate_message(body or {})
        if invalid:
            return error(400, 50035, invalid)
        if channel["type"] == p.PUBLIC_THREAD and channel["thread_metadata"]["archived"]:
            await self._set_archived(channel, False)  # Discord unarchives on send
        message = self._bot_message(channel, body or {})
        await self._store_and_dispatch(message)
        return reply(message)

    def _bot_message(self, channel: Json, body: Json) -> Json:
        guild_id = int(channel["guild_id"]) if channel.get("guild_id") else None
        extra: Json = {}
        if body.get("message_reference"):
            extra["message_reference"] = {k: str(v) if k.endswith("_id") else v for k, v in body["message_reference"].items()}
            extra["type"] = 19
        return p.message(
            p.snowflake(), int(channel["id"]), self.bot, body.get("content") or "", guild_id=guild_id, body=body, **extra
        )

    async def _edit_message(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        message = self.messages.get(int(match["mid"]))
        if message is None or int(message["channel_id"]) != int(match["cid"]):
            return error(404, 10008, "Unknown Message")
        channel = self.channels[int(match["cid"])]
        if channel["type"] == p.PUBLIC_THREAD and channel["thread_metadata"]["archived"]:
            return error(400, 50083, "Operation cannot be performed on an archived thread.")
        return self._apply_edit(message, body or {})

    def _apply_edit(self, message: Json, body: Json) -> web.Response:
        invalid = validate_message(body, partial=True)
        if invalid:
            return error(400, 50035, invalid)
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        message["flags"] = message.get("flags", 0) & ~LOADING
        message["edited_timestamp"] = p.iso_now()
        return reply(message)

    async def _typing(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        if int(match["cid"]) in self.closed_dms:
            return error(403, 50007, "Cannot send messages to this user")
        return reply(None)

    async def _thread_from_message(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        channel_id, message_id = int(match["cid"]), int(match["mid"])
        if message_id not in self.messages or self.channels.get(channel_id, {}).get("type") != p.TEXT_CHANNEL:
            return error(404, 10008, "Unknown Message")
        if message_id in self.channels:
            return error(400, 160004, "A thread has already been created for this message")
        if not 1 <= len(str((body or {}).get("name") or "")) <= 100:
            return error(400, 50035, "name: Must be between 1 and 100 in length.")
        thread = self._new_thread(message_id, channel_id, body or {})
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return reply(thread)

    async def _forum_post(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        channel_id = int(match["cid"])
        if self.channels.get(channel_id, {}).get("type") != p.FORUM_CHANNEL:
            return error(400, 50024, "Cannot execute action on this channel type")
        starter = (body or {}).get("message") or {}
        invalid = validate_message(starter)
        if not 1 <= len(str((body or {}).get("name") or "")) <= 100:
            invalid = "name: Must be between 1 and 100 in length."
        if invalid:
            return error(400, 50035, invalid)
        thread_id = p.snowflake()
        thread = self._new_thread(thread_id, channel_id, body or {})
        message = p.message(thread_id, thread_id, self.bot, starter.get("content") or "", guild_id=self.guild_id, body=starter)
        self.messages[thread_id] = message
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        await self._store_and_dispatch(message)
        return reply({**thread, "message": message})

    def _new_thread(self, thread_id: int, parent_id: int, body: Json) -> Json:
        name = str(body.get("name") or "")
        thread = p.thread(thread_id, self.guild_id, parent_id, self.bot_id, name, int(body.get("auto_archive_duration") or 4320))
        self.channels[thread_id] = thread
        return thread

    async def _get_channel(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        channel = self.channels.get(int(match["cid"]))
        return reply(channel) if channel else error(404, 10003, "Unknown Channel")

    async def _edit_channel(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        channel = self.channels.get(int(match["cid"]))
        if channel is None:
            return error(404, 10003, "Unknown Channel")
        if "archived" in (body or {}):
            await self._set_archived(channel, bool((body or {})["archived"]))
        return reply(channel)

    async def _set_archived(self, thread: Json, archived: bool) -> None:
        thread["thread_metadata"]["archived"] = archived
        await self.dispatch("THREAD_UPDATE", thread)

    async def _react(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        self.reactions.append((int(match["mid"]), match["emoji"]))
        return reply(None)
