"""A tiny random Llama with a locally trained tokenizer, for tests and benchmarks.

`save_tiny_llama` writes a folder that `AutoModelForCausalLM.from_pretrained` and
`AutoTokenizer.from_pretrained` load in well under a second on a CPU, with no hub
access: a few-layer `LlamaForCausalLM` with random weights (seeded, so reproducible)
and a byte-level BPE tokenizer trained on a few KB of built-in text, so any string
encodes. The chat template is ChatML unless another is given (for example
`model.prompt.LLAMA2_CHAT_TEMPLATE`).
"""

from __future__ import annotations

from pathlib import Path

from model.prompt import CHATML_CHAT_TEMPLATE

BOS = "<s>"
EOS = "</s>"
PAD = "<pad>"
UNK = "<unk>"
CHATML_TOKENS = ("<|im_start|>", "<|im_end|>")
SPECIAL_TOKENS = (BOS, EOS, PAD, UNK, *CHATML_TOKENS)

VOCAB_SIZE = 512
HIDDEN_SIZE = 64
LAYERS = 2
HEADS = 4
KV_HEADS = 2

# Counseling-flavoured sentences in the three languages the bot meets, so the merges
# look like the text the tests send. Repetition is fine: it only shapes the merges.
_CORPUS = [
    "I have been feeling anxious and I cannot sleep at night.",
    "My partner and I argue every day and I do not know what to do.",
    "It sounds like you are carrying a lot right now. What has been the hardest part?",
    "Would you be open to talking with a counselor or a doctor about this?",
    "I feel lonely since I moved to a new city for work.",
    "Thank you for telling me. You are not alone in feeling this way.",
    "Je me sens triste et fatigué depuis des semaines.",
    "Me siento muy sola y no sé con quién hablar.",
    "[INST] <<SYS>> system <</SYS>> [/INST] user assistant",
    "0123456789 !?.,;:'\"()[]{}<>/\\|@#$%^&*-_=+~`",
    "emoji 😊 🙏 💙 and accents éèàçñü",
]


def _train_tokenizer() -> object:
    """A byte-level BPE tokenizer (`tokenizers.Tokenizer`) trained on the built-in corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 20, trainer=trainer)
    return tokenizer


def save_tiny_llama(out_dir: Path, *, seed: int = 0, chat_template: str | None = None) -> Path:
    """Write a tiny random `LlamaForCausalLM` and its tokenizer to `out_dir`; return it.

    The same `seed` gives the same weights. `chat_template` defaults to ChatML
    (`<|im_start|>role\\n...<|im_end|>`); eos is `<|im_end|>` for ChatML so generation
    stops at the end of a turn, `</s>` otherwise. Loading needs no network.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    template = chat_template if chat_template is not None else CHATML_CHAT_TEMPLATE
    eos = CHATML_TOKENS[1] if "<|im_end|>" in template else EOS
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(),
        bos_token=BOS,
        eos_token=eos,
        pad_token=PAD,
        unk_token=UNK,
        additional_special_tokens=[t for t in SPECIAL_TOKENS if t not in {BOS, eos, PAD, UNK}],
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = template
    tokenizer.padding_side = "left"
    tokenizer.save_pretrained(out_dir)

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN_SIZE,
        intermediate_size=HIDDEN_SIZE * 2,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        initializer_range=0.2,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.do_sample = False
    model.save_pretrained(out_dir)
    return out_dir
