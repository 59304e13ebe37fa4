"""HTTP helpers shared by the fake Discord's modules: JSON replies and Discord's validation."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

Json = dict[str, Any]

EPHEMERAL, LOADING = 1 << 6, 1 << 7


def reply(data: Json | list[Any] | None, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with the bare content type discord.py insists on (no `; charset=`)."""
    if data is None:
        return web.Response(status=204, headers=headers)
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json", **(headers or {})})


def error(status: int, code: int, message: str) -> web.Response:
    return reply({"code": code, "message": message}, status)


def validate_message(body: Json, *, partial: bool = False) -> str | None:
    """What Discord's API refuses (50035 Invalid Form Body / 50006 empty message)."""
    content = body.get("content") or ""
    if len(content.encode("utf-16-le")) // 2 > 2000:
        return "content: Must be 2000 or fewer in length."
    embeds = body.get("embeds") or []
    for embed in embeds:
        if len(embed.get("title") or "") > 256 or len(embed.get("description") or "") > 4096:
            return "embeds: title or description too long"
        for embed_field in embed.get("fields") or []:
            if len(embed_field["name"]) > 256 or len(embed_field["value"]) > 1024 or not embed_field["value"]:
                return "embeds: field value must be 1-1024 characters"
    for row in body.get("components") or []:
        for component in row.get("components", []):
            if len(component.get("custom_id") or "") > 100:
                return "components: custom_id must be 100 or fewer in length"
    if not partial and not (content or embeds or body.get("components") or body.get("sticker_ids")):
        return "Cannot send an empty message"
    return None
