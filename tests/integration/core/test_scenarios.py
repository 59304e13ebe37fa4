"""The users' flow and moderated escalation through the real manager, a real SQLite file,
the real safety layer and a scripted generator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.types import (
    ActionKind,
    Actor,
    FlagKind,
    FlagStatus,
    Inbound,
    InboundKind,
    ModeratorAction,
    Outcome,
    OutboundKind,
    Platform,
    SessionState,
    UserRef,
)
from bot.errors import GenerationTimeout, GeneratorBusy
from tests.support.core import Core, make_core

OPERATOR = Actor(Platform.CONSOLE, "op", "Operator")
OUTSIDER = Actor(Platform.TELEGRAM, "999", "Mallory", context="555", roles=frozenset({"member"}))
CRISIS_HIGH = "I want to kill myself. I've been thinking about how I would do it."
CRISIS_IMMINENT = "I just took all my pills. Goodbye everyone."


def msg(user: str, text: str, *, kind: InboundKind = InboundKind.TEXT, locale: str | None = "en") -> Inbound:
    return Inbound(UserRef(Platform.TELEGRAM, user), f"chat-{user}", text, datetime.now(UTC), locale=locale, kind=kind)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    core = await make_core(tmp_path)
    yield core
    await core.close()


async def user_id(core: Core, user: str) -> int:
    record = await core.store.users.find(UserRef(Platform.TELEGRAM, user))
    assert record is not None
    return record.id


async def test_first_contact_shows_the_notice_and_chat_works_without_an_answer(core: Core) -> None:
    await core.manager.handle(msg("u1", "hello, I can't sleep"))
    sent = core.channel.to("u1")
    assert sent[0].kind is OutboundKind.NOTICE
    assert "not a therapist" in sent[0].text and "emergency" in sent[0].text and "moderators" in sent[0].text
    assert [b.command for b in sent[0].buttons] == ["/agree", "/decline"]
    assert sent[-1].kind is OutboundKind.REPLY
    assert (await core.store.users.export(await user_id(core, "u1")))["messages"] == []


async def test_agree_stores_decline_does_not_revoke_deletes(core: Core) -> None:
    await core.manager.handle(msg("u1", "/agree"))
    await core.manager.handle(msg("u1", "work has been hard lately"))
    uid = await user_id(core, "u1")
    texts = [m["text"] for m in (await core.store.users.export(uid))["messages"]]
    assert texts == ["work has been hard lately", core.generator.reply]

    await core.manager.handle(msg("u1", "/decline"))
    assert "deleted" in core.channel.to("u1")[-1].text
    await core.manager.handle(msg("u1", "this one is not kept"))
    assert (await core.store.users.export(uid))["messages"] == []

    await core.manager.handle(msg("u2", "/decline"))
    await core.manager.handle(msg("u2", "nor this"))
    assert (await core.store.users.export(await user_id(core, "u2")))["messages"] == []


async def test_forget_needs_confirmation_then_erases_everything(core: Core) -> None:
    await core.manager.handle(msg("u1", "/agree"))
    await core.manager.handle(msg("u1", "remember this"))
    await core.manager.handle(msg("u1", "/forget"))
    assert [b.command for b in core.channel.to("u1")[-1].buttons] == ["/confirm_forget", "/cancel"]
    assert await core.store.users.find(UserRef(Platform.TELEGRAM, "u1")) is not None
    await core.manager.handle(msg("u1", "/confirm_forget"))
    assert await core.store.users.find(UserRef(Platform.TELEGRAM, "u1")) is None
    assert "erased" in core.channel.to("u1")[-1].text


async def test_export_returns_the_users_data_as_json(core: Core) -> None:
    await core.manager.handle(msg("u1", "/agree"))
    await core.manager.handle(msg("u1", "a line to export"))
    await core.manager.handle(msg("u1", "/export"))
    text = core.channel.to("u1")[-1].text
    data = json.loads(text[text.index("{") :])
    assert "a line to export" in [m["text"] for m in data["messages"]]
    assert data["consent_history"][0]["state"] == "granted"


async def test_crisis_gets_scripted_resources_before_any_model_call_and_one_flag(core: Core) -> None:
    await core.manager.handle(msg("u1", "/country GB"))
    await core.manager.handle(msg("u1", CRISIS_HIGH))
    sent = core.channel.to("u1")
    crisis = [m for m in sent if m.kind is OutboundKind.CRISIS]
    assert len(crisis) == 1 and "116 123" in crisis[0].text  # Samaritans, the user's country
    assert sent.index(crisis[0]) < sent.index(core.channel.to("u1", OutboundKind.REPLY)[0])
    flags = await core.store.flags.by_status()
    assert len(flags) == 1 and flags[0].kind is FlagKind.RISK and flags[0].level.urgent
    assert len(core.surface.posts) == 1 and core.surface.posts[0].flagged_messages == (CRISIS_HIGH,)
    assert core.generator.requests[-1].safe_mode is True

    await core.manager.handle(msg("u1", "I also wrote a note for my family"))
    assert len(await core.store.flags.by_status()) == 1, "one flag per session: later messages join it"


async def test_imminent_sessions_get_scripted_replies_until_a_moderator_acts(core: Core) -> None:
    await core.manager.handle(msg("u1", CRISIS_IMMINENT))
    assert core.generator.requests == []
    assert core.channel.to("u1", OutboundKind.CRISIS)
    await core.manager.handle(msg("u1", "please just talk to me"))
    assert core.generator.requests == [], "no model while imminent and unclaimed"
    assert "moderator" in core.channel.to("u1")[-1].text
    flag = (await core.store.flags.by_status())[0]
    assert (await core.manager.act(ModeratorAction(OPERATOR, ActionKind.CLAIM, flag.id))).ok
    await core.manager.handle(msg("u1", "are you still there"))
    assert len(core.generator.requests) == 1 and core.generator.requests[0].safe_mode


async def test_takeover_relays_both_ways_and_pauses_the_model(core: Core) -> None:
    await core.manager.handle(msg("u1", CRISIS_HIGH))
    flag = (await core.store.flags.by_status())[0]
    calls = len(core.generator.requests)
    result = await core.manager.act(ModeratorAction(OPERATOR, ActionKind.TAKEOVER, flag.id))
    assert result.ok and result.flag is not None and result.flag.session_state is SessionState.HUMAN
    assert "moderator has joined" in core.channel.to("u1")[-1].text.lower()

    await core.manager.handle(msg("u1", "hello? is someone there"))
    assert len(core.generator.requests) == calls, "the model is not called while a moderator holds the session"
    assert core.surface.relays[-1][1:] == ("User", "hello? is someone there")

    ref = core.surface.relays[-1][0]
    said = await core.manager.moderator_text(OPERATOR, core.surface.name, ref, "I'm here. Are you safe right now?")
    assert said is not None and said.ok
    last = core.channel.to("u1")[-1]
    assert last.kind is OutboundKind.MODERATOR and last.text == "Moderator: I'm here. Are you safe right now?"

    note = await core.manager.moderator_text(OPERATOR, core.surface.name, ref, "!note called back, seems calmer")
    assert note is not None and note.ok
    assert core.channel.to("u1")[-1] == last, "notes never reach the user"

    assert (await core.manager.act(ModeratorAction(OPERATOR, ActionKind.RELEASE, flag.id))).ok
    await core.manager.handle(msg("u1", "thanks, I feel a bit better"))
    assert len(core.generator.requests) == calls + 1, "release resumes the model"

    resolved = await core.manager.act(ModeratorAction(OPERATOR, ActionKind.RESOLVE, flag.id, "followed up", Outcome.SUPPORTED))
    assert resolved.ok and resolved.flag is not None and resolved.flag.status is FlagStatus.RESOLVED
    assert [n.text for n in await core.store.flags.notes(flag.id)] == ["called back, seems calmer", "followed up"]


async def test_non_moderator_actions_are_refused_audited_and_change_nothing(core: Core) -> None:
    await core.manager.handle(msg("u1", CRISIS_HIGH))
    flag = (await core.store.flags.by_status())[0]
    for kind in ActionKind:
        result = await core.manager.act(ModeratorAction(OUTSIDER, kind, flag.id, "x", Outcome.SUPPORTED))
        assert not result.ok and "only moderators" in result.message
    after = await core.store.flags.get(flag.id)
    assert after is not None and after.status is FlagStatus.OPEN and after.assignee_ref is None
    audit = await core.store.flags.audit_log(flag.id)
    assert len(audit) == len(ActionKind) and not any(a.allowed for a in audit)


async def test_first_claim_wins(core: Core) -> None:
    await core.manager.handle(msg("u1", CRISIS_HIGH))
    flag = (await core.store.flags.by_status())[0]
    other = Actor(Platform.CONSOLE, "op2", "Second")
    assert (await core.manager.act(ModeratorAction(OPERATOR, ActionKind.CLAIM, flag.id))).ok
    late = await core.manager.act(ModeratorAction(other, ActionKind.CLAIM, flag.id))
    assert not late.ok and "Operator" in late.message
    assert core.surface.last_view(flag.id).assignee == "Operator"


async def test_unclaimed_urgent_flag_is_repaged_also_after_a_restart(tmp_path: Path) -> None:
    now = [datetime(2026, 11, 29, 4, 0, tzinfo=UTC)]
    core = await make_core(tmp_path, clock=lambda: now[0], repage_delay_s=120)
    await core.manager.handle(msg("u1", CRISIS_HIGH))
    await core.manager.tick()
    assert not [r for r in core.surface.relays if "Still unclaimed" in r[2]]
    now[0] += timedelta(seconds=121)
    await core.manager.tick()
    assert len([r for r in core.surface.relays if "Still unclaimed" in r[2]]) == 1
    await core.close()

    restarted = await make_core(tmp_path, settings=core.settings, clock=lambda: now[0])
    now[0] += timedelta(seconds=121)
    await restarted.manager.tick()
    assert [r for r in restarted.surface.relays if "Still unclaimed" in r[2]], "re-paged after restart"
    flag = (await restarted.store.flags.by_status())[0]
    assert flag.repages == 2
    assert (await restarted.manager.act(ModeratorAction(OPERATOR, ActionKind.CLAIM, flag.id))).ok
    now[0] += timedelta(seconds=600)
    before = len(restarted.surface.relays)
    await restarted.manager.tick()
    assert len(restarted.surface.relays) == before, "a claimed flag is not re-paged"
    await restarted.close()


async def test_a_flag_posted_while_a_surface_is_down_is_posted_later(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    core.surface.fail_posts = 1
    await core.manager.handle(msg("u1", CRISIS_HIGH))
    assert core.surface.posts == []
    await core.manager.tick()
    assert len(core.surface.posts) == 1
    await core.close()


async def test_human_request_raises_its_own_kind_of_flag(core: Core) -> None:
    await core.manager.handle(msg("u1", "/human"))
    flags = await core.store.flags.by_status()
    assert len(flags) == 1 and flags[0].kind is FlagKind.HUMAN_REQUEST
    assert "moderator" in core.channel.to("u1")[-1].text


@pytest.mark.parametrize(
    ("error", "words"),
    [(GeneratorBusy("full"), "a lot of messages"), (GenerationTimeout("late"), "couldn't write a reply"), (RuntimeError("boom"), "couldn't write a reply")],
)
async def test_generator_failure_gets_an_honest_fallback(core: Core, error: BaseException, words: str) -> None:
    core.generator.fail_with = error
    await core.manager.handle(msg("u1", "hi there"))
    last = core.channel.to("u1")[-1]
    assert last.kind is OutboundKind.ERROR and words in last.text
    assert (await core.store.users.turn_counts()) == {"answered": 1}


async def test_flagged_session_fallback_includes_resources(core: Core) -> None:
    core.generator.fail_with = GenerationTimeout("late")
    await core.manager.handle(msg("u1", CRISIS_HIGH))
    last = core.channel.to("u1")[-1]
    assert last.kind is OutboundKind.ERROR and "findahelpline.com" in last.text


async def test_output_guard_replaces_unsafe_replies(core: Core) -> None:
    core.generator.reply = "As a licensed therapist, I can tell you that you have bipolar disorder."
    await core.manager.handle(msg("u1", "what is wrong with me"))
    last = core.channel.to("u1")[-1]
    assert "licensed therapist" not in last.text and "bipolar" not in last.text


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("", InboundKind.TEXT, "didn't receive any text"),
        ("   \u200b\u202e  ", InboundKind.TEXT, "didn't receive any text"),
        ("", InboundKind.NON_TEXT, "only read text"),
        ("/frobnicate now", InboundKind.TEXT, "don't know that command"),
        ("/country ../../etc", InboundKind.TEXT, "two-letter country code"),
    ],
)
async def test_bad_input_gets_a_clear_message(core: Core, text: str, kind: InboundKind, expected: str) -> None:
    await core.manager.handle(msg("u1", "/help"))
    await core.manager.handle(msg("u1", text, kind=kind))
    assert expected in core.channel.to("u1")[-1].text
    assert core.generator.requests == []


async def test_restart_marks_unanswered_messages_failed_and_tells_the_user(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    uid = (await core.store.users.get_or_create(UserRef(Platform.TELEGRAM, "u1"), "chat-u1", "en", datetime.now(UTC))).id
    await core.store.users.accept_message(uid, "accepted just before a crash", datetime.now(UTC), level=0, categories=(), reasons=())  # type: ignore[arg-type]
    await core.close()
    restarted = await make_core(tmp_path, settings=core.settings)
    assert await restarted.manager.recover() == 1
    assert "send it again" in restarted.channel.to("u1")[-1].text
    assert await restarted.store.users.turn_counts() == {"failed": 1}
    await restarted.close()


async def test_unreachable_user_is_marked_and_the_turn_fails_visibly(core: Core) -> None:
    await core.manager.handle(msg("u1", "/help"))
    core.channel.unreachable.add("u1")
    await core.manager.handle(msg("u1", "anyone?"))
    user = await core.store.users.find(UserRef(Platform.TELEGRAM, "u1"))
    assert user is not None and user.unreachable
    assert (await core.store.users.turn_counts()) == {"failed": 1}
