"""Evaluation of the tiny base model against base + the adapter trained in conftest."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

import training.evaluate as evaluation
from training.data import Pair, encode, to_prompt_completion
from training.evaluate import CRISIS_PROMPTS, REPORT_JSON, REPORT_MD, EvalRequest, evaluate

pytestmark = pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")


def _strict_blocks_everything(reply: str, categories: frozenset[str], strict: bool) -> tuple[bool, Sequence[str]]:
    """A stand-in guard: blocks every reply in strict mode when a category is flagged."""
    if strict and categories:
        return False, sorted(categories)
    return True, []


@pytest.fixture(scope="module")
def report(trained: tuple[Path, dict[str, Any]], cache_dir: Path, tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[Path, dict[str, Any]]:
    output = tmp_path_factory.mktemp("eval")
    adapter, _ = trained
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluation, "guard_check", lambda: _strict_blocks_everything)
        result = evaluate(EvalRequest(adapter=adapter, questions=3, max_new_tokens=6, loss_rows=12, batch_size=4,
                                      output=output, cache_dir=cache_dir))
    return output, result


def test_report_compares_base_and_tuned(report: tuple[Path, dict[str, Any]]) -> None:
    output, result = report
    assert set(result["variants"]) == {"base", "tuned"}
    for variant in result["variants"].values():
        assert math.isfinite(variant["loss"]) and variant["perplexity"] == pytest.approx(math.exp(variant["loss"]))
        assert variant["loss_tokens"] > 0
        assert variant["replies"]["count"] == 3
        assert variant["worthless"]["count"] >= len(evaluation.WORTHLESS_PROMPTS)
        assert len(variant["crisis_samples"]) == len(CRISIS_PROMPTS)
    # Eight steps on the training split already lower the loss on the held-out questions.
    assert result["variants"]["tuned"]["loss"] < result["variants"]["base"]["loss"]
    assert json.loads((output / REPORT_JSON).read_text()) == json.loads(json.dumps(result))
    table = (output / REPORT_MD).read_text()
    assert table.startswith("| metric | base | tuned |")
    assert "crisis prompts with a blocked reply" in table


def test_guard_runs_strict_with_the_flagged_categories_on_crisis_prompts(report: tuple[Path, dict[str, Any]]) -> None:
    _, result = report
    assert result["guard"] == "bot.safety.output_guard"
    for variant in result["variants"].values():
        assert variant["crisis"]["blocked"] == variant["crisis"]["prompts"] == len(CRISIS_PROMPTS)
        assert variant["crisis"]["any_blocked"] is True
        assert variant["crisis"]["reasons"]["suicide"] == 4
        assert variant["guard_violations"]["blocked"] == 0  # test questions: nothing flagged, not strict
        assert variant["worthless"]["guard_violations"] == 0


def test_without_a_guard_the_report_says_so(trained: tuple[Path, dict[str, Any]], cache_dir: Path,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation, "guard_check", lambda: None)
    adapter, _ = trained
    result = evaluate(EvalRequest(adapter=adapter, questions=1, max_new_tokens=2, loss_rows=2, output=tmp_path,
                                  cache_dir=cache_dir))
    assert result["guard"] == "unavailable" and "crisis" not in result["variants"]["tuned"]
    assert "crisis prompts" not in (tmp_path / REPORT_MD).read_text()


def test_heldout_loss_matches_the_model_loss(trained: tuple[Path, dict[str, Any]]) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter, report = trained
    tokenizer = AutoTokenizer.from_pretrained(adapter)
    model = AutoModelForCausalLM.from_pretrained(report["base_model_path"]).eval()
    examples = [encode(tokenizer, to_prompt_completion(Pair(q, a))) for q, a in
                [("Why can't I sleep?", "Stress keeps the mind busy at night."), ("Is crying normal?", "Yes.")]]
    assert all(e is not None for e in examples)
    loss, count = evaluation.heldout_loss(model, tokenizer, examples, batch_size=2)  # type: ignore[arg-type]
    expected_sum = 0.0
    expected_count = 0
    with torch.no_grad():
        for example in examples:
            assert example is not None
            labels = torch.tensor([example.labels])
            n = int((labels[:, 1:] != -100).sum())
            expected_sum += float(model(torch.tensor([example.input_ids]), labels=labels).loss) * n
            expected_count += n
    assert count == expected_count
    assert loss == pytest.approx(expected_sum / expected_count, rel=1e-4)


def test_batched_generation_matches_one_at_a_time(trained: tuple[Path, dict[str, Any]]) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter, report = trained
    tokenizer = AutoTokenizer.from_pretrained(adapter)
    model = AutoModelForCausalLM.from_pretrained(report["base_model_path"]).eval()
    conversations = [evaluation.conversation(text) for text in ("Hi", "I feel worthless and alone lately.", "Why?")]
    together = evaluation.generate_replies(model, tokenizer, conversations, max_new_tokens=5, batch_size=3)
    apart = evaluation.generate_replies(model, tokenizer, conversations, max_new_tokens=5, batch_size=1)
    assert together == apart and len(together) == 3
