"""`counselbot run`'s composition root end to end: the real worker with a tiny model, the
real store, and the real Telegram client against the fake Bot API, stopped cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import app
from bot.store.crypto import generate_key
from model.tiny import save_tiny_llama
from tests.e2e.telegram.conftest import GROUP, LEE, telegram_settings
from tests.e2e.telegram.fake_api import FakeBotApi
from tests.support.settings import migrate

pytestmark = pytest.mark.slow


async def test_run_serves_users_flags_to_moderators_and_stops_cleanly(fake: FakeBotApi, tmp_path: Path) -> None:
    model_dir = await asyncio.to_thread(save_tiny_llama, tmp_path / "tiny")
    settings = telegram_settings(
        fake,
        tmp_path,
        transcript_key=generate_key(),
        model_backend="local",
        base_model=str(model_dir),
        max_new_tokens=8,
        model_cache_dir=tmp_path / "cache",
    )
    await migrate(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(app.run(settings, stop=stop))
    try:
        await fake.wait_for(lambda: fake.calls_of("setMyCommands") or None, timeout=60)
        await fake.private_text(LEE, "hello, I can't sleep")
        await fake.wait_for(lambda: len(fake.sent(LEE["id"])) >= 2 or None, timeout=60)
        notice, reply = fake.sent(LEE["id"])[:2]
        assert "not a therapist" in (notice.text or "") and notice.buttons()
        assert reply.text

        await fake.private_text(LEE, "I want to kill myself tonight")
        await fake.wait_for(lambda: any("988" in (m.text or "") or "findahelpline" in (m.text or "") for m in fake.sent(LEE["id"])) or None, timeout=60)
        card = await fake.wait_for(lambda: next((m for m in fake.sent(GROUP) if m.buttons()), None), timeout=30)
        assert "kill myself tonight" in (card.text or "")
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=90)
    assert running.exception() is None
