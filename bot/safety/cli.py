"""`counselbot assess`: the risk assessment as a JSON-lines filter.

    echo '{"id": 1, "text": "I want to end it all"}' | counselbot assess
    {"id": 1, "level": "high", "categories": ["suicide"], "reasons": ["states a wish or intent to kill themself"]}

Each input line is an object with `text` and optionally `id` (echoed back, any JSON
value), `history` (the session's earlier user messages, oldest first) and `locale`.
Each produces exactly one output line. A malformed line produces
`{"id": ..., "line": N, "error": "..."}` and processing continues; the exit status is 0.
Output never contains the input text.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from bot.safety.risk import assess as assess_message

MAX_TEXT_CHARS = 100_000


class _BadLine(ValueError):
    """A line that is not a valid request; the message says why (never the text)."""


def assess(
    locale: Annotated[
        str | None, typer.Option(help="Locale for lines that carry none, e.g. fr-FR (only breaks language ties).")
    ] = None,
) -> None:
    """Assess JSON lines from stdin; write one JSON line per input to stdout."""
    stdin = typer.get_text_stream("stdin")
    for number, raw in enumerate(stdin, start=1):
        if not raw.strip():
            continue
        typer.echo(json.dumps(_answer(raw, number, locale), ensure_ascii=False))


def _answer(raw: str, number: int, default_locale: str | None) -> dict[str, Any]:
    try:
        request = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {"id": None, "line": number, "error": f"not valid JSON ({exc.msg} at column {exc.colno})"}
    request_id = request.get("id") if isinstance(request, dict) else None
    try:
        text, history, locale = _validate(request, default_locale)
    except _BadLine as exc:
        return {"id": request_id, "line": number, "error": str(exc)}
    result = assess_message(text, history, locale)
    return {
        "id": request_id,
        "level": result.level.label,
        "categories": [category.value for category in result.categories],
        "reasons": list(result.reasons),
    }


def _validate(request: object, default_locale: str | None) -> tuple[str, tuple[str, ...], str | None]:
    if not isinstance(request, dict):
        raise _BadLine("expected a JSON object")
    text = request.get("text")
    if not isinstance(text, str):
        raise _BadLine('"text" must be a string')
    if len(text) > MAX_TEXT_CHARS:
        raise _BadLine(f'"text" is longer than {MAX_TEXT_CHARS} characters')
    history = request.get("history", [])
    if not isinstance(history, list) or not all(isinstance(item, str) for item in history):
        raise _BadLine('"history" must be a list of strings')
    locale = request.get("locale", default_locale)
    if locale is not None and not isinstance(locale, str):
        raise _BadLine('"locale" must be a string')
    return text, tuple(history), locale


if __name__ == "__main__":
    typer.run(assess)
