"""Telegram's message-text parsing, as far as the fake needs it.

`parse` turns text sent with `parse_mode=HTML` into plain text and entities the way the
Bot API does (only Telegram's tags; anything else is a 400 "can't parse entities"), and
`auto_entities` adds what Telegram detects on its own in any text: @mentions, /commands
and URLs, except inside `pre` and `code`. Offsets and lengths are UTF-16 units.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}  # the only named entities Telegram knows
_AUTO = (
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{4,31}")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z][A-Za-z0-9_]{0,31}(?:@[A-Za-z0-9_]{5,32})?")),
    ("url", re.compile(r"https?://[^\s<>\"]+")),
)


class EntityParseError(ValueError):
    """What Telegram answers as `Bad Request: can't parse entities: ...`."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # entities are reported in order, like the data
        self.chunks: list[str] = []
        self.units = 0
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {self.units}')
        self.stack.append((tag, self.units, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise EntityParseError(f'Unmatched end tag at byte offset {self.units}, expected "</{tag}>"')
        name, start, attrs = self.stack.pop()
        if self.units > start:
            entity: dict[str, Any] = {"type": _TAGS[name], "offset": start, "length": self.units - start}
            if name == "a":
                entity["url"] = attrs.get("href") or ""
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        self.units += utf16_len(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _NAMED:
            raise EntityParseError(f'Unsupported HTML entity "&{name};"')
        self.handle_data(_NAMED[name])

    def handle_charref(self, name: str) -> None:
        self.handle_data(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))


def parse(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(plain text, entities) of a message as Telegram would store it."""
    if parse_mode is None or parse_mode == "":
        plain, entities = text, []
    elif parse_mode.upper() == "HTML":
        parser = _Parser()
        parser.feed(text)
        parser.close()
        if parser.stack:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"')
        plain, entities = "".join(parser.chunks), parser.entities
    else:
        raise EntityParseError(f"the fake only implements HTML, not {parse_mode}")
    return plain, sorted(entities + auto_entities(plain, entities), key=lambda e: (e["offset"], e["type"]))


def auto_entities(plain: str, explicit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mentions, commands and URLs Telegram finds by itself outside code and pre."""
    verbatim = [(e["offset"], e["offset"] + e["length"]) for e in explicit if e["type"] in ("pre", "code")]
    found: list[dict[str, Any]] = []
    for kind, pattern in _AUTO:
        for match in pattern.finditer(plain):
            start = utf16_len(plain[: match.start()])
            length = utf16_len(match.group())
            if any(start < end and begin < start + length for begin, end in verbatim):
                continue
            found.append({"type": kind, "offset": start, "length": length})
    return found


def covered(plain: str, entities: list[dict[str, Any]], fragment: str) -> set[str]:
    """The entity types that overlap `fragment` (its first occurrence) in `plain`."""
    index = plain.index(fragment)
    start, end = utf16_len(plain[:index]), utf16_len(plain[:index]) + utf16_len(fragment)
    return {e["type"] for e in entities if e["offset"] < end and start < e["offset"] + e["length"]}
