"""The tiny random Llama that tests and training build on."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.prompt import LLAMA2_CHAT_TEMPLATE
from model.tiny import save_tiny_llama

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")


def test_tiny_llama_loads_encodes_anything_and_generates(tmp_path: Path) -> None:
    path = save_tiny_llama(tmp_path / "tiny")
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForCausalLM.from_pretrained(path)
    assert model.config.model_type == "llama"
    assert tokenizer.pad_token and tokenizer.eos_token == "<|im_end|>" and tokenizer.bos_token == "<s>"

    text = "Ça va? 😊 日本語 \x00 tabs\tand\nnewlines"
    ids = tokenizer(text, add_special_tokens=False).input_ids
    assert tokenizer.decode(ids) == text

    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hello"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    input_ids = torch.tensor([tokenizer(prompt, add_special_tokens=False).input_ids])
    out = model.generate(input_ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] <= input_ids.shape[1] + 5


def test_same_seed_same_weights_and_llama2_template(tmp_path: Path) -> None:
    a = transformers.AutoModelForCausalLM.from_pretrained(save_tiny_llama(tmp_path / "a", seed=3))
    b = transformers.AutoModelForCausalLM.from_pretrained(
        save_tiny_llama(tmp_path / "b", seed=3, chat_template=LLAMA2_CHAT_TEMPLATE)
    )
    c = transformers.AutoModelForCausalLM.from_pretrained(save_tiny_llama(tmp_path / "c", seed=4))
    for (name, pa), (_, pb), (_, pc) in zip(
        a.state_dict().items(), b.state_dict().items(), c.state_dict().items(), strict=True
    ):
        assert torch.equal(pa, pb), name
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True))

    tokenizer = transformers.AutoTokenizer.from_pretrained(tmp_path / "b")
    rendered = tokenizer.apply_chat_template(
        [
            {"role": "system", "content": "be kind"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "again"},
        ],
        tokenize=False,
    )
    assert rendered == "<s>[INST] <<SYS>>\nbe kind\n<</SYS>>\n\nhi [/INST] hello </s><s>[INST] again [/INST]"
    assert tokenizer.eos_token == "</s>"
