"""Risk assessment behaviour: the phenomena the issue names, one by one, and the contract."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bot.safety.levels import Category, RiskLevel
from bot.safety.risk import Assessment, assess, detect_language

N, C, E, H, I = RiskLevel.NONE, RiskLevel.CONCERN, RiskLevel.ELEVATED, RiskLevel.HIGH, RiskLevel.IMMINENT


def level(text: str, *history: str) -> RiskLevel:
    return assess(text, history).level


def test_assessment_contract() -> None:
    result = assess("I want to kill myself")
    assert isinstance(result, Assessment) and dataclasses.is_dataclass(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.level = N  # type: ignore[misc]
    assert result.level is H and result.categories == (Category.SUICIDE,) and result.language == "en"
    assert result.reasons == ("states a wish or intent to kill themself",)
    assert assess("hello there") == Assessment(N, (), (), "en")


def test_reasons_never_quote_the_user() -> None:
    text = "Zorblax says I want to kill myself with Quuxine pills tonight"
    result = assess(text)
    assert result.level is I
    assert not any(word in reason.lower() for reason in result.reasons for word in ("zorblax", "quuxine"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I've never contemplated suicide", N),
        ("I'm not suicidal, just tired", N),
        ("I don't want to die", N),
        ("I would never hurt myself", N),
        ("I'm not going to kill myself", C),  # denied intent stays visible
        ("I can't stop thinking about killing myself", E),  # "can't stop" is not a negation
        ("I don't know if I want to live anymore", E),
        ("I'm not suicidal but I wish I was dead", E),  # negation does not cross "but"
    ],
)
def test_negation(text: str, expected: RiskLevel) -> None:
    assert level(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to die but I've been saving up my pills",
        "I'm not suicidal or anything but how many tylenol is lethal",
        "I would never do it, I just keep looking at the noose I tied",
    ],
)
def test_negation_never_cancels_means_or_plans(text: str) -> None:
    assert level(text) >= H


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I tried to kill myself ten years ago", C),
        ("I attempted suicide when I was a teenager", C),
        ("I tried to kill myself three weeks ago", H),
        ("I tried to kill myself", H),
        ("I tried to kill myself last night", I),
        ("I used to cut myself in high school", C),
        ("I cut myself last week", E),
        ("intenté suicidarme hace diez años", C),
        ("intenté suicidarme hace tres semanas", H),
        ("j'ai fait une tentative de suicide il y a dix ans", C),
    ],
)
def test_past_versus_recent(text: str, expected: RiskLevel) -> None:
    assert level(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my friend wants to kill herself", E),
        ("my friend told me she's going to kill herself tonight and she has pills", H),
        ("my friend just took a whole bottle of pills", I),
        ("my brother died by suicide last year", C),
        ("In the movie, he kills himself at the end", N),
        ("The article said a man killed himself", N),
        ("mi mejor amiga se quiere suicidar", E),
        ("mon meilleur ami veut se suicider", E),
    ],
)
def test_third_person(text: str, expected: RiskLevel) -> None:
    assert level(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("If he touches my daughter again I'll stab him", H),
        ("I'm going to kill him, I have a gun", H),
        ("I want to kill my boss", E),
        ("I'll kill my brother if he eats my fries again lol", N),
        ("my mom is going to kill me when she sees my grades", N),
        ("he threatened to kill me", H),
    ],
)
def test_threats_and_conditional_threats(text: str, expected: RiskLevel) -> None:
    assert level(text) is expected


@pytest.mark.parametrize(
    "text",
    ["kms", "i wanna unalive myself", "i want to commit sewerslide", "k1ll mys3lf", "i want to kil myslef", "I want to \U0001F52A myself",
     "im s.u.i.c.i.d.a.l tonight", "i wannnna dieeee tonight", "jveux me tuer", "kiero matarme"],
)
def test_algospeak_leetspeak_misspellings_emoji(text: str) -> None:
    assert level(text) >= H


@pytest.mark.parametrize(
    "text",
    ["this commute is killing me", "I'm dying to see it", "kill the process", "I keep dying on this level",
     "I'd rather die than wear that", "je suis mort de rire", "me muero de risa", "these shoes are to die for",
     "Can I take ibuprofen with sertraline?", "I'm writing an essay about suicide prevention"],
)
def test_idioms_tech_gaming_fiction_and_medication_are_none(text: str) -> None:
    assert level(text) is N


def test_categories() -> None:
    assert assess("I make myself throw up after meals").categories == (Category.EATING_DISORDER,)
    assert assess("I'm 5'6 and 95 pounds, how do I lose 10 more pounds").level is H
    assert Category.CHILD_SAFETY in assess("I'm 13 and my stepdad touches me at night").categories
    voices = assess("the voices tell me to kill my neighbour")
    assert voices.level is H and set(voices.categories) == {Category.PSYCHOSIS, Category.HARM_TO_OTHERS}
    assert assess("I drink every night to numb the pain").categories == (Category.SUBSTANCE,)


def test_languages() -> None:
    assert assess("je veux mourir").language == "fr"
    assert assess("quiero morir").language == "es"
    assert assess("ok", locale="es-MX").language == "es"
    assert detect_language("I feel sad", "fr") == "en"


def test_conversation_escalates_from_milder_messages() -> None:
    history = ["I feel like a burden to everyone", "nothing is ever going to get better"]
    assert level("I can't take it anymore") is C
    assert level("I can't take it anymore", *history) is E
    assert level("I really want to die", "I wish I was dead", "I cut myself again last night") is H


def test_retraction_never_lowers() -> None:
    assert level("jk lol forget it", "I want to kill myself") is H
    assert level("c'était une blague", "je veux mourir") is E
    result = assess("never mind", ("I want to kill myself",))
    assert any("retraction" in reason for reason in result.reasons)


def test_context_dependent_rules() -> None:
    assert level("I'm at the train tracks now") is N
    assert level("I'm at the train tracks now", "I wish I could disappear forever") is I
    assert level("I bought a rope") is N
    assert level("I bought a rope", "I keep thinking about suicide") is H
    assert level("what's the weather tomorrow?", "I want to kill myself") is N


def test_pure_and_deterministic() -> None:
    history = ["I feel hopeless", "I'm a burden"]
    first = assess("I can't go on", history, "en-GB")
    assert assess("I can't go on", history, "en-GB") == first
    assert history == ["I feel hopeless", "I'm a burden"]


def test_fast_enough_for_every_message() -> None:
    messages = ["hey, how are you today?", "I want to kill myself", "my boss is killing me lol", "je veux mourir"] * 100
    start = time.perf_counter()
    for message in messages:
        assess(message)
    assert time.perf_counter() - start < 2.0  # 400 messages; the bench measures the real rate


def test_memo_keeps_no_message_text() -> None:
    from bot.safety import risk

    assess("Zorblax told me I want to kill myself tonight", ("Quuxine says hello",))
    remembered = repr(list(risk._MEMO._items.values()))
    assert "zorblax" not in remembered.lower() and "quuxine" not in remembered.lower()


def test_history_is_memoised_without_changing_results() -> None:
    history = ["I'm 5'5 and 88 pounds", "I feel trapped", "I feel hopeless"]
    first = assess("what's the fastest way to lose weight?", history)
    assert first.level is H and "while underweight, earlier in the session" in first.reasons[0]
    assert assess("what's the fastest way to lose weight?", history) == first
    assert assess("what's the fastest way to lose weight?").level is N
