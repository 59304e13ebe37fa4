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
