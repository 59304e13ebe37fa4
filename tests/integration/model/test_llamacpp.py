"""The llama.cpp backend on the real default model: batched decoding, KV streams kept
between turns, failures, and the Q8_0 copy of the shipped GGUF.

Needs the fetched default model and llama-cpp-python (`make test` installs both);
skipped with the instruction otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.core.ports import ChatTurn, GenerationRequest, Role
from bot.errors import ConfigError
from model import llamacpp
from model.backend import RenderedPrompt
from model.default import default_gguf_path, default_model_path, is_fetched, shipped_gguf_path
from model.llamacpp import LlamaCppBackend, LlamaCppOptions
from model.threads import ThreadTuner, candidates

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TOKENS = 32
# Batched and single-row kernels round differently; where a reply decoded in a batch parts
# from the one decoded alone, the two tokens must be this close in the alone logits.
NEAR_TIE = 0.5
QUESTIONS = [
    "I've been feeling anxious about my new job and I can't sleep at night. What can I do?",
    "My partner and I argue about everything lately and I feel like giving up on us.",
    "Since I moved to a new city I feel lonely and I don't know how to make friends.",
    "My mother died three months ago and I still cry every day. Is that normal?",
    "I failed an important exam and my parents are disappointed in me.",
    "I get panic attacks on the bus and now I'm scared to go to school.",
    "My best friend stopped answering my messages and I keep wondering what I did wrong.",
    "I think I drink too much on weekends to cope with stress. How do I cut down?",
]


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    settings = load_settings(base_model=None, adapter_path=None)
    if not is_fetched(settings.model_cache_dir):
        pytest.skip(f"the default model is not in {default_model_path(settings.model_cache_dir)}: "
                    "run `counselbot model fetch-default` (make test does it first)")
    if not llamacpp.available():
        pytest.skip(f"llama-cpp-python is not installed: {llamacpp.INSTALL_HINT}")
    return settings.model_cache_dir


@pytest.fixture
def make_backend(cache_dir: Path) -> Iterator[Any]:
    made: list[LlamaCppBackend] = []

    def make(max_batch: int = 8) -> LlamaCppBackend:
        backend = LlamaCppBackend(LlamaCppOptions(
            gguf=default_gguf_path(cache_dir), tokenizer_dir=default_model_path(cache_dir), max_batch=max_batch,
            max_new_tokens=TOKENS, history_token_budget=512))
        backend.load()
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


def render(backend: LlamaCppBackend, conversations: Sequence[Sequence[str]]) -> list[RenderedPrompt]:
    """One prompt per conversation (user and assistant turns alternating, user first)."""
    prompts = []
    for index, texts in enumerate(conversations):
        turns = tuple(ChatTurn(Role.USER if n % 2 == 0 else Role.ASSISTANT, t) for n, t in enumerate(texts))
        request = GenerationRequest(f"r{index}", f"s{index}", turns, time.monotonic() + 600)
        prompts.append(backend.render(request, TOKENS))
    return prompts


def before_each_decode(backend: LlamaCppBackend, hook: Callable[[int], None]) -> None:
    """Call `hook(n)` before the backend's n-th `llama_decode` (from 1): a fault or a delay."""
    context = backend._ctx
    real_decode = context.decode
    calls = 0

    def decode(batch: Any) -> None:
        nonlocal calls
        calls += 1
        hook(calls)
        real_decode(batch)

    context.decode = decode


def logits_after(gguf: Path, tokens: Sequence[int]) -> Any:
    """The next-token logits after `tokens`, from a fresh single-sequence llama.cpp context."""
    import llama_cpp
    import numpy as np
    from llama_cpp import _internals as internals

    model = internals.LlamaModel(path_model=str(gguf), params=llama_cpp.llama_model_default_params(), verbose=True)
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = params.n_batch = params.n_ubatch = 1024
    ctx = internals.LlamaContext(model=model, params=params, verbose=True)
    batch = internals.LlamaBatch(n_tokens=1024, embd=0, n_seq_max=1, verbose=True)
    try:
        batch.set_batch(list(tokens), n_past=0, logits_all=False)
        ctx.decode(batch)
        return np.ctypeslib.as_array(ctx.get_logits_ith(len(tokens) - 1), shape=(model.n_vocab(),)).copy()
    finally:
        batch.close()
        ctx.close()
        model.close()


def assert_same_up_to_near_ties(gguf: Path, prompts: Sequence[RenderedPrompt], expected: Sequence[list[int]],
                                got: Sequence[list[int]]) -> int:
    """Each pair of replies is equal, or parts where its two tokens are all but tied;
    returns how many are equal."""
    equal = 0
    for prompt, a, b in zip(prompts, expected, got, strict=True):
        assert b, "empty reply"
        if a == b:
            equal += 1
            continue
        k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
        assert k is not None, f"one reply is cut short: {len(a)} vs {len(b)} tokens"
        logits = logits_after(gguf, prompt.token_ids + tuple(a[:k]))
        gap = float(logits[a[k]] - logits[b[k]])
        assert abs(gap) < NEAR_TIE, f"replies part at token {k} by {gap:.3f} logits, not a rounding tie"
    return equal


