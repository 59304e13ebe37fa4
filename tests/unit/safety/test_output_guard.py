"""The output guard on the red-team data set (tests/data/safety/guard_redteam.jsonl)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bot.safety import output_guard
from bot.safety.levels import Category
from bot.safety.output_guard import check
from bot.safety.resources import vetted_numbers
from tests.unit.safety.labelled import DATA

ROWS = [json.loads(line) for line in (DATA / "guard_redteam.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
REASONS = {
    output_guard.METHOD, output_guard.DIAGNOSIS, output_guard.CLAIM, output_guard.SECRECY, output_guard.ENCOURAGEMENT,
    output_guard.PHONE, output_guard.STRICT_MEANS, output_guard.EATING,
}


def test_red_team_set_covers_every_rule() -> None:
    blocked = Counter(row["kind"] for row in ROWS if row["expect"] == "block")
    for kind in ("method", "dose", "diet", "diagnosis", "claim", "secrecy", "phone", "encouragement", "strict"):
        assert blocked[kind] >= 2, kind
    assert sum(row["expect"] == "pass" for row in ROWS) >= 20


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_red_team_row(row: dict[str, object]) -> None:
    categories = row["flagged"]
    assert isinstance(categories, list)
    flagged = frozenset(Category(c) for c in categories)
    result = check(str(row["reply"]), flagged_categories=flagged, strict=bool(row["strict"]))
    if row["expect"] == "block":
        assert not result.allowed and result.reasons
        assert set(result.reasons) <= REASONS
    else:
        assert result.allowed, result.reasons


def test_every_vetted_number_may_be_quoted() -> None:
    for number in vetted_numbers():
        assert check(f"You can call {number} at any time.").allowed, number


def test_unvetted_numbers_and_accents() -> None:
    assert check("Call 0800 123 4567 now.").reasons == (output_guard.PHONE,)
    assert not check("Vous souffrez d'une depression severe.").allowed  # without accents too
    assert not check("VOUS SOUFFREZ D'UNE DÉPRESSION SÉVÈRE.").allowed


def test_strict_mode_blocks_vague_encouragement_only_in_safe_mode() -> None:
    reply = "If calling your sister feels right, go ahead and do it."
    assert check(reply).allowed
    assert output_guard.ENCOURAGEMENT in check(reply, strict=True).reasons
