"""The bot process killed with SIGKILL in the middle of a load, then restarted on the same
database: pending flags and take-overs survive; every message accepted before the kill is
answered or, if it was still pending, marked failed and its sender told; none silently lost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.core.texts import t
from bot.core.types import ActionKind, FlagStatus, ModeratorAction, OutboundKind, Platform, SessionState
from tests.reliability.driver import OPERATOR, inbound
from tests.support.core import RecordingChannel, RecordingSurface, make_manager
from tests.support.settings import make_settings, migrate

REPO = Path(__file__).resolve().parents[2]


def journal(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.endswith("}")]  # a line cut by the kill is dropped


def run_until_busy_then_kill(out: Path, db_file: Path, env: dict[str, str]) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.driver", str(out)], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and child.poll() is None:
            events = journal(out)
            replies = sum(1 for e in events if e["event"] == "out" and e["kind"] == "reply")
            if any(e["event"] == "ready" for e in events) and replies >= 60:
                with sqlite3.connect(db_file, timeout=5) as conn:
                    pending = conn.execute("SELECT count(*) FROM turns WHERE status = 'pending'").fetchone()[0]
                if pending >= 5:
                    break
            time.sleep(0.05)
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else "the driver exited"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL


async def test_killed_mid_run_and_restarted_loses_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, rate_limit_per_minute=100_000)
    await migrate(settings)
    db_file = tmp_path / "counselbot.db"
    out = tmp_path / "journal.jsonl"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": settings.database_url,
        "TRANSCRIPT_KEY": settings.require_transcript_key().get_secret_value(),
        "RATE_LIMIT_PER_MINUTE": "100000",
        "MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "LOG_LEVEL": "WARNING",
    }
    await asyncio.to_thread(run_until_busy_then_kill, out, db_file, env)
    events = journal(out)

    manager = await make_manager(tmp_path, settings=settings, migrate_db=False)
    channel, surface = RecordingChannel(), RecordingSurface(name="driver")  # the same surface, back again
    for platform in Platform:
        manager.register_channel(platform, channel)
    manager.register_surface(surface)
    store = manager.store
    try:
        pending = await store.users.pending_turns()
        assert len(pending) >= 5
        assert await manager.recover() == len(pending)
        counts = await store.users.turn_counts()
        assert "pending" not in counts and counts["failed"] == len(pending) and counts["answered"] >= 60

        # Each sender of a message left pending was told, once, after the restart.
        told = Counter(m.user.user_id for m in channel.sent if m.text == t("restart_lost", "en"))
        senders = {(await store.users.get(p.user_id)).platform_user_id for p in pending}  # type: ignore[union-attr]
        assert told == Counter(senders)

        # Nothing accepted without a trace: per user, turns never outnumber messages sent, and
        # a user whose turns were answered got replies before the kill.
        sent = Counter(e["user"] for e in events if e["event"] == "sent")
        replies = Counter(e["user"] for e in events if e["event"] == "out" and e["kind"] in ("reply", "error"))
        with sqlite3.connect(db_file) as conn:
            rows = conn.execute(
                "SELECT u.platform_user_id, t.status, count(*) FROM turns t JOIN users u ON u.id = t.user_id GROUP BY 1, 2"
            ).fetchall()
        turns = Counter({user: 0 for user in sent})
        for user, status, count in rows:
            turns[user] += count
            if status == "answered" and user.startswith("u"):
                assert replies[user] >= 1, user
        assert all(turns[user] <= sent[user] for user in sent)

        # The take-over and the open flag survived.
        flags = {f.user_label: f for f in await store.flags.by_status()}
        held = flags[store.label("telegram", "risky-a")]
        waiting = flags[store.label("telegram", "risky-b")]
        assert held.status is FlagStatus.CLAIMED and held.assignee_ref == OPERATOR.ref
        assert waiting.status is FlagStatus.OPEN
        session = await store.users.get_session(held.session_id)  # type: ignore[arg-type]
        assert session is not None and session.state is SessionState.HUMAN

        # ... and still works: the user's words go to the moderator, the moderator's to the user.
        await manager.handle(inbound("risky-a", "are you still there?"))
        assert surface.relays[-1][1:] == ("User", "are you still there?")
        said = await manager.act(ModeratorAction(OPERATOR, ActionKind.SAY, held.id, "Yes, still here."))
        assert said.ok
        assert channel.to("risky-a", OutboundKind.MODERATOR)[-1].text.endswith("Yes, still here.")
        assert not channel.to("risky-a", OutboundKind.REPLY), "no model reply during the take-over"
    finally:
        await store.close()