def test_a_batch_decodes_like_its_prompts_alone_up_to_rounding_ties(make_backend: Any, cache_dir: Path) -> None:
    alone_backend, batched_backend = make_backend(1), make_backend(8)
    prompts = render(batched_backend, [[q] for q in QUESTIONS])
    alone = [alone_backend.generate_tokens([p])[0] for p in prompts]
    batched = batched_backend.generate_tokens(prompts)
    assert all(0 < len(reply) <= TOKENS for reply in batched)
    equal = assert_same_up_to_near_ties(default_gguf_path(cache_dir), prompts, alone, batched)
    assert equal >= len(prompts) // 2, f"only {equal} of {len(prompts)} batched replies equal their alone ones"
    # Deterministic: the same batch on a fresh backend gives the same tokens.
    assert make_backend(8).generate_tokens(prompts) == batched


def test_the_next_turn_reuses_its_stream(make_backend: Any, cache_dir: Path) -> None:
    backend = make_backend(8)
    first = render(backend, [[q] for q in QUESTIONS[:4]])
    replies = backend.generate_batch(first)
    conversations = [[q, r.text, "Thank you. What could I try tonight?"] for q, r in zip(QUESTIONS, replies)]
    second = render(backend, conversations)
    plan = backend.streams.plan([p.token_ids for p in second])
    for placement in plan:
        # The whole first prompt at least is already in the stream (the reply too, mostly).
        assert placement.reuse >= len(first[placement.prompt].token_ids), placement
        assert placement.copy_from is None
    cached = backend.generate_tokens(second)
    fresh = make_backend(8).generate_tokens(second)
    assert_same_up_to_near_ties(default_gguf_path(cache_dir), second, fresh, cached)


def test_a_new_conversation_starts_from_the_system_prompt_held_by_a_stream(make_backend: Any) -> None:
    backend = make_backend(8)
    backend.generate_batch(render(backend, [[q] for q in QUESTIONS[:2]]))
    used = {s for s in range(8) if backend.streams.held(s)}
    [prompt] = render(backend, [["I feel so tired all the time lately."]])
    [placement] = backend.streams.plan([prompt.token_ids])
    # An empty stream, so both earlier conversations stay cached, from a copy of one of them.
    assert placement.stream not in used and placement.copy_from in used
    assert placement.reuse > 100, "the system prompt would be evaluated again"
    assert backend.generate_batch([prompt])[0].text


def test_a_failed_decode_forgets_its_streams_and_the_next_call_is_right(make_backend: Any) -> None:
    backend, reference = make_backend(8), make_backend(8)
    [prompt] = render(backend, [[QUESTIONS[0]]])
    expected = reference.generate_tokens([prompt])

    def third_fails(call: int) -> None:
        if call == 3:
            raise RuntimeError("llama_decode returned -3")

    before_each_decode(backend, third_fails)
    with pytest.raises(RuntimeError, match="llama_decode"):
        backend.generate_tokens([prompt])
    assert all(not backend.streams.held(s) for s in range(8))
    assert backend.generate_tokens([prompt]) == expected


def test_the_q8_copy_holds_the_shipped_weights_and_is_made_once(cache_dir: Path, tmp_path: Path) -> None:
    from gguf import GGUFReader

    target = tmp_path / "copy.Q8_0.gguf"
    assert llamacpp.requantize(shipped_gguf_path(cache_dir), target) == target
    kinds = {t.tensor_type.name for t in GGUFReader(target).tensors}
    assert kinds == {"Q8_0", "F32"}  # weights in Q8_0, norms stay float32
    made = target.stat().st_mtime_ns
    llamacpp.requantize(shipped_gguf_path(cache_dir), target)
    assert target.stat().st_mtime_ns == made
    assert default_gguf_path(cache_dir).is_file(), "fetch-default makes the copy the backend loads"


def test_a_failed_conversion_leaves_nothing_behind(cache_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF not really")
    target = tmp_path / "out.gguf"
    with pytest.raises(ConfigError, match="could not convert"):
        llamacpp.requantize(broken, target)
    assert list(tmp_path.iterdir()) == [broken]


def test_fetch_default_adds_the_llamacpp_copy_to_a_model_fetched_before(cache_dir: Path, tmp_path: Path) -> None:
    """A cache converted before llama-cpp-python was installed gets its copy on the next set-up."""
    import shutil

    from model.default import DONE_MARKER, fetch_default

    folder = default_model_path(tmp_path)
    folder.mkdir(parents=True)
    shutil.copy(shipped_gguf_path(cache_dir), shipped_gguf_path(tmp_path))
    (folder / DONE_MARKER).write_text("x")
    assert fetch_default(tmp_path, progress=False) == folder
    assert default_gguf_path(tmp_path).is_file()


def test_closing_during_a_generation_stops_it_instead_of_freeing_the_model_under_it(make_backend: Any) -> None:
    """The worker abandons a generation it thinks hung and reloads the model from another
    thread: the generation must end with an error, not crash the process."""
    import threading

    backend = make_backend(8)
    prompts = render(backend, [[q] for q in QUESTIONS])
    decoding = threading.Event()

    def slowly(call: int) -> None:
        decoding.set()
        time.sleep(0.01)

    before_each_decode(backend, slowly)
    failures: list[BaseException] = []

    def generate() -> None:
        try:
            backend.generate_tokens(prompts)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=generate)
    thread.start()
    assert decoding.wait(30)
    backend.close()
    thread.join(30)
    assert not thread.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], llamacpp.GenerationStopped)
    backend.load()
    assert all(backend.generate_tokens(prompts[:2]))


