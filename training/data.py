"""Training data: load counseling Q&A pairs, clean them, split by question, format.

Sources: the hub dataset `Amod/mental_health_counseling_conversations` (by id, through
`datasets.load_dataset`), or a local CSV / JSONL / Parquet file. Columns are found by
schema (Context / Response; counsel-chat's questionTitle + questionText / answerText)
or given as a `ColumnMap`.

`prepare()` runs every cleaning step in order and records, per step, how many rows came
in, went out and were changed, so the counts add up from the raw rows to the three
splits. The split assigns each question (not each row) by a seeded hash, so no question
appears in two splits and adding rows never moves an existing question.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from training import cleaning
from training.dedup import near_duplicate_indices

HUB_DATASET_ID = "Amod/mental_health_counseling_conversations"
_LOCAL_SUFFIXES = {".csv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


@dataclass(frozen=True)
class ColumnMap:
    """Which columns hold the question (joined with a blank line) and the answer."""

    question: tuple[str, ...]
    answer: str


AMOD_COLUMNS = ColumnMap(question=("Context",), answer="Response")
COUNSEL_CHAT_COLUMNS = ColumnMap(question=("questionTitle", "questionText"), answer="answerText")
KNOWN_SCHEMAS = (COUNSEL_CHAT_COLUMNS, AMOD_COLUMNS)


@dataclass(frozen=True)
class Pair:
    question: str
    answer: str


@dataclass(frozen=True)
class CleaningOptions:
    min_question_words: int = 3
    max_question_words: int = 300
    min_answer_words: int = 20
    max_answer_words: int = 400
    near_duplicate_threshold: float = 0.8
    validation_fraction: float = 0.05
    test_fraction: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class StepCount:
    """One cleaning step: rows in, rows out, rows whose text it changed, items it acted on."""

    step: str
    rows_in: int
    rows_out: int
    rows_changed: int = 0
    items: int = 0


@dataclass
class PreparedData:
    train: list[Pair]
    validation: list[Pair]
    test: list[Pair]
    steps: list[StepCount] = field(default_factory=list)
    source: str = ""

    def counts(self) -> dict[str, Any]:
        """JSON-ready summary: per-step counts and split sizes."""
        return {
            "source": self.source,
            "steps": [asdict(step) for step in self.steps],
            "splits": {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)},
        }


def load_pairs(source: str | Path, *, columns: ColumnMap | None = None, cache_dir: Path | None = None) -> list[Pair]:
    """Read raw question / answer pairs from a local file or a hub dataset id.

    A path to an existing file is read by its suffix; anything else is handed to
    `datasets.load_dataset` (a hub id, or a local dataset directory of the same layout).
    Missing cells become empty strings; nothing is cleaned here.
    """
    path = Path(source)
    if path.is_file():
        records = _read_local(path)
    else:
        records = _read_hub(str(source), cache_dir)
    if not records:
        raise ConfigError(f"data source {str(source)!r} has no rows")
    mapping = columns or detect_columns(records[0].keys())
    missing = [name for name in (*mapping.question, mapping.answer) if name not in records[0]]
    if missing:
        raise ConfigError(f"data source {str(source)!r} lacks columns {missing}; has {sorted(records[0])}")
    return [
        Pair(
            question=_join_question([_cell(record.get(name)) for name in mapping.question]),
            answer=_cell(record.get(mapping.answer)),
        )
        for record in records
    ]


def detect_columns(names: Any) -> ColumnMap:
    """Pick the known schema whose columns are all present."""
    present = set(names)
    for schema in KNOWN_SCHEMAS:
        if {*schema.question, schema.answer} <= present:
            return schema
    raise ConfigError(
        f"cannot tell question and answer columns apart in {sorted(present)}; "
        "expected Context/Response or questionTitle/questionText/answerText"
    )


def prepare(
    source: str | Path,
    *,
    columns: ColumnMap | None = None,
    options: CleaningOptions = CleaningOptions(),
    cache_dir: Path | None = None,
) -> PreparedData:
    """Load, clean, deduplicate and split. See `clean()` and `split_by_question()`."""
    pairs = load_pairs(source, columns=columns, cache_dir=cache_dir)
    cleaned, steps = clean(pairs, options)
    train, validation, test = split_by_question(
        cleaned, validation_fraction=options.validation_fraction, test_fraction=options.test_fraction, seed=options.seed
    )
    steps.append(StepCount("split", len(cleaned), len(train) + len(validation) + len(test)))
    return PreparedData(train, validation, test, steps, source=str(source))


def clean(pairs: Sequence[Pair], options: CleaningOptions = CleaningOptions()) -> tuple[list[Pair], list[StepCount]]:
    """Run the cleaning steps in order; each step's rows_in is the previous rows_out."""
    steps: list[StepCount] = []
    rows = list(pairs)
    for name, rule in (
        ("normalise", cleaning.normalise),
        ("repair_glued", cleaning.repair_glued),
        ("scrub", cleaning.scrub),
    ):
        rows, step = _rewrite(rows, name, rule)
        steps.append(step)
    rows, step = _filter_length(rows, options)
    steps.append(step)
    rows, step = _drop_exact_duplicates(rows)
    steps.append(step)
    keep = near_duplicate_indices([pair.answer for pair in rows], threshold=options.near_duplicate_threshold)
    steps.append(StepCount("drop_near_duplicates", len(rows), len(keep)))
    rows = [rows[index] for index in keep]
    return rows, steps


