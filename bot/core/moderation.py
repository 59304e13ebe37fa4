"""Flags, moderator actions and re-paging.

Every action is authorised here (not only by a platform's UI) and written to the audit
log, allowed or refused. Flags are broadcast to every registered surface; the mappings
between flags and threads/topics live in the database, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from bot.config import Settings
from bot.core.failures import log_failure
from bot.core.lifecycle import SessionEvent, next_flag_status, next_session_state
from bot.core.ports import ModeratorSurface
from bot.core.types import (
    ActionKind,
    ActionResult,
    Actor,
    ConsentState,
    FlagKind,
    FlagStatus,
    FlagView,
    ModeratorAction,
    OutboundKind,
    Platform,
    SessionState,
)
from bot.errors import IllegalTransition
from bot.safety.levels import Category, RiskLevel
from bot.store import Store
from bot.store.records import FlagRecord, SessionRecord

log = logging.getLogger(__name__)

TELEGRAM_MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "owner"})
TRANSCRIPT_LINES = 12

# (user_id, kind, text key or moderator text) -> None: the manager delivers it to the user,
# translating a key of bot.core.texts into the user's language; MODERATOR text goes verbatim.
# Returns whether the message was delivered.
NotifyUser = Callable[[int, OutboundKind, str], Awaitable[bool]]
# (user_id) -> None: stop any generation pending for the user (take-over).
PauseUser = Callable[[int], None]


class Moderation:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime],
        notify_user: NotifyUser,
        pause_user: PauseUser,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._notify_user = notify_user
        self._pause_user = pause_user
        self._surfaces: dict[str, ModeratorSurface] = {}
        # One refresh of a flag at a time: two at once could each find its card deleted and
        # post one afresh, and only one of the two copies would be edited from then on. A
        # lock lives while a refresh holds or awaits it.
        self._refreshing: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def register_surface(self, surface: ModeratorSurface) -> None:
        self._surfaces[surface.name] = surface

    @property
    def has_surfaces(self) -> bool:
        return bool(self._surfaces)

    # Authorisation ---------------------------------------------------------------------

    def is_moderator(self, actor: Actor) -> bool:
        """The one place that decides who may act on flags."""
        s = self._settings
        if actor.platform is Platform.CONSOLE:
            return True  # the operator on the bot's own machine
        if actor.platform is Platform.DISCORD:
            return (
                s.discord_mod_guild_id is not None
                and s.discord_mod_role_id is not None
                and actor.context == str(s.discord_mod_guild_id)
                and str(s.discord_mod_role_id) in actor.roles
            )
        if actor.platform is Platform.TELEGRAM:
            if s.telegram_mod_group_id is None or actor.context != str(s.telegram_mod_group_id):
                return False
            listed = actor.user_id.isdigit() and int(actor.user_id) in s.telegram_moderator_ids
            return listed or bool(actor.roles & TELEGRAM_MEMBER_STATUSES)
        return False

    # Raising flags ---------------------------------------------------------------------

    async def raise_flag(
        self,
        *,
        user_id: int,
        user_label: str,
        session_id: int,
        kind: FlagKind,
        level: RiskLevel,
        categories: Sequence[Category],
        reasons: Sequence[str],
        text: str | None,
    ) -> FlagRecord:
        """Create the session's flag, or add to its active one; broadcast to every surface."""
        now = self._clock()
        next_page = now + timedelta(seconds=self._settings.repage_delay_s) if level.urgent else None
        active = await self._store.flags.active_for_session(session_id)
        if active is None:
            flag = await self._store.flags.create(
                session_id=session_id,
                user_id=user_id,
                user_label=user_label,
                kind=kind,
                level=level,
                categories=categories,
                reasons=reasons,
                text=text,
                now=now,
                next_page_at=next_page,
            )
            await self.publish_missing(flag)
            return flag
        flag = await self._store.flags.join(
            active.id, level=level, categories=categories, reasons=reasons, text=text, now=now, next_page_at=next_page
        )
        note = f"New message in this session (tier {level.label}): " + ("; ".join(reasons) or kind.value)
        await self._relay_to_surfaces(flag.id, "counselbot", note + (f"\n> {text}" if text else ""))
        await self.refresh(flag.id)
        return flag

    async def publish_missing(self, flag: FlagRecord) -> None:
        """Post the flag on every surface that does not show it yet (retried by maintenance)."""
        mapped = {m.surface for m in await self._store.flags.mappings(flag.id)}
        missing = [s for name, s in self._surfaces.items() if name not in mapped]
        if not missing:
            return
        view = await self.view(flag.id)
        if view is None:
            return
        for surface in missing:
            try:
                posted = await surface.post(view)
            except Exception as exc:
                log_failure(log, "posting flag %s to %s failed; will retry", exc, flag.id, surface.name)
                continue
            await self._store.flags.add_posted(flag.id, surface.name, posted.ref, posted.aliases, self._clock())

    # Views -------------------------------------------------------------------------------

    async def view(self, flag_id: int) -> FlagView | None:
        flag = await self._store.flags.get(flag_id)
        if flag is None:
            return None
        session = None if flag.session_id is None else await self._store.users.get_session(flag.session_id)
        user = None if flag.user_id is None else await self._store.users.get(flag.user_id)
        transcript = None
        if user is not None and session is not None and user.consent is ConsentState.GRANTED:
            lines = await self._store.users.recent_messages(session.id, TRANSCRIPT_LINES)
            transcript = tuple(f"{m.role}: {m.text}" for m in lines)
        session_state = session.state if session is not None else SessionState.CLOSED
        return FlagView(
            flag_id=flag.id,
            kind=flag.kind,
            level=flag.level,
            categories=flag.categories,
            reasons=flag.reasons,
            status=flag.status,
            session_state=session_state,
            user_label=flag.user_label,
            flagged_messages=tuple(await self._store.flags.messages(flag.id)),
            transcript=transcript,
            assignee=flag.assignee_name,
            outcome=flag.outcome,
            created_at=flag.created_at,
            repages=flag.repages,
            actions=_available_actions(flag.status, session_state, reachable=user is not None and not user.unreachable),
        )

    async def refresh(self, flag_id: int) -> FlagView | None:
        """Edit the flag's first message on every surface so all moderators see its state; where
        a surface had to post it afresh, its new reference becomes the primary one."""
        lock = self._refreshing.setdefault(flag_id, asyncio.Lock())
        async with lock:
            return await self._refresh(flag_id)

    async def _refresh(self, flag_id: int) -> FlagView | None:
        view = await self.view(flag_id)
        if view is None:
            return None
        for mapping in await self._store.flags.mappings(flag_id):
            surface = self._surfaces.get(mapping.surface)
            if surface is None:
                continue
            try:
                replacement = await surface.update(mapping.ref, view)
            except Exception as exc:
                log_failure(log, "updating flag %s on %s failed", exc, flag_id, mapping.surface)
                continue
            if replacement is not None and not await self._store.flags.replace_primary(
                flag_id, mapping.surface, mapping.ref, replacement, self._clock()
            ):
                log.warning(
                    "flag %s was posted afresh twice at once on %s; one copy is no longer updated", flag_id, mapping.surface
                )
        return view

    async def relay_user_message(self, session_id: int, text: str) -> bool:
        """During a take-over, post the user's message into the flag's threads."""
        flag = await self._store.flags.active_for_session(session_id)
        if flag is None:
            return False
        return await self._relay_to_surfaces(flag.id, "User", text)

    async def _relay_to_surfaces(self, flag_id: int, author: str, text: str) -> bool:
        delivered = False
        for mapping in await self._store.flags.mappings(flag_id):
            surface = self._surfaces.get(mapping.surface)
            if surface is None:
                continue
            try:
                extra = await surface.relay(mapping.ref, author, text)
            except Exception as exc:
                log_failure(log, "relaying to flag %s on %s failed", exc, flag_id, mapping.surface)
                continue
            delivered = True
            if extra is not None:
                await self._store.flags.add_alias(flag_id, mapping.surface, extra, self._clock())
        return delivered

    # Re-paging -------------------------------------------------------------------------

    async def repage_due(self) -> int:
        """Re-post unclaimed urgent flags whose delay has passed; re-publish unposted flags."""
        now = self._clock()
        due = await self._store.flags.due_repages(now)
        for flag in due:
            minutes = max(1, round((now - flag.created_at).total_seconds() / 60))
            await self._store.flags.mark_repaged(flag.id, now + timedelta(seconds=self._settings.repage_delay_s))
            await self.publish_missing(flag)
            await self._relay_to_surfaces(
                flag.id, "counselbot", f"⏰ Still unclaimed after {minutes} min: tier {flag.level.label}. Please claim."
            )
            await self.refresh(flag.id)
        # One query for the active flags some surface lacks (it used to read every open and
        # claimed flag's mappings, one query each, and saw only the first 100 of each status).
        for flag in await self._store.flags.unposted(list(self._surfaces)):
            await self.publish_missing(flag)
        return len(due)

    # Actions ---------------------------------------------------------------------------

    async def act(self, action: ModeratorAction) -> ActionResult:
        actor = action.actor
        # Authorised before anything is looked up: a non-moderator learns nothing, not even
        # which flags exist.
        if not self.is_moderator(actor):
            return await self._refuse(action, "only moderators can do that")
        flag = await self._store.flags.get(action.flag_id)
        if flag is None:
            return await self._refuse(action, "there is no such flag")
        try:
            message = await self._apply(action, flag)
        except IllegalTransition as exc:
            return await self._refuse(action, str(exc))
        except _Refused as exc:
            return await self._refuse(action, str(exc))
        await self._audit(action, allowed=True, detail=message)
        view = await self.refresh(flag.id)
        return ActionResult(True, message, view)

    async def _apply(self, action: ModeratorAction, flag: FlagRecord) -> str:
        actor = action.actor
        holder = flag.assignee_ref
        holds = holder == actor.ref
        now = self._clock()
        session = None if flag.session_id is None else await self._store.users.get_session(flag.session_id)
        kind = action.kind

        if kind is ActionKind.NOTE:
            text = (action.text or "").strip()
            if not text:
                raise _Refused("a note needs text")
            await self._store.flags.add_note(flag.id, actor.ref, actor.name, text, now)
            await self._relay_to_surfaces(flag.id, f"📝 {actor.name} (note)", text)
            return "note saved (internal, not sent to the user)"

        if kind is ActionKind.CLAIM:
            if holds:
                return "you already hold this flag"
            if flag.status is FlagStatus.CLAIMED:
                raise _Refused(f"already claimed by {flag.assignee_name}")
            next_flag_status(flag.status, kind)
            if not await self._store.flags.transition(
                flag.id, [FlagStatus.OPEN], FlagStatus.CLAIMED, now, assignee_ref=actor.ref, assignee_name=actor.name
            ):
                raise _Refused(f"already claimed by {(await self._current_holder(flag.id))}")
            await self._unscript(session, now)
            return "claimed"

        if kind is ActionKind.RESOLVE:
            if action.outcome is None:
                raise _Refused("choose an outcome to resolve")
            if flag.status is FlagStatus.CLAIMED and not holds:
                raise _Refused(f"held by {flag.assignee_name}; only they can resolve it")
            next_flag_status(flag.status, kind)
            if not await self._store.flags.transition(
                flag.id,
                [flag.status],
                FlagStatus.RESOLVED,
                now,
                outcome=action.outcome.value,
                assignee_ref=flag.assignee_ref or actor.ref,
                assignee_name=flag.assignee_name or actor.name,
            ):
                raise _Refused("the flag changed meanwhile; try again")
            if action.text and action.text.strip():
                await self._store.flags.add_note(flag.id, actor.ref, actor.name, action.text.strip(), now)
            if session is not None and session.state is SessionState.HUMAN:
                await self._store.users.update_session(session.id, now, state=SessionState.AI, scripted=False)
                if flag.user_id is not None:
                    await self._notify_user(flag.user_id, OutboundKind.SYSTEM, "moderator_left")
            else:
                await self._unscript(session, now)
            return f"resolved: {action.outcome.label}"

        if session is None or flag.user_id is None:
            raise _Refused("the user erased their data; only notes and resolve are possible")

        if kind is ActionKind.TAKEOVER:
            if flag.status is FlagStatus.CLAIMED and not holds:
                raise _Refused(f"held by {flag.assignee_name}")
            next_flag_status(flag.status, kind)
            if flag.status is FlagStatus.OPEN and not await self._store.flags.transition(
                flag.id, [FlagStatus.OPEN], FlagStatus.CLAIMED, now, assignee_ref=actor.ref, assignee_name=actor.name
            ):
                raise _Refused(f"already claimed by {(await self._current_holder(flag.id))}")
            if session.state is SessionState.HUMAN:
                return "you already have this conversation"
            state = next_session_state(session.state, SessionEvent.TAKEOVER)
            await self._store.users.update_session(session.id, now, state=state, scripted=False)
            self._pause_user(flag.user_id)
            await self._notify_user(flag.user_id, OutboundKind.SYSTEM, "moderator_joined")
            return "you have the conversation: messages you type here go to the user"

        if kind is ActionKind.SAY:
            if not (holds and session.state is SessionState.HUMAN):
                raise _Refused("take over the session to talk to the user; start with !note for an internal note")
            text = (action.text or "").strip()
            if not text:
                raise _Refused("nothing to send")
            await self._store.users.add_message(flag.user_id, session.id, "moderator", text, now)
            if not await self._notify_user(flag.user_id, OutboundKind.MODERATOR, text):
                raise _Refused("not delivered: the user can't be reached (blocked the bot or closed their DMs)")
            return "sent to the user"

        if kind is ActionKind.RELEASE:
            if not holds:
                raise _Refused(f"held by {flag.assignee_name or 'nobody'}; only they can release it")
            state = next_session_state(session.state, SessionEvent.RELEASE)
            await self._store.users.update_session(session.id, now, state=state, scripted=False)
            await self._notify_user(flag.user_id, OutboundKind.SYSTEM, "moderator_left")
            return "released to the AI"

        if kind is ActionKind.BLOCK:
            await self._store.users.set_blocked(flag.user_id, True)
            await self._notify_user(flag.user_id, OutboundKind.SYSTEM, "blocked")
            return "user blocked"

        raise _Refused(f"unknown action {kind.value}")

    async def _unscript(self, session: SessionRecord | None, now: datetime) -> None:
        """A moderator acted: an imminent session stops getting scripted replies."""
        if session is not None and session.scripted:
            await self._store.users.update_session(session.id, now, scripted=False)

    async def _current_holder(self, flag_id: int) -> str:
        flag = await self._store.flags.get(flag_id)
        return (flag.assignee_name if flag else None) or "someone else"

    async def _refuse(self, action: ModeratorAction, reason: str) -> ActionResult:
        await self._audit(action, allowed=False, detail=reason)
        return ActionResult(False, f"Refused: {reason}.", None)

    async def _audit(self, action: ModeratorAction, *, allowed: bool, detail: str) -> None:
        await self._store.flags.audit(
            actor_ref=action.actor.ref,
            actor_name=action.actor.name,
            action=action.kind.value,
            flag_id=action.flag_id,
            allowed=allowed,
            detail=detail,
            now=self._clock(),
        )


class _Refused(Exception):
    """An action that is not possible in the flag's current state (audited as refused)."""


def _available_actions(status: FlagStatus, session: SessionState, *, reachable: bool) -> tuple[ActionKind, ...]:
    if status is FlagStatus.RESOLVED:
        return (ActionKind.NOTE,)
    actions: list[ActionKind] = []
    if status is FlagStatus.OPEN:
        actions.append(ActionKind.CLAIM)
    if reachable and session is SessionState.AI:
        actions.append(ActionKind.TAKEOVER)
    if reachable and session is SessionState.HUMAN:
        actions.append(ActionKind.RELEASE)
    actions += [ActionKind.RESOLVE, ActionKind.NOTE]
    if reachable:
        actions.append(ActionKind.BLOCK)
    return tuple(actions)
