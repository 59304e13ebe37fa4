"""ConversationManager: the one entry point adapters call.

A user message goes: clean → (first contact: notice) → command? → risk assessment →
crisis resources and flag when risky → relay to the moderator when a human holds the
session → otherwise queued to the generator, one generation in flight per user, later
messages merged into the next turn → output guard → delivery. Everything the bot says
goes out through the platform's `UserChannel`, so replies, relays and notices share one
delivery path, and every accepted message ends in the turn ledger as answered, handed
over or failed: nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from bot.config import Settings
from bot.core.commands import Command, ParsedCommand, parse_command
from bot.core.failures import log_failure
from bot.core.lifecycle import next_consent
from bot.core.moderation import Moderation
from bot.core.ordering import ArrivalOrder
from bot.core.outbox import OutboxChannel
from bot.core.ports import ChatTurn, GenerationRequest, Generator, ModeratorSurface, Role, UserChannel
from bot.core.sanitize import clean
from bot.core.texts import NOTICE_VERSION, t
from bot.core.types import (
    ActionKind,
    ActionResult,
    Actor,
    Button,
    ConsentState,
    FlagKind,
    FlagStatus,
    Inbound,
    InboundKind,
    ModeratorAction,
    Outbound,
    OutboundKind,
    Platform,
    SessionState,
    UserRef,
)
from bot.errors import (
    DeliveryError,
    GenerationCancelled,
    GenerationError,
    GeneratorBusy,
    GeneratorUnavailable,
    IllegalTransition,
    UserUnreachable,
)
from bot.safety import output_guard
from bot.safety.levels import RiskLevel
from bot.safety.resources import CountryResources, crisis_message, language_for, resources_for, resources_message
from bot.safety.risk import assess
from bot.store import Store
from bot.store.records import SessionRecord, UserRecord
from bot.store.users import TranscriptLine, TurnStatus

log = logging.getLogger(__name__)

HISTORY_TURNS = 24  # turns kept in memory for the prompt; the generator trims to its token budget
RISK_CONTEXT = 8  # earlier user messages the risk assessment sees
TYPING_EVERY_S = 4.0
NOTE_PREFIX = "!note"


@dataclass
class _Lane:
    """Per-user state kept in process: ordering, merging, memory history, rate limit."""

    user_id: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    history: deque[ChatTurn] = field(default_factory=lambda: deque(maxlen=HISTORY_TURNS))
    risk_context: deque[str] = field(default_factory=lambda: deque(maxlen=RISK_CONTEXT))
    pending: list[tuple[int, str]] = field(default_factory=list)
    session: SessionRecord | None = None  # the open session as of the last accepted message
    generating: bool = False
    loaded: bool = False
    erased: bool = False
    signposted: bool = False  # the gentle /resources signpost was given in this session
    signpost_due: bool = False
    last_active: float = field(default_factory=time.monotonic)
    recent: deque[float] = field(default_factory=deque)
    rate_noticed: bool = False


class ConversationManager:
    """`generator` is None in processes that only moderate (`counselbot mod`); a user message
    handled there gets the honest fallback."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        generator: Generator | None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._store = store
        self._generator = generator
        self._clock = clock
        self._channels: dict[Platform, UserChannel] = {}
        self._lanes: dict[int, _Lane] = {}
        self._arrivals = ArrivalOrder()
        self.moderation = Moderation(settings, store, clock, self._notify_user, self._pause_user)

    @property
    def store(self) -> Store:
        return self._store

    def now(self) -> datetime:
        return self._clock()

    # Wiring -------------------------------------------------------------------------------

    def register_channel(self, platform: Platform, channel: UserChannel) -> None:
        self._channels[platform] = channel

    def register_surface(self, surface: ModeratorSurface) -> None:
        self.moderation.register_surface(surface)

    async def recover(self) -> int:
        """After a restart: messages accepted but never answered are marked failed and
        their senders told to send again. Returns how many were recovered."""
        pending = await self._store.users.pending_turns()
        if not pending:
            return 0
        await self._store.users.finish_turns([p.id for p in pending], TurnStatus.FAILED, self._clock())
        for user_id in dict.fromkeys(p.user_id for p in pending):
            user = await self._store.users.get(user_id)
            if user is not None:
                await self._send(user, OutboundKind.SYSTEM, t("restart_lost", self._language(user)))
        log.warning("recovered %d message(s) left unanswered by a restart", len(pending))
        return len(pending)

    async def tick(self) -> None:
        """Periodic upkeep: deliver the outbox, re-page urgent flags, re-post unposted
        ones, forget idle memory."""
        await self._deliver_outbox()
        await self.moderation.repage_due()
        cutoff = time.monotonic() - self._settings.idle_timeout_s
        for user_id, lane in list(self._lanes.items()):
            if not lane.generating and not lane.pending and not lane.lock.locked() and lane.last_active < cutoff:
                del self._lanes[user_id]

    async def _deliver_outbox(self) -> None:
        for queued in await self._store.outbox.pending():
            user = await self._store.users.get(queued.user_id)
            if user is None:
                await self._store.outbox.remove(queued.id)
                continue
            channel = self._channels.get(user.platform)
            if channel is None or isinstance(channel, OutboxChannel):
                continue  # another process holds this platform
            if queued.kind is OutboundKind.MODERATOR:
                self._lane(user.id).history.append(ChatTurn(Role.ASSISTANT, queued.text))
            await self._send(user, queued.kind, queued.text, queued.buttons)
            await self._store.outbox.remove(queued.id)

    async def run_maintenance(self, interval_s: float = 5.0) -> None:
        while True:
            try:
                await self.tick()
            except Exception as exc:
                log_failure(log, "maintenance tick failed", exc)
            await asyncio.sleep(interval_s)

    # Users ---------------------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> None:
        """Process one user message; everything said in return goes out through the channel.

        Returns when the message has been dealt with: answered, merged into a generation in
        flight (which answers it), relayed to a moderator, or refused with a message. A
        user's messages are received in the order `handle` was called for them, even when
        the calls overlap.
        """
        async with self._arrivals.hold(inbound.user):
            started = await self._receive(inbound)
        if started is not None:
            await self._generate_turns(*started)

    async def _receive(self, inbound: Inbound) -> tuple[UserRecord, _Lane] | None:
        """Everything up to queueing the message; returns the lane when a generation should start."""
        now = self._clock()
        user = await self._store.users.get_or_create(inbound.user, inbound.chat_ref, inbound.locale, now)
        lang = self._language(user)
        lane = self._lane(user.id)
        lane.last_active = time.monotonic()
        if user.created:
            await self._send_notice(user)
        if inbound.kind is InboundKind.NON_TEXT:
            await self._send(user, OutboundKind.SYSTEM, t("non_text", lang))
            return None
        cleaned = clean(inbound.text, self._settings.max_message_chars)
        if not cleaned.text:
            if not user.created:
                await self._send(user, OutboundKind.SYSTEM, t("empty", lang))
            return None
        text = cleaned.text
        command = parse_command(text)
        if user.blocked:
            await self._blocked_user(user, text)
            return None
        if command is not None:
            await self._command(user, lane, command)
            return None
        if self._rate_limited(lane):
            return (user, lane) if await self._over_limit(user, lane, text) else None
        if cleaned.truncated:
            await self._send(user, OutboundKind.SYSTEM, t("too_long", lang, limit=self._settings.max_message_chars))
        return (user, lane) if await self._accept(user, lane, text) else None

    async def _accept(self, user: UserRecord, lane: _Lane, text: str) -> bool:
        """Assess, store, escalate and route one message. True when a generation should start."""
        lang = self._language(user)
        async with lane.lock:
            now = self._clock()
            assessment = assess(text, tuple(lane.risk_context), user.locale)
            lane.risk_context.append(text)
            if not lane.loaded:
                await self._load_history(user, lane)
            accepted = await self._store.users.accept_message(
                user.id, text, now, level=assessment.level, categories=assessment.categories, reasons=assessment.reasons
            )
            session = accepted.session
            if assessment.level.flags:
                await self._send(user, OutboundKind.CRISIS, crisis_message(assessment.level, self._resources(user), lang))
                flag = await self.moderation.raise_flag(
                    user_id=user.id,
                    user_label=self._label(user),
                    session_id=session.id,
                    kind=FlagKind.RISK,
                    level=assessment.level,
                    categories=assessment.categories,
                    reasons=assessment.reasons,
                    text=text,
                )
                if assessment.level >= RiskLevel.IMMINENT and flag.status is FlagStatus.OPEN and not session.scripted:
                    await self._store.users.update_session(session.id, now, scripted=True)
                    session = await self._get_session(session.id)
            if session.state is SessionState.HUMAN:
                await self.moderation.relay_user_message(session.id, text)
                await self._store.users.finish_turns([accepted.turn_id], TurnStatus.HANDED_OVER, now)
                lane.history.append(ChatTurn(Role.USER, text))
                return False
            if session.scripted:
                delivered = await self._send(user, OutboundKind.REPLY, t("awaiting_moderator", lang))
                await self._finish([accepted.turn_id], delivered)
                return False
            if assessment.level is RiskLevel.CONCERN and not lane.signposted:
                lane.signposted = lane.signpost_due = True
            lane.session = session
            lane.pending.append((accepted.turn_id, text))
            if lane.generating:
                return False  # merged into the turn after the one in flight
            lane.generating = True
            return True

    async def _generate_turns(self, user: UserRecord, lane: _Lane) -> None:
        """Generate until no message is waiting; later messages are merged into one turn."""
        try:
            while True:
                async with lane.lock:
                    batch, lane.pending = lane.pending, []
                    if not batch or lane.erased:
                        lane.generating = False
                        return
                await self._one_turn(user, lane, batch)
        finally:
            # Also after an error: the user's next message must start a generation again
            # (it takes along whatever is still pending), never merge into a dead one.
            lane.generating = False

    async def _one_turn(self, user: UserRecord, lane: _Lane, batch: list[tuple[int, str]]) -> None:
        lang = self._language(user)
        turn_ids = [turn_id for turn_id, _ in batch]
        merged = "\n".join(text for _, text in batch)
        signpost, lane.signpost_due = lane.signpost_due, False
        # The session as the last accepted message left it (its tier only rises on accept);
        # its state is read again after generation, when a take-over may have happened.
        session = lane.session or await self._store.users.current_session(user.id, self._clock())
        safe_mode = session.level >= RiskLevel.ELEVATED
        request = GenerationRequest(
            request_id=uuid.uuid4().hex,
            session_key=self._session_key(user.id),
            history=(*lane.history, ChatTurn(Role.USER, merged)),
            deadline=time.monotonic() + self._settings.generation_timeout_s,
            priority=session.level,
            safe_mode=safe_mode,
        )
        kind = OutboundKind.REPLY
        typing = asyncio.create_task(self._keep_typing(user))
        try:
            if self._generator is None:
                raise GeneratorUnavailable("this process has no model")
            reply = await asyncio.wait_for(self._generator.generate(request), self._settings.generation_timeout_s + 5)
        except GenerationCancelled:
            reply = None
        except GeneratorBusy:
            reply, kind = t("busy", lang), OutboundKind.ERROR
        except (GenerationError, TimeoutError):
            reply, kind = t("generation_failed", lang), OutboundKind.ERROR
        except Exception as exc:
            log_failure(log, "generator raised unexpectedly", exc)
            reply, kind = t("generation_failed", lang), OutboundKind.ERROR
        finally:
            typing.cancel()
        if lane.erased:
            return
        current = await self._get_session(session.id)
        if reply is None or current.state is not SessionState.AI or current.scripted:
            await self._store.users.finish_turns(turn_ids, TurnStatus.HANDED_OVER, self._clock())
            return
        line = None
        if kind is OutboundKind.REPLY:
            reply = self._guard(reply, current, lang)
            lane.history.append(ChatTurn(Role.USER, merged))
            lane.history.append(ChatTurn(Role.ASSISTANT, reply))
            line = TranscriptLine(user.id, session.id, "assistant", reply)  # stored with the ledger update
            if signpost:
                reply = f"{reply}\n\n{t('concern_signpost', lang)}"
        elif current.level.flags:
            reply = f"{reply}\n\n{crisis_message(current.level, self._resources(user), lang)}"
        delivered = await self._send(user, kind, reply)
        await self._finish(turn_ids, delivered, line)

    def _guard(self, reply: str, session: SessionRecord, lang: str) -> str:
        flagged = session.level.flags
        result = output_guard.check(reply, flagged_categories=frozenset(session.categories), strict=flagged)
        if result.allowed and reply.strip():
            return reply
        log.warning("output guard replaced a reply: %s", "; ".join(result.reasons) or "empty reply")
        return output_guard.safe_fallback(lang, flagged)

    async def _finish(self, turn_ids: list[int], delivered: bool, line: TranscriptLine | None = None) -> None:
        status = TurnStatus.ANSWERED if delivered else TurnStatus.FAILED
        await self._store.users.finish_turns(turn_ids, status, self._clock(), line=line)

    async def _keep_typing(self, user: UserRecord) -> None:
        channel = self._channels.get(user.platform)
        if channel is None:
            return
        while True:
            try:
                await channel.typing(user.chat_ref)
            except Exception as exc:
                log_failure(log, "typing indicator failed", exc, level=logging.DEBUG)
            await asyncio.sleep(TYPING_EVERY_S)

    # Commands ------------------------------------------------------------------------------

    async def _command(self, user: UserRecord, lane: _Lane, parsed: ParsedCommand) -> None:
        lang = self._language(user)
        command = parsed.command
        say = partial(self._send, user)
        if command is None:
            await say(OutboundKind.SYSTEM, t("unknown_command", lang))
        elif command is Command.START:
            if not user.created:
                await self._send_notice(user)
        elif command is Command.HELP:
            await say(OutboundKind.SYSTEM, t("help", lang))
        elif command is Command.RESOURCES:
            await say(OutboundKind.CRISIS, resources_message(self._resources(user), lang))
        elif command is Command.COUNTRY:
            await self._set_country(user, parsed.argument)
        elif command in (Command.AGREE, Command.DECLINE, Command.CONSENT):
            await self._consent(user, command)
        elif command is Command.FORGET:
            buttons = (Button(t("button_forget_yes", lang), "/confirm_forget"), Button(t("button_cancel", lang), "/cancel"))
            await say(OutboundKind.SYSTEM, t("forget_confirm", lang), buttons)
        elif command is Command.CONFIRM_FORGET:
            await self._forget(user, lane)
        elif command is Command.CANCEL:
            await say(OutboundKind.SYSTEM, t("forget_cancelled", lang))
        elif command is Command.EXPORT:
            data = await self._store.users.export(user.id)
            await say(OutboundKind.SYSTEM, t("export_header", lang) + "\n" + json.dumps(data, ensure_ascii=False, indent=1))
        elif command is Command.HUMAN:
            await self._ask_for_human(user)
        elif command is Command.RESET:
            await self._reset(user, lane)

    async def _consent(self, user: UserRecord, command: Command) -> None:
        lang = self._language(user)
        state_text = t("consent_state_granted" if user.consent is ConsentState.GRANTED else "consent_state_other", lang)
        if command is Command.CONSENT:
            button = (
                Button(t("button_decline", lang), "/decline")
                if user.consent is ConsentState.GRANTED
                else Button(t("button_agree", lang), "/agree")
            )
            await self._send(user, OutboundKind.SYSTEM, t("consent_show", lang, state=state_text), (button,))
            return
        choice = ConsentState.GRANTED if command is Command.AGREE else ConsentState.DECLINED
        try:
            new = next_consent(user.consent, choice)
        except IllegalTransition:
            await self._send(user, OutboundKind.SYSTEM, t("consent_unchanged", lang, state=state_text))
            return
        await self._store.users.set_consent(user.id, new, NOTICE_VERSION, self._clock())
        if new is ConsentState.REVOKED:
            await self._store.users.delete_transcript(user.id)
        key = {ConsentState.GRANTED: "consent_granted", ConsentState.DECLINED: "consent_declined"}.get(new, "consent_revoked")
        await self._send(user, OutboundKind.SYSTEM, t(key, lang, days=self._settings.retention_days))

    async def _forget(self, user: UserRecord, lane: _Lane) -> None:
        lang = self._language(user)
        async with lane.lock:
            lane.erased = True
            lane.pending.clear()
            self._pause_user(user.id)
            await self._store.users.erase(user.id)
            self._lanes.pop(user.id, None)
        await self._send(user, OutboundKind.SYSTEM, t("forget_done", lang), mark_unreachable=False)

    async def _set_country(self, user: UserRecord, argument: str) -> None:
        lang = self._language(user)
        code = argument.strip().upper()
        if len(code) != 2 or not code.isascii() or not code.isalpha():
            await self._send(user, OutboundKind.SYSTEM, t("country_invalid", lang))
            return
        await self._store.users.set_country(user.id, code)
        await self._send(user, OutboundKind.SYSTEM, t("country_set", lang, country=code))

    async def _ask_for_human(self, user: UserRecord) -> None:
        lang = self._language(user)
        session = await self._store.users.current_session(user.id, self._clock())
        await self.moderation.raise_flag(
            user_id=user.id,
            user_label=self._label(user),
            session_id=session.id,
            kind=FlagKind.HUMAN_REQUEST,
            level=session.level,
            categories=session.categories,
            reasons=("the user asked for a human moderator (/human)",),
            text=None,
        )
        key = "human_requested" if self.moderation.has_surfaces else "human_unavailable"
        await self._send(user, OutboundKind.SYSTEM, t(key, lang))

    async def _reset(self, user: UserRecord, lane: _Lane) -> None:
        async with lane.lock:
            lane.history.clear()
            lane.risk_context.clear()
            lane.signposted = False
            lane.session = None
            session = await self._store.users.current_session(user.id, self._clock())
            # A session with an unresolved flag stays open, so moderators can still reach the user.
            if await self._store.flags.active_for_session(session.id) is None:
                await self._store.users.update_session(session.id, self._clock(), state=SessionState.CLOSED)
        await self._send(user, OutboundKind.SYSTEM, t("reset_done", self._language(user)))

    # Limits and blocked users -----------------------------------------------------------

    def _rate_limited(self, lane: _Lane) -> bool:
        now = time.monotonic()
        while lane.recent and lane.recent[0] < now - 60:
            lane.recent.popleft()
        if len(lane.recent) >= self._settings.rate_limit_per_minute:
            return True
        lane.recent.append(now)
        lane.rate_noticed = False
        return False

    async def _over_limit(self, user: UserRecord, lane: _Lane, text: str) -> bool:
        """Over the rate limit: not read, except that risk is still assessed (safety first).
        True when the risky message starts a generation."""
        if assess(text, tuple(lane.risk_context), user.locale).level.flags:
            return await self._accept(user, lane, text)
        if not lane.rate_noticed:
            lane.rate_noticed = True
            await self._send(user, OutboundKind.SYSTEM, t("rate_limited", self._language(user)))
        return False

    async def _blocked_user(self, user: UserRecord, text: str) -> None:
        """A blocked user gets nothing but crisis resources when a message is risky."""
        assessment = assess(text, (), user.locale)
        if assessment.level.flags:
            lang = self._language(user)
            await self._send(user, OutboundKind.CRISIS, crisis_message(assessment.level, self._resources(user), lang))

    # Moderators ------------------------------------------------------------------------------

    async def act(self, action: ModeratorAction) -> ActionResult:
        return await self.moderation.act(action)

    async def moderator_text(self, actor: Actor, surface: str, ref: str, text: str) -> ActionResult | None:
        """Text typed in a flag's thread: `!note …` stays internal, anything else is said to the
        user when the actor holds the take-over. None when `ref` is not a flag's thread."""
        mapping = await self._store.flags.find_mapping(surface, ref)
        if mapping is None:
            return None
        body = text.strip()
        if body.lower().startswith(NOTE_PREFIX):
            return await self.act(ModeratorAction(actor, ActionKind.NOTE, mapping.flag_id, body[len(NOTE_PREFIX) :].strip()))
        return await self.act(ModeratorAction(actor, ActionKind.SAY, mapping.flag_id, body))

    async def _notify_user(self, user_id: int, kind: OutboundKind, key_or_text: str) -> bool:
        """Deliver a moderation message to the user; returns whether it was delivered."""
        user = await self._store.users.get(user_id)
        if user is None:
            return False
        lang = self._language(user)
        if kind is OutboundKind.MODERATOR:
            self._lane(user.id).history.append(ChatTurn(Role.ASSISTANT, key_or_text))
            return await self._send(user, kind, f"{t('moderator_label', lang)}: {key_or_text}")
        return await self._send(user, kind, t(key_or_text, lang))

    def _pause_user(self, user_id: int) -> None:
        if self._generator is not None:
            self._generator.cancel(self._session_key(user_id))

    # Helpers -------------------------------------------------------------------------------

    def _lane(self, user_id: int) -> _Lane:
        lane = self._lanes.get(user_id)
        if lane is None:
            lane = self._lanes[user_id] = _Lane(user_id)
        return lane

    async def _load_history(self, user: UserRecord, lane: _Lane) -> None:
        """Consenting users' history comes from the store (it survives restarts)."""
        lane.loaded = True
        if user.consent is not ConsentState.GRANTED:
            return
        session = await self._store.users.current_session(user.id, self._clock())
        for message in await self._store.users.recent_messages(session.id, HISTORY_TURNS):
            role = Role.USER if message.role == "user" else Role.ASSISTANT
            lane.history.append(ChatTurn(role, message.text))

    async def _get_session(self, session_id: int) -> SessionRecord:
        session = await self._store.users.get_session(session_id)
        assert session is not None
        return session

    def _language(self, user: UserRecord) -> str:
        return language_for(user.locale)

    def _resources(self, user: UserRecord) -> CountryResources:
        return resources_for(user.country, user.locale, self._settings.default_country)

    @staticmethod
    def _session_key(user_id: int) -> str:
        return f"user:{user_id}"

    def _label(self, user: UserRecord) -> str:
        return self._store.label(user.platform.value, user.platform_user_id)

    async def _send_notice(self, user: UserRecord) -> None:
        lang = self._language(user)
        buttons = (Button(t("button_agree", lang), "/agree"), Button(t("button_decline", lang), "/decline"))
        await self._send(user, OutboundKind.NOTICE, t("notice", lang, days=self._settings.retention_days), buttons)

    async def _send(
        self,
        user: UserRecord,
        kind: OutboundKind,
        text: str,
        buttons: tuple[Button, ...] = (),
        *,
        mark_unreachable: bool = True,
    ) -> bool:
        """Deliver one message; a user who blocked the bot is marked unreachable. Returns success."""
        channel = self._channels.get(user.platform)
        if channel is None:
            log.error("no channel registered for %s; a message could not be delivered", user.platform.value)
            return False
        message = Outbound(UserRef(user.platform, user.platform_user_id), user.chat_ref, kind, text, buttons)
        try:
            await channel.send(message)
        except UserUnreachable:
            log.info("user %s is unreachable", self._label(user))
            if mark_unreachable:
                await self._store.users.set_unreachable(user.id, True)
            return False
        except DeliveryError as exc:
            log_failure(log, "delivery to %s failed", exc, user.platform.value)
            return False
        return True
