"""Plain values returned by the repositories (never ORM objects: no lazy loads, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.types import ConsentState, FlagKind, FlagStatus, Outcome, Platform, SessionState
from bot.safety.levels import Category, RiskLevel


@dataclass(frozen=True)
class UserRecord:
    id: int
    platform: Platform
    platform_user_id: str
    chat_ref: str
    locale: str | None
    country: str | None
    consent: ConsentState
    blocked: bool
    unreachable: bool
    created: bool = False  # True when this call created the user (first contact)


@dataclass(frozen=True)
class SessionRecord:
    id: int
    user_id: int
    state: SessionState
    level: RiskLevel
    categories: tuple[Category, ...]
    scripted: bool
    started_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    role: str
    text: str
    at: datetime


@dataclass(frozen=True)
class FlagRecord:
    id: int
    session_id: int | None
    user_id: int | None
    user_label: str
    kind: FlagKind
    level: RiskLevel
    categories: tuple[Category, ...]
    reasons: tuple[str, ...]
    status: FlagStatus
    assignee_ref: str | None
    assignee_name: str | None
    outcome: Outcome | None
    created_at: datetime
    next_page_at: datetime | None
    repages: int


@dataclass(frozen=True)
class MappingRecord:
    flag_id: int
    surface: str
    ref: str
    primary: bool


@dataclass(frozen=True)
class NoteRecord:
    author_name: str
    text: str
    at: datetime


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor_ref: str
    actor_name: str
    action: str
    flag_id: int | None
    allowed: bool
    detail: str


@dataclass(frozen=True)
class TurnRecord:
    id: int
    user_id: int
    session_id: int
    status: str
    received_at: datetime
