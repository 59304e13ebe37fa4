"""The local Hugging Face backend: transformers, an optional peft adapter, optional 4-bit.

Generation goes through one persistent continuous-batching manager (transformers'
`init_continuous_batching`), started at load: every prompt of a batch is added as its own
request and decoded greedily in a paged KV cache, without padding. Batches of any size,
one included, take the same path, so a reply does not depend on its batch (tests check
it), and keeping the manager alive avoids its set-up and tear-down on every call (a
second or more on a CPU). While the manager lives the model's attention is paged: a
backend's model is for serving, not training.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.core.ports import GenerationRequest
from bot.errors import ConfigError
from model.backend import Completion, RenderedPrompt
from model.prompt import PromptBuilder, choose_chat_template
from model.threads import default_threads

log = logging.getLogger(__name__)


class Dtype(StrEnum):
    AUTO = "auto"  # bfloat16 on CUDA with bf16 (else float16); float32 on CPU
    FLOAT32 = "float32"
    BFLOAT16 = "bfloat16"
    FLOAT16 = "float16"


@dataclass(frozen=True)
class LocalOptions:
    """What to load. `model` is a local folder or a hub id; `adapter` a peft adapter
    folder or hub id. A local folder is always loaded with the hub switched off."""

    model: str
    adapter: str | None = None
    four_bit: bool = False
    dtype: Dtype = Dtype.AUTO
    device: str | None = None  # None: CUDA when present, else CPU
    cache_dir: Path | None = None
    history_token_budget: int = 1024
    threads: int | None = None  # torch intra-op threads on CPU; None: all cores but one
    max_batch: int = 8  # the continuous-batching cache is sized for this many requests at once
    max_new_tokens: int = 160  # the most any request may ask for (larger asks are capped)
    temperature: float = 0.0  # 0: greedy (a reply then does not depend on its batch)


class LocalBackend:
    """`model.backend.Backend` over a transformers causal LM."""

    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        self.name = f"local:{Path(options.model).name or options.model}"
        self._model: Any = None
        self._tokenizer: Any = None
        self._builder: PromptBuilder | None = None
        self._device = "cpu"
        self._manager: Any = None
        self._calls = itertools.count()

    # Backend -------------------------------------------------------------------------

    def load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        opts = self.options
        cuda = torch.cuda.is_available()
        self._device = opts.device or ("cuda" if cuda else "cpu")
        if self._device == "cpu":
            # Process-wide, like llama.cpp's: all cores but one (measured on 2 shared cores:
            # float32 decode 15 tokens/s on 1 thread against 5-8 on 2).
            torch.set_num_threads(opts.threads or default_threads())
        local = Path(opts.model).expanduser()
        hub = {"local_files_only": True} if local.is_dir() else {"cache_dir": _hub_cache(opts.cache_dir)}
        source = str(local) if local.is_dir() else opts.model
        kwargs: dict[str, Any] = {"dtype": self._dtype(torch, cuda), **hub}
        if opts.four_bit:
            kwargs["quantization_config"] = four_bit_config(torch, cuda)
            kwargs["device_map"] = {"": 0} if self._device == "cuda" else "cpu"
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **hub)
            model: Any = AutoModelForCausalLM.from_pretrained(source, **kwargs)  # transformers' types are loose
        except OSError as exc:
            raise ConfigError(f"cannot load the model {opts.model!r}: {_first_line(exc)}") from exc
        if not opts.four_bit:
            model = model.to(self._device)
        if opts.adapter:
            model = _with_adapter(model, opts.adapter, opts.cache_dir)
        model.eval()
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        template = choose_chat_template(tokenizer.chat_template, getattr(model.config, "model_type", None))
        self._manager = self._start_manager(model, tokenizer)
        self._tokenizer, self._model = tokenizer, model
        self._builder = PromptBuilder(tokenizer, budget=opts.history_token_budget, chat_template=template)
        log.info("loaded %s on %s (4-bit: %s, adapter: %s)", self.name, self._device, opts.four_bit, bool(opts.adapter))

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        if self._builder is None:
            raise RuntimeError("the model is not loaded")
        return self._builder.build(request, min(max_new_tokens, self.options.max_new_tokens))

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        manager, model, tokenizer = self._manager, self._model, self._tokenizer  # a reload must not swap them mid-batch
        if manager is None:
            raise RuntimeError("the model is not loaded")
        import torch

        try:
            with torch.no_grad():  # continuous batching fails under inference_mode
                outputs = self._run(manager, prompts)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            raise
        eos = _eos_ids(model, tokenizer)
        completions = []
        for prompt, tokens in zip(prompts, outputs, strict=True):
            tokens = _until_eos(tokens[: prompt.max_new_tokens], eos)
            completions.append(Completion(tokenizer.decode(tokens, skip_special_tokens=True).strip(), len(tokens)))
        return completions

    def close(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            manager.stop(block=True, timeout=10)
        self._model = self._tokenizer = self._builder = None
        try:
            import torch
        except ImportError:
            return
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # internals -----------------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The loaded transformers model (for benchmarks and checks)."""
        return self._model

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def _start_manager(self, model: Any, tokenizer: Any) -> Any:
        from transformers.generation.configuration_utils import ContinuousBatchingConfig

        opts = self.options
        page = 256
        pages_each = math.ceil((opts.history_token_budget + opts.max_new_tokens) / page) + 1
        # Sized from the settings: the default sizing probes free memory and, on a CPU,
        # allocates a cache so large that setting it up takes seconds.
        config = ContinuousBatchingConfig(
            page_size=page,
            num_blocks=pages_each * opts.max_batch + 2,
            max_batch_tokens=max(1024, opts.history_token_budget * 2),
            max_requests_per_batch=opts.max_batch,
            use_async_batching=False,
            allow_block_sharing=False,
            use_cuda_graph=False,  # capture costs more than it saves on short replies
        )
        manager = model.init_continuous_batching(
            generation_config=self._generation_config(model, tokenizer, opts.max_new_tokens),
            continuous_batching_config=config,
        )
        manager.start()
        return manager

    def _run(self, manager: Any, prompts: Sequence[RenderedPrompt]) -> list[list[int]]:
        """Add every prompt as a request, wait for all of them; generated token ids in order."""
        call = next(self._calls)
        ids = [f"c{call}-{i}" for i in range(len(prompts))]
        for request_id, prompt in zip(ids, prompts, strict=True):
            manager.add_request(list(prompt.token_ids), request_id=request_id, max_new_tokens=prompt.max_new_tokens)
        found: dict[str, list[int]] = {}
        try:
            while len(found) < len(ids):
                result = manager.get_result(timeout=1.0)
                if result is None:
                    if not manager.is_running():
                        raise RuntimeError("the continuous-batching loop stopped")
                    continue
                if result.request_id not in ids or not result.is_finished():
                    continue  # a stale result of an abandoned call, or a partial one
                if result.error is not None:
                    raise RuntimeError("continuous batching failed a request")
                found[result.request_id] = list(result.generated_tokens)
        except BaseException:
            for request_id in ids:
                if request_id not in found:
                    manager.cancel_request(request_id)
            raise
        return [found[request_id] for request_id in ids]

    def _generation_config(self, model: Any, tokenizer: Any, max_new_tokens: int) -> Any:
        from transformers import GenerationConfig

        sampling = {"do_sample": True, "temperature": self.options.temperature} if self.options.temperature > 0 else {}
        return GenerationConfig(
            max_new_tokens=max_new_tokens,
            **({"do_sample": False} | sampling),
            eos_token_id=_eos_ids(model, tokenizer),
            pad_token_id=tokenizer.pad_token_id,
        )

    def _dtype(self, torch: Any, cuda: bool) -> Any:
        chosen = self.options.dtype
        if chosen is Dtype.AUTO:
            if self._device == "cuda":
                return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.float32
        return getattr(torch, chosen.value)


def four_bit_config(torch: Any, cuda: bool) -> Any:
    """The seed's 4-bit set-up: nf4 with double quantisation, 16-bit compute."""
    from transformers import BitsAndBytesConfig

    compute = torch.bfloat16 if (not cuda or torch.cuda.is_bf16_supported()) else torch.float16
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute,
    )


def _with_adapter(model: Any, adapter: str, cache_dir: Path | None) -> Any:
    from peft import PeftModel

    local = Path(adapter).expanduser()
    try:
        if local.is_dir():
            return PeftModel.from_pretrained(model, str(local), local_files_only=True)
        return PeftModel.from_pretrained(model, adapter, cache_dir=str(_hub_cache(cache_dir)))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"ADAPTER_PATH: cannot load the adapter {adapter!r}: {_first_line(exc)}") from exc


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids = model.generation_config.eos_token_id
    found = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        found.add(tokenizer.eos_token_id)
    return sorted(found)


def _until_eos(tokens: list[int], eos: list[int]) -> list[int]:
    for index, token in enumerate(tokens):
        if token in eos:
            return tokens[:index]
    return tokens


def _hub_cache(cache_dir: Path | None) -> Path | None:
    return None if cache_dir is None else Path(cache_dir).expanduser() / "hub"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