def question_key(question: str) -> str:
    """The identity of a question for splitting: case, punctuation and spacing ignored."""
    return " ".join("".join(ch for ch in question.casefold() if ch.isalnum() or ch.isspace()).split())


def split_by_question(
    pairs: Sequence[Pair], *, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """Assign every pair of a question to the same split, by a seeded hash of the question.

    The same seed and question always land in the same split, whatever else is in the
    data; order within each split follows the input.
    """
    if validation_fraction < 0 or test_fraction < 0 or validation_fraction + test_fraction >= 1:
        raise ConfigError("validation and test fractions must be >= 0 and sum to less than 1")
    train: list[Pair] = []
    validation: list[Pair] = []
    test: list[Pair] = []
    for pair in pairs:
        digest = hashlib.blake2b(f"{seed}\x00{question_key(pair.question)}".encode(), digest_size=8).digest()
        position = int.from_bytes(digest, "big") / 2**64
        if position < test_fraction:
            test.append(pair)
        elif position < test_fraction + validation_fraction:
            validation.append(pair)
        else:
            train.append(pair)
    return train, validation, test


def to_prompt_completion(pair: Pair, system_prompt: str | None = None) -> dict[str, list[dict[str, str]]]:
    """The conversational prompt / completion record TRL trains on (loss on the completion).

    The system prompt defaults to the one the worker serves with.
    """
    if system_prompt is None:
        from model.prompt import SYSTEM_PROMPT

        system_prompt = SYSTEM_PROMPT
    return {
        "prompt": [{"role": "system", "content": system_prompt}, {"role": "user", "content": pair.question}],
        "completion": [{"role": "assistant", "content": pair.answer}],
    }


@dataclass(frozen=True)
class Encoded:
    """One tokenized example: labels are -100 over the prompt, token ids over the completion."""

    input_ids: list[int]
    labels: list[int]
    prompt_tokens: int

    def as_row(self) -> dict[str, list[int]]:
        return {"input_ids": self.input_ids, "labels": self.labels}


def encode(tokenizer: Any, record: dict[str, list[dict[str, str]]], max_length: int | None = None) -> Encoded | None:
    """Tokenize a prompt / completion record through the tokenizer's chat template.

    The whole conversation is tokenized once, as the model reads it; the prompt ends
    where the tokens of the prompt alone (rendered with the generation prompt, as the
    worker renders it) stop matching. Returns None when the example is longer than
    `max_length`: a cut completion would teach the model to stop mid-sentence.
    """
    prompt_text = tokenizer.apply_chat_template(record["prompt"], tokenize=False, add_generation_prompt=True)
    full_text = tokenizer.apply_chat_template(record["prompt"] + record["completion"], tokenize=False)
    if not full_text.startswith(prompt_text):
        raise ConfigError("the chat template renders the prompt differently when a reply follows it")
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(full_text, add_special_tokens=False)["input_ids"]
    if max_length is not None and len(full_ids) > max_length:
        return None
    boundary = 0
    limit = min(len(prompt_ids), len(full_ids))
    while boundary < limit and prompt_ids[boundary] == full_ids[boundary]:
        boundary += 1
    if boundary >= len(full_ids):
        raise ConfigError("the completion renders to no tokens")
    labels = [-100] * boundary + full_ids[boundary:]
    return Encoded(input_ids=list(full_ids), labels=labels, prompt_tokens=boundary)


def encode_pairs(
    tokenizer: Any,
    pairs: Sequence[Pair],
    *,
    max_length: int | None,
    system_prompt: str | None = None,
    limit: int | None = None,
) -> tuple[list[Encoded], int]:
    """Encode pairs for training or evaluation; returns the examples and how many were
    dropped as longer than `max_length`. Stops once `limit` examples are kept."""
    encoded: list[Encoded] = []
    dropped = 0
    for pair in pairs:
        if limit is not None and len(encoded) >= limit:
            break
        example = encode(tokenizer, to_prompt_completion(pair, system_prompt), max_length)
        if example is None:
            dropped += 1
        else:
            encoded.append(example)
    return encoded, dropped


def _rewrite(rows: list[Pair], name: str, rule: Callable[[str], tuple[str, int]]) -> tuple[list[Pair], StepCount]:
    out: list[Pair] = []
    changed = 0
    items = 0
    for pair in rows:
        question, q_items = rule(pair.question)
        answer, a_items = rule(pair.answer)
        if (question, answer) != (pair.question, pair.answer):
            changed += 1
        items += q_items + a_items
        out.append(replace(pair, question=question, answer=answer))
    return out, StepCount(name, len(rows), len(out), changed, items)


def _filter_length(rows: list[Pair], options: CleaningOptions) -> tuple[list[Pair], StepCount]:
    kept = [
        pair
        for pair in rows
        if options.min_question_words <= cleaning.word_count(pair.question) <= options.max_question_words
        and options.min_answer_words <= cleaning.word_count(pair.answer) <= options.max_answer_words
    ]
    return kept, StepCount("drop_short_or_long", len(rows), len(kept))


def _drop_exact_duplicates(rows: list[Pair]) -> tuple[list[Pair], StepCount]:
    seen: set[tuple[str, str]] = set()
    kept: list[Pair] = []
    for pair in rows:
        key = (question_key(pair.question), question_key(pair.answer))
        if key not in seen:
            seen.add(key)
            kept.append(pair)
    return kept, StepCount("drop_exact_duplicates", len(rows), len(kept))


def _read_local(path: Path) -> list[dict[str, Any]]:
    import pandas as pd

    kind = _LOCAL_SUFFIXES.get(path.suffix.lower())
    if kind == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    elif kind == "parquet":
        frame = pd.read_parquet(path)
    elif kind == "json":
        text = path.read_text(encoding="utf-8").lstrip()
        if text.startswith("["):
            return [dict(row) for row in json.loads(text)]
        frame = pd.read_json(path, lines=True, dtype=False)
    else:
        raise ConfigError(f"{path}: unsupported data file type; use .csv, .jsonl, .json or .parquet")
    return [dict(row) for row in frame.to_dict(orient="records")]


def _read_hub(dataset_id: str, cache_dir: Path | None) -> list[dict[str, Any]]:
    import datasets

    try:
        loaded = datasets.load_dataset(dataset_id, split="train", cache_dir=str(cache_dir) if cache_dir else None)
    except (FileNotFoundError, ConnectionError, OSError, ValueError) as exc:
        raise ConfigError(
            f"data {dataset_id!r} is neither a local file nor a reachable dataset ({type(exc).__name__})"
        ) from exc
    return [dict(row) for row in loaded]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    return str(value)


def _join_question(parts: list[str]) -> str:
    parts = [part.strip() for part in parts if part and part.strip()]
    if len(parts) == 2 and question_key(parts[1]).startswith(question_key(parts[0])):
        return parts[1]  # the body repeats the title
    return "\n\n".join(parts)
