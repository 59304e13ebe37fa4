"""Discord API objects as the real API sends them, trimmed to what discord.py reads."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
Json = dict[str, Any]

TEXT_CHANNEL, DM_CHANNEL, PUBLIC_THREAD, FORUM_CHANNEL = 0, 1, 11, 15

_counter = itertools.count()


def snowflake() -> int:
    """A fresh id whose timestamp is now, as Discord's are (discord.py derives created_at)."""
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_counter) % 4096)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: int, name: str, *, bot: bool = False) -> Json:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name.capitalize(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def member(user_payload: Json, roles: list[int]) -> Json:
    return {
        "user": user_payload,
        "roles": [str(role) for role in roles],
        "joined_at": iso_now(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "pending": False,
        "permissions": "0",
    }


def role(role_id: int, name: str, position: int) -> Json:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "hoist": False,
        "position": position,
        "permissions": "0",
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild_channel(channel_id: int, guild_id: int, name: str, channel_type: int) -> Json:
    payload: Json = {
        "id": str(channel_id),
        "type": channel_type,
        "guild_id": str(guild_id),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    if channel_type == FORUM_CHANNEL:
        payload |= {
            "available_tags": [],
            "default_reaction_emoji": None,
            "default_sort_order": None,
            "default_forum_layout": 0,
            "default_thread_rate_limit_per_user": 0,
        }
    return payload


def thread(thread_id: int, guild_id: int, parent_id: int, owner_id: int, name: str, auto_archive: int) -> Json:
    return {
        "id": str(thread_id),
        "type": PUBLIC_THREAD,
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "last_message_id": None,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "total_message_sent": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": auto_archive,
            "archive_timestamp": iso_now(),
            "locked": False,
            "create_timestamp": iso_now(),
        },
    }


def dm_channel(channel_id: int, recipient: Json) -> Json:
    return {"id": str(channel_id), "type": DM_CHANNEL, "recipients": [recipient], "last_message_id": None, "flags": 0}


def message(
    message_id: int,
    channel_id: int,
    author: Json,
    content: str,
    *,
    guild_id: int | None = None,
    author_member: Json | None = None,
    body: Json | None = None,
    **extra: Any,
) -> Json:
    """A message object; `body` is what a client POSTed (embeds, components, flags...)."""
    body = body or {}
    payload: Json = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "pinned": False,
        "type": 0,
        "flags": body.get("flags") or 0,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        if author_member is not None:
            payload["member"] = {key: value for key, value in author_member.items() if key != "user"}
    payload.update(extra)
    return payload


def attachment(name: str) -> Json:
    attachment_id = snowflake()
    return {
        "id": str(attachment_id),
        "filename": name,
        "size": 1234,
        "url": f"https://cdn.example/{attachment_id}/{name}",
        "proxy_url": f"https://media.example/{attachment_id}/{name}",
        "content_type": "image/png",
    }


def sticker_item(name: str) -> Json:
    return {"id": str(snowflake()), "name": name, "format_type": 1}


def application(application_id: int, owner: Json) -> Json:
    return {
        "id": str(application_id),
        "name": "counselbot",
        "icon": None,
        "description": "",
        "rpc_origins": [],
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": owner,
        "verify_key": "0" * 64,
        "flags": 0,
        "team": None,
        "summary": "",
    }
