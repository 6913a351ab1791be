"""Crisis language detection, moderator term lists and the default resources."""

from __future__ import annotations

import pytest

from bot.logic.crisis import (
    DEFAULT_RESOURCES,
    DEFAULT_TERMS,
    MAX_TERM_LENGTH,
    MAX_TERMS,
    find_crisis_language,
    normalise_terms,
)
from bot.logic.errors import UserError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I want to kill myself", ["kill myself"]),
        ("i keep thinking about killing myself", ["kill myself"]),
        ("Honestly I just want to die.", ["want to die"]),
        ("I wanted to die after the relapse", ["want to die"]),
        ("relapsed last night and want to die", ["want to die"]),
        ("I think I'm going to end it all tonight", ["end it all"]),
        ("There's no reason to live anymore", ["no reason to live"]),
        ("everyone would be better off without me", ["better off without me"]),
        ("I hurt myself again", ["hurt myself"]),
        ("I've started cutting myself again", ["cutting myself"]),
        ("I took too many pills", ["took too many pills"]),
        ("thinking of taking too many pills", ["took too many pills"]),
        ("been feeling suicidal all week", ["suicidal"]),
        ("I've been thinking about suicide", ["thinking about suicide"]),
        ("I have a suicide plan", ["suicide plan"]),
        ("I don't want to live like this", ["don't want to live"]),
        ("I do not want to wake up tomorrow", ["don't want to wake up"]),
        ("I can't go on like this", ["can't go on like this"]),
        ("I cannot go on anymore", ["can't go on anymore"]),
        ("back to self-harming", ["self harm"]),
        ("I might take an overdose", ["take an overdose"]),
        ("going to drink myself to death", ["drink myself to death"]),
        ("I do not want to be here any more", ["don't want to be here anymore"]),
        ("I cannot go on any more", ["can't go on anymore"]),
        ("thinking about unaliving myself", ["unalive myself"]),
    ],
)
def test_crisis_phrases_are_found(text: str, expected: list[str]) -> None:
    assert find_crisis_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'm killing it at work lately",
        "this commute is killing me",
        "I could die laughing at that video",
        "dead tired after the night shift",
        "this cake is to die for",
        "watched the Suicide Squad movie",
        "we lost my uncle to suicide last year and I miss him",
        "I cut myself shaving",
        "I'm on a diet and want to diet harder",
        "I nearly killed myself laughing",
        "we can't go on the trip",
        "killed it at the gym, then cut the grass",
        "my phone died and I was dying to tell you",
        "overdosed on sugar at the party",
        "is there any more tea?",
        "I don't live here any more",
        "",
        "   ",
    ],
)
def test_everyday_idioms_do_not_count_as_crisis_language(text: str) -> None:
    assert find_crisis_language(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "I want to KILL MYSELF",
        "kill   myself",
        "kill\nmyself",
        "kill... myself",
        "kill-myself",
        "_kill myself_",
        "**want to die**",
        "want to - die",
    ],
)
def test_case_whitespace_and_punctuation_between_words_do_not_hide_a_phrase(text: str) -> None:
    assert find_crisis_language(text) != []


@pytest.mark.parametrize(
    "text",
    ["I don't want to live", "I don’t want to live", "I dont want to live", "I don‘t want to live"],
)
def test_apostrophe_variants_and_missing_apostrophes_match_alike(text: str) -> None:
    assert find_crisis_language(text) == ["don't want to live"]


def test_words_inside_longer_words_do_not_match() -> None:
    assert find_crisis_language("the skill myselfie trend") == []
    assert find_crisis_language("nonsuicidal reading list") == []


def test_matches_are_deduplicated_in_order_of_first_appearance() -> None:
    text = "I want to die. I feel suicidal. I really want to die and hurt myself."

    assert find_crisis_language(text) == ["want to die", "suicidal", "hurt myself"]


def test_extra_terms_are_matched_the_same_way() -> None:
    text = "Feeling like Disappearing   Forever, honestly."

    assert find_crisis_language(text, ["disappearing forever"]) == ["disappearing forever"]
    assert find_crisis_language(text, ["  Disappearing Forever "]) == ["disappearing forever"]


def test_extra_terms_can_use_curly_apostrophes() -> None:
    assert find_crisis_language("I can't cope", ["can’t cope"]) == ["can't cope"]


def test_blank_extra_terms_are_ignored() -> None:
    assert find_crisis_language("a calm week", ["", "   ", "!!!"]) == []


def test_an_extra_term_equal_to_a_default_is_reported_once() -> None:
    assert find_crisis_language("I want to die", ["Want to die"]) == ["want to die"]


def test_extra_and_default_terms_are_ordered_together() -> None:
    text = "no way out, and I want to die"

    assert find_crisis_language(text, ["no way out"]) == ["no way out", "want to die"]


def test_default_terms_are_unique_lowercase_phrases() -> None:
    assert len(DEFAULT_TERMS) >= 40
    assert len(set(DEFAULT_TERMS)) == len(DEFAULT_TERMS)
    assert all(term == term.strip().lower() for term in DEFAULT_TERMS)


def test_generic_single_words_are_not_default_terms() -> None:
    assert {"kill", "die", "dead", "cut", "suicide", "overdose", "killing me"}.isdisjoint(DEFAULT_TERMS)


def test_every_default_term_finds_itself() -> None:
    for term in DEFAULT_TERMS:
        assert find_crisis_language(f"lately {term}.") == [term]


def test_moderator_terms_are_trimmed_lowercased_and_deduplicated() -> None:
    text = " No way out ,\nDisappear  forever\n\n,no way out,, Can’t cope "

    assert normalise_terms(text) == ["no way out", "disappear forever", "can't cope"]


def test_an_empty_term_list_is_fine() -> None:
    assert normalise_terms("") == []
    assert normalise_terms(" , \n ") == []


def test_a_term_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(UserError, match=str(MAX_TERM_LENGTH)):
        normalise_terms("ok, " + "x" * (MAX_TERM_LENGTH + 1))


def test_a_term_exactly_at_the_limit_is_kept() -> None:
    assert normalise_terms("y" * MAX_TERM_LENGTH) == ["y" * MAX_TERM_LENGTH]


def test_more_terms_than_the_limit_are_refused() -> None:
    with pytest.raises(UserError, match=str(MAX_TERMS)):
        normalise_terms(",".join(f"term {n}" for n in range(MAX_TERMS + 1)))


def test_the_term_limit_counts_distinct_terms() -> None:
    assert len(normalise_terms(",".join(f"term {n % MAX_TERMS}" for n in range(MAX_TERMS * 2)))) == MAX_TERMS


def test_a_punctuation_only_term_is_refused() -> None:
    with pytest.raises(UserError):
        normalise_terms("fine, ???")


def test_default_resources_lead_with_emergency_and_list_the_key_lines() -> None:
    assert DEFAULT_RESOURCES.splitlines()[0].strip("*") == (
        "If you are in immediate danger, call your local emergency number."
    )
    for needle in ("**988**", "**HOME**", "**741741**", "**85258**", "findahelpline.com", "trust"):
        assert needle in DEFAULT_RESOURCES


def test_default_resources_do_not_counsel() -> None:
    lowered = DEFAULT_RESOURCES.lower()
    assert not any(word in lowered for word in ("you should", "calm down", "don't worry", "diagnos"))
