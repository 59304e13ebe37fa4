"""What the core stores of the references a surface hands back: a posted flag's primary
reference and aliases, and the reference of a message a surface had to post afresh; through
the real manager on a real SQLite file, with the recording surface."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.types import ActionKind, Actor, FlagStatus, Inbound, ModeratorAction, Platform, SessionState, UserRef
from bot.store.records import MappingRecord
from tests.support.core import Core, make_core

OPERATOR = Actor(Platform.CONSOLE, "op", "Operator")
CRISIS = "I want to kill myself. I've been thinking about how I would do it."


async def flagged(core: Core) -> int:
    await core.manager.handle(Inbound(UserRef(Platform.TELEGRAM, "u1"), "chat-u1", CRISIS, datetime.now(UTC), locale="en"))
    (flag,) = await core.store.flags.by_status()
    return flag.id


async def test_aliases_map_moderator_text_to_the_flag_and_only_the_primary_is_edited(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    core.surface.aliases = 2
    flag_id = await flagged(core)

    assert await core.store.flags.mappings(flag_id) == [MappingRecord(flag_id, "test", f"test-ref-{flag_id}", True)]
    for alias in (f"test-alias-{flag_id}-0", f"test-alias-{flag_id}-1"):
        assert await core.store.flags.find_mapping("test", alias) == MappingRecord(flag_id, "test", alias, False)
        note = await core.manager.moderator_text(OPERATOR, "test", alias, f"!note seen under {alias}")
        assert note is not None and note.ok
    assert [n.text for n in await core.store.flags.notes(flag_id)] == [f"seen under test-alias-{flag_id}-{n}" for n in (0, 1)]

    assert (await core.manager.act(ModeratorAction(OPERATOR, ActionKind.CLAIM, flag_id))).ok
    assert {ref for ref, _ in core.surface.updates} == {f"test-ref-{flag_id}"}, "an alias is no place to edit"
    assert {ref for ref, _, _ in core.surface.relays} == {f"test-ref-{flag_id}"}, "nor to relay to"
    assert len(core.surface.posts) == 1
    await core.close()


async def test_a_message_posted_afresh_becomes_the_primary_reference_also_after_a_restart(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    flag_id = await flagged(core)
    first = f"test-ref-{flag_id}"
    core.surface.gone.add(first)  # a moderator deleted the card

    assert (await core.manager.act(ModeratorAction(OPERATOR, ActionKind.CLAIM, flag_id))).ok
    (replaced, _), = core.surface.updates
    assert replaced == first
    (mapping,) = await core.store.flags.mappings(flag_id)
    second = mapping.ref
    assert second != first and mapping.primary
    assert await core.store.flags.find_mapping("test", first) == MappingRecord(flag_id, "test", first, False)
    note = await core.manager.moderator_text(OPERATOR, "test", first, "!note the old reference still reaches the flag")
    assert note is not None and note.ok
    assert core.surface.updates[-1][0] == second and core.surface.relays[-1][0] == second
    await core.close()

    restarted = await make_core(tmp_path, settings=core.settings)
    result = await restarted.manager.act(ModeratorAction(OPERATOR, ActionKind.TAKEOVER, flag_id))
    assert result.ok and result.flag is not None and result.flag.session_state is SessionState.HUMAN
    assert [ref for ref, _ in restarted.surface.updates] == [second], "the fresh message is edited, not posted again"
    assert restarted.surface.posts == []
    assert [m.ref for m in await restarted.store.flags.mappings(flag_id)] == [second]
    await restarted.close()


async def test_only_the_first_of_two_concurrent_replacements_becomes_primary(tmp_path: Path) -> None:
    core = await make_core(tmp_path)
    flag_id = await flagged(core)
    first, now = f"test-ref-{flag_id}", datetime.now(UTC)

    assert await core.store.flags.replace_primary(flag_id, "test", first, "card-a", now)
    assert not await core.store.flags.replace_primary(flag_id, "test", first, "card-b", now)
    assert [m.ref for m in await core.store.flags.mappings(flag_id)] == ["card-a"]
    assert await core.store.flags.find_mapping("test", "card-b") == MappingRecord(flag_id, "test", "card-b", False)
    assert await core.store.flags.find_mapping("test", first) == MappingRecord(flag_id, "test", first, False)
    assert (await core.manager.act(ModeratorAction(OPERATOR, ActionKind.CLAIM, flag_id))).flag is not None
    assert core.surface.updates[-1][0] == "card-a"
    flag = await core.store.flags.get(flag_id)
    assert flag is not None and flag.status is FlagStatus.CLAIMED
    await core.close()


async def test_concurrent_refreshes_of_a_flag_whose_card_is_gone_post_it_afresh_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    core = await make_core(tmp_path)
    flag_id = await flagged(core)
    first = f"test-ref-{flag_id}"
    core.surface.gone.add(first)
    core.surface.update_delay = 0.05

    notes = await asyncio.gather(*(core.manager.moderator_text(OPERATOR, "test", first, f"!note {n}") for n in range(3)))
    assert all(note is not None and note.ok for note in notes)
    refs = [ref for ref, _ in core.surface.updates]
    assert refs[0] == first and len(set(refs[1:])) == 1 and refs[1] != first, "posted afresh once, then edited"
    assert [m.ref for m in await core.store.flags.mappings(flag_id)] == [refs[1]]
    assert "posted afresh twice" not in caplog.text
    assert sorted(n.text for n in await core.store.flags.notes(flag_id)) == ["0", "1", "2"]
    await core.close()
