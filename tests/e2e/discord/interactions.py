"""The interaction half of the fake Discord: presses, selects, slash commands, modals.

Scripted people create INTERACTION_CREATE dispatches; the client answers through
`/interactions/{id}/{token}/callback` (exactly once, as Discord enforces) and the
`/webhooks/{app}/{token}` routes. What the person finally sees is `answer(id)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from tests.e2e.discord import payloads as p
from tests.e2e.discord.wire import EPHEMERAL, LOADING, error, reply, validate_message

if TYPE_CHECKING:
    from aiohttp.web import Response

    from tests.e2e.discord.fake_discord import Person

Json = dict[str, Any]
T = TypeVar("T")

PING, COMMAND, COMPONENT, MODAL_SUBMIT = 1, 2, 3, 5
MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE, MODAL = 4, 5, 6, 7, 9


@dataclass
class Interaction:
    id: int
    token: str
    payload: Json
    callbacks: list[Json] = field(default_factory=list)  # every callback body, even refused ones
    original_id: int | None = None  # the message @original refers to
    modal: Json | None = None  # the modal the client opened in answer
    deleted: bool = False

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)


class InteractionsMixin:
    """Mixed into `FakeDiscord`, whose state and helpers it uses."""

    if TYPE_CHECKING:
        application_id: int
        guild_id: int
        bot: Json
        messages: dict[int, Json]
        channels: dict[int, Json]
        commands: list[Json]

        async def dispatch(self, event: str, data: Json) -> None: ...

        async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T: ...

        def _bot_message(self, channel: Json, body: Json) -> Json: ...

        def _apply_edit(self, message: Json, body: Json) -> Response: ...

    def __init__(self) -> None:
        self.interactions: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}

    # Scripting

    async def press(self, person: Person, message_id: int, custom_id: str) -> int:
        """Press the button `custom_id` on a message (a DM or the moderator guild)."""
        message = self.messages[message_id]
        component = _find_component(message["components"], custom_id)
        data = {"custom_id": custom_id, "component_type": component["type"]}
        return await self._interact(person, COMPONENT, data, int(message["channel_id"]), message)

    async def choose(self, person: Person, message_id: int, custom_id: str, value: str) -> int:
        """Pick `value` in the select `custom_id` on a message."""
        message = self.messages[message_id]
        component = _find_component(message["components"], custom_id)
        if value not in {option["value"] for option in component["options"]}:
            raise AssertionError(f"{value!r} is not an option of {custom_id}")
        data = {"custom_id": custom_id, "component_type": component["type"], "values": [value]}
        return await self._interact(person, COMPONENT, data, int(message["channel_id"]), message)

    async def slash(self, person: Person, name: str, **options: str) -> int:
        """Run a published slash command in the person's DM with the bot."""
        command = next((c for c in self.commands if c["name"] == name), None)
        if command is None:
            raise AssertionError(f"/{name} was not published")
        if command.get("contexts") is not None and 1 not in command["contexts"]:
            raise AssertionError(f"/{name} is not allowed in DMs")
        data = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": [{"name": key, "type": 3, "value": value} for key, value in options.items()],
        }
        return await self._interact(person, COMMAND, data, person.dm_channel_id, None)

    async def submit(self, person: Person, interaction_id: int, text: str) -> int:
        """Fill in every text field of the modal opened in answer to `interaction_id`, submit it."""
        opened = self.interactions[interaction_id]
        if opened.modal is None:
            raise AssertionError("no modal was opened for that interaction")
        data = {"custom_id": opened.modal["custom_id"], "components": _filled(opened.modal["components"], text)}
        origin = opened.payload.get("message")
        channel_id = int(opened.payload["channel_id"])
        return await self._interact(person, MODAL_SUBMIT, data, channel_id, origin)

    def answer(self, interaction_id: int) -> Json | None:
        """The message the person sees as the answer (after edits), or None."""
        record = self.interactions[interaction_id]
        if record.original_id is None or record.deleted:
            return None
        return self.messages.get(record.original_id)

    async def answered(self, interaction_id: int, timeout: float = 5.0) -> Json:
        """Wait until the answer to `interaction_id` has text (not just "thinking…"); return it."""

        def with_text() -> Json | None:
            answer = self.answer(interaction_id)
            return answer if answer is not None and answer["content"] else None

        return await self.wait_for(with_text, timeout)

    def is_ephemeral(self, message: Json) -> bool:
        return bool(message.get("flags", 0) & EPHEMERAL)

    async def _interact(
        self, person: Person, kind: int, data: Json, channel_id: int, message: Json | None
    ) -> int:
        interaction_id = p.snowflake()
        token = f"token-{interaction_id}"
        channel = self.channels[channel_id]
        in_guild = bool(channel.get("guild_id"))
        payload: Json = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel_id),
            "channel": channel,
            "token": token,
            "version": 1,
            "locale": "fr" if person.payload["username"].startswith("fr") else "en-US",
            "app_permissions": "0",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "context": 0 if in_guild else 1,
            "authorizing_integration_owners": {"0": str(self.guild_id)},
        }
        if message is not None:
            payload["message"] = message
        if in_guild:
            if person.member is None:
                raise AssertionError("only guild members can interact in the guild")
            payload |= {"guild_id": str(self.guild_id), "guild_locale": "en-US", "member": person.member}
        else:
            payload["user"] = person.payload
        record = Interaction(interaction_id, token, payload)
        self.interactions[interaction_id] = record
        self._by_token[token] = record
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction_id

    # REST

    async def _callback(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        record = self.interactions.get(int(match["iid"]))
        if record is None or record.token != match["token"]:
            return error(404, 10062, "Unknown interaction")
        body = body or {}
        already = record.acknowledged
        record.callbacks.append(body)
        if already:
            return error(400, 40060, "Interaction has already been acknowledged.")
        kind, data = body["type"], body.get("data") or {}
        origin = record.payload.get("message")
        message: Json | None = None
        if kind in (MESSAGE, DEFERRED_MESSAGE):
            if kind == MESSAGE and (invalid := validate_message(data)):
                return error(400, 50035, invalid)
            flags = (data.get("flags") or 0) | (LOADING if kind == DEFERRED_MESSAGE else 0)
            message = self._bot_message(self.channels[int(record.payload["channel_id"])], {**data, "flags": flags})
            message["interaction_metadata"] = {"id": str(record.id), "type": record.payload["type"], "user": self.bot}
            self.messages[int(message["id"])] = message
            record.original_id = int(message["id"])
        elif kind in (DEFERRED_UPDATE, UPDATE) and origin is not None:
            record.original_id = int(origin["id"])
            if kind == UPDATE:
                self._apply_edit(self.messages[record.original_id], data)
            message = self.messages[record.original_id]
        elif kind == MODAL:
            record.modal = data
        response = {
            "interaction": {
                "id": str(record.id),
                "type": record.payload["type"],
                "response_message_id": str(record.original_id) if record.original_id else None,
                "response_message_loading": kind == DEFERRED_MESSAGE,
                "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL),
            },
            "resource": {"type": kind, **({"message": message} if message else {})},
        }
        return reply(response)

    async def _edit_original(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        record = self._by_token.get(match["token"])
        if record is None or record.original_id is None or record.deleted:
            return error(404, 10008, "Unknown Message")
        return self._apply_edit(self.messages[record.original_id], body or {})

    async def _delete_original(
        self, request: web.Request, match: re.Match[str], body: Json | None
    ) -> web.Response:
        record = self._by_token.get(match["token"])
        if record is None or record.original_id is None or record.deleted:
            return error(404, 10008, "Unknown Message")
        record.deleted = True
        self.messages.pop(record.original_id, None)
        return reply(None)

    async def _followup(self, request: web.Request, match: re.Match[str], body: Json | None) -> web.Response:
        record = self._by_token.get(match["token"])
        if record is None or not record.acknowledged:
            return error(404, 10015, "Unknown Webhook")
        if invalid := validate_message(body or {}):
            return error(400, 50035, invalid)
        original = self.messages.get(record.original_id) if record.original_id else None
        if original is not None and original["flags"] & LOADING:
            return self._apply_edit(original, body or {})  # the first follow-up replaces "thinking…"
        message = self._bot_message(self.channels[int(record.payload["channel_id"])], body or {})
        self.messages[int(message["id"])] = message
        return reply(message)


def _find_component(rows: list[Json], custom_id: str) -> Json:
    for row in rows:
        for component in row.get("components", []):
            if component.get("custom_id") == custom_id:
                found: Json = component
                return found
    raise AssertionError(f"no component {custom_id!r} on that message")


def _filled(components: list[Json], text: str) -> list[Json]:
    """The modal's components as a submission: every text input answered with `text`."""
    filled: list[Json] = []
    for component in components:
        if component["type"] == 1:
            filled.append({"type": 1, "components": _filled(component["components"], text)})
        elif component["type"] == 18:
            filled.append({"type": 18, "component": _filled([component["component"]], text)[0]})
        elif component["type"] == 4:
            filled.append({"type": 4, "custom_id": component["custom_id"], "value": text})
    return filled
