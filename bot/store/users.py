"""Users, consent, sessions, transcripts, assessments, the turn ledger, export and erase.

The consent gate lives here as the last line of defence: `add_message` writes text only
when the user's current consent is granted, whatever the caller believes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, LargeBinary, Row, String, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.types import ConsentState, Platform, SessionState, UserRef
from bot.safety.levels import Category, RiskLevel
from bot.store import db
from bot.store.crypto import Cipher
from bot.store.direct import Direct
from bot.store.models import (
    Assessment,
    AuditEntry,
    ConsentRecord,
    Flag,
    FlagMessage,
    FlagNote,
    Message,
    Session,
    Turn,
    User,
    UTCDateTime,
)
from bot.store.records import MessageRecord, SessionRecord, TurnRecord, UserRecord

# `last_seen_at` is kept to the minute, so a user's every message does not cost a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_USER_COLUMNS = tuple(User.__table__.c)
_SESSION_COLUMNS = tuple(Session.__table__.c)


class TurnStatus:
    """What became of an accepted message."""

    PENDING = "pending"  # accepted, not yet answered
    ANSWERED = "answered"  # a reply (model, fallback or scripted) was delivered
    HANDED_OVER = "handed_over"  # a moderator took the conversation over first
    FAILED = "failed"  # could not be answered (delivery failed, or lost to a restart)


@dataclass(frozen=True)
class TranscriptLine:
    """A transcript line to store with a ledger update, if the user's consent allows it."""

    user_id: int
    session_id: int
    role: str
    text: str


@dataclass(frozen=True)
class AcceptedMessage:
    session: SessionRecord  # after the update
    turn_id: int
    stored: bool  # whether the text was written (consent granted)
    previous_level: RiskLevel  # the session's tier before this message


def _user(row: User | Row[Any], created: bool = False) -> UserRecord:
    return UserRecord(
        id=row.id,
        platform=Platform(row.platform),
        platform_user_id=row.platform_user_id,
        chat_ref=row.chat_ref,
        locale=row.locale,
        country=row.country,
        consent=ConsentState(row.consent),
        blocked=row.blocked,
        unreachable=row.unreachable,
        created=created,
    )


def _session(row: Session | Row[Any]) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        user_id=row.user_id,
        state=SessionState(row.state),
        level=RiskLevel(row.level),
        categories=tuple(Category(c) for c in row.categories),
        scripted=row.scripted,
        started_at=row.started_at,
    )


# The statements of the per-message path, built once (building one costs more CPU than
# SQLite takes to run it); parameters are bound by name at execution.
_USER_BY_REF = select(*_USER_COLUMNS).where(User.platform == bindparam("platform"), User.platform_user_id == bindparam("ref"))
_USER_BY_ID = select(*_USER_COLUMNS).where(User.id == bindparam("user_id"))
_SESSION_BY_ID = select(*_SESSION_COLUMNS).where(Session.id == bindparam("session_id"))
_OPEN_SESSION = (
    select(*_SESSION_COLUMNS)
    .where(Session.user_id == bindparam("user_id"), Session.state != SessionState.CLOSED.value)
    .order_by(Session.id.desc())
    .limit(1)
)
_OPEN_SESSION_AND_CONSENT = (  # the user's consent, and their open session's columns (None when none)
    select(User.consent, *_SESSION_COLUMNS)
    .select_from(User)
    .outerjoin(Session, (Session.user_id == User.id) & (Session.state != SessionState.CLOSED.value))
    .where(User.id == bindparam("user_id"))
    .order_by(Session.id.desc())
    .limit(1)
)
_SET_CONSENT = (
    update(User)
    .where(User.id == bindparam("user_id"))
    .values(consent=bindparam("new_consent"), consent_version=bindparam("version"))
)
_INSERT_CONSENT = insert(ConsentRecord)
_INSERT_SESSION = insert(Session).returning(Session.id)
_RAISE_SESSION = (
    update(Session)
    .where(Session.id == bindparam("session_id"))
    .values(level=bindparam("new_level"), categories=bindparam("new_categories"), updated_at=bindparam("now"))
)
_INSERT_TURN = insert(Turn).returning(Turn.id)
_INSERT_ASSESSMENT = insert(Assessment)
_FINISH_TURNS = (
    update(Turn)
    .where(Turn.id.in_(bindparam("turn_ids", expanding=True)))
    .values(status=bindparam("new_status"), finished_at=bindparam("now"))
)
# A transcript line, written only while the user's consent is granted (checked in the statement).
_INSERT_LINE = insert(Message).from_select(
    ["session_id", "user_id", "role", "body", "at"],
    select(
        bindparam("session_id", type_=Integer()),
        bindparam("user_id", type_=Integer()),
        bindparam("role", type_=String()),
        bindparam("body", type_=LargeBinary()),
        bindparam("at", type_=UTCDateTime()),
    ).where(User.id == bindparam("user_id"), User.consent == ConsentState.GRANTED.value),
)


