"""ThreadTuner: llama.cpp's thread count chosen from measured step times.

The simulated machine below has the shape measured on 2 cores (docs/model.md): with the
second core free, 2 threads decode a step in 0.6 of 1 thread's time; with a busy
neighbour on it, 2 threads stall at every barrier and take 3x as long.
"""

from __future__ import annotations

import random

import pytest

from model.threads import ThreadTuner, candidates, size_class


def step_cost(threads: int, busy: bool) -> float:
    if threads == 1:
        return 1.0
    return 3.0 if busy else 0.6


def run(tuner: ThreadTuner, busy: list[bool], tokens: int = 8, noise: float = 0.0, seed: int = 0) -> tuple[float, list[int]]:
    """Decode one step of `tokens` sequences per entry of `busy`; the total cost and each
    step's thread count."""
    rng = random.Random(seed)
    total, used = 0.0, []
    for neighbour in busy:
        threads = tuner.choose(tokens, tokens)
        seconds = step_cost(threads, neighbour) * tokens * (1 + rng.uniform(-noise, noise))
        tuner.observe(tokens, threads, seconds, tokens)
        total += seconds
        used.append(threads)
    return total, used


def test_candidates_are_all_cores_but_one_then_all_unless_pinned() -> None:
    assert candidates(cores=2) == (1, 2)
    assert candidates(cores=16) == (15, 16)
    assert candidates(cores=1) == (1,)
    assert candidates(pinned=3, cores=16) == (3,)


def test_a_pinned_count_is_always_used() -> None:
    tuner = ThreadTuner(single=(1,), batch=(2,))
    _, single = run(tuner, [True] * 50, tokens=1)
    _, batch = run(tuner, [True] * 50, tokens=8)
    assert set(single) == {1} and set(batch) == {2}
    assert tuner.preferred() == {}


def test_each_candidate_is_tried_once_then_the_cheapest_is_used() -> None:
    tuner = ThreadTuner(single=(1, 2), batch=(1, 2))
    _, used = run(tuner, [False] * 15)
    assert used[:2] == [1, 2]
    assert set(used[2:]) == {2}
    assert tuner.preferred() == {(8, 8): 2}


def test_a_neighbour_arriving_moves_the_tuner_to_fewer_threads_and_back_once_it_leaves() -> None:
    tuner = ThreadTuner(single=(1, 2), batch=(1, 2))
    busy = [False] * 100 + [True] * 400 + [False] * 400
    total, used = run(tuner, busy, noise=0.1)
    assert used[100:110].count(1) >= 8  # after one or two slow steps it leaves 2 threads
    assert used[150:500].count(2) <= 10  # only probes while the neighbour stays
    assert used[-250:].count(1) <= 5  # a probe found the free core again within 150 steps
    oracle = sum(min(step_cost(1, b), step_cost(2, b)) * 8 for b in busy)
    pinned_all = sum(step_cost(2, b) * 8 for b in busy)
    pinned_safe = sum(step_cost(1, b) * 8 for b in busy)
    assert total < 1.1 * oracle
    assert total < 0.55 * pinned_all and total < 0.9 * pinned_safe


def test_probes_that_keep_losing_come_ever_more_rarely() -> None:
    tuner = ThreadTuner(single=(1, 2), batch=(1, 2), probe_every=16, max_probe_every=128)
    _, used = run(tuner, [True] * 2000)
    probes = [i for i, n in enumerate(used) if n == 2]
    gaps = [b - a for a, b in zip(probes, probes[1:], strict=False)]
    assert gaps == sorted(gaps)  # backing off
    assert gaps[-1] == 128  # capped
    assert len(probes) <= 20


def test_a_winning_probe_switches_at_once() -> None:
    tuner = ThreadTuner(single=(1, 2), batch=(1, 2), probe_every=4)
    run(tuner, [True] * 40)  # 1 thread preferred
    assert tuner.preferred() == {(8, 8): 1}
    _, used = run(tuner, [False] * 40)
    first = used.index(2)
    assert first <= 32  # the next probe
    assert used[first:].count(1) <= 3  # then 2 threads, but for probes


def test_shapes_of_step_are_tuned_apart() -> None:
    """A batch of 8 can prefer all cores while one sequence alone prefers fewer, and a
    prompt of one sequence another count than a prompt spread over eight."""
    tuner = ThreadTuner(single=(1, 2), batch=(1, 2))
    rng = random.Random(1)
    costs = {(1, 1): {1: 1.0, 2: 1.5}, (8, 8): {1: 1.0, 2: 0.6}, (300, 1): {1: 1.0, 2: 0.7}, (300, 8): {1: 1.0, 2: 1.2}}
    for _ in range(400):
        tokens, sequences = rng.choice(list(costs))
        threads = tuner.choose(tokens, sequences)
        tuner.observe(tokens, threads, costs[tokens, sequences][threads] * tokens, sequences)
    assert tuner.preferred() == {(1, 1): 1, (8, 8): 2, (512, 1): 2, (512, 8): 1}


def test_size_classes() -> None:
    assert [size_class(n) for n in (1, 2, 8, 9, 16, 17, 300, 512)] == [1, 2, 8, 16, 16, 32, 512, 512]


def test_an_observation_of_a_count_it_does_not_choose_from_is_ignored() -> None:
    tuner = ThreadTuner(single=(1, 2), batch=(1, 2))
    tuner.observe(8, 7, 0.001, 8)
    assert tuner.preferred() == {}


@pytest.mark.parametrize("single, batch", [((), (1,)), ((1,), (0, 1))])
def test_bad_candidates_are_refused(single: tuple[int, ...], batch: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        ThreadTuner(single, batch)
