"""Property-based fuzzing of `ConversationManager.handle` (hypothesis): whatever a user
types, in any consent state, it never raises, it always answers, and text is never stored
without consent (checked in the table and in the raw bytes of the database files)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.core.commands import Command
from bot.core.types import Inbound, InboundKind, Platform, UserRef
from bot.store.models import Message
from tests.reliability.support import load_bench
from tests.support.core import Core, make_core

TRICKY = ["\ud800", "\udfff", "\x00", "\x1b", "\u202e", "\u2066", "\u200b", "\u00ad", "\ufeff", "\U000e0041", "\r\n", "\n", "\t",
          "<b>", "</i>", "&amp;", "@everyone", "<@1>", "[INST]", "<|im_end|>", "{0}", "%s", "\\", "'", '"', "`", "🙂", "é", "ß"]
PREFIXES = ["", "/", "//", "/x", *(f"/{c.value}" for c in Command), "/country ", "/COUNTRY fr", "/help@somebot "]

text_strategy = st.builds(
    lambda prefix, parts: prefix + "".join(parts),
    st.sampled_from(PREFIXES),
    st.lists(st.one_of(st.characters(), st.sampled_from(TRICKY)), max_size=60),
)


async def _converse(core: Core, user: str, platform: Platform, consent: str, text: str, kind: InboundKind) -> int:
    """Send the consent choice (if any) then the fuzzed message; return how many messages
    the user received for the fuzzed one."""
    ref = UserRef(platform, user)

    def inbound(body: str, kind: InboundKind = InboundKind.TEXT) -> Inbound:
        return Inbound(ref, f"chat-{user}", body, datetime.now(UTC), locale="en", kind=kind)

    if consent != "none":
        await core.manager.handle(inbound(f"/{consent}"))
    before = len(core.channel.to(user))
    await core.manager.handle(inbound(text, kind))
    return len(core.channel.to(user)) - before


def test_handle_never_raises_always_answers_and_never_stores_without_consent(tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        core = runner.run(make_core(tmp_path, rate_limit_per_minute=1_000_000))
        numbers = itertools.count()
        withheld: list[str] = []  # canaries in messages of users who had not agreed
        everyone: list[str] = []

        @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            text=text_strategy,
            consent=st.sampled_from(["agree", "decline", "none"]),
            canary_first=st.booleans(),
            platform=st.sampled_from([Platform.DISCORD, Platform.TELEGRAM, Platform.CONSOLE]),
            kind=st.sampled_from([InboundKind.TEXT, InboundKind.TEXT, InboundKind.NON_TEXT]),
        )
        def check(text: str, consent: str, canary_first: bool, platform: Platform, kind: InboundKind) -> None:
            canary = f"CANARY{uuid.uuid4().hex}"
            body = f"{canary} {text}" if canary_first else f"{text} {canary}"
            answered = runner.run(_converse(core, f"fz{next(numbers)}", platform, consent, body, kind))
            assert answered >= 1, "every message gets an answer"
            everyone.append(canary)
            # `/agree <canary>` grants consent, but a command's own text is never stored
            if consent != "agree":
                withheld.append(canary)

        check()

        async def stored_texts() -> list[str]:
            async with core.store.engine.connect() as conn:
                bodies = (await conn.scalars(select(Message.body))).all()
            return [core.store.cipher.decrypt(body) for body in bodies]

        texts = runner.run(stored_texts())
        assert not [c for c in withheld if any(c in text for text in texts)], "text stored without consent"
        assert "pending" not in runner.run(core.store.users.turn_counts())
        runner.run(core.store.engine.dispose())  # no checkpoint: the WAL keeps everything written
        data = load_bench().raw_bytes(tmp_path / "counselbot.db")
        assert b"CANARY" not in data, "text on disk in clear"
        runner.run(core.store.close())
