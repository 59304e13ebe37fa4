"""The llama.cpp backend: a GGUF model through llama-cpp-python, the fast path on a CPU.

Optional: `pip install 'counselbot[cpu-fast]'` builds llama-cpp-python (minutes, once).
Without it `available()` is false and `model.loading` falls back to transformers.

Each prompt is decoded alone by default, so its reply never depends on its batch; with
`interleave` a batch's prompts share one KV cache under their own sequence ids and each
step decodes one token for every unfinished sequence in a single `llama_decode` call.
Prompts are evaluated in chunks of `n_batch` tokens. Decoding is greedy (argmax of the
logits) unless a temperature is set. Prompts are rendered with the model's Hugging Face tokenizer and
chat template (`PromptBuilder`), so the worker, the budget and the injection handling
are the same as for the transformers backend.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.ports import GenerationRequest
from bot.errors import ConfigError
from model.backend import Completion, RenderedPrompt
from model.prompt import PromptBuilder, choose_chat_template

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'counselbot[cpu-fast]' (builds llama-cpp-python, about 8 minutes on 2 cores)"


def available() -> bool:
    """Whether llama-cpp-python is installed (without importing it)."""
    return importlib.util.find_spec("llama_cpp") is not None


def default_threads() -> int:
    """Every usable core but one. llama.cpp's threads spin while they wait for each other,
    so one busy core (the event loop, the OS, a neighbour) stalls a pool that uses them
    all: measured on 2 shared cores, 2 threads fell to ~5 tokens/s where 1 kept 15-30."""
    return max(1, len(os.sched_getaffinity(0)) - 1)


@dataclass(frozen=True)
class LlamaCppOptions:
    """`gguf`: the model file; `tokenizer_dir`: a folder with its Hugging Face tokenizer
    (None: read the tokenizer from the GGUF itself, slower to load)."""

    gguf: Path
    tokenizer_dir: Path | None = None
    history_token_budget: int = 1024
    max_new_tokens: int = 160
    max_batch: int = 8
    threads: int | None = None  # None: `default_threads()`
    n_batch: int = 512
    temperature: float = 0.0  # 0: greedy
    seed: int = 0
    # Decode a batch's sequences together in one llama_decode per step. Off by default:
    # on a few cores llama.cpp is compute-bound at batch 1 (measured 1.0-1.1x from
    # interleaving 8 sequences on 1 thread), and interleaved matmuls round differently,
    # so a reply could depend on its batch. Worth turning on with many threads.
    interleave: bool = False


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
        self._n_ctx = 0
        self._rng: Any = None
        self._cached: list[int] = []  # the prompt whose KV (for sequence 0) the cache holds

    def load(self) -> None:
        if not available():
            raise ConfigError(f"MODEL_BACKEND=llamacpp needs llama-cpp-python: {INSTALL_HINT}")
        if not self.options.gguf.is_file():
            raise ConfigError(f"the GGUF model {self.options.gguf} does not exist")
        import llama_cpp
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
        model_params = llama_cpp.llama_model_default_params()
        model = internals.LlamaModel(path_model=str(opts.gguf), params=model_params, verbose=True)
        per_sequence = opts.history_token_budget + opts.max_new_tokens + 8
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = per_sequence * opts.max_batch
        params.n_batch = opts.n_batch
        params.n_ubatch = opts.n_batch
        params.n_seq_max = opts.max_batch
        params.kv_unified = True
        threads = opts.threads or default_threads()
        params.n_threads = params.n_threads_batch = threads
        ctx = internals.LlamaContext(model=model, params=params, verbose=True)
        self._model, self._ctx, self._n_ctx = model, ctx, params.n_ctx
        self._batch = internals.LlamaBatch(n_tokens=opts.n_batch, embd=0, n_seq_max=opts.max_batch, verbose=False)
        self._tokenizer = tokenizer
        import numpy as np

        self._rng = np.random.default_rng(opts.seed)
        template = choose_chat_template(tokenizer.chat_template, "llama")
        self._builder = PromptBuilder(tokenizer, budget=opts.history_token_budget, chat_template=template)
        log.info("loaded %s with llama.cpp (%d threads, %d sequences)", self.name, threads, opts.max_batch)

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        if self._builder is None:
            raise RuntimeError("the model is not loaded")
        return self._builder.build(request, min(max_new_tokens, self.options.max_new_tokens))

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        ctx, batch, model, tokenizer = self._ctx, self._batch, self._model, self._tokenizer
        if ctx is None:
            raise RuntimeError("the model is not loaded")
        if len(prompts) > self.options.max_batch:
            raise ValueError(f"batch of {len(prompts)} exceeds max_batch {self.options.max_batch}")
        if self.options.interleave:
            self._cached = []
            tokens = _decode(ctx, batch, model, prompts, self.options.n_batch, self._pick, reuse=0)
        else:
            tokens = [self._decode_alone(ctx, batch, model, p) for p in prompts]
        return [
            Completion(tokenizer.decode(out, skip_special_tokens=True).strip(), len(out)) for out in tokens
        ]

    def _decode_alone(self, ctx: Any, batch: Any, model: Any, prompt: RenderedPrompt) -> list[int]:
        """One prompt as sequence 0, reusing the KV cache of the prefix it shares with the
        previous prompt (the system prompt at least): prefill on a few cores costs about
        as much per token as decoding, ~0.9 s for a 160-token prompt here."""
        ids = list(prompt.token_ids)
        shared = 0
        for cached, new in zip(self._cached, ids):
            if cached != new:
                break
            shared += 1
        shared = min(shared, len(ids) - 1)  # at least one token is decoded, for its logits
        self._cached = []  # unknown until the decode below succeeds
        output = _decode(ctx, batch, model, [prompt], self.options.n_batch, self._pick, reuse=shared)[0]
        self._cached = ids
        return output

    def _pick(self, logits: Any) -> int:
        """Greedy argmax, or a sample at the configured temperature."""
        if self.options.temperature <= 0:
            return int(logits.argmax())
        import numpy as np

        probs = np.exp((logits.astype(np.float64) - logits.max()) / self.options.temperature)
        return int(self._rng.choice(len(probs), p=probs / probs.sum()))

    def close(self) -> None:
        for resource in (self._batch, self._ctx, self._model):
            if resource is not None:
                resource.close()
        self._batch = self._ctx = self._model = self._tokenizer = self._builder = None
        self._cached = []


_LOG_CALLBACK: Any = None  # a reference kept so the C side never calls a freed callback


def _silence_native_logs(llama_cpp: Any) -> None:
    """llama.cpp logs every context's construction to stderr, whatever `verbose` says."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is None:
        import ctypes

        _LOG_CALLBACK = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


