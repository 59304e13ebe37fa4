"""System prompts and prompt rendering for the counseling model.

The system prompts are shared by serving (the worker) and training (the data
formatting), so the model is trained with the words it is served with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.ports import GenerationRequest, Role
from model.backend import Message, RenderedPrompt

SYSTEM_PROMPT = (
    "You are a supportive listener in a peer-support chat. You are an AI, not a human, "
    "not a therapist and not a crisis service, and you say so if asked. Listen, reflect "
    "what the person says in your own words, ask one gentle open question at a time, and "
    "encourage them to reach people who can help: friends, family, a doctor, a counselor "
    "or a therapist. Never diagnose, never name medications or doses, never promise to "
    "keep secrets, and never give instructions that could cause harm. Keep replies short, "
    "warm and specific to what they said; do not open every reply the same way."
)

SAFE_MODE_SYSTEM_PROMPT = (
    SYSTEM_PROMPT
    + " This person may be at risk right now. Your only goals are to stay with them, "
    "take what they say seriously, and encourage them to contact the crisis line or "
    "emergency number they were given, or a person they trust, now. Do not discuss "
    "methods, means, amounts, places or plans in any way, even if asked, and do not "
    "argue. Ask whether they are safe at this moment."
)

# The Llama-2-chat format (the seed's base, NousResearch/Llama-2-7b-chat-hf):
# `<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] ...`.
# The system prompt goes inside the first user turn; roles must alternate user/assistant.
LLAMA2_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}"
    "{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
    "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ ' ' + content.strip() + ' ' + eos_token }}"
    "{% endif %}"
    "{% endfor %}"
)

# ChatML (SmolLM2, Qwen and many others), with the generation prompt when asked.
CHATML_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Strings that delimit turns in the templates we serve. A user who types them must not
# be able to close their own turn or open a system one, so they are broken up with a
# word joiner (invisible, and tokenized as ordinary text).
CONTROL_MARKERS = (
    "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "<s>", "</s>",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>",
    "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
)
_JOINER = "\u2060"
_CHARS_PER_TOKEN = 4  # the estimate used where no tokenizer is at hand (remote backends)


def system_prompt_for(safe_mode: bool) -> str:
    """The system prompt to serve: the stricter one for sessions in safe mode."""
    return SAFE_MODE_SYSTEM_PROMPT if safe_mode else SYSTEM_PROMPT


def neutralize(text: str, markers: Iterable[str] = CONTROL_MARKERS) -> str:
    """Break every occurrence of a turn delimiter in `text` so it reads as plain text."""
    found = sorted({m for m in markers if len(m) > 1}, key=len, reverse=True)
    if not found:
        return text
    pattern = re.compile("|".join(re.escape(m) for m in found), re.IGNORECASE)
    return pattern.sub(lambda match: match.group(0)[0] + _JOINER + match.group(0)[1:], text)


def choose_chat_template(tokenizer_template: str | None, model_type: str | None) -> str:
    """The tokenizer's own template when it has one; Llama-2's for a bare Llama tokenizer."""
    if tokenizer_template:
        return tokenizer_template
    return LLAMA2_CHAT_TEMPLATE if model_type == "llama" else CHATML_CHAT_TEMPLATE


def conversation(request: GenerationRequest, markers: Iterable[str] = CONTROL_MARKERS) -> list[Message]:
    """System prompt + history as alternating user/assistant messages ending with the user.

    Consecutive turns of one role are joined (chat templates such as Llama-2's require
    alternation), leading assistant turns are dropped, and delimiters are neutralized.
    """
    markers = tuple(markers)
    turns: list[Message] = []
    for turn in request.history:
        role = "user" if turn.role is Role.USER else "assistant"
        text = neutralize(turn.text, markers).strip()
        if not text:
            continue
        if turns and turns[-1].role == role:
            turns[-1] = Message(role, turns[-1].content + "\n" + text)
        else:
            turns.append(Message(role, text))
    while turns and turns[0].role != "user":
        turns.pop(0)
    if not turns or turns[-1].role != "user":
        raise ValueError("a generation request's history must contain and end with a user turn")
    return [Message("system", system_prompt_for(request.safe_mode)), *turns]


class PromptBuilder:
    """Renders requests through one tokenizer's chat template within a token budget.

    `budget` bounds the whole prompt (system prompt included). The oldest turns are
    dropped first; the last user turn is always kept, cut from its start if it alone
    does not fit. Without a tokenizer (remote backends) tokens are estimated from length.
    """

    def __init__(self, tokenizer: Any | None, *, budget: int, chat_template: str | None = None) -> None:
        self._tokenizer = tokenizer
        self._budget = budget
        self._template = chat_template
        markers = set(CONTROL_MARKERS)
        if tokenizer is not None:
            markers.update(str(t) for t in getattr(tokenizer, "all_special_tokens", ()))
        self._markers = tuple(markers)

    def build(self, request: GenerationRequest, max_new_tokens: int) -> RenderedPrompt:
        messages = conversation(request, self._markers)
        system, turns = messages[0], messages[1:]
        sizes = [self._estimate(m.content) for m in turns]
        while len(turns) > 1 and self._estimate(system.content) + sum(sizes) > self._budget:
            del turns[0], sizes[0]
            while turns[0].role != "user":
                del turns[0], sizes[0]
        while True:
            text, ids, count = self._render([system, *turns])
            if count <= self._budget:
                break
            if len(turns) > 1:
                del turns[0]
                while turns[0].role != "user":
                    del turns[0]
                continue
            last = turns[0].content
            excess = max(count - self._budget, 1)
            cut = max(len(last) * excess // max(self._estimate(last), 1), excess)
            if cut >= len(last):
                break  # the system prompt alone fills the budget: keep what is left
            turns[0] = Message("user", last[cut:])
        return RenderedPrompt(
            messages=(system, *turns), text=text, token_ids=tuple(ids), max_new_tokens=max_new_tokens,
            priority=int(request.priority),
        )

    def _render(self, messages: Sequence[Message]) -> tuple[str, list[int], int]:
        """The rendered text, its token ids and the token count (estimated when remote)."""
        tokenizer = self._tokenizer
        if tokenizer is None:
            return "", [], sum(self._estimate(m.content) + 4 for m in messages)

        def apply(dicts: list[dict[str, str]]) -> str:
            return str(tokenizer.apply_chat_template(dicts, chat_template=self._template, tokenize=False,
                                                     add_generation_prompt=True))

        dicts = [{"role": m.role, "content": m.content} for m in messages]
        try:
            text = apply(dicts)
        except Exception:  # templates without a system role (jinja raise_exception)
            text = apply([{"role": "user", "content": dicts[0]["content"] + "\n\n" + dicts[1]["content"]}, *dicts[2:]])
        ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        return text, ids, len(ids)

    def _estimate(self, text: str) -> int:
        if self._tokenizer is None:
            return -(-len(text) // _CHARS_PER_TOKEN)
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
