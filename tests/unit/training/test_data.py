"""Loading, cleaning counts, splitting and prompt/completion formatting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bot.errors import ConfigError
from model.prompt import SYSTEM_PROMPT
from training.data import (
    HUB_DATASET_ID,
    CleaningOptions,
    ColumnMap,
    Pair,
    clean,
    encode,
    encode_pairs,
    load_pairs,
    prepare,
    question_key,
    split_by_question,
    to_prompt_completion,
)

LONG_ANSWER = (
    "It sounds like you have been carrying this on your own for a long time, and that takes a lot "
    "of strength. Could you tell me a little more about when the feeling is strongest during the day?"
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Context": ["I feel anxious all the time at work.", "I can't sleep since my dog died."],
            "Response": [LONG_ANSWER, "Losing a companion is real grief. " + LONG_ANSWER],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_local_files_by_suffix(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"data{suffix}"
    frame = _frame()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    pairs = load_pairs(path)
    assert pairs == [Pair(q, a) for q, a in zip(frame.Context, frame.Response, strict=True)]


def test_counsel_chat_columns_are_joined_title_then_body(tmp_path: Path) -> None:
    path = tmp_path / "cc.csv"
    pd.DataFrame(
        {
            "questionTitle": ["Why am I always tired?", "Same words"],
            "questionText": ["I sleep ten hours and still feel drained.", "Same words and more detail here."],
            "answerText": [LONG_ANSWER, LONG_ANSWER],
        }
    ).to_csv(path, index=False)
    pairs = load_pairs(path)
    assert pairs[0].question == "Why am I always tired?\n\nI sleep ten hours and still feel drained."
    assert pairs[1].question == "Same words and more detail here."  # a body repeating its title stands alone


def test_explicit_column_map(tmp_path: Path) -> None:
    path = tmp_path / "custom.jsonl"
    path.write_text(json.dumps({"ask": "Why?", "body": "Because.", "reply": "Here is why."}) + "\n")
    pairs = load_pairs(path, columns=ColumnMap(question=("ask", "body"), answer="reply"))
    assert pairs == [Pair("Why?\n\nBecause.", "Here is why.")]
    with pytest.raises(ConfigError, match="lacks columns"):
        load_pairs(path, columns=ColumnMap(question=("nope",), answer="reply"))
    with pytest.raises(ConfigError, match="cannot tell"):
        load_pairs(path)


def test_hub_loader_path_with_a_local_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `datasets.load_dataset(id)` resolves a local folder named like the id before the hub:
    # the stand-in has the hub dataset's file name and schema (JSON lines, Context / Response).
    stand_in = tmp_path / HUB_DATASET_ID
    stand_in.mkdir(parents=True)
    rows = [{"Context": f"Question number {i} about stress?", "Response": f"{LONG_ANSWER} ({i})"} for i in range(5)]
    (stand_in / "combined_dataset.json").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    monkeypatch.chdir(tmp_path)
    pairs = load_pairs(HUB_DATASET_ID, cache_dir=tmp_path / "cache")
    assert pairs == [Pair(row["Context"], row["Response"]) for row in rows]


def test_unreachable_source_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="neither a local file nor a reachable dataset"):
        load_pairs(str(tmp_path / "missing.csv"), cache_dir=tmp_path / "cache")


def _pairs_with_duplicates() -> list[Pair]:
    answers = [
        LONG_ANSWER,
        "Moving to a new city often brings a wave of loneliness, even when the move was your choice. Small "
        "routines like a weekly class or a regular cafe can turn strangers into familiar faces over time.",
        "Arguments that repeat usually circle one unmet need. When things are calm, try naming what you each "
        "want from the other in a sentence, and listen for the need under the complaint before answering.",
        "Panic attacks feel dangerous but pass on their own. Slow breathing with a longer out-breath tells "
        "the body it is safe; a doctor can rule out other causes and a counselor can teach more skills.",
    ]
    pairs = [Pair(f"Question {i}: why do I feel so low on {day}?", answer) for i, (day, answer) in
             enumerate(zip(["Monday", "Tuesday", "Wednesday", "Thursday"], answers, strict=True))]
    return [
        *pairs,
        Pair(pairs[0].question.upper(), "  " + pairs[0].answer.lower() + " "),  # exact duplicate up to case/space
        Pair("A different question entirely?", pairs[1].answer.replace("strength", "courage")),  # near duplicate
        Pair("Too short answer?", "Yes."),
        Pair("Hi", LONG_ANSWER + " Unique ending one."),  # question too short
        Pair("A long answer?", "word " * 500),
    ]


def test_clean_counts_add_up_and_duplicates_drop() -> None:
    raw = _pairs_with_duplicates()
    rows, steps = clean(raw)
    assert steps[0].rows_in == len(raw)
    for before, after in zip(steps, steps[1:], strict=False):
        assert after.rows_in == before.rows_out
    assert steps[-1].rows_out == len(rows) == 4
    by_name = {step.step: step for step in steps}
    assert by_name["drop_short_or_long"].rows_in - by_name["drop_short_or_long"].rows_out == 3
    assert by_name["drop_exact_duplicates"].rows_in - by_name["drop_exact_duplicates"].rows_out == 1
    assert by_name["drop_near_duplicates"].rows_in - by_name["drop_near_duplicates"].rows_out == 1
    assert [row.question for row in rows] == [pair.question for pair in raw[:4]]


def test_prepare_counsel_chat_counts_and_disjoint_splits(counsel_chat_csv: Path) -> None:
    data = prepare(counsel_chat_csv)
    raw_rows = len(pd.read_csv(counsel_chat_csv))
    steps = data.steps
    assert steps[0].rows_in == raw_rows
    for before, after in zip(steps, steps[1:], strict=False):
        assert after.rows_in == before.rows_out
    assert steps[-1].rows_out == len(data.train) + len(data.validation) + len(data.test)
    scrub = next(step for step in steps if step.step == "scrub")
    glued = next(step for step in steps if step.step == "repair_glued")
    assert scrub.items > 100 and glued.items > 1000
    splits = [{question_key(p.question) for p in part} for part in (data.train, data.validation, data.test)]
    assert not splits[0] & splits[1] and not splits[0] & splits[2] and not splits[1] & splits[2]
    assert 0.05 < len(data.test) / steps[-1].rows_out < 0.16
    counts = data.counts()
    assert counts["splits"]["test"] == len(data.test) and len(counts["steps"]) == len(steps)
    json.dumps(counts)


def test_split_is_seeded_stable_and_by_question() -> None:
    pairs = [Pair(f"Question {i % 50}?", f"answer {i}") for i in range(200)]
    first = split_by_question(pairs, validation_fraction=0.1, test_fraction=0.2, seed=3)
    assert first == split_by_question(pairs, validation_fraction=0.1, test_fraction=0.2, seed=3)
    assert first != split_by_question(pairs, validation_fraction=0.1, test_fraction=0.2, seed=4)
    where = {question_key(p.question): index for index, part in enumerate(first) for p in part}
    assert all(where[question_key(p.question)] == index for index, part in enumerate(first) for p in part)
    # Adding rows never moves a question that was already placed.
    more = split_by_question(
        [*pairs, *(Pair(f"New question {i}?", "x") for i in range(30))],
        validation_fraction=0.1, test_fraction=0.2, seed=3,
    )
    for index, part in enumerate(more):
        for pair in part:
            key = question_key(pair.question)
            assert where.get(key, index) == index
    with pytest.raises(ConfigError):
        split_by_question(pairs, validation_fraction=0.5, test_fraction=0.5, seed=0)


def test_prompt_completion_record_uses_the_served_system_prompt() -> None:
    record = to_prompt_completion(Pair("How do I cope?", "One step at a time."))
    assert record == {
        "prompt": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "How do I cope?"}],
        "completion": [{"role": "assistant", "content": "One step at a time."}],
    }


def test_loss_mask_covers_the_completion_only(chat_tokenizer: Any) -> None:
    pair = Pair("I feel worthless lately. What can I do?", "You matter. What has been happening lately?")
    record = to_prompt_completion(pair)
    example = encode(chat_tokenizer, record)
    assert example is not None
    prompt_ids = chat_tokenizer.apply_chat_template(record["prompt"], tokenize=False, add_generation_prompt=True)
    served = chat_tokenizer(prompt_ids, add_special_tokens=False)["input_ids"]
    # The masked part is exactly what the worker feeds the model; the rest is the reply and its end.
    assert example.input_ids[: example.prompt_tokens] == served
    assert all(label == -100 for label in example.labels[: example.prompt_tokens])
    assert example.labels[example.prompt_tokens :] == example.input_ids[example.prompt_tokens :]
    target = chat_tokenizer.decode(example.labels[example.prompt_tokens :])
    assert target.strip().startswith(pair.answer)
    assert chat_tokenizer.eos_token in target


def test_loss_mask_on_the_default_models_own_tokenizer() -> None:
    """The real SmolLM2 tokenizer (ChatML from its GGUF), where `counselbot setup` fetched it."""
    from transformers import AutoTokenizer

    from bot.config import load_settings
    from model.default import default_model_path, is_fetched

    cache = load_settings().model_cache_dir
    if not is_fetched(cache):
        pytest.skip("the default model is not fetched (counselbot setup)")
    tokenizer: Any = AutoTokenizer.from_pretrained(default_model_path(cache))
    pair = Pair("I feel worthless lately.", "That sounds heavy. What has been happening?")
    example = encode(tokenizer, to_prompt_completion(pair))
    assert example is not None
    assert all(label == -100 for label in example.labels[: example.prompt_tokens])
    target = tokenizer.decode(example.labels[example.prompt_tokens :])
    assert target.startswith(pair.answer + "<|im_end|>")
    assert "<|im_start|>assistant" in tokenizer.decode(example.input_ids[: example.prompt_tokens])


def test_sft_trainer_keeps_our_labels(chat_tokenizer: Any, tmp_path: Path) -> None:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    encoded, dropped = encode_pairs(
        chat_tokenizer, [Pair("Why can't I focus?", LONG_ANSWER), Pair("Is it normal to cry?", "Yes, it is.")],
        max_length=512,
    )
    assert dropped == 0
    model = AutoModelForCausalLM.from_pretrained(chat_tokenizer.name_or_path)
    trainer = SFTTrainer(
        model=model,
        args=SFTConfig(
            output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", max_length=512,
            activation_checkpointing=False,
        ),
        train_dataset=Dataset.from_list([e.as_row() for e in encoded]),
        processing_class=chat_tokenizer,
    )
    dataset: Any = trainer.train_dataset
    batch = trainer.data_collator([dataset[i] for i in range(2)])
    for row, example in enumerate(encoded):
        labels = batch["labels"][row].tolist()
        assert labels[: len(example.labels)] == example.labels
        assert all(label == -100 for label in labels[len(example.labels) :])


def test_too_long_examples_are_dropped_not_cut(chat_tokenizer: Any) -> None:
    encoded, dropped = encode_pairs(chat_tokenizer, [Pair("Long?", LONG_ANSWER * 20), Pair("Short?", "Fine.")],
                                    max_length=450)
    assert dropped == 1 and len(encoded) == 1
    assert len(encoded[0].input_ids) <= 450


def test_options_change_the_length_filter() -> None:
    rows, _ = clean([Pair("Why so tired?", "Because of stress and poor sleep.")], CleaningOptions(min_answer_words=3))
    assert len(rows) == 1
