"""The real default model (SmolLM2-135M-Instruct) answers a counseling prompt.

Needs the converted model in MODEL_CACHE_DIR (`counselbot model fetch-default`; `make
test` runs it first); skipped with that instruction otherwise.
"""

from __future__ import annotations

import time

import pytest

from bot.config import ModelBackend, load_settings
from bot.core.ports import ChatTurn, GenerationRequest, Role
from model import llamacpp
from model.default import default_model_path, is_fetched
from model.loading import build_generator

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_NEW_TOKENS = 48


@pytest.mark.parametrize("backend", [ModelBackend.LOCAL, ModelBackend.LLAMACPP])
async def test_default_model_answers_a_counseling_prompt(backend: ModelBackend) -> None:
    settings = load_settings(model_backend=backend, base_model=None, adapter_path=None, max_new_tokens=MAX_NEW_TOKENS)
    if not is_fetched(settings.model_cache_dir):
        pytest.skip(f"the default model is not in {default_model_path(settings.model_cache_dir)}: "
                    "run `counselbot model fetch-default` (make test does it first)")
    if backend is ModelBackend.LLAMACPP and not llamacpp.available():
        pytest.skip(f"llama-cpp-python is not installed: {llamacpp.INSTALL_HINT}")
    request = GenerationRequest(
        request_id="slow-1", session_key="slow",
        history=(ChatTurn(Role.USER, "I've been feeling really anxious about my new job and I can't sleep. "
                                     "What can I do?"),),
        deadline=time.monotonic() + 300,
    )
    async with build_generator(settings) as worker:
        completion = await worker.complete(request)
    assert completion.text.strip(), "empty reply"
    assert 0 < completion.tokens <= MAX_NEW_TOKENS
    assert len(completion.text.split()) >= 5  # a sentence, not a stray token


def test_llamacpp_reply_does_not_depend_on_its_batch() -> None:
    settings = load_settings(base_model=None, adapter_path=None)
    if not is_fetched(settings.model_cache_dir):
        pytest.skip(f"the default model is not in {default_model_path(settings.model_cache_dir)}: "
                    "run `counselbot model fetch-default` (make test does it first)")
    if not llamacpp.available():
        pytest.skip(f"llama-cpp-python is not installed: {llamacpp.INSTALL_HINT}")
    from model.default import default_gguf_path
    from model.llamacpp import LlamaCppBackend, LlamaCppOptions

    backends = {
        interleave: LlamaCppBackend(LlamaCppOptions(
            gguf=default_gguf_path(settings.model_cache_dir), tokenizer_dir=default_model_path(settings.model_cache_dir),
            max_batch=4, max_new_tokens=24, history_token_budget=256, interleave=interleave))
        for interleave in (False, True)
    }
    texts = ["I feel lonely since I moved.", "My exams went badly.", "I argue with my partner.", "I can't sleep."]
    try:
        for backend in backends.values():
            backend.load()
        plain = backends[False]
        prompts = [plain.render(GenerationRequest(f"r{i}", f"s{i}", (ChatTurn(Role.USER, t),), time.monotonic() + 60), 24)
                   for i, t in enumerate(texts)]
        alone = [plain.generate_batch([p])[0] for p in prompts]
        assert plain.generate_batch(prompts) == alone
        interleaved = backends[True].generate_batch(prompts)
        assert all(c.text and 0 < c.tokens <= 24 for c in alone + interleaved)
    finally:
        for backend in backends.values():
            backend.close()
