"""Flags, their messages and notes, surface mappings and the audit log.

State changes are compare-and-set updates (`expected` status in the WHERE clause), so
the first claim wins even when two moderators press at once on two platforms.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, distinct, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.types import FlagKind, FlagStatus, Outcome
from bot.safety.levels import Category, RiskLevel
from bot.store import db
from bot.store.crypto import Cipher
from bot.store.direct import Direct
from bot.store.models import AuditEntry, Flag, FlagMessage, FlagNote, SurfaceMapping
from bot.store.records import AuditRecord, FlagRecord, MappingRecord, NoteRecord


def _flag(row: Flag | Row[Any]) -> FlagRecord:
    return FlagRecord(
        id=row.id,
        session_id=row.session_id,
        user_id=row.user_id,
        user_label=row.user_label,
        kind=FlagKind(row.kind),
        level=RiskLevel(row.level),
        categories=tuple(Category(c) for c in row.categories),
        reasons=tuple(row.reasons),
        status=FlagStatus(row.status),
        assignee_ref=row.assignee_ref,
        assignee_name=row.assignee_name,
        outcome=None if row.outcome is None else Outcome(row.outcome),
        created_at=row.created_at,
        next_page_at=row.next_page_at,
        repages=row.repages,
    )


_FLAG_COLUMNS = tuple(Flag.__table__.c)
# Statements of the per-message path, built once (see bot/store/users.py).
_FLAG_BY_ID = select(*_FLAG_COLUMNS).where(Flag.id == bindparam("flag_id"))
_ACTIVE_FOR_SESSION = (
    select(*_FLAG_COLUMNS)
    .where(Flag.session_id == bindparam("session_id"), Flag.status != FlagStatus.RESOLVED.value)
    .order_by(Flag.id.desc())
    .limit(1)
)
_MAPPINGS = select(SurfaceMapping.flag_id, SurfaceMapping.surface, SurfaceMapping.ref, SurfaceMapping.primary).where(
    SurfaceMapping.flag_id == bindparam("flag_id"), SurfaceMapping.primary.is_(True)
)
_FLAG_MESSAGES = select(FlagMessage.body).where(FlagMessage.flag_id == bindparam("flag_id")).order_by(FlagMessage.id)
_INSERT_FLAG_MESSAGE = insert(FlagMessage)
_INSERT_AUDIT = insert(AuditEntry)


class FlagRepository:
    """Reads and writes on the hot path (raising, joining, showing a flag) go through
    `Direct` (bot/store/direct.py); rarer ones through ORM sessions."""

    def __init__(self, engine: AsyncEngine, cipher: Cipher, direct: Direct | None = None) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._cipher = cipher
        self._direct = direct or Direct(engine)

    async def create(
        self,
        *,
        session_id: int,
        user_id: int,
        user_label: str,
        kind: FlagKind,
        level: RiskLevel,
        categories: Sequence[Category],
        reasons: Sequence[str],
        text: str | None,
        now: datetime,
        next_page_at: datetime | None,
    ) -> FlagRecord:
        body = None if text is None else self._cipher.encrypt(text)

        def write(conn: Connection) -> FlagRecord:
            row = conn.execute(
                insert(Flag)
                .values(
                    session_id=session_id,
                    user_id=user_id,
                    user_label=user_label,
                    kind=kind.value,
                    level=int(level),
                    categories=sorted({c.value for c in categories}),
                    reasons=list(reasons),
                    status=FlagStatus.OPEN.value,
                    created_at=now,
                    next_page_at=next_page_at,
                    repages=0,
                )
                .returning(*_FLAG_COLUMNS)
            ).one()
            if body is not None:
                conn.execute(_INSERT_FLAG_MESSAGE, {"flag_id": row.id, "level": int(level), "body": body, "at": now})
            return _flag(row)

        return await self._direct.write(write)

    async def active_for_session(self, session_id: int) -> FlagRecord | None:
        """The session's open or claimed flag (one thread per flagged session)."""
        row = await self._direct.read(lambda conn: conn.execute(_ACTIVE_FOR_SESSION, {"session_id": session_id}).first())
        return None if row is None else _flag(row)

    async def join(
        self,
        flag_id: int,
        *,
        level: RiskLevel,
        categories: Sequence[Category],
        reasons: Sequence[str],
        text: str | None,
        now: datetime,
        next_page_at: datetime | None,
    ) -> FlagRecord:
        """Add a message to an active flag; the flag's tier only rises."""
        body = None if text is None else self._cipher.encrypt(text)

        def write(conn: Connection) -> FlagRecord:
            row = conn.execute(_FLAG_BY_ID, {"flag_id": flag_id}).one()
            if body is not None:
                conn.execute(_INSERT_FLAG_MESSAGE, {"flag_id": flag_id, "level": int(level), "body": body, "at": now})
            changes: dict[str, Any] = {
                "categories": sorted(set(row.categories) | {c.value for c in categories}),
                "reasons": list(dict.fromkeys([*row.reasons, *reasons]))[-20:],
            }
            if level > row.level:
                changes["level"] = int(level)
                if row.status == FlagStatus.OPEN.value and next_page_at is not None:
                    changes["next_page_at"] = next_page_at
            return _flag(conn.execute(update(Flag).where(Flag.id == flag_id).values(**changes).returning(*_FLAG_COLUMNS)).one())

        return await self._direct.write(write)

    async def get(self, flag_id: int) -> FlagRecord | None:
        row = await self._direct.read(lambda conn: conn.execute(_FLAG_BY_ID, {"flag_id": flag_id}).first())
        return None if row is None else _flag(row)

    async def by_status(self, status: FlagStatus | None = None, limit: int = 100) -> list[FlagRecord]:
        query = select(Flag).order_by(Flag.level.desc(), Flag.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Flag.status == status.value)
        async with self._sessions() as s:
            return [_flag(r) for r in (await s.scalars(query)).all()]

    async def unposted(self, surfaces: Sequence[str]) -> list[FlagRecord]:
        """Open and claimed flags that lack a primary mapping on at least one of `surfaces`."""
        if not surfaces:
            return []
        shown_on = (
            select(func.count(distinct(SurfaceMapping.surface)))
            .where(
                SurfaceMapping.flag_id == Flag.id,
                SurfaceMapping.primary.is_(True),
                SurfaceMapping.surface.in_(list(surfaces)),
            )
            .scalar_subquery()
        )
        query = (
            select(*_FLAG_COLUMNS)
            .where(Flag.status.in_([FlagStatus.OPEN.value, FlagStatus.CLAIMED.value]), shown_on < len(set(surfaces)))
            .order_by(Flag.level.desc(), Flag.id)
        )
        rows = await self._direct.read(lambda conn: conn.execute(query).all())
        return [_flag(r) for r in rows]

    async def messages(self, flag_id: int) -> list[str]:
        bodies = await self._direct.read(lambda conn: conn.scalars(_FLAG_MESSAGES, {"flag_id": flag_id}).all())
        return [self._cipher.decrypt(body) for body in bodies]

    async def transition(
        self,
        flag_id: int,
        expected: Sequence[FlagStatus],
        new: FlagStatus,
        now: datetime,
        **values: Any,
    ) -> bool:
        """Move the flag to `new` only if its status is one of `expected`; returns whether it moved."""
        changes: dict[str, Any] = {"status": new.value, **values}
        if new is FlagStatus.CLAIMED:
            changes.setdefault("claimed_at", now)
            changes["next_page_at"] = None
        if new is FlagStatus.RESOLVED:
            changes["resolved_at"] = now
            changes["next_page_at"] = None
        statement = update(Flag).where(Flag.id == flag_id, Flag.status.in_([e.value for e in expected])).values(**changes)
        return await self._direct.write(lambda conn: bool(conn.execute(statement).rowcount))

    async def due_repages(self, now: datetime) -> list[FlagRecord]:
        async with self._sessions() as s:
            rows = (
                await s.scalars(
                    select(Flag)
                    .where(Flag.status == FlagStatus.OPEN.value, Flag.next_page_at.is_not(None), Flag.next_page_at <= now)
                    .order_by(Flag.next_page_at)
                )
            ).all()
        return [_flag(r) for r in rows]

    async def mark_repaged(self, flag_id: int, next_page_at: datetime) -> None:
        async with db.writing(self._engine), self._sessions.begin() as s:
            await s.execute(
                update(Flag)
                .where(Flag.id == flag_id, Flag.status == FlagStatus.OPEN.value)
                .values(repages=Flag.repages + 1, next_page_at=next_page_at)
            )

    # Notes ----------------------------------------------------------------------------

    async def add_note(self, flag_id: int, author_ref: str, author_name: str, text: str, now: datetime) -> None:
        async with db.writing(self._engine), self._sessions.begin() as s:
            s.add(FlagNote(flag_id=flag_id, author_ref=author_ref, author_name=author_name, body=self._cipher.encrypt(text), at=now))

    async def notes(self, flag_id: int) -> list[NoteRecord]:
        async with self._sessions() as s:
            rows = (await s.scalars(select(FlagNote).where(FlagNote.flag_id == flag_id).order_by(FlagNote.id))).all()
        return [NoteRecord(r.author_name, self._cipher.decrypt(r.body), r.at) for r in rows]

    # Surface mappings ---------------------------------------------------------------------

    async def add_alias(self, flag_id: int, surface: str, ref: str, now: datetime) -> None:
        """Map one more reference to the flag (a relayed message moderators may reply to)."""
        statement = insert(SurfaceMapping).values(flag_id=flag_id, surface=surface, ref=ref, primary=False, created_at=now)
        try:
            await self._direct.write(lambda conn: conn.execute(statement))
        except IntegrityError:
            pass  # already mapped: a surface may hand back the same ref twice

    async def add_posted(self, flag_id: int, surface: str, ref: str, aliases: Sequence[str], now: datetime) -> None:
        """Map a flag just posted on `surface`: `ref` as its primary reference, `aliases` as
        further ones, in one transaction (a flag is never left mapped without its aliases)."""
        mapped = {"flag_id": flag_id, "surface": surface, "created_at": now}
        rows = [{**mapped, "ref": ref, "primary": True}, *({**mapped, "ref": a, "primary": False} for a in aliases)]
        await self._direct.write(lambda conn: conn.execute(insert(SurfaceMapping), rows))

    async def replace_primary(self, flag_id: int, surface: str, old: str, new: str, now: datetime) -> bool:
        """Make `new` the flag's primary reference on `surface` in place of `old`, which stays
        mapped as an alias. Compare-and-set: when `old` is no longer primary (a concurrent
        update replaced it first), `new` is only mapped as an alias and False is returned."""
        demote = (
            update(SurfaceMapping)
            .where(
                SurfaceMapping.flag_id == flag_id,
                SurfaceMapping.surface == surface,
                SurfaceMapping.ref == old,
                SurfaceMapping.primary.is_(True),
            )
            .values(primary=False)
        )

        def write(conn: Connection) -> bool:
            replaced = bool(conn.execute(demote).rowcount)
            conn.execute(
                insert(SurfaceMapping).values(flag_id=flag_id, surface=surface, ref=new, primary=replaced, created_at=now)
            )
            return replaced

        return await self._direct.write(write)

    async def find_mapping(self, surface: str, ref: str) -> MappingRecord | None:
        query = select(SurfaceMapping.flag_id, SurfaceMapping.surface, SurfaceMapping.ref, SurfaceMapping.primary).where(
            SurfaceMapping.surface == surface, SurfaceMapping.ref == ref
        )
        row = await self._direct.read(lambda conn: conn.execute(query).first())
        return None if row is None else MappingRecord(row.flag_id, row.surface, row.ref, row.primary)

    async def mappings(self, flag_id: int) -> list[MappingRecord]:
        rows = await self._direct.read(lambda conn: conn.execute(_MAPPINGS, {"flag_id": flag_id}).all())
        return [MappingRecord(r.flag_id, r.surface, r.ref, r.primary) for r in rows]

    # Audit --------------------------------------------------------------------------------

    async def audit(
        self, *, actor_ref: str, actor_name: str, action: str, flag_id: int | None, allowed: bool, detail: str, now: datetime
    ) -> None:
        params = {
            "at": now, "actor_ref": actor_ref[:96], "actor_name": actor_name[:96], "action": action,
            "flag_id": flag_id, "allowed": allowed, "detail": detail[:256],
        }
        await self._direct.write(lambda conn: conn.execute(_INSERT_AUDIT, params))

    async def audit_log(self, flag_id: int | None = None) -> list[AuditRecord]:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if flag_id is not None:
            query = query.where(AuditEntry.flag_id == flag_id)
        async with self._sessions() as s:
            rows = (await s.scalars(query)).all()
        return [AuditRecord(r.at, r.actor_ref, r.actor_name, r.action, r.flag_id, r.allowed, r.detail) for r in rows]
