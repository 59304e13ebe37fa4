"""Logging a failure without its message.

An exception's message may quote what it choked on: a tokenizer error quotes the prompt,
a platform's "can't parse entities" quotes the message, and a chained cause carries its
own. Those are users' words, which never go to the logs (DESIGN.md). `log_failure` keeps
what an operator needs, the exception types along the chain and the frames, and drops
every message.
"""

from __future__ import annotations

import logging
import traceback


def log_failure(logger: logging.Logger, what: str, exc: BaseException, *args: object, level: int = logging.ERROR) -> None:
    """Log `what % args` failed, with the types and frames of `exc` and its causes."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}\n{''.join(traceback.format_tb(current.__traceback__))}")
        current = current.__cause__ or current.__context__
    logger.log(level, what + ": %s", *args, "\ncaused by: ".join(parts))