def _decode(ctx: Any, batch: Any, model: Any, prompts: Sequence[RenderedPrompt], n_batch: int,
            pick: Callable[[Any], int], *, reuse: int) -> list[list[int]]:
    """Decode every prompt as its own sequence in one shared KV cache; `pick` chooses each token.

    `reuse` > 0 (a single prompt only): the cache already holds that prompt's first `reuse`
    tokens for sequence 0; everything after them is dropped and only the rest is evaluated.
    """
    import llama_cpp
    import numpy as np

    n_vocab = model.n_vocab()
    vocab = llama_cpp.llama_model_get_vocab(model.model)
    memory = llama_cpp.llama_get_memory(ctx.ctx)
    if reuse > 0:
        if len(prompts) != 1:
            raise ValueError("a cached prefix is only reused for a single prompt")
        llama_cpp.llama_memory_seq_rm(memory, 0, reuse, -1)
    else:
        llama_cpp.llama_memory_clear(memory, True)

    def next_token(index: int) -> int:
        return pick(np.ctypeslib.as_array(ctx.get_logits_ith(index), shape=(n_vocab,)))

    def run(entries: list[tuple[int, int, int, bool]]) -> dict[int, int]:
        """Decode (token, position, sequence, wants_logits) entries; next token per sequence."""
        found: dict[int, int] = {}
        for start in range(0, len(entries), n_batch):
            chunk = entries[start:start + n_batch]
            raw = batch.batch
            raw.n_tokens = len(chunk)
            for j, (token, pos, seq, logits) in enumerate(chunk):
                raw.token[j], raw.pos[j], raw.n_seq_id[j], raw.logits[j] = token, pos, 1, logits
                raw.seq_id[j][0] = seq
            ctx.decode(batch)
            for j, (_, _, seq, logits) in enumerate(chunk):
                if logits:
                    found[seq] = next_token(j)
        return found

    prefill = [
        (token, pos, seq, pos == len(p.token_ids) - 1)
        for seq, p in enumerate(prompts)
        for pos, token in enumerate(p.token_ids)
        if pos >= reuse
    ]
    outputs: list[list[int]] = [[] for _ in prompts]
    positions = [len(p.token_ids) for p in prompts]
    following = run(prefill)
    while following:
        step: list[tuple[int, int, int, bool]] = []
        for seq, token in following.items():
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                continue
            outputs[seq].append(token)
            if len(outputs[seq]) < prompts[seq].max_new_tokens:
                step.append((token, positions[seq], seq, True))
                positions[seq] += 1
        following = run(step) if step else {}
    return outputs
