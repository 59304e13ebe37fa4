"""The authorisation matrix (issue 8, part 4): every moderator action, from Discord and from
Telegram, by a moderator, a non-moderator, a moderator of another guild or group, the
flagged user and another user. Refused actions are audited and change nothing; the
moderator's go through. Authorisation is the core's (`Moderation.is_moderator`), whatever
a platform's UI shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.types import (
    ActionKind,
    Actor,
    FlagStatus,
    Inbound,
    ModeratorAction,
    Outcome,
    Platform,
    SessionState,
    UserRef,
)
from tests.support.core import Core, make_core

GUILD, OTHER_GUILD, ROLE = 7001, 7002, 7101
GROUP, OTHER_GROUP = -1007001, -1007002
LISTED = 4242  # a Telegram moderator by id (TELEGRAM_MODERATOR_IDS)
CRISIS = "I want to kill myself, I have been thinking about how I would do it"


@dataclass(frozen=True)
class Cast:
    moderator: Actor
    refused: dict[str, Actor]


CASTS = {
    Platform.DISCORD: Cast(
        moderator=Actor(Platform.DISCORD, "9001", "Dana", context=str(GUILD), roles=frozenset({str(ROLE)})),
        refused={
            "non-moderator": Actor(Platform.DISCORD, "9002", "Nils", context=str(GUILD), roles=frozenset({"7999"})),
            "moderator of another guild": Actor(Platform.DISCORD, "9003", "Olga", context=str(OTHER_GUILD), roles=frozenset({str(ROLE)})),
            "the flagged user": Actor(Platform.DISCORD, "flagged", "Flagged", context=None, roles=frozenset()),
            "another user": Actor(Platform.DISCORD, "9004", "Eve", context="dm-9004", roles=frozenset({str(ROLE)})),
        },
    ),
    Platform.TELEGRAM: Cast(
        moderator=Actor(Platform.TELEGRAM, "501", "Alice", context=str(GROUP), roles=frozenset({"administrator"})),
        refused={
            "non-moderator": Actor(Platform.TELEGRAM, "502", "Ned", context=str(GROUP), roles=frozenset({"left"})),
            "moderator of another group": Actor(Platform.TELEGRAM, str(LISTED), "Lis", context=str(OTHER_GROUP), roles=frozenset({"creator"})),
            "the flagged user": Actor(Platform.TELEGRAM, "flagged", "Flagged", context="flagged", roles=frozenset({"member"})),
            "another user": Actor(Platform.TELEGRAM, "503", "Eve", context="503", roles=frozenset({"administrator"})),
        },
    ),
}
NEEDS_TAKEOVER = {ActionKind.SAY, ActionKind.RELEASE}


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    opened = await make_core(
        tmp_path,
        discord_mod_guild_id=GUILD,
        discord_mod_role_id=ROLE,
        telegram_mod_group_id=GROUP,
        telegram_moderator_ids=str(LISTED),
    )
    yield opened
    await opened.close()


async def flagged(core: Core, platform: Platform) -> int:
    await core.manager.handle(Inbound(UserRef(platform, "flagged"), "chat-flagged", CRISIS, datetime.now(UTC), locale="en"))
    flags = await core.store.flags.by_status()
    assert len(flags) == 1
    return flags[0].id


async def state(core: Core, flag_id: int, platform: Platform) -> tuple[Any, ...]:
    """Everything an action could change: flag, session, user, notes, what the user and
    the moderators were sent."""
    store = core.store
    flag = await store.flags.get(flag_id)
    assert flag is not None and flag.session_id is not None
    user = await store.users.find(UserRef(platform, "flagged"))
    notes = [(n.author_name, n.text) for n in await store.flags.notes(flag_id)]
    return flag, await store.users.get_session(flag.session_id), user, notes, len(core.channel.sent), len(core.surface.relays)


def action(actor: Actor, kind: ActionKind, flag_id: int) -> ModeratorAction:
    return ModeratorAction(actor, kind, flag_id, "a note or a message", Outcome.SUPPORTED if kind is ActionKind.RESOLVE else None)


@pytest.mark.parametrize("kind", list(ActionKind), ids=[k.value for k in ActionKind])
@pytest.mark.parametrize("platform", [Platform.DISCORD, Platform.TELEGRAM], ids=["discord", "telegram"])
async def test_only_the_moderator_can_act_and_refusals_are_audited_and_change_nothing(
    core: Core, platform: Platform, kind: ActionKind
) -> None:
    cast = CASTS[platform]
    flag_id = await flagged(core, platform)
    if kind in NEEDS_TAKEOVER:
        assert (await core.manager.act(ModeratorAction(cast.moderator, ActionKind.TAKEOVER, flag_id))).ok
    audited = len(await core.store.flags.audit_log(flag_id))

    for who, actor in cast.refused.items():
        before = await state(core, flag_id, platform)
        result = await core.manager.act(action(actor, kind, flag_id))
        assert not result.ok and "only moderators" in result.message, who
        if kind in (ActionKind.SAY, ActionKind.NOTE):  # typed in the flag's thread instead of pressed
            ref = f"{core.surface.name}-ref-{flag_id}"
            typed = await core.manager.moderator_text(actor, core.surface.name, ref, "!note hi" if kind is ActionKind.NOTE else "hi")
            assert typed is not None and not typed.ok, who
        assert await state(core, flag_id, platform) == before, f"{who} changed something"
        log = await core.store.flags.audit_log(flag_id)
        new = log[audited:]
        assert new and all(not a.allowed and a.actor_ref == actor.ref and a.action == kind.value for a in new), who
        assert all("only moderators" in a.detail for a in new)
        audited = len(log)

    before = await state(core, flag_id, platform)
    result = await core.manager.act(action(cast.moderator, kind, flag_id))
    assert result.ok, result.message
    assert (await core.store.flags.audit_log(flag_id))[-1].allowed
    await expect_done(core, kind, flag_id, platform, before)


async def expect_done(core: Core, kind: ActionKind, flag_id: int, platform: Platform, before: tuple[Any, ...]) -> None:
    flag, session, user, notes, sent, _ = await state(core, flag_id, platform)
    if kind is ActionKind.CLAIM:
        assert flag.status is FlagStatus.CLAIMED
    elif kind is ActionKind.TAKEOVER:
        assert flag.status is FlagStatus.CLAIMED and session.state is SessionState.HUMAN
    elif kind is ActionKind.SAY:
        assert core.channel.sent[-1].text.endswith("a note or a message") and sent == before[4] + 1
    elif kind is ActionKind.RELEASE:
        assert session.state is SessionState.AI
    elif kind is ActionKind.RESOLVE:
        assert flag.status is FlagStatus.RESOLVED and flag.outcome is Outcome.SUPPORTED
    elif kind is ActionKind.NOTE:
        assert notes[-1][1] == "a note or a message" and sent == before[4], "notes never reach the user"
    elif kind is ActionKind.BLOCK:
        assert user is not None and user.blocked


@pytest.mark.parametrize("platform", [Platform.DISCORD, Platform.TELEGRAM], ids=["discord", "telegram"])
async def test_a_moderator_cannot_speak_through_another_moderators_takeover(core: Core, platform: Platform) -> None:
    """Authorised moderators are still bound by who holds the flag."""
    cast = CASTS[platform]
    second = Actor(platform, "777", "Second", context=cast.moderator.context, roles=cast.moderator.roles)
    flag_id = await flagged(core, platform)
    assert (await core.manager.act(ModeratorAction(cast.moderator, ActionKind.TAKEOVER, flag_id))).ok
    for kind in (ActionKind.SAY, ActionKind.RELEASE, ActionKind.TAKEOVER, ActionKind.RESOLVE, ActionKind.CLAIM):
        before = await state(core, flag_id, platform)
        result = await core.manager.act(action(second, kind, flag_id))
        assert not result.ok, kind
        assert await state(core, flag_id, platform) == before, kind
        entry = (await core.store.flags.audit_log(flag_id))[-1]
        assert not entry.allowed and entry.actor_ref == second.ref


async def test_a_listed_telegram_moderator_is_one_only_in_the_moderator_group(core: Core) -> None:
    flag_id = await flagged(core, Platform.TELEGRAM)
    elsewhere = Actor(Platform.TELEGRAM, str(LISTED), "Lis", context=str(OTHER_GROUP))
    assert not (await core.manager.act(ModeratorAction(elsewhere, ActionKind.CLAIM, flag_id))).ok
    in_group = Actor(Platform.TELEGRAM, str(LISTED), "Lis", context=str(GROUP), roles=frozenset({"left"}))
    assert (await core.manager.act(ModeratorAction(in_group, ActionKind.CLAIM, flag_id))).ok


async def test_a_non_moderator_learns_nothing_about_which_flags_exist(core: Core) -> None:
    """Bug fixed: the existence of a flag was checked before the actor, so probing ids told a
    non-moderator which flags existed ("there is no such flag" vs "only moderators")."""
    flag_id = await flagged(core, Platform.TELEGRAM)
    outsider = CASTS[Platform.TELEGRAM].refused["another user"]
    real = await core.manager.act(ModeratorAction(outsider, ActionKind.CLAIM, flag_id))
    missing = await core.manager.act(ModeratorAction(outsider, ActionKind.CLAIM, flag_id + 100))
    assert real.message == missing.message == "Refused: only moderators can do that."
    assert [a.allowed for a in await core.store.flags.audit_log()] == [False, False]
