"""The terminal adapters: `counselbot shell` (chat as a user) and the console moderator surface.

Like every adapter, these translate and render; the core decides. With `--json` every
message out is one JSON line `{"kind", "text", "buttons": [{"label", "command"}]}`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.core.conversation import ConversationManager
from bot.core.ports import PostedFlag
from bot.core.types import Button, FlagView, Inbound, Outbound, OutboundKind, Platform, UserRef

CHAT_REF = "console"
_STYLES = {
    OutboundKind.NOTICE: "yellow",
    OutboundKind.REPLY: "cyan",
    OutboundKind.CRISIS: "bold red",
    OutboundKind.SYSTEM: "dim",
    OutboundKind.MODERATOR: "bold green",
    OutboundKind.ERROR: "magenta",
}


class ConsoleChannel:
    """Prints the bot's messages for the terminal user (JSON lines or Rich panels)."""

    def __init__(self, out: TextIO, *, json_mode: bool) -> None:
        self._out = out
        self._json = json_mode
        self._console = Console(file=out, highlight=False, soft_wrap=True)
        self.buttons: tuple[Button, ...] = ()

    async def send(self, message: Outbound) -> None:
        if message.buttons:
            self.buttons = message.buttons
        if self._json:
            record = {
                "kind": message.kind.value,
                "text": message.text,
                "buttons": [{"label": b.label, "command": b.command} for b in message.buttons],
            }
            self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._out.flush()
            return
        body = escape(message.text)
        if message.buttons:
            body += "\n\n" + "   ".join(f"[bold]{escape(b.label)}[/bold] ({escape(b.command)})" for b in message.buttons)
        self._console.print(Panel(body, title=message.kind.value, title_align="left", border_style=_STYLES[message.kind]))

    async def typing(self, chat_ref: str) -> None:
        return None

    def resolve_button(self, typed: str) -> str:
        """A typed button label (case-insensitive) becomes the button's command."""
        for button in self.buttons:
            if typed.strip().casefold() == button.label.casefold():
                return button.command
        return typed


class ConsoleSurface:
    """Flags as lines on the operator's terminal (stderr); acted on with `counselbot mod`."""

    name = "console"

    def __init__(self, err: TextIO) -> None:
        self._console = Console(file=err, highlight=False, soft_wrap=True)

    async def post(self, view: FlagView) -> PostedFlag:
        self._line(view, "new flag")
        return PostedFlag(f"flag:{view.flag_id}")

    async def update(self, ref: str, view: FlagView) -> None:
        self._line(view, "flag updated")

    async def relay(self, ref: str, author: str, text: str) -> str | None:
        self._console.print(f"[moderators] {escape(ref)} {escape(author)}: {escape(text)}")
        return None

    def _line(self, view: FlagView, what: str) -> None:
        holder = f", held by {view.assignee}" if view.assignee else ""
        self._console.print(
            f"[moderators] {what} #{view.flag_id}: tier {view.level.label}, {view.status.value}{escape(holder)}"
            f" ({', '.join(c.value for c in view.categories) or view.kind.value}); `counselbot mod show {view.flag_id}`"
        )


async def run_shell(
    manager: ConversationManager,
    channel: ConsoleChannel,
    user: str,
    *,
    country: str | None = None,
    stdin: TextIO | None = None,
    interactive: bool = False,
    locale: str | None = None,
) -> None:
    """Chat as `user` until end of input: one message per line when scripted."""
    source = stdin or sys.stdin
    ref = UserRef(Platform.CONSOLE, user)

    def inbound(text: str) -> Inbound:
        return Inbound(ref, CHAT_REF, text, datetime.now(UTC), locale=locale, display_name=user)

    if country:
        await manager.handle(inbound(f"/country {country}"))
    prompt = Console(highlight=False)
    while True:
        if interactive:
            line = await asyncio.to_thread(prompt.input, "[bold]you>[/bold] ")
        else:
            line = await asyncio.to_thread(source.readline)
            if line == "":
                return
        text = line.rstrip("\n")
        if interactive and text.strip() in ("/quit", "/exit"):
            return
        await manager.handle(inbound(channel.resolve_button(text)))


def render_flags(flags: Sequence[FlagView], console: Console) -> None:
    from rich.table import Table

    table = Table("flag", "tier", "status", "kind", "categories", "held by", "raised")
    for view in flags:
        table.add_row(
            str(view.flag_id),
            view.level.label,
            view.status.value,
            view.kind.value,
            ", ".join(c.value for c in view.categories),
            escape(view.assignee or ""),
            view.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


def flag_json(view: FlagView) -> dict[str, object]:
    return {
        "id": view.flag_id,
        "kind": view.kind.value,
        "level": view.level.label,
        "categories": [c.value for c in view.categories],
        "reasons": list(view.reasons),
        "status": view.status.value,
        "session": view.session_state.value,
        "user": view.user_label,
        "flagged_messages": list(view.flagged_messages),
        "transcript": None if view.transcript is None else list(view.transcript),
        "assignee": view.assignee,
        "outcome": None if view.outcome is None else view.outcome.value,
        "created_at": view.created_at.isoformat(),
        "repages": view.repages,
        "actions": [a.value for a in view.actions],
    }


def render_flag(view: FlagView, console: Console) -> None:
    lines = [
        f"tier {view.level.label} · {view.status.value} · {view.kind.value} · session {view.session_state.value}",
        f"user {view.user_label}" + (f" · held by {escape(view.assignee)}" if view.assignee else ""),
        "categories: " + (", ".join(c.value for c in view.categories) or "none"),
        "why: " + ("; ".join(escape(r) for r in view.reasons) or "-"),
        "",
        "flagged messages:",
        *(f"  > {escape(m)}" for m in view.flagged_messages),
    ]
    if view.transcript is not None:
        lines += ["", "transcript (the user consented):", *(f"  {escape(line)}" for line in view.transcript)]
    else:
        lines += ["", "no transcript: the user did not consent to storage"]
    lines += ["", "actions: " + ", ".join(a.value for a in view.actions)]
    console.print(Panel("\n".join(lines), title=f"flag #{view.flag_id}", title_align="left"))