class UserRepository:
    def __init__(self, engine: AsyncEngine, cipher: Cipher, direct: Direct | None = None) -> None:
        self._engine = engine
        self.direct = direct or Direct(engine)
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._cipher = cipher

    # Users -------------------------------------------------------------------------

    async def get_or_create(self, ref: UserRef, chat_ref: str, locale: str | None, now: datetime) -> UserRecord:
        # The common case (a known user, nothing changed) is one read and no write.
        params = {"platform": ref.platform.value, "ref": ref.user_id}
        found = await self.direct.read(lambda conn: conn.execute(_USER_BY_REF, params).first())
        if (
            found is not None
            and found.chat_ref == chat_ref
            and (locale is None or found.locale == locale)
            and not found.unreachable
            and now - found.last_seen_at < LAST_SEEN_RESOLUTION
        ):
            return _user(found)
        values = {"chat_ref": chat_ref, "last_seen_at": now, "unreachable": False} | ({"locale": locale} if locale else {})

        def write(conn: Connection) -> UserRecord:
            row = conn.execute(_USER_BY_REF, params).first()
            if row is not None:
                conn.execute(update(User).where(User.id == row.id).values(**values))
                return _user(conn.execute(_USER_BY_ID, {"user_id": row.id}).one())
            created = conn.execute(
                insert(User)
                .values(
                    platform=ref.platform.value, platform_user_id=ref.user_id, chat_ref=chat_ref, locale=locale,
                    consent=ConsentState.UNKNOWN.value, blocked=False, unreachable=False, created_at=now, last_seen_at=now,
                )
                .returning(*_USER_COLUMNS)
            ).one()
            return _user(created, created=True)

        return await self.direct.write(write)

    async def find(self, ref: UserRef) -> UserRecord | None:
        async with self._sessions() as s:
            row = await s.scalar(
                select(User).where(User.platform == ref.platform.value, User.platform_user_id == ref.user_id)
            )
            return None if row is None else _user(row)

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self.direct.read(lambda conn: conn.execute(_USER_BY_ID, {"user_id": user_id}).first())
        return None if row is None else _user(row)

    async def set_consent(self, user_id: int, state: ConsentState, notice_version: int, now: datetime) -> None:
        def write(conn: Connection) -> None:
            conn.execute(_SET_CONSENT, {"user_id": user_id, "new_consent": state.value, "version": notice_version})
            conn.execute(_INSERT_CONSENT, {"user_id": user_id, "state": state.value, "notice_version": notice_version, "at": now})

        await self.direct.write(write)

    async def set_country(self, user_id: int, country: str | None) -> None:
        await self._set(user_id, country=country)

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self._set(user_id, blocked=blocked)

    async def set_unreachable(self, user_id: int, unreachable: bool) -> None:
        await self._set(user_id, unreachable=unreachable)

    async def _set(self, user_id: int, **values: Any) -> None:
        statement = update(User).where(User.id == user_id).values(**values)
        await self.direct.write(lambda conn: conn.execute(statement))

    # Sessions ------------------------------------------------------------------------

    async def current_session(self, user_id: int, now: datetime) -> SessionRecord:
        """The user's open session, created when there is none."""
        found = await self.direct.read(lambda conn: conn.execute(_OPEN_SESSION, {"user_id": user_id}).first())
        if found is not None:
            return _session(found)
        def write(conn: Connection) -> SessionRecord:
            row = conn.execute(_OPEN_SESSION, {"user_id": user_id}).first()
            if row is None:
                row = conn.execute(
                    insert(Session)
                    .values(user_id=user_id, state=SessionState.AI.value, level=0, categories=[], scripted=False, started_at=now, updated_at=now)
                    .returning(*_SESSION_COLUMNS)
                ).one()
            return _session(row)

        return await self.direct.write(write)

    async def get_session(self, session_id: int) -> SessionRecord | None:
        row = await self.direct.read(lambda conn: conn.execute(_SESSION_BY_ID, {"session_id": session_id}).first())
        return None if row is None else _session(row)

    async def update_session(
        self,
        session_id: int,
        now: datetime,
        *,
        state: SessionState | None = None,
        level: RiskLevel | None = None,
        categories: Sequence[Category] | None = None,
        scripted: bool | None = None,
    ) -> None:
        values: dict[str, Any] = {"updated_at": now}
        if state is not None:
            values["state"] = state.value
        if level is not None:
            values["level"] = int(level)
        if categories is not None:
            values["categories"] = sorted({c.value for c in categories})
        if scripted is not None:
            values["scripted"] = scripted
        statement = update(Session).where(Session.id == session_id).values(**values)
        await self.direct.write(lambda conn: conn.execute(statement))

    # Transcripts ------------------------------------------------------------------------

    async def add_message(self, user_id: int, session_id: int, role: str, text: str, now: datetime) -> bool:
        """Store one transcript line, encrypted, only if consent is granted now. Returns whether stored."""
        line = TranscriptLine(user_id, session_id, role, text)
        return await self.direct.write(lambda conn: self._insert_line(conn, line, now))

    def _insert_line(self, conn: Connection, line: TranscriptLine, now: datetime) -> bool:
        """Write the line only while the user's consent is granted: the check is part of the
        INSERT, so a concurrent /decline or erase cannot slip between check and write."""
        params = {
            "session_id": line.session_id, "user_id": line.user_id, "role": line.role,
            "body": self._cipher.encrypt(line.text), "at": now,
        }
        return bool(conn.execute(_INSERT_LINE, params).rowcount)

    async def recent_messages(self, session_id: int, limit: int) -> list[MessageRecord]:
        query = (
            select(Message.role, Message.body, Message.at)
            .where(Message.session_id == session_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        rows = await self.direct.read(lambda conn: conn.execute(query).all())
        return [MessageRecord(r.role, self._cipher.decrypt(r.body), r.at) for r in reversed(rows)]

    async def purge_transcripts(self, now: datetime, retention_days: int) -> int:
        """Delete transcript lines older than the retention period; returns how many."""
        async with db.writing(self._engine), self._sessions.begin() as s:
            result = await s.execute(delete(Message).where(Message.at < now - timedelta(days=retention_days)))
        await db.checkpoint(self._engine)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # Accepting a message -----------------------------------------------------------------

    async def accept_message(
        self,
        user_id: int,
        text: str,
        now: datetime,
        *,
        level: RiskLevel,
        categories: Sequence[Category],
        reasons: Sequence[str],
    ) -> AcceptedMessage:
        """In one transaction: find or open the session, record the turn and the risk
        assessment, raise the session's tier (never lower it), and store the text only
        if the user's consent is granted now."""
        # Reads first, outside the write lock: a user's messages are accepted one at a time
        # (the manager's arrival order), so nothing else opens or raises this session meanwhile.
        found = await self.direct.read(lambda conn: conn.execute(_OPEN_SESSION_AND_CONSENT, {"user_id": user_id}).first())
        assert found is not None, "accept_message for an unknown user"
        if found.id is None:
            state, old_level, old_categories, scripted, started_at = SessionState.AI.value, 0, [], False, now
        else:
            state, old_level, old_categories, scripted, started_at = (
                found.state, found.level, found.categories, found.scripted, found.started_at
            )
        new_level = max(int(level), old_level)
        new_categories = sorted(set(old_categories) | {c.value for c in categories})
        line = TranscriptLine(user_id, found.id or 0, "user", text) if found.consent == ConsentState.GRANTED.value else None

        def write(conn: Connection) -> tuple[int, int, bool]:
            session_id = found.id
            if session_id is None:
                session_id = conn.scalar(
                    _INSERT_SESSION,
                    {"user_id": user_id, "state": state, "level": new_level, "categories": new_categories,
                     "scripted": False, "started_at": now, "updated_at": now},
                )
                assert session_id is not None
            elif new_level != old_level or new_categories != old_categories:
                conn.execute(
                    _RAISE_SESSION, {"session_id": session_id, "new_level": new_level, "new_categories": new_categories, "now": now}
                )
            turn_id = conn.scalar(
                _INSERT_TURN, {"user_id": user_id, "session_id": session_id, "status": TurnStatus.PENDING, "received_at": now}
            )
            assert turn_id is not None
            conn.execute(
                _INSERT_ASSESSMENT,
                {"session_id": session_id, "user_id": user_id, "level": int(level),
                 "categories": [c.value for c in categories], "reasons": list(reasons), "at": now},
            )
            # Consent is checked again inside the INSERT. When it was not granted the line is
            # skipped: only the user's own command, received in order with this one, grants it.
            stored = line is not None and self._insert_line(conn, replace(line, session_id=session_id), now)
            return session_id, turn_id, stored

        session_id, turn_id, stored = await self.direct.write(write)
        session = SessionRecord(
            id=session_id,
            user_id=user_id,
            state=SessionState(state),
            level=RiskLevel(new_level),
            categories=tuple(Category(c) for c in new_categories),
            scripted=scripted,
            started_at=started_at,
        )
        return AcceptedMessage(session, turn_id, stored, RiskLevel(old_level))

    async def delete_transcript(self, user_id: int) -> int:
        """Delete the user's stored transcript (consent revoked); returns how many lines."""
        async with db.writing(self._engine), self._sessions.begin() as s:
            result = await s.execute(delete(Message).where(Message.user_id == user_id))
        await db.checkpoint(self._engine)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # Assessments and turns ------------------------------------------------------------------

    async def finish_turns(
        self, turn_ids: Sequence[int], status: str, now: datetime, *, line: TranscriptLine | None = None
    ) -> None:
        """Record what became of the turns; with `line`, store that transcript line (the
        reply) in the same transaction, if the user's consent allows it."""
        if not turn_ids and line is None:
            return

        def write(conn: Connection) -> None:
            if turn_ids:
                conn.execute(_FINISH_TURNS, {"turn_ids": list(turn_ids), "new_status": status, "now": now})
            if line is not None:
                self._insert_line(conn, line, now)

        await self.direct.write(write)

    async def pending_turns(self) -> list[TurnRecord]:
        async with self._sessions() as s:
            rows = (await s.scalars(select(Turn).where(Turn.status == TurnStatus.PENDING).order_by(Turn.id))).all()
        return [TurnRecord(r.id, r.user_id, r.session_id, r.status, r.received_at) for r in rows]

    async def turn_counts(self) -> dict[str, int]:
        async with self._sessions() as s:
            rows = (await s.execute(select(Turn.status, func.count()).group_by(Turn.status))).all()
        return {status: count for status, count in rows}

    # Export and erase ------------------------------------------------------------------

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the user, decrypted, as JSON-ready data."""
        async with self._sessions() as s:
            user = await s.get(User, user_id)
            if user is None:
                return {}
            consents = (await s.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user_id).order_by(ConsentRecord.id))).all()
            sessions = (await s.scalars(select(Session).where(Session.user_id == user_id).order_by(Session.id))).all()
            messages = (await s.scalars(select(Message).where(Message.user_id == user_id).order_by(Message.id))).all()
            assessments = (await s.scalars(select(Assessment).where(Assessment.user_id == user_id).order_by(Assessment.id))).all()
            flags = (await s.scalars(select(Flag).where(Flag.user_id == user_id).order_by(Flag.id))).all()
            flag_texts: dict[int, list[str]] = {f.id: [] for f in flags}
            flagged = await s.execute(
                select(FlagMessage.flag_id, FlagMessage.body)
                .join(Flag, Flag.id == FlagMessage.flag_id)
                .where(Flag.user_id == user_id)
                .order_by(FlagMessage.id)
            )
            for flag_id, body in flagged:
                flag_texts[flag_id].append(self._cipher.decrypt(body))
        return {
            "user": {
                "platform": user.platform,
                "platform_user_id": user.platform_user_id,
                "country": user.country,
                "locale": user.locale,
                "consent": user.consent,
                "created_at": user.created_at.isoformat(),
            },
            "consent_history": [{"state": c.state, "notice_version": c.notice_version, "at": c.at.isoformat()} for c in consents],
            "sessions": [
                {"id": x.id, "state": x.state, "risk_level": RiskLevel(x.level).label, "started_at": x.started_at.isoformat()}
                for x in sessions
            ],
            "messages": [
                {"session": m.session_id, "role": m.role, "text": self._cipher.decrypt(m.body), "at": m.at.isoformat()}
                for m in messages
            ],
            "risk_assessments": [
                {"level": RiskLevel(a.level).label, "categories": a.categories, "reasons": a.reasons, "at": a.at.isoformat()}
                for a in assessments
            ],
            "flags": [
                {
                    "id": f.id,
                    "level": RiskLevel(f.level).label,
                    "categories": f.categories,
                    "status": f.status,
                    "created_at": f.created_at.isoformat(),
                    "flagged_messages": flag_texts[f.id],
                }
                for f in flags
            ],
        }

    async def erase(self, user_id: int) -> bool:
        """Erase the user: every row with their id or text. Flags keep tier, categories
        and times, and lose text, user and session. Returns whether the user existed."""
        async with db.writing(self._engine), self._sessions.begin() as s:
            user = await s.get(User, user_id)
            if user is None:
                return False
            actor_ref = f"{user.platform}:{user.platform_user_id}"
            flag_ids = select(Flag.id).where(Flag.user_id == user_id).scalar_subquery()
            await s.execute(delete(FlagMessage).where(FlagMessage.flag_id.in_(flag_ids)))
            await s.execute(delete(FlagNote).where(FlagNote.flag_id.in_(flag_ids)))
            await s.execute(
                update(Flag).where(Flag.user_id == user_id).values(user_id=None, session_id=None, user_label="erased")
            )
            await s.execute(
                update(AuditEntry).where(AuditEntry.actor_ref == actor_ref).values(actor_ref="erased", actor_name="erased")
            )
            await s.execute(delete(User).where(User.id == user_id))
        await db.checkpoint(self._engine)
        return True
