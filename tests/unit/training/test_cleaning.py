"""Cleaning rules on text written to hold what the counsel-chat scrape holds."""

from __future__ import annotations

import pytest

from training.cleaning import contains_contact, normalise, repair_glued, scrub, strip_signoff
from training.dedup import near_duplicate_indices


def test_normalise_unicode_quotes_and_spaces() -> None:
    text, changed = normalise("It\u2019s  \u201cfine\u201d\u00a0now\r\n\r\n\r\n\r\nOk\u2026")
    assert text == "It's \"fine\" now\n\nOk..."
    assert changed == 1
    assert normalise(text) == (text, 0)


@pytest.mark.parametrize(
    ("glued", "repaired"),
    [
        ("new people to hang out with.Seriously, the social", "new people to hang out with. Seriously, the social"),
        ("How are you?Have you tried", "How are you? Have you tried"),
        ('he said "stop".The next day', 'he said "stop". The next day'),
        ("Be well,Robin", "Be well, Robin"),
        ("with ease :)After that", "with ease :) After that"),
    ],
)
def test_glued_sentences_are_repaired(glued: str, repaired: str) -> None:
    text, count = repair_glued(glued)
    assert text == repaired
    assert count == 1


@pytest.mark.parametrize(
    "kept",
    [
        "Try e.g.Something like this",
        "She has a Ph.D in psychology",
        "See www.LivingYes.org for ideas",
        "Read https://example.org/a.Page today",
        "I moved to the U.S.A last year",
    ],
)
def test_glue_repair_leaves_abbreviations_and_links(kept: str) -> None:
    assert repair_glued(kept) == (kept, 0)


PLANTED = (
    "I hear how hard this is. Write to me at jane.doe+help@example.com if you like. "
    "My practice site is https://therapy.example.com/contact for bookings. "
    "You can also visit www.example-counseling.org anytime. "
    "Call me at (514) 690-2469 to book. Or 1-800-273-8255 at night. "
    "In the UK ring +44 20 7946 0958 today. My office line is 404.293.5654 too. "
    "Obfuscated: [email\u00a0protected] here. "
    "Talking to someone you trust can help."
)


def test_scrub_removes_planted_contacts_and_keeps_the_rest() -> None:
    text, _ = normalise(PLANTED)
    out, removed = scrub(text)
    assert out == "I hear how hard this is. Talking to someone you trust can help."
    assert removed == 9
    assert not contains_contact(out)
    for planted in ("jane.doe", "example.com", "example-counseling", "690-2469", "273-8255", "7946", "293.5654"):
        assert planted not in out


def test_scrub_keeps_numbers_that_are_not_phone_numbers() -> None:
    text = "In 2016 I was 25. It took 3 to 4 weeks and 1,000 steps, at 12:30 each day."
    assert scrub(text) == (text, 0)


def test_scrub_keeps_paragraph_breaks() -> None:
    text = "First paragraph here.\n\nSecond one, see www.example.org for more. It ends here."
    assert scrub(text) == ("First paragraph here.\n\nIt ends here.", 1)


@pytest.mark.parametrize(
    ("signed", "body"),
    [
        ("I hope this helps. Be well. Robin J. Landwehr, DBH, LPC, NCC", "I hope this helps."),
        ("Healing takes time. Warm regards, Shawn Berthel, M.S., LMHC", "Healing takes time."),
        ("You are not alone. Warmly, Angela Topcu, MFT", "You are not alone."),
        ("You can do it. Best wishes!", "You can do it."),
        ("I wish you the very best.", "I wish you the very best."),
        ("Take care of yourself first.", "Take care of yourself first."),
    ],
)
def test_therapist_signoffs_are_removed(signed: str, body: str) -> None:
    assert strip_signoff(signed)[0] == body


def test_near_duplicates_keep_the_first_of_each_group() -> None:
    base = (
        "Grief comes in waves and there is no right way to feel it. Some days will be heavier than "
        "others, and that is normal. It can help to talk with people who knew your father, to write "
        "him a letter, or to keep a small ritual that honours him. If the weight does not lift after "
        "a few months, a grief counselor can walk alongside you."
    )
    one_word_changed = base.replace("heavier", "harder")
    different = "Sleep problems often follow stress. Keeping a regular bedtime and a dark room helps many people."
    keep = near_duplicate_indices([base, different, one_word_changed, base.upper()], threshold=0.8)
    assert keep == [0, 1]


def test_near_duplicate_threshold_is_respected() -> None:
    a = "one two three four five six seven eight nine ten"
    b = "one two three four five six seven eight nine eleven"  # 7 of 9 shingles shared: 0.7
    assert near_duplicate_indices([a, b], threshold=0.8) == [0, 1]
    assert near_duplicate_indices([a, b], threshold=0.6) == [0]