def test_a_reply_stops_where_its_stream_is_full(cache_dir: Path) -> None:
    """A budget smaller than the system prompt still gives a reply, cut at the stream's end,
    not a failed decode."""
    backend = LlamaCppBackend(LlamaCppOptions(
        gguf=default_gguf_path(cache_dir), tokenizer_dir=default_model_path(cache_dir), max_batch=2,
        max_new_tokens=16, history_token_budget=64))
    backend.load()
    try:
        [prompt] = render(backend, [[QUESTIONS[0]]])
        capacity = backend._ctx.n_ctx() // 2
        assert len(prompt.token_ids) > 64  # the system prompt alone is over the budget
        long = replace(prompt, max_new_tokens=capacity)  # asks for more than the stream holds
        [reply] = backend.generate_tokens([long])
        assert 0 < len(reply) <= capacity - len(prompt.token_ids)
        with pytest.raises(ValueError, match="does not fit"):
            backend.generate_tokens([replace(prompt, token_ids=prompt.token_ids * 8)])
    finally:
        backend.close()


def threads_at_each_decode(backend: LlamaCppBackend) -> list[tuple[int, int, int]]:
    """Record, at each `llama_decode`, its token count and the context's two thread counts."""
    import llama_cpp

    seen: list[tuple[int, int, int]] = []

    def record(_: int) -> None:
        context = backend._ctx.ctx
        seen.append((backend._batch.batch.n_tokens, llama_cpp.llama_n_threads(context),
                     llama_cpp.llama_n_threads_batch(context)))

    before_each_decode(backend, record)
    return seen


def test_the_thread_settings_pin_every_decode(cache_dir: Path) -> None:
    from model.loading import build_generator

    settings = load_settings(base_model=None, adapter_path=None, model_backend="llamacpp", max_batch=2,
                             max_new_tokens=TOKENS, llamacpp_threads=1, llamacpp_batch_threads=2)
    backend = build_generator(settings).backend
    assert isinstance(backend, LlamaCppBackend)
    backend.load()
    try:
        seen = threads_at_each_decode(backend)
        backend.generate_tokens(render(backend, [[QUESTIONS[0]], [QUESTIONS[1]]]))
        backend.generate_tokens(render(backend, [[QUESTIONS[2]]]))
        assert {n for n, _, _ in seen} >= {1, 2}  # steps of one sequence and of two
        assert {(single, batch) for _, single, batch in seen} == {(1, 2)}
        assert backend.threads_preferred == {}  # nothing to choose
    finally:
        backend.close()


class Alternating(ThreadTuner):
    """Another thread count at every call: the worst a tuner can do to a reply."""

    def __init__(self) -> None:
        super().__init__((1,), (1,))
        self.calls = 0

    def choose(self, tokens: int, sequences: int = 1) -> int:
        self.calls += 1
        return 1 + self.calls % 2


def test_changing_the_thread_count_between_steps_changes_no_token(make_backend: Any) -> None:
    steady, switching = make_backend(8), make_backend(8)
    steady._tuner = ThreadTuner((1,), (1,))
    switching._tuner = Alternating()
    seen = threads_at_each_decode(switching)
    prompts = render(steady, [[q] for q in QUESTIONS])
    assert switching.generate_tokens(prompts) == steady.generate_tokens(prompts)
    assert switching.generate_tokens(prompts[:1]) == steady.generate_tokens(prompts[:1])
    assert {batch for n, _, batch in seen if n > 1} == {1, 2}
    assert {single for n, single, _ in seen if n == 1} == {1, 2}


def test_unpinned_threads_are_tuned_per_step_size(make_backend: Any) -> None:
    backend = make_backend(8)
    seen = threads_at_each_decode(backend)
    prompts = render(backend, [[q] for q in QUESTIONS])
    backend.generate_tokens(prompts)
    backend.generate_tokens(prompts[:1])
    counts = set(candidates())  # 1 and 2 on 2 cores
    assert {batch for n, _, batch in seen if n == 8} == counts  # each tried
    preferred = backend.threads_preferred
    if len(counts) > 1:
        assert {(1, 1), (8, 8)} <= preferred.keys() and set(preferred.values()) <= counts
