"""The seam between the worker and whatever runs the model.

The worker owns queueing, batching, deadlines and recovery; a `Backend` only loads a
model, renders prompts for it and generates a batch synchronously (the worker calls
`generate_batch` in a thread of its own, never two at once on the same backend).
Implementations: `model.local.LocalBackend` (transformers), `model.llamacpp.LlamaCppBackend`
(llama-cpp-python on a GGUF) and `model.openai_http.OpenAIBackend` (an OpenAI-compatible
server). Test doubles live in tests/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.core.ports import GenerationRequest


@dataclass(frozen=True)
class Message:
    """One chat message as a chat template or an OpenAI server sees it."""

    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class RenderedPrompt:
    """A request made ready for one backend.

    `messages` is the fitted conversation with the system prompt first (what an
    OpenAI-compatible server receives); `text` and `token_ids` are its rendering through
    the model's chat template (empty for remote backends, which render server-side).
    `priority` is the request's risk tier, for servers that schedule by it.
    """

    messages: tuple[Message, ...]
    text: str
    token_ids: tuple[int, ...]
    max_new_tokens: int
    priority: int = 0


@dataclass(frozen=True)
class Completion:
    """One generated reply and how many tokens it took (for throughput figures)."""

    text: str
    tokens: int


@runtime_checkable
class Backend(Protocol):
    """Runs one model. Methods other than `render` may block; the worker calls them in a thread."""

    name: str

    def load(self) -> None:
        """Load (or reload after `close`) the model. Raises on failure."""
        ...

    def render(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        """Build the prompt: system prompt, history fitted to the token budget, chat template."""
        ...

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        """Generate greedily for every prompt, one `Completion` per prompt, in order.

        The reply for a prompt must not depend on the other prompts in the batch, beyond
        the rounding of batched kernels: llama.cpp's can part from the reply decoded alone
        where two tokens are all but tied (docs/model.md); transformers' are identical.
        """
        ...

    def close(self) -> None:
        """Release the model (memory, connections). `load` may be called again afterwards."""
        ...
