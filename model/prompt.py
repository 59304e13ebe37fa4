"""System prompts and prompt rendering for the counseling model.

The system prompts are shared by serving (the worker) and training (the data
formatting), so the model is trained with the words it is served with.
"""

from __future__ import annotations

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
