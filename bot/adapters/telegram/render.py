"""Pure rendering for Telegram: text splitting, flag cards, keyboards, callback data.

No I/O here. User and model text is never interpreted as markup: messages to users go
out without a parse mode, and moderator messages (HTML) put every raw text through
`html.escape` inside `<pre>` blocks, where Telegram detects no mentions, commands or
links either.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.types import ActionKind, Button, FlagKind, FlagStatus, FlagView, Outcome, SessionState
from bot.safety.levels import RiskLevel

MAX_MESSAGE = 4096  # Telegram's limit on a message's text after entity parsing (UTF-16 units)
MAX_CALLBACK_DATA = 64  # bytes
MAX_TOPIC_NAME = 128
MAX_CALLBACK_ANSWER = 200

MOD_PREFIX = "mod"
MENU = "menu"  # callback verb that restores the flag keyboard after the outcome menu

# Topic icon colours Telegram accepts (createForumTopic icon_color).
ICON_BLUE = 0x6FB9F0
ICON_YELLOW = 0xFFD67E
ICON_RED = 0xFB6F5F

_BUTTON_ACTIONS: dict[ActionKind, str] = {
    ActionKind.CLAIM: "✋ Claim",
    ActionKind.TAKEOVER: "🗣 Take over",
    ActionKind.RELEASE: "🤖 Release to AI",
    ActionKind.RESOLVE: "✅ Resolve…",
    ActionKind.BLOCK: "⛔ Block user",
}
# One letter per button action, so the outcome menu's "back" button can carry the keyboard.
_ACTION_CODES: dict[ActionKind, str] = {
    ActionKind.CLAIM: "c",
    ActionKind.TAKEOVER: "t",
    ActionKind.RELEASE: "r",
    ActionKind.RESOLVE: "v",
    ActionKind.BLOCK: "b",
}
_CODE_ACTIONS = {code: kind for kind, code in _ACTION_CODES.items()}


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: most emoji count two)."""
    return len(text.encode("utf-16-le")) // 2


