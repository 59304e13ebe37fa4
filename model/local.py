"""The local Hugging Face backend: transformers, an optional peft adapter, optional 4-bit.

Batches of two or more prompts go through transformers' continuous batching
(`generate_batch`), which matched plain greedy `generate` token for token in our checks
and needs no padding; a batch of one goes through `generate`. Both decode greedily, so a
reply does not depend on its batch (tests check it).
"""

from __future__ import annotations

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
    threads: int | None = None  # torch intra-op threads on CPU; None leaves torch's default
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

    # Backend -------------------------------------------------------------------------

    def load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        opts = self.options
        cuda = torch.cuda.is_available()
        self._device = opts.device or ("cuda" if cuda else "cpu")
        if opts.threads and self._device == "cpu":
            torch.set_num_threads(opts.threads)
        local = Path(opts.model).expanduser()
        hub = {"local_files_only": True} if local.is_dir() else {"cache_dir": _hub_cache(opts.cache_dir)}
        source = str(local) if local.is_dir() else opts.model
        kwargs: dict[str, Any] = {"dtype": self._dtype(torch, cuda), **hub}
        if opts.four_bit:
            kwargs["quantization_config"] = four_bit_config(torch, cuda)
            kwargs["device_map"] = {"": 0} if self._device == "cuda" else "cpu"
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **hub)
            model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
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
        self._tokenizer, self._model = tokenizer, model
        self._builder = PromptBuilder(tokenizer, budget=opts.history_token_budget, chat_template=template)
        log.info("loaded %s on %s (4-bit: %s, adapter: %s)", self.name, self._device, opts.four_bit, bool(opts.adapter))

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        if self._builder is None:
            raise RuntimeError("the model is not loaded")
        return self._builder.build(request, max_new_tokens)

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        model, tokenizer = self._model, self._tokenizer  # a reload must not swap them mid-batch
        if model is None:
            raise RuntimeError("the model is not loaded")
        import torch

        try:
            with torch.no_grad():  # continuous batching fails under inference_mode
                if len(prompts) == 1:
                    outputs = [self._generate_one(model, tokenizer, prompts[0])]
                else:
                    outputs = self._generate_many(model, tokenizer, prompts)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            raise
        completions = []
        for prompt, tokens in zip(prompts, outputs, strict=True):
            tokens = _until_eos(tokens[: prompt.max_new_tokens], _eos_ids(model, tokenizer))
            completions.append(Completion(tokenizer.decode(tokens, skip_special_tokens=True).strip(), len(tokens)))
        return completions

    def close(self) -> None:
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

    def _generate_one(self, model: Any, tokenizer: Any, prompt: RenderedPrompt) -> list[int]:
        import torch

        ids = torch.tensor([list(prompt.token_ids)], device=model.device)
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            generation_config=self._generation_config(model, tokenizer, prompt.max_new_tokens),
        )
        return [int(t) for t in out[0, ids.shape[1]:]]

    def _generate_many(self, model: Any, tokenizer: Any, prompts: Sequence[RenderedPrompt]) -> list[list[int]]:
        from transformers.generation.configuration_utils import ContinuousBatchingConfig

        longest = max(p.max_new_tokens for p in prompts)
        page = 256
        pages_each = math.ceil((max(len(p.token_ids) for p in prompts) + longest) / page) + 1
        # Sized for this batch: the default sizing probes free memory and allocates a
        # cache so large on a CPU that setting it up costs seconds per call.
        config = ContinuousBatchingConfig(
            page_size=page,
            num_blocks=pages_each * len(prompts) + 2,
            max_batch_tokens=max(1024, sum(len(p.token_ids) for p in prompts)),
            max_requests_per_batch=len(prompts),
            use_async_batching=False,
            allow_block_sharing=False,
        )
        results = model.generate_batch(
            [list(p.token_ids) for p in prompts],
            generation_config=self._generation_config(model, tokenizer, longest),
            continuous_batching_config=config,
            warmup=False,
        )
        outputs = list(results.values())
        if len(outputs) != len(prompts) or any(o.error is not None for o in outputs):
            raise RuntimeError("continuous batching did not complete every request")
        return [list(o.generated_tokens) for o in outputs]

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
