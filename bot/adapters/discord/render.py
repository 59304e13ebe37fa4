"""Pure rendering for Discord: escaping, splitting, flag cards, thread references.

No I/O here. Every text that reaches Discord passes through `escape` (so user or model
text shows verbatim and cannot inject markdown, masked links, mentions or timestamps)
and through `split` (Discord refuses message content over 2,000 characters).
"""

from __future__ import annotations

import re

import discord

from bot.core.types import ActionKind, FlagKind, FlagView
from bot.safety.levels import RiskLevel

MESSAGE_LIMIT = 2000
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_LIMIT = 1024
THREAD_NAME_LIMIT = 100
CUSTOM_ID_LIMIT = 100

# Discord parses `<@id>`, `<#id>`, `<t:…>`, `<:emoji:id>` and `@everyone`/`@here` even with
# pings disabled (as pills or highlights); a backslash makes them show as typed.
_ANGLE_OR_BROADCAST = re.compile(r"<|@(?=everyone|here)")

_LEVEL_COLOURS: dict[RiskLevel, int] = {
    RiskLevel.NONE: 0x95A5A6,
    RiskLevel.CONCERN: 0xF1C40F,
    RiskLevel.ELEVATED: 0xE67E22,
    RiskLevel.HIGH: 0xE74C3C,
    RiskLevel.IMMINENT: 0x8B0000,
}

ACTION_LABELS: dict[ActionKind, str] = {
    ActionKind.CLAIM: "Claim",
    ActionKind.TAKEOVER: "Take over",
    ActionKind.SAY: "Message user",
    ActionKind.RELEASE: "Release to AI",
    ActionKind.RESOLVE: "Resolve",
    ActionKind.NOTE: "Note",
    ActionKind.BLOCK: "Block user",
}

ACTION_STYLES: dict[ActionKind, discord.ButtonStyle] = {
    ActionKind.CLAIM: discord.ButtonStyle.primary,
    ActionKind.TAKEOVER: discord.ButtonStyle.danger,
    ActionKind.SAY: discord.ButtonStyle.secondary,
    ActionKind.RELEASE: discord.ButtonStyle.secondary,
    ActionKind.RESOLVE: discord.ButtonStyle.success,
    ActionKind.NOTE: discord.ButtonStyle.secondary,
    ActionKind.BLOCK: discord.ButtonStyle.danger,
}


def escape(text: str) -> str:
    """Make `text` display exactly as written: markdown, links, mentions all inert."""
    escaped = discord.utils.escape_markdown(text, ignore_links=True)
    return _ANGLE_OR_BROADCAST.sub(lambda match: "\\" + match.group(0), escaped)


def discord_length(text: str) -> int:
    """Length as Discord counts it (UTF-16 code units; never less than code points)."""
    return len(text.encode("utf-16-le")) // 2


def split(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split already-rendered text into chunks of at most `limit`, at the best boundary.

    Prefers paragraph breaks, then line breaks, then spaces; cuts hard only inside a
    single over-long word, and never between an escaping backslash and what it escapes.
    Chunks are stripped (Discord strips them anyway) and empty chunks are dropped.
    """
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if discord_length(rest) <= limit:
            chunks.append(rest)
            break
        cut = _fit(rest, limit)
        window = rest[:cut]
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator)
            if at > limit // 4:
                cut = at
                break
        head = rest[:cut].rstrip()
        while _ends_with_escape(head):
            head = head[:-1].rstrip()
        if not head:  # nothing but escapes and spaces: cut hard, between escape pairs
            head = rest[: max(2, cut - cut % 2)]
        chunks.append(head)
        rest = rest[len(head) :].strip()
    return chunks


def _ends_with_escape(text: str) -> bool:
    """Whether `text` ends in a backslash that escapes the next character (an odd run)."""
    run = len(text) - len(text.rstrip("\\"))
    return run % 2 == 1


def _fit(text: str, limit: int) -> int:
    """The largest prefix length (in code points) whose Discord length fits `limit`."""
    cut = min(len(text), limit)
    while discord_length(text[:cut]) > limit:
        cut -= max(1, discord_length(text[:cut]) - limit)
    return cut


def render_text(text: str) -> list[str]:
    """User-facing text → escaped chunks ready to send."""
    return split(escape(text))


def relay_text(author: str, text: str) -> list[str]:
    """A relayed line in a flag thread: the author in bold, then the text, both escaped."""
    return split(f"**{escape(author)}:** {escape(text)}")


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip("\\") + "…"


def thread_name(view: FlagView) -> str:
    """A thread title with no user text: the flag number, tier and categories."""
    parts = [f"#{view.flag_id}", view.level.label]
    if view.kind is FlagKind.HUMAN_REQUEST:
        parts.append("asked for a human")
    parts.extend(category.value.replace("_", " ") for category in view.categories)
    return _truncate(" · ".join(parts), THREAD_NAME_LIMIT)


def flag_embed(view: FlagView) -> discord.Embed:
    """The flag's card: tier, categories, reasons, status, who holds it, the flagged text."""
    urgent = " · URGENT" if view.level.urgent else ""
    kind = " · asked for a human" if view.kind is FlagKind.HUMAN_REQUEST else ""
    flagged = "\n".join(f"> {escape(line)}" for line in view.flagged_messages) or "(no message text kept)"
    embed = discord.Embed(
        title=f"Flag #{view.flag_id} · {view.level.label.upper()}{urgent}{kind}",
        description=_truncate(flagged, EMBED_DESCRIPTION_LIMIT),
        colour=_LEVEL_COLOURS[view.level],
        timestamp=view.created_at,
    )
    embed.add_field(name="Status", value=f"{view.status.value} · session {view.session_state.value}", inline=True)
    embed.add_field(name="Held by", value=escape(view.assignee) if view.assignee else "nobody", inline=True)
    embed.add_field(name="User", value=escape(view.user_label), inline=True)
    categories = ", ".join(category.value.replace("_", " ") for category in view.categories) or "none"
    embed.add_field(name="Categories", value=categories, inline=False)
    reasons = "\n".join(f"• {escape(reason)}" for reason in view.reasons) or "none given"
    embed.add_field(name="Reasons", value=_truncate(reasons, EMBED_FIELD_LIMIT), inline=False)
    if view.outcome is not None:
        embed.add_field(name="Outcome", value=view.outcome.label, inline=True)
    if view.repages:
        embed.add_field(name="Re-paged", value=str(view.repages), inline=True)
    embed.set_footer(text="Transcript below (the user consented)" if view.transcript else "No transcript kept")
    return embed


def transcript_chunks(view: FlagView) -> list[str]:
    """The consented transcript as messages for the thread; nothing without consent."""
    if not view.transcript:
        return []
    lines = "\n".join(escape(turn) for turn in view.transcript)
    return split(f"**Transcript (consented), oldest first**\n{lines}")


def thread_ref(thread_id: int) -> str:
    """The reference the core stores for a flag's thread.

    The card is the thread's starter message, and Discord gives a thread started from a
    message (and a forum post's first message) the same id as that message, so the
    thread id alone finds both the thread and the card, and any message typed in the
    thread maps back to the same string.
    """
    return f"thread:{thread_id}"


def parse_thread_ref(ref: str) -> int:
    """`thread:<id>` → id; ValueError for anything else."""
    prefix, _, value = ref.partition(":")
    if prefix != "thread" or not value.isdigit():
        raise ValueError(f"not a Discord thread reference: {ref!r}")
    return int(value)
