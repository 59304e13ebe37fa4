"""Where the llama.cpp backend decodes each prompt, and what it reuses (model.kv_streams)."""

from __future__ import annotations

import pytest

from model.kv_streams import Placement, StreamCache, common_prefix

SYSTEM = tuple(range(100, 140))  # 40 tokens every prompt starts with
TALK = tuple(range(1000, 1030))  # a conversation's first 30 tokens after the system prompt


def turn(*tokens: int) -> tuple[int, ...]:
    return SYSTEM + tokens


def test_common_prefix() -> None:
    assert common_prefix((1, 2, 3), (1, 2, 4)) == 2
    assert common_prefix((1, 2), (1, 2, 3)) == 2
    assert common_prefix((), (1,)) == 0


def test_a_cold_cache_reuses_nothing_and_spreads_prompts_over_streams() -> None:
    cache = StreamCache(4)
    plan = cache.plan([turn(1), turn(2), turn(3)])
    assert [p.prompt for p in plan] == [0, 1, 2]
    assert len({p.stream for p in plan}) == 3
    assert all(p.reuse == 0 and p.copy_from is None for p in plan)


def test_a_conversation_goes_back_to_the_stream_that_holds_it() -> None:
    cache = StreamCache(4)
    first = turn(1, 2, 3)
    cache.record(2, first + (7, 8))  # prompt + the reply generated there
    cache.record(0, turn(9, 9, 9))
    [placement] = cache.plan([first + (7, 8, 4, 5)])  # the next turn: old prompt, reply, new text
    assert placement == Placement(0, 2, len(first) + 2)


def test_reuse_always_leaves_the_last_token_to_evaluate() -> None:
    cache = StreamCache(1)
    cache.record(0, turn(1, 2, 3))
    [placement] = cache.plan([turn(1, 2, 3)])
    assert placement.reuse == len(turn(1, 2, 3)) - 1


def test_a_new_conversation_starts_from_a_copy_of_the_system_prompt() -> None:
    cache = StreamCache(3)
    cache.record(0, turn(1, *TALK))
    cache.record(1, turn(2, *TALK))
    # Stream 2 is empty: the new conversation goes there, keeping the two conversations
    # cached, and copies a stream holding the system prompt instead of evaluating it again.
    [placement] = cache.plan([turn(3, 3)])
    assert placement.stream == 2
    assert placement.copy_from in (0, 1)
    assert placement.reuse == len(SYSTEM)


def test_no_copy_when_it_saves_too_little() -> None:
    cache = StreamCache(2, min_copy_gain=16)
    cache.record(0, (1, 2, 3, 4, 5))
    cache.record(1, (9,))
    [placement, other] = cache.plan([(1, 2, 3, 4, 6, 7), (9, 9)])
    assert placement == Placement(0, 0, 4)
    assert other == Placement(1, 1, 1)
    cache = StreamCache(2, min_copy_gain=16)
    cache.record(0, (1, 2, 3, 4, 5))
    [placement] = cache.plan([(9, 9)])
    assert placement.copy_from is None and placement.reuse == 0


def test_a_new_conversation_evicts_the_stream_used_longest_ago() -> None:
    cache = StreamCache(2)
    cache.record(0, turn(1, *TALK))  # older
    cache.record(1, turn(2, *TALK))  # newer
    [placement] = cache.plan([turn(3, 3)])
    assert placement == Placement(0, 0, len(SYSTEM))
    cache.record(0, turn(3, 3, *TALK))
    [placement] = cache.plan([turn(4, 4)])
    assert placement.stream == 1


def test_a_stream_copied_from_never_receives_a_copy_in_the_same_batch() -> None:
    cache = StreamCache(3)
    cache.record(0, turn(1, 1))
    cache.record(1, (5,))
    cache.record(2, (6,))
    plan = cache.plan([turn(1, 1, 2), turn(4), turn(5)])
    sources = {p.copy_from for p in plan if p.copy_from is not None}
    destinations = {p.stream for p in plan if p.copy_from is not None}
    assert sources and not sources & destinations
    assert plan[0] == Placement(0, 0, len(turn(1, 1)))
    assert all(p.reuse == len(SYSTEM) for p in plan[1:])


def test_every_prompt_gets_its_own_stream() -> None:
    cache = StreamCache(4)
    for s in range(4):
        cache.record(s, turn(1))
    plan = cache.plan([turn(1, 2), turn(1, 3), turn(1, 4), turn(1, 5)])
    assert sorted(p.stream for p in plan) == [0, 1, 2, 3]
    assert all(p.reuse == len(turn(1)) for p in plan)


def test_forgotten_streams_reuse_nothing() -> None:
    cache = StreamCache(2)
    cache.record(0, turn(1))
    cache.record(1, turn(1))
    cache.forget(0)
    cache.forget(1)
    [placement] = cache.plan([turn(1, 2)])
    assert placement.reuse == 0 and placement.copy_from is None
    cache.record(1, turn(1))
    cache.forget_all()
    assert cache.held(1) == ()


def test_bad_batches_are_refused() -> None:
    cache = StreamCache(2)
    with pytest.raises(ValueError, match="exceeds"):
        cache.plan([(1,), (2,), (3,)])
    with pytest.raises(ValueError, match="empty"):
        cache.plan([()])
    with pytest.raises(ValueError):
        StreamCache(0)


def test_a_batch_shares_its_common_prefix_once_when_no_stream_holds_it() -> None:
    cache = StreamCache(4)
    batch = [turn(1, 2), turn(3, 4), turn(5)]
    assert cache.prefix_to_share(batch) == len(SYSTEM)
    cache.record(0, SYSTEM)
    assert cache.prefix_to_share(batch) == 0, "a stream already holds it: the plan copies that one"


def test_no_prefix_is_shared_by_one_prompt_or_when_it_is_short() -> None:
    cache = StreamCache(4, min_copy_gain=16)
    assert cache.prefix_to_share([turn(1, 2)]) == 0
    assert cache.prefix_to_share([(1, 2, 3, 9), (1, 2, 3, 8)]) == 0
    # The last token of every prompt is evaluated for its logits, never shared.
    assert cache.prefix_to_share([turn(1), turn(1)]) == len(turn(1)) - 1
