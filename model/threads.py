"""How many threads llama.cpp decodes with, chosen from the time each step takes.

llama.cpp's CPU threads meet at a barrier after every operation of a step (hundreds per
token) and spin while they wait. On a machine with a core free, a pool over every core
decodes faster; once the event loop, the OS or another process takes one of those cores,
the pool stalls at each barrier and a step takes several times as long as with one
thread fewer (measured in docs/model.md). No fixed count is right for both, so the
backend times each `llama_decode` and `ThreadTuner` keeps, for each shape of step (how
many tokens, over how many sequences), a running cost per token of every candidate
count. It uses the cheapest, and every so often tries another for one step: a probe,
which replaces that candidate's stale figure. A probe that
loses makes the next one twice as far away (up to `max_probe_every` steps), so a machine
that stays busy pays for one slow step in 128, and one whose core comes free again finds
it within 128 steps; a probe that wins switches at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def default_threads() -> int:
    """Every usable core but one: the fixed count for a spinning pool that has no tuner
    (torch's), since one busy core stalls a pool that uses them all."""
    return max(1, usable_cores() - 1)


def candidates(pinned: int | None = None, cores: int | None = None) -> tuple[int, ...]:
    """The thread counts to choose between: `pinned` alone when the operator set one, else
    every core but one (tried first: the count that survives a busy core) and every core."""
    if pinned is not None:
        return (pinned,)
    cores = cores or usable_cores()
    return tuple(dict.fromkeys((max(1, cores - 1), cores)))


def size_class(count: int) -> int:
    """Exact up to 8, then the next power of two: steps are compared with steps of about
    the same size."""
    return count if count <= 8 else 1 << (count - 1).bit_length()


Shape = tuple[int, int]  # size classes of a step's tokens and of its sequences


@dataclass
class _Record:
    interval: int
    cost: dict[int, float] = field(default_factory=dict)  # seconds per token
    since_probe: int = 0
    probes: int = 0
    probing: int | None = None


class ThreadTuner:
    """Chooses the thread count of each llama.cpp step from the cost of earlier ones.

    `single`: the candidates for steps of one token (one sequence decoding alone), which
    llama.cpp runs on `n_threads`; `batch`: for steps of several (prompts, several
    sequences at once), run on `n_threads_batch`. Each is tried in order before the
    cheapest is used; the first of each is the count to start a context with. Not
    thread-safe: the backend calls it under its lock.
    """

    def __init__(self, single: Sequence[int], batch: Sequence[int], *, probe_every: int = 16,
                 max_probe_every: int = 128, smoothing: float = 0.2) -> None:
        if not single or not batch or min((*single, *batch)) < 1:
            raise ValueError("thread candidates must be positive and non-empty")
        self.single, self.batch = tuple(single), tuple(batch)
        self._probe_every, self._max_probe_every = probe_every, max_probe_every
        self._smoothing = smoothing
        self._records: dict[Shape, _Record] = {}

    def choose(self, tokens: int, sequences: int = 1) -> int:
        """The thread count for a step of `tokens` tokens of `sequences` sequences (a
        prompt spread over several costs more than one of the same length); report its
        time to `observe`."""
        options = self.options(tokens)
        if len(options) == 1:
            return options[0]
        record = self._record(tokens, sequences)
        untried = [n for n in options if n not in record.cost]
        if untried:
            record.probing = untried[0]
            return untried[0]
        best = min(options, key=record.cost.__getitem__)
        record.since_probe += 1
        if record.since_probe < record.interval:
            return best
        record.since_probe = 0
        others = [n for n in options if n != best]
        record.probing = others[record.probes % len(others)]
        record.probes += 1
        return record.probing

    def observe(self, tokens: int, threads: int, seconds: float, sequences: int = 1) -> None:
        """How long a step chosen by `choose(tokens, sequences)` took on `threads` threads."""
        options = self.options(tokens)
        if len(options) == 1 or threads not in options:
            return
        record = self._record(tokens, sequences)
        per_token = seconds / tokens
        if record.probing != threads and threads in record.cost:
            record.cost[threads] += self._smoothing * (per_token - record.cost[threads])
            return
        record.cost[threads] = per_token
        record.probing = None
        if len(record.cost) == len(options):
            won = min(options, key=record.cost.__getitem__) == threads
            record.interval = self._probe_every if won else min(record.interval * 2, self._max_probe_every)

    def options(self, tokens: int) -> tuple[int, ...]:
        """The candidates for a step of `tokens` tokens."""
        return self.single if tokens == 1 else self.batch

    def preferred(self) -> dict[Shape, int]:
        """For each shape of step (tokens, sequences, as size classes) seen with a choice
        to make, the count now cheapest (for the benchmark)."""
        return {shape: min(record.cost, key=record.cost.__getitem__)
                for shape, record in sorted(self._records.items()) if record.cost}

    def _record(self, tokens: int, sequences: int) -> _Record:
        shape = (size_class(tokens), size_class(sequences))
        return self._records.setdefault(shape, _Record(interval=self._probe_every))
