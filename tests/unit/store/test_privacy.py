"""Consent-gated, encrypted transcripts: canaries in the raw database bytes, export, erase, retention."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy
from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from bot.core.types import ConsentState, FlagKind, Platform, UserRef
from bot.safety.levels import Category, RiskLevel
from bot.store import Store, db, open_store
from tests.support.settings import make_settings

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def raw_bytes(db_file: Path) -> bytes:
    """The database file and its -wal / -shm companions, as bytes on disk."""
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(db_file) + suffix)
        if path.exists():
            data += path.read_bytes()
    return data


async def open_migrated(tmp_path: Path) -> tuple[Store, Path]:
    settings = make_settings(tmp_path)
    await asyncio.to_thread(db.upgrade, settings.database_url)
    store = await open_store(settings)
    store.settings = settings  # type: ignore[attr-defined]  # to reopen with the same key
    return store, tmp_path / "counselbot.db"


async def new_user(store: Store, user_id: str, consent: ConsentState | None) -> int:
    user = await store.users.get_or_create(UserRef(Platform.TELEGRAM, user_id), user_id, "en", NOW)
    if consent is not None:
        await store.users.set_consent(user.id, consent, 1, NOW)
    return user.id


async def accept(store: Store, user_id: int, text: str) -> bool:
    accepted = await store.users.accept_message(user_id, text, NOW, level=RiskLevel.NONE, categories=(), reasons=())
    return accepted.stored


async def test_canaries_never_reach_disk_in_clear(tmp_path: Path) -> None:
    store, db_file = await open_migrated(tmp_path)
    declined = await new_user(store, "decliner-7731", ConsentState.DECLINED)
    granted = await new_user(store, "granter-8842", ConsentState.GRANTED)
    canary_declined = f"CANARY-DECLINED-{uuid.uuid4().hex}"
    canary_granted = f"CANARY-GRANTED-{uuid.uuid4().hex}"
    assert not await accept(store, declined, f"my secret is {canary_declined}")
    assert await accept(store, granted, f"my secret is {canary_granted}")
    assert not await store.users.add_message(declined, 1, "assistant", canary_declined, NOW)

    export = await store.users.export(granted)
    assert any(canary_granted in m["text"] for m in export["messages"])
    assert (await store.users.export(declined))["messages"] == []

    await store.engine.dispose()  # close without checkpointing: the WAL keeps everything
    data = raw_bytes(db_file)
    assert canary_declined.encode() not in data
    assert canary_granted.encode() not in data
    assert b"my secret is" not in data


async def test_flagged_text_is_kept_encrypted_even_without_consent(tmp_path: Path) -> None:
    store, db_file = await open_migrated(tmp_path)
    user = await new_user(store, "u1", ConsentState.DECLINED)
    session = await store.users.current_session(user, NOW)
    canary = f"CANARY-FLAG-{uuid.uuid4().hex}"
    flag = await store.flags.create(
        session_id=session.id, user_id=user, user_label="telegram-x", kind=FlagKind.RISK, level=RiskLevel.HIGH,
        categories=[Category.SUICIDE], reasons=["active wish to die"], text=canary, now=NOW, next_page_at=None,
    )
    assert await store.flags.messages(flag.id) == [canary]
    await store.engine.dispose()
    assert canary.encode() not in raw_bytes(db_file)


def all_rows(db_file: Path) -> list[tuple[str, tuple[object, ...]]]:
    engine = sqlalchemy.create_engine(f"sqlite:///{db_file}")
    rows: list[tuple[str, tuple[object, ...]]] = []
    with engine.connect() as connection:
        for table in sqlalchemy.inspect(engine).get_table_names():
            for row in connection.execute(sqlalchemy.text(f'SELECT * FROM "{table}"')):
                rows.append((table, tuple(row)))
    engine.dispose()
    return rows


async def test_erase_removes_every_row_with_the_users_id_or_text(tmp_path: Path) -> None:
    store, db_file = await open_migrated(tmp_path)
    platform_id = f"eraseme-{uuid.uuid4().hex[:10]}"
    canary = f"CANARY-ERASE-{uuid.uuid4().hex}"
    user = await new_user(store, platform_id, ConsentState.GRANTED)
    other = await new_user(store, "keeper-1", ConsentState.GRANTED)
    assert await accept(store, user, f"{canary} one")
    assert await accept(store, other, "the other user's words")
    session = await store.users.current_session(user, NOW)
    flag = await store.flags.create(
        session_id=session.id, user_id=user, user_label=store.label("telegram", platform_id), kind=FlagKind.RISK,
        level=RiskLevel.HIGH, categories=[Category.SUICIDE], reasons=["plan mentioned"], text=f"{canary} flagged",
        now=NOW, next_page_at=NOW,
    )
    await store.flags.add_note(flag.id, "discord:1", "mod", f"{canary} note", NOW)
    await store.flags.audit(actor_ref=f"telegram:{platform_id}", actor_name="someone", action="claim", flag_id=flag.id, allowed=False, detail="only moderators can do that", now=NOW)

    assert await store.users.erase(user)
    await store.close()

    for table, row in all_rows(db_file):
        for value in row:
            assert platform_id not in str(value), f"{table} still holds the user's id"
            assert canary not in str(value), f"{table} still holds the user's text"
    data = raw_bytes(db_file)
    assert platform_id.encode() not in data
    assert canary.encode() not in data

    store = await open_store(store.settings)  # type: ignore[attr-defined]
    kept = await store.flags.get(flag.id)
    assert kept is not None and kept.user_id is None and kept.session_id is None
    assert kept.level is RiskLevel.HIGH and kept.categories == (Category.SUICIDE,)
    assert kept.created_at == NOW
    assert await store.flags.messages(flag.id) == []
    assert await store.flags.notes(flag.id) == []
    assert (await store.users.export(other))["messages"][0]["text"] == "the other user's words"
    await store.close()


async def test_retention_purge_deletes_old_transcripts_only(tmp_path: Path) -> None:
    store, _ = await open_migrated(tmp_path)
    user = await new_user(store, "r1", ConsentState.GRANTED)
    session = await store.users.current_session(user, NOW)
    await store.users.add_message(user, session.id, "user", "old words", NOW - timedelta(days=40))
    await store.users.add_message(user, session.id, "user", "recent words", NOW - timedelta(days=2))
    assert await store.users.purge_transcripts(NOW, retention_days=30) == 1
    assert [m["text"] for m in (await store.users.export(user))["messages"]] == ["recent words"]
    await store.close()


async def test_revoking_consent_stops_storage(tmp_path: Path) -> None:
    store, _ = await open_migrated(tmp_path)
    user = await new_user(store, "v1", ConsentState.GRANTED)
    assert await accept(store, user, "kept")
    await store.users.set_consent(user, ConsentState.REVOKED, 1, NOW)
    assert not await accept(store, user, "not kept")
    assert await store.users.delete_transcript(user) == 1
    assert (await store.users.export(user))["messages"] == []
    await store.close()


CONSENT_CHANGES = st.sampled_from([ConsentState.GRANTED, ConsentState.DECLINED, ConsentState.REVOKED])
EVENTS = st.lists(st.one_of(CONSENT_CHANGES, st.just("message")), min_size=1, max_size=25)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_text_is_stored_exactly_when_consent_was_granted(tmp_path_factory, events: list[object]) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("prop")

    async def run() -> None:
        store, db_file = await open_migrated(tmp)
        user = await new_user(store, "p1", None)
        consent = ConsentState.UNKNOWN
        expected: list[str] = []
        not_stored: list[str] = []
        for index, event in enumerate(events):
            if isinstance(event, ConsentState):
                consent = event
                await store.users.set_consent(user, event, 1, NOW)
                continue
            text = f"MSG-{index}-{uuid.uuid4().hex}"
            stored = await accept(store, user, text)
            assert stored == consent.allows_storage
            (expected if consent.allows_storage else not_stored).append(text)
        assert [m["text"] for m in (await store.users.export(user))["messages"]] == expected
        await store.engine.dispose()
        data = raw_bytes(db_file)
        assert not any(text.encode() in data for text in expected + not_stored)

    asyncio.run(run())