# Split points, strongest first: paragraph, line, sentence end, clause, word.
_BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…。])\s+"),
    re.compile(r"(?<=[;:,])\s+"),
    re.compile(r"\s+"),
)


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Cut `text` into pieces of at most `limit` UTF-16 units, at the strongest boundary.

    Paragraphs are preferred, then lines, sentences, clauses and words; a word longer than
    the limit is cut hard (never inside a surrogate pair). Whitespace at a cut is dropped;
    nothing else is changed or lost.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    pieces: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        window = _prefix_within(rest, limit)
        cut = _best_cut(window)
        if cut is None:
            head, rest = window, rest[len(window) :]
        else:
            start, end = cut
            head, rest = window[:start], rest[end:]
        head, rest = head.rstrip(), rest.lstrip()
        if head:
            pieces.append(head)
    if rest:
        pieces.append(rest)
    return pieces


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of `text` whose UTF-16 length is at most `limit`."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _best_cut(window: str) -> tuple[int, int] | None:
    """(start, end) of the last strong break in the window's second half, else of any break."""
    for pattern in _BREAKS:
        matches = [m for m in pattern.finditer(window) if m.start() > 0]
        if not matches:
            continue
        good = [m for m in matches if m.start() >= len(window) // 2]
        if good:
            return good[-1].start(), good[-1].end()
    for pattern in _BREAKS:
        matches = [m for m in pattern.finditer(window) if m.start() > 0]
        if matches:
            return matches[-1].start(), matches[-1].end()
    return None


# Keyboards ----------------------------------------------------------------------------


def user_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """The user's buttons, two per row; pressing one sends its command back as a callback."""
    if not buttons:
        return None
    for button in buttons:
        if len(button.command.encode()) > MAX_CALLBACK_DATA:
            raise ValueError(f"button command longer than {MAX_CALLBACK_DATA} bytes")
    row_list = [
        [InlineKeyboardButton(b.label, callback_data=b.command) for b in buttons[i : i + 2]]
        for i in range(0, len(buttons), 2)
    ]
    return InlineKeyboardMarkup(row_list)


def flag_keyboard(flag_id: int, actions: Iterable[ActionKind]) -> InlineKeyboardMarkup | None:
    """One button per action valid now (typed actions, notes and replies, have none)."""
    kinds = [kind for kind in _BUTTON_ACTIONS if kind in set(actions)]
    if not kinds:
        return None
    buttons = [InlineKeyboardButton(_BUTTON_ACTIONS[k], callback_data=f"{MOD_PREFIX}:{k.value}:{flag_id}") for k in kinds]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def outcome_keyboard(flag_id: int, actions: Iterable[ActionKind]) -> InlineKeyboardMarkup:
    """The outcome choice shown after "Resolve…", with a way back to `actions`."""
    rows = [
        [
            InlineKeyboardButton(o.label.capitalize(), callback_data=f"{MOD_PREFIX}:{ActionKind.RESOLVE.value}:{flag_id}:{o.value}")
            for o in pair
        ]
        for pair in _pairs(list(Outcome))
    ]
    codes = "".join(_ACTION_CODES[k] for k in _ACTION_CODES if k in set(actions))
    rows.append([InlineKeyboardButton("« Back", callback_data=f"{MOD_PREFIX}:{MENU}:{flag_id}:{codes}")])
    return InlineKeyboardMarkup(rows)


def actions_in(markup: InlineKeyboardMarkup | None) -> list[ActionKind]:
    """The flag actions a rendered flag keyboard offers (read back from its callback data)."""
    found: list[ActionKind] = []
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            parsed = parse_callback(button.callback_data if isinstance(button.callback_data, str) else "")
            if isinstance(parsed, FlagCallback) and parsed.kind is not None and parsed.outcome is None:
                found.append(parsed.kind)
    return found


def _pairs(items: list[Outcome]) -> list[list[Outcome]]:
    return [items[i : i + 2] for i in range(0, len(items), 2)]


@dataclass(frozen=True)
class FlagCallback:
    """A moderator button press: an action (`kind`), or `menu` with the actions to restore."""

    flag_id: int
    kind: ActionKind | None  # None: the "back" button of the outcome menu
    outcome: Outcome | None = None
    restore: tuple[ActionKind, ...] = ()


def parse_callback(data: str) -> FlagCallback | None:
    """`mod:<action>:<flag>[:<outcome>]` or `mod:menu:<flag>:<codes>` → FlagCallback; else None."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != MOD_PREFIX or not parts[2].isdigit():
        return None
    flag_id = int(parts[2])
    extra = parts[3] if len(parts) == 4 else None
    if parts[1] == MENU:
        codes = extra or ""
        if any(code not in _CODE_ACTIONS for code in codes):
            return None
        return FlagCallback(flag_id, None, restore=tuple(_CODE_ACTIONS[code] for code in codes))
    try:
        kind = ActionKind(parts[1])
        outcome = Outcome(extra) if extra is not None else None
    except ValueError:
        return None
    if kind not in _BUTTON_ACTIONS or (outcome is not None and kind is not ActionKind.RESOLVE):
        return None
    return FlagCallback(flag_id, kind, outcome)


# Flag cards ---------------------------------------------------------------------------

_LEVEL_MARK = {
    RiskLevel.NONE: "⚪",
    RiskLevel.CONCERN: "🔵",
    RiskLevel.ELEVATED: "🟡",
    RiskLevel.HIGH: "🔴",
    RiskLevel.IMMINENT: "🚨",
}
_SESSION_TEXT = {
    SessionState.AI: "the AI is answering",
    SessionState.HUMAN: "a moderator has the conversation",
    SessionState.CLOSED: "closed",
}
CARD_FLAGGED_BUDGET = 1500  # UTF-16 units for the flagged messages; the transcript gets the rest


class _Html:
    """HTML under construction, with the length Telegram will count after parsing."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def raw(self, markup: str, visible: str) -> None:
        self.parts.append(markup)
        self.length += utf16_len(visible)

    def text(self, value: str) -> None:
        self.raw(html.escape(value, quote=False), value)

    def tag(self, name: str, value: str) -> None:
        self.raw(f"<{name}>{html.escape(value, quote=False)}</{name}>", value)

    def line(self, *, label: str, value: str) -> None:
        self.tag("b", label)
        self.text(f" {value}\n")

    def render(self) -> str:
        return "".join(self.parts)


def flag_card(view: FlagView, *, forum: bool, limit: int = MAX_MESSAGE) -> str:
    """The flag's first message (HTML): tier, categories, state, reasons, flagged text."""
    out = _Html()
    title = "Human requested" if view.kind is FlagKind.HUMAN_REQUEST else f"Risk: {view.level.label}"
    urgent = " · URGENT" if view.level.urgent and view.kind is FlagKind.RISK else ""
    out.text(f"{_LEVEL_MARK[view.level]} ")
    out.tag("b", f"Flag #{view.flag_id} · {title}{urgent}")
    out.text("\n")
    if view.categories:
        out.line(label="Categories:", value=", ".join(c.value.replace("_", " ") for c in view.categories))
    out.line(label="Status:", value=status_text(view))
    out.line(label="Session:", value=_SESSION_TEXT[view.session_state])
    out.line(label="User:", value=view.user_label)
    raised = view.created_at.strftime("%Y-%m-%d %H:%M UTC")
    out.line(label="Raised:", value=raised + (f" · re-paged {view.repages}×" if view.repages else ""))
    if view.reasons:
        out.tag("b", "Why:")
        out.text("\n" + "".join(f"• {reason}\n" for reason in view.reasons))
    footer = _footer(forum)
    room = limit - out.length - utf16_len(footer) - 40
    if view.flagged_messages:
        out.tag("b", "Flagged:" if len(view.flagged_messages) == 1 else f"Flagged ({len(view.flagged_messages)}):")
        out.text("\n")
        body = _fit_tail("\n—\n".join(view.flagged_messages), min(room, CARD_FLAGGED_BUDGET), keep="start")
        out.tag("pre", body)
        out.text("\n")
    room = limit - out.length - utf16_len(footer) - 60
    if view.transcript is None:
        out.tag("i", "No transcript: the user has not consented to storage.")
        out.text("\n")
    elif view.transcript and room > 80:
        out.tag("b", "Recent transcript (consented):")
        out.text("\n")
        out.tag("pre", _fit_tail("\n".join(view.transcript), room, keep="end"))
        out.text("\n")
    out.tag("i", footer)
    return out.render()


def status_text(view: FlagView) -> str:
    if view.status is FlagStatus.OPEN:
        return "open, unclaimed"
    if view.status is FlagStatus.CLAIMED:
        return f"claimed by {view.assignee or 'a moderator'}"
    outcome = f" ({view.outcome.label})" if view.outcome is not None else ""
    return f"resolved{outcome} by {view.assignee or 'a moderator'}"


def _footer(forum: bool) -> str:
    where = "Type in this topic" if forum else "Reply to this message"
    return f"{where}: “!note …” adds an internal note; other text goes to the user while you hold a take-over."


def _fit_tail(text: str, room: int, *, keep: str) -> str:
    """`text` cut to `room` UTF-16 units, keeping its start or its end, marked with “…”."""
    room = max(room, 16)
    if utf16_len(text) <= room:
        return text
    if keep == "start":
        return _prefix_within(text, room - 1).rstrip() + "…"
    reversed_kept = _prefix_within(text[::-1], room - 1)
    return "…" + reversed_kept[::-1].lstrip()


def relay_html(author: str, text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """A relayed message (the user's words, a note, a re-page) as HTML pieces within `limit`."""
    header = f"<b>{html.escape(author, quote=False)}</b>\n"
    room = limit - utf16_len(author) - 2
    return [header + f"<pre>{html.escape(piece, quote=False)}</pre>" for piece in split_text(text, room) or [""]]


def topic_name(view: FlagView) -> str:
    label = "human requested" if view.kind is FlagKind.HUMAN_REQUEST else view.level.label
    name = f"{_LEVEL_MARK[view.level]} #{view.flag_id} {label} · {view.user_label}"
    return _prefix_within(name, MAX_TOPIC_NAME)


def topic_color(view: FlagView) -> int:
    if view.kind is FlagKind.HUMAN_REQUEST:
        return ICON_BLUE
    return ICON_RED if view.level.urgent else ICON_YELLOW


def clip_answer(text: str) -> str:
    """answerCallbackQuery text fits in 200 characters."""
    return text if len(text) <= MAX_CALLBACK_ANSWER else text[: MAX_CALLBACK_ANSWER - 1] + "…"
