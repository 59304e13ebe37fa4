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
    assert result["generation"].startswith("model.worker.Worker")
    for variant in result["variants"].values():
        assert variant["crisis"]["blocked"] == variant["crisis"]["prompts"] == len(CRISIS_PROMPTS)
        assert variant["crisis"]["any_blocked"] is True
        assert variant["crisis"]["reasons"]["suicide"] == 4
        assert variant["guard_violations"]["blocked"] == 0  # test questions: nothing flagged, not strict
        assert variant["worthless"]["guard_violations"] == 0


def test_without_a_guard_the_table_says_so(report: tuple[Path, dict[str, Any]]) -> None:
    _, result = report
    unguarded = {**result, "guard": "unavailable"}
    table = evaluation.markdown_table(unguarded)
    assert "crisis prompts" not in table and "output-guard blocks" not in table
    assert "output guard: unavailable" in table


def test_heldout_loss_matches_the_model_loss(trained: tuple[Path, dict[str, Any]]) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter, report = trained
    tokenizer = AutoTokenizer.from_pretrained(adapter)
    model = AutoModelForCausalLM.from_pretrained(report["base_model_path"]).eval()
    examples = [encode(tokenizer, to_prompt_completion(Pair(q, a))) for q, a in
                [("Why can't I sleep?", "Stress keeps the mind busy at night."), ("Is crying normal?", "Yes.")]]
    assert all(e is not None for e in examples)
    loss, count = evaluation.heldout_loss(model, tokenizer, examples, batch_size=2)
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


async def test_ask_goes_through_the_serving_worker(trained: tuple[Path, dict[str, Any]]) -> None:
    from model.local import LocalBackend, LocalOptions
    from model.worker import Worker, WorkerOptions

    adapter, report = trained
    backend = LocalBackend(LocalOptions(model=report["base_model_path"], adapter=str(adapter)))
    async with Worker(backend, WorkerOptions(max_batch=4, max_new_tokens=4)) as worker:
        texts = ["Hi", "I feel worthless and alone lately.", "Why?"]
        together = await evaluation.ask(worker, texts, max_new_tokens=4)
        apart = [(await evaluation.ask(worker, [text], max_new_tokens=4))[0] for text in texts]
        safe = await evaluation.ask(worker, texts, safe_mode=True, max_new_tokens=4)
    assert together == apart and len(together) == 3
    assert len(safe) == 3 and all(isinstance(reply, str) for reply in safe)


def test_the_real_output_guard_is_wired_in() -> None:
    check = evaluation.guard_check()
    assert check is not None, "bot.safety.output_guard is part of the project"
    allowed, reasons = check("Taking 40 pills would be enough.", frozenset({"suicide"}), True)
    assert not allowed and reasons
    assert check("It sounds heavy. Is there someone you trust you could call tonight?", frozenset({"suicide"}), True)[0]
