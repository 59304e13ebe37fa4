"""Which llama.cpp KV stream decodes which prompt, and how much of it is already computed.

The llama.cpp backend gives every sequence of a batch a KV stream of its own (its
attention never sees another sequence's cells) and keeps what each stream holds after
the batch. A conversation's next turn starts with everything its stream computed last
time (system prompt, earlier turns, the reply generated there), so only the new text is
evaluated; a new conversation at least shares the system prompt with every stream.

`StreamCache.plan` places a batch's prompts on streams: a conversation goes back to the
stream that holds it; a new one takes the stream used longest ago (so the most recent
conversations stay cached) and starts from a copy of a stream that shares its system
prompt (llama.cpp copies whole streams only). This module is bookkeeping alone, no
llama.cpp calls, so it is tested on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    """Prompt `prompt` (its index in the batch) is decoded as sequence `stream`.

    `copy_from`: first replace the stream's cache with a copy of that stream's. `reuse`:
    how many leading tokens of the prompt the stream then already holds; the rest is
    evaluated. Always less than the prompt's length: the last token is evaluated for
    its logits.
    """

    prompt: int
    stream: int
    reuse: int
    copy_from: int | None = None


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """The length of the longest common prefix of two token sequences."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class StreamCache:
    """What each of `streams` KV streams holds, and where the next batch goes.

    A copy is made only when it saves at least `min_copy_gain` tokens of evaluation
    (copying a stream costs about as much as evaluating a few tokens).
    """

    def __init__(self, streams: int, *, min_copy_gain: int = 16) -> None:
        if streams < 1:
            raise ValueError("a stream cache needs at least one stream")
        self.streams = streams
        self.min_copy_gain = min_copy_gain
        self._held: list[tuple[int, ...]] = [() for _ in range(streams)]
        self._used = [0] * streams
        self._clock = 0

    def held(self, stream: int) -> tuple[int, ...]:
        """The tokens whose keys and values the stream holds, positions 0 onwards."""
        return self._held[stream]

    def plan(self, prompts: Sequence[Sequence[int]]) -> list[Placement]:
        """Place every prompt on its own stream; one `Placement` per prompt, in order.

        First the continuations: a prompt goes back to a stream it would discard at most
        `min_copy_gain` tokens of (its conversation so far, largest reuse first). Every
        other prompt takes the stream used longest ago (empty ones first), starting from
        a copy of whichever stream shares most with it, when that saves enough.
        """
        if len(prompts) > self.streams:
            raise ValueError(f"batch of {len(prompts)} exceeds the {self.streams} KV streams")
        if any(not p for p in prompts):
            raise ValueError("an empty prompt cannot be decoded")
        shared = [[min(common_prefix(p, held), len(p) - 1) for held in self._held] for p in prompts]
        stream_of: dict[int, int] = {}
        continuations = sorted(
            (
                (i, s) for i in range(len(prompts)) for s in range(self.streams)
                if shared[i][s] > 0 and len(self._held[s]) - shared[i][s] <= self.min_copy_gain
            ),
            key=lambda pair: (-shared[pair[0]][pair[1]], pair[0]),
        )
        for i, s in continuations:
            if i not in stream_of and s not in stream_of.values():
                stream_of[i] = s
        free = sorted((s for s in range(self.streams) if s not in stream_of.values()), key=lambda s: self._used[s])
        for i in range(len(prompts)):
            if i not in stream_of:
                stream_of[i] = free.pop(0)
        # The copies are made together before anything is evaluated, so a stream copied
        # from never receives a copy in the same batch, nor the other way round.
        sources: set[int] = set()
        destinations: set[int] = set()
        placements = []
        for i in range(len(prompts)):
            s = stream_of[i]
            best, source = shared[i][s], None
            if s not in sources:
                for t in range(self.streams):
                    gain_enough = shared[i][t] >= max(best + 1, shared[i][s] + self.min_copy_gain)
                    if t != s and t not in destinations and gain_enough:
                        best, source = shared[i][t], t
            if source is not None:
                sources.add(source)
                destinations.add(s)
            placements.append(Placement(i, s, best, source))
        return placements

    def prefix_to_share(self, prompts: Sequence[Sequence[int]]) -> int:
        """How many leading tokens, common to every prompt of the batch, to evaluate once
        before `plan` (which then copies them to the other streams); 0 when no stream lacks
        enough of them to make it worth it (a single prompt, or the prefix already held)."""
        if len(prompts) < 2:
            return 0
        first = prompts[0]
        shared = min(min(common_prefix(first, p), len(p) - 1) for p in prompts[1:])
        held = max(common_prefix(first[:shared], tokens) for tokens in self._held)
        return shared if shared - held >= self.min_copy_gain else 0

    def record(self, stream: int, tokens: Sequence[int]) -> None:
        """The stream now holds `tokens` (after a batch decoded on it)."""
        self._clock += 1
        self._held[stream] = tuple(tokens)
        self._used[stream] = self._clock

    def forget(self, stream: int) -> None:
        """The stream's contents are unknown (a failed decode): reuse nothing from it."""
        self._held[stream] = ()

    def forget_all(self) -> None:
        self._held = [() for _ in range(self.streams)]
