"""Flags, their messages and notes, surface mappings and the audit log.

State changes are compare-and-set updates (`expected` status in the WHERE clause), so
the first claim wins even when two moderators press at once on two platforms.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.types import FlagKind, FlagStatus, Outcome
from bot.safety.levels import Category, RiskLevel
from bot.store import db
from bot.store.crypto import Cipher
from bot.store.models import AuditEntry, Flag, FlagMessage, FlagNote, SurfaceMapping
from bot.store.records import AuditRecord, FlagRecord, MappingRecord, NoteRecord


def _flag(row: Flag) -> FlagRecord:
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


class FlagRepository:
    def __init__(self, engine: AsyncEngine, cipher: Cipher) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._cipher = cipher

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
        async with db.writing(self._engine), self._sessions.begin() as s:
            row = Flag(
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
            s.add(row)
            await s.flush()
            if text is not None:
                s.add(FlagMessage(flag_id=row.id, level=int(level), body=self._cipher.encrypt(text), at=now))
            return _flag(row)

    async def active_for_session(self, session_id: int) -> FlagRecord | None:
        """The session's open or claimed flag (one thread per flagged session)."""
        async with self._sessions() as s:
            row = await s.scalar(
                select(Flag)
                .where(Flag.session_id == session_id, Flag.status != FlagStatus.RESOLVED.value)
                .order_by(Flag.id.desc())
                .limit(1)
            )
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
        async with db.writing(self._engine), self._sessions.begin() as s:
            row = await s.get(Flag, flag_id)
            assert row is not None
            if text is not None:
                s.add(FlagMessage(flag_id=flag_id, level=int(level), body=self._cipher.encrypt(text), at=now))
            if level > row.level:
                row.level = int(level)
                if row.status == FlagStatus.OPEN.value and next_page_at is not None:
                    row.next_page_at = next_page_at
            row.categories = sorted(set(row.categories) | {c.value for c in categories})
            row.reasons = list(dict.fromkeys([*row.reasons, *reasons]))[-20:]
            return _flag(row)

    async def get(self, flag_id: int) -> FlagRecord | None:
        async with self._sessions() as s:
            row = await s.get(Flag, flag_id)
            return None if row is None else _flag(row)

    async def by_status(self, status: FlagStatus | None = None, limit: int = 100) -> list[FlagRecord]:
        query = select(Flag).order_by(Flag.level.desc(), Flag.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Flag.status == status.value)
        async with self._sessions() as s:
            return [_flag(r) for r in (await s.scalars(query)).all()]

    async def messages(self, flag_id: int) -> list[str]:
        async with self._sessions() as s:
            rows = (await s.scalars(select(FlagMessage).where(FlagMessage.flag_id == flag_id).order_by(FlagMessage.id))).all()
        return [self._cipher.decrypt(r.body) for r in rows]

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
        async with db.writing(self._engine), self._sessions.begin() as s:
            result = await s.execute(
                update(Flag)
                .where(Flag.id == flag_id, Flag.status.in_([e.value for e in expected]))
                .values(**changes)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

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

    async def next_repage_at(self) -> datetime | None:
        async with self._sessions() as s:
            return await s.scalar(
                select(Flag.next_page_at)
                .where(Flag.status == FlagStatus.OPEN.value, Flag.next_page_at.is_not(None))
                .order_by(Flag.next_page_at)
                .limit(1)
            )

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

    async def add_mapping(self, flag_id: int, surface: str, ref: str, primary: bool, now: datetime) -> None:
        try:
            async with db.writing(self._engine), self._sessions.begin() as s:
                s.add(SurfaceMapping(flag_id=flag_id, surface=surface, ref=ref, primary=primary, created_at=now))
        except IntegrityError:
            pass  # already mapped: a surface may hand back the same ref twice

    async def find_mapping(self, surface: str, ref: str) -> MappingRecord | None:
        async with self._sessions() as s:
            row = await s.scalar(select(SurfaceMapping).where(SurfaceMapping.surface == surface, SurfaceMapping.ref == ref))
            return None if row is None else MappingRecord(row.flag_id, row.surface, row.ref, row.primary)

    async def mappings(self, flag_id: int) -> list[MappingRecord]:
        async with self._sessions() as s:
            rows = (await s.scalars(select(SurfaceMapping).where(SurfaceMapping.flag_id == flag_id, SurfaceMapping.primary.is_(True)))).all()
        return [MappingRecord(r.flag_id, r.surface, r.ref, r.primary) for r in rows]

    # Audit --------------------------------------------------------------------------------

    async def audit(
        self, *, actor_ref: str, actor_name: str, action: str, flag_id: int | None, allowed: bool, detail: str, now: datetime
    ) -> None:
        async with db.writing(self._engine), self._sessions.begin() as s:
            s.add(
                AuditEntry(
                    at=now,
                    actor_ref=actor_ref[:96],
                    actor_name=actor_name[:96],
                    action=action,
                    flag_id=flag_id,
                    allowed=allowed,
                    detail=detail[:256],
                )
            )

    async def audit_log(self, flag_id: int | None = None) -> list[AuditRecord]:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if flag_id is not None:
            query = query.where(AuditEntry.flag_id == flag_id)
        async with self._sessions() as s:
            rows = (await s.scalars(query)).all()
        return [AuditRecord(r.at, r.actor_ref, r.actor_name, r.action, r.flag_id, r.allowed, r.detail) for r in rows]
