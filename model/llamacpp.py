"""The llama.cpp backend: a GGUF model through llama-cpp-python, the fast path on a CPU.

Optional: `pip install 'counselbot[cpu-fast]'` builds llama-cpp-python (minutes, once).
Without it `available()` is false and `model.loading` falls back to transformers.

A batch's prompts are decoded together: every sequence has a KV stream of its own, and
each step decodes one token of every unfinished sequence in a single `llama_decode`
call. Streams keep what they computed between batches (`model.kv_streams`), so a
conversation's next turn evaluates only its new text, and a new conversation starts
from a copy of a stream that holds the system prompt. Prompts are evaluated in chunks of
`n_batch` tokens. Each `llama_decode` runs on the thread count `model.threads` finds
fastest for a step of its shape, unless the options pin one. Decoding is greedy (argmax
of the logits) unless a temperature is set.
Prompts are rendered with the model's Hugging Face tokenizer and chat template
(`PromptBuilder`), so the worker, the budget and the injection handling are the same as
for the transformers backend.

Batched matrix kernels round differently from single-row ones, so a greedy reply decoded
in a batch can part from the one decoded alone where two tokens are all but tied
(measured on the default model: 7 of 8 replies identical; the others part where the two
candidates were within 0.3 logits); attention is the same, since no stream sees
another's cells.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.core.ports import GenerationRequest
from bot.errors import ConfigError
from model.backend import Completion, RenderedPrompt
from model.kv_streams import Placement, StreamCache
from model.prompt import PromptBuilder, choose_chat_template
from model.threads import Shape, ThreadTuner, candidates, usable_cores

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'counselbot[cpu-fast]' (builds llama-cpp-python, about 8 minutes on 2 cores)"


def available() -> bool:
    """Whether llama-cpp-python is installed (without importing it)."""
    return importlib.util.find_spec("llama_cpp") is not None


@dataclass(frozen=True)
class LlamaCppOptions:
    """`gguf`: the model file; `tokenizer_dir`: a folder with its Hugging Face tokenizer
    (None: read the tokenizer from the GGUF itself, slower to load). `threads` decode one
    token at a time; `batch_threads` evaluate prompts and steps of several sequences.
    None: chosen step by step between all cores but one and all cores (`model.threads`)."""

    gguf: Path
    tokenizer_dir: Path | None = None
    history_token_budget: int = 1024
    max_new_tokens: int = 160
    max_batch: int = 8
    threads: int | None = None
    batch_threads: int | None = None
    n_batch: int = 512
    temperature: float = 0.0  # 0: greedy
    seed: int = 0


class LlamaCppBackend:
    """`model.backend.Backend` over llama.cpp."""

    def __init__(self, options: LlamaCppOptions) -> None:
        self.options = options
        self.name = f"llamacpp:{options.gguf.name}"
        self._model: Any = None
        self._ctx: Any = None
        self._batch: Any = None
        self._tokenizer: Any = None
        self._builder: PromptBuilder | None = None
        self._rng: Any = None
        self._streams = StreamCache(options.max_batch)
        self._tuner = ThreadTuner(candidates(options.threads), candidates(options.batch_threads))
        # The worker may abandon a generation it thinks hung and reload: `close` stops the
        # decode loop at its next step and waits for it, instead of freeing the context
        # under it (a crash of the whole process).
        self._busy = threading.Lock()
        self._closing = threading.Event()

    def load(self) -> None:
        if not available():
            raise ConfigError(f"MODEL_BACKEND=llamacpp needs llama-cpp-python: {INSTALL_HINT}")
        if not self.options.gguf.is_file():
            raise ConfigError(f"the GGUF model {self.options.gguf} does not exist")
        import llama_cpp
        import numpy as np
        from llama_cpp import _internals as internals
        from transformers import AutoTokenizer

        opts = self.options
        if opts.tokenizer_dir is not None:
            tokenizer = AutoTokenizer.from_pretrained(opts.tokenizer_dir, local_files_only=True)
        else:
            tokenizer = AutoTokenizer.from_pretrained(opts.gguf.parent, gguf_file=opts.gguf.name, local_files_only=True)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        _silence_native_logs(llama_cpp)
        llama_cpp.llama_backend_init()
        model = internals.LlamaModel(path_model=str(opts.gguf), params=llama_cpp.llama_model_default_params(), verbose=True)
        params = llama_cpp.llama_context_default_params()
        # One stream per sequence: each gets n_ctx / n_seq_max cells, room for a whole turn.
        params.n_ctx = (opts.history_token_budget + opts.max_new_tokens + 8) * opts.max_batch
        params.n_batch = params.n_ubatch = opts.n_batch
        params.n_seq_max = opts.max_batch
        params.kv_unified = False
        params.n_threads, params.n_threads_batch = self._tuner.single[0], self._tuner.batch[0]
        ctx = internals.LlamaContext(model=model, params=params, verbose=True)
        self._model, self._ctx = model, ctx
        self._batch = internals.LlamaBatch(n_tokens=opts.n_batch, embd=0, n_seq_max=opts.max_batch, verbose=True)
        self._tokenizer = tokenizer
        self._rng = np.random.default_rng(opts.seed)
        self._streams.forget_all()
        template = choose_chat_template(tokenizer.chat_template, "llama")
        self._builder = PromptBuilder(tokenizer, budget=opts.history_token_budget, chat_template=template)
        log.info("loaded %s with llama.cpp (threads %s, for batches %s, %d sequences)",
                 self.name, "/".join(map(str, self._tuner.single)), "/".join(map(str, self._tuner.batch)), opts.max_batch)

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        if self._builder is None:
            raise RuntimeError("the model is not loaded")
        return self._builder.build(request, min(max_new_tokens, self.options.max_new_tokens))

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        return [
            Completion(self._tokenizer.decode(out, skip_special_tokens=True).strip(), len(out))
            for out in self.generate_tokens(prompts)
        ]

    def generate_tokens(self, prompts: Sequence[RenderedPrompt]) -> list[list[int]]:
        """`generate_batch` before detokenising: the generated token ids of every prompt."""
        if len(prompts) > self.options.max_batch:
            raise ValueError(f"batch of {len(prompts)} exceeds max_batch {self.options.max_batch}")
        with self._busy:
            if self._ctx is None:
                raise RuntimeError("the model is not loaded")
            capacity = self._ctx.n_ctx() // self.options.max_batch
            if any(len(p.token_ids) >= capacity for p in prompts):
                raise ValueError(f"a prompt does not fit a sequence's {capacity}-token context")
            # A reply stops where its stream is full (a prompt over HISTORY_TOKEN_BUDGET:
            # the system prompt alone can be longer than a small budget).
            fitted = [replace(p, max_new_tokens=min(p.max_new_tokens, capacity - len(p.token_ids))) for p in prompts]
            self._share_prefix(fitted)
            return self._run(fitted)

    @property
    def streams(self) -> StreamCache:
        """What each KV stream holds. Only `forget_all` is for callers outside: it drops every
        cached conversation (a benchmark's baseline); the rest is the backend's to change."""
        return self._streams

    @property
    def threads_preferred(self) -> dict[Shape, int]:
        """For each shape of step decoded so far, the thread count now found fastest."""
        return self._tuner.preferred()

    def _share_prefix(self, prompts: Sequence[RenderedPrompt]) -> None:
        """Evaluate once the prefix a batch's prompts share (the system prompt), when no
        stream holds it yet, so that the others start from copies of it."""
        shared = self._streams.prefix_to_share([p.token_ids for p in prompts])
        if shared:
            self._run([replace(prompts[0], token_ids=prompts[0].token_ids[:shared], max_new_tokens=0)])

    def _run(self, prompts: Sequence[RenderedPrompt]) -> list[list[int]]:
        plan = self._streams.plan([p.token_ids for p in prompts])
        for placement in plan:
            self._streams.forget(placement.stream)  # unknown until the decode below succeeds
        outputs, decoded = _decode(self._ctx, self._batch, self._model, prompts, plan, self.options.n_batch, self._pick,
                                   self._closing.is_set, self._tuner)
        for placement in plan:
            self._streams.record(placement.stream, prompts[placement.prompt].token_ids + tuple(decoded[placement.prompt]))
        return outputs

    def _pick(self, logits: Any) -> int:
        """Greedy argmax, or a sample at the configured temperature."""
        if self.options.temperature <= 0:
            return int(logits.argmax())
        import numpy as np

        probs = np.exp((logits.astype(np.float64) - logits.max()) / self.options.temperature)
        return int(self._rng.choice(len(probs), p=probs / probs.sum()))

    def close(self) -> None:
        """Release the model; a generation under way stops at its next step first."""
        self._closing.set()
        try:
            with self._busy:
                for resource in (self._batch, self._ctx, self._model):
                    if resource is not None:
                        resource.close()
                self._batch = self._ctx = self._model = self._tokenizer = self._builder = None
                self._streams.forget_all()
        finally:
            self._closing.clear()


def requantize(source: Path, target: Path, kind: str = "Q8_0") -> Path:
    """Write `source` re-quantised as `kind` to `target` once (atomically); return `target`.

    The default model ships as Q4_1, which llama.cpp's CPU kernels evaluate slowly in
    batches; Q8_0 holds Q4_1's values almost exactly (perplexity measured in docs/model.md).
    """
    if target.is_file():
        return target
    if not available():
        raise ConfigError(f"converting {source.name} needs llama-cpp-python: {INSTALL_HINT}")
    import ctypes

    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind}", None)
    if ftype is None:
        raise ConfigError(f"llama.cpp has no quantisation type {kind!r}")
    _silence_native_logs(llama_cpp)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    params.nthread = usable_cores()
    partial = target.with_name(target.name + ".partial")
    try:
        failed = llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), ctypes.byref(params))
        if failed:
            raise ConfigError(f"llama.cpp could not convert {source} to {kind} (code {failed})")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


class GenerationStopped(RuntimeError):
    """A generation cut short because the backend is closing (a reload)."""


_LOG_CALLBACK: Any = None  # a reference kept so the C side never calls a freed callback


def _silence_native_logs(llama_cpp: Any) -> None:
    """llama.cpp logs every context's construction to stderr, whatever `verbose` says."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is None:
        import ctypes

        _LOG_CALLBACK = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


def _use_threads(llama_cpp: Any, ctx: Any, tokens: int, threads: int) -> None:
    """Set the count llama.cpp uses for a call of `tokens` tokens: `n_threads` for one
    token, `n_threads_batch` for more (as `ThreadTuner.single` / `.batch`)."""
    single, batch = llama_cpp.llama_n_threads(ctx.ctx), llama_cpp.llama_n_threads_batch(ctx.ctx)
    wanted = (threads, batch) if tokens == 1 else (single, threads)
    if wanted != (single, batch):
        llama_cpp.llama_set_n_threads(ctx.ctx, *wanted)


Entry = tuple[int, int, int, bool]  # token, position, sequence, wants logits


def _decode(ctx: Any, batch: Any, model: Any, prompts: Sequence[RenderedPrompt], plan: Sequence[Placement],
            n_batch: int, pick: Callable[[Any], int], stopping: Callable[[], bool],
            tuner: ThreadTuner) -> tuple[list[list[int]], list[list[int]]]:
    """Decode every prompt on its placement's stream; `pick` chooses each token; raises
    `GenerationStopped` before the next `llama_decode` once `stopping()` is true; `tuner`
    chooses each call's threads and is told how long it took.

    Returns, per prompt, the generated tokens and those of them whose keys and values
    the stream now holds (all but a last token that hit the length limit).
    """
    import llama_cpp
    import numpy as np

    n_vocab = model.n_vocab()
    vocab = llama_cpp.llama_model_get_vocab(model.model)
    memory = llama_cpp.llama_get_memory(ctx.ctx)
    for p in plan:
        if p.copy_from is not None:
            llama_cpp.llama_memory_seq_rm(memory, p.stream, -1, -1)
            llama_cpp.llama_memory_seq_cp(memory, p.copy_from, p.stream, -1, -1)
    for p in plan:
        if not llama_cpp.llama_memory_seq_rm(memory, p.stream, p.reuse, -1):
            raise RuntimeError(f"llama.cpp could not trim sequence {p.stream}")

    def run(entries: list[Entry]) -> dict[int, int]:
        """Decode the entries; the next token of every sequence that asked for logits."""
        found: dict[int, int] = {}
        for start in range(0, len(entries), n_batch):
            chunk = entries[start:start + n_batch]
            if stopping():
                raise GenerationStopped("the model is being closed")
            raw = batch.batch
            raw.n_tokens = len(chunk)
            for j, (token, pos, seq, logits) in enumerate(chunk):
                raw.token[j], raw.pos[j], raw.n_seq_id[j], raw.logits[j] = token, pos, 1, logits
                raw.seq_id[j][0] = seq
            sequences = len({seq for _, _, seq, _ in chunk})
            threads = tuner.choose(len(chunk), sequences)
            _use_threads(llama_cpp, ctx, len(chunk), threads)
            begun = time.perf_counter()
            ctx.decode(batch)
            tuner.observe(len(chunk), threads, time.perf_counter() - begun, sequences)
            for j, (_, _, seq, logits) in enumerate(chunk):
                if logits:
                    found[seq] = pick(np.ctypeslib.as_array(ctx.get_logits_ith(j), shape=(n_vocab,)))
        return found

    prompt_of = {p.stream: p.prompt for p in plan}
    prefill = [
        (token, pos, p.stream, pos == len(prompts[p.prompt].token_ids) - 1)
        for p in plan
        for pos, token in enumerate(prompts[p.prompt].token_ids)
        if pos >= p.reuse
    ]
    outputs: list[list[int]] = [[] for _ in prompts]
    decoded: list[list[int]] = [[] for _ in prompts]
    positions = {p.stream: len(prompts[p.prompt].token_ids) for p in plan}
    following = run(prefill)
    while following:
        step: list[Entry] = []
        for seq, token in following.items():
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                continue
            index = prompt_of[seq]
            outputs[index].append(token)
            if len(outputs[index]) < prompts[index].max_new_tokens:
                step.append((token, positions[seq], seq, True))
                decoded[index].append(token)
                positions[seq] += 1
        following = run(step) if step else {}
    return outputs, decoded
