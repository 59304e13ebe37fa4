"""References to flags in the moderator group, as the core stores them.

- `card:<chat_id>:<thread_id>:<message_id>`: a flag's card in its forum topic; the flag's
  primary reference, so that its card is edited, not re-sent, after a restart.
- `topic:<chat_id>:<thread_id>`: the flag's forum topic, mapped as an alias of the card.
  Every message typed in the topic carries the thread id, so moderator text maps back to
  the flag. (The primary reference of flags posted before cards had references of their
  own; `ModeratorGroup.update` replaces it with a `card:` one.)
- `reply:<chat_id>:<message_id>`: a flag card or a relayed message in a group without
  topics; moderators answer by replying to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicRef:
    chat_id: int
    thread_id: int

    def __str__(self) -> str:
        return f"topic:{self.chat_id}:{self.thread_id}"


@dataclass(frozen=True)
class CardRef:
    chat_id: int
    thread_id: int
    message_id: int

    @property
    def topic(self) -> TopicRef:
        return TopicRef(self.chat_id, self.thread_id)

    def __str__(self) -> str:
        return f"card:{self.chat_id}:{self.thread_id}:{self.message_id}"


@dataclass(frozen=True)
class ReplyRef:
    chat_id: int
    message_id: int

    def __str__(self) -> str:
        return f"reply:{self.chat_id}:{self.message_id}"


FlagRef = CardRef | TopicRef | ReplyRef


def parse_ref(ref: str) -> FlagRef:
    """Parse a reference this surface returned; `ValueError` for anything else."""
    kind, *fields = ref.split(":")
    try:
        numbers = [int(field) for field in fields]
    except ValueError:
        raise ValueError(f"not a telegram flag reference: {ref!r}") from None
    match kind, numbers:
        case "card", [chat_id, thread_id, message_id]:
            return CardRef(chat_id, thread_id, message_id)
        case "topic", [chat_id, thread_id]:
            return TopicRef(chat_id, thread_id)
        case "reply", [chat_id, message_id]:
            return ReplyRef(chat_id, message_id)
    raise ValueError(f"not a telegram flag reference: {ref!r}")
