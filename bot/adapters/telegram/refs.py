"""References to flag threads in the moderator group, as the core stores them.

- `topic:<chat_id>:<thread_id>`: the flag's forum topic. Every message typed in the topic
  carries the thread id, so moderator text maps back to the flag after a restart.
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
class ReplyRef:
    chat_id: int
    message_id: int

    def __str__(self) -> str:
        return f"reply:{self.chat_id}:{self.message_id}"


FlagRef = TopicRef | ReplyRef


def parse_ref(ref: str) -> FlagRef:
    """Parse a reference this surface returned; `ValueError` for anything else."""
    kind, _, rest = ref.partition(":")
    chat, _, number = rest.partition(":")
    try:
        chat_id, value = int(chat), int(number)
    except ValueError:
        raise ValueError(f"not a telegram flag reference: {ref!r}") from None
    if kind == "topic":
        return TopicRef(chat_id, value)
    if kind == "reply":
        return ReplyRef(chat_id, value)
    raise ValueError(f"not a telegram flag reference: {ref!r}")
