"""Spot crisis language in check-in notes and hold the default crisis resources.

A match only ever shows the member the resources and an "Ask a person to reach out" button in a reply
that nobody else sees; nothing is sent to anyone without that button. So a false positive costs little
(a kind, private note), while a miss can cost a lot. The list still leaves out everyday idioms, because
resources that pop up at every "this commute is killing me" become noise that people learn to ignore.

Choices, reviewed with that trade-off in mind:
- Phrases, not single generic words: "kill", "die", "dead", "cut" and "overdose" alone never match.
- "killing me", "killing it", "die laughing", "to die for" and "dead tired" are idioms and not listed.
  "killed myself laughing" is masked out explicitly because "kill myself" is listed.
- "suicidal" matches on its own (it is rarely idiomatic in a check-in note). "suicide" matches only in
  phrases about the writer's own thoughts or plans ("thinking about suicide", "suicide plan",
  "commit suicide", …), so "Suicide Squad" or "we lost him to suicide" do not.
- "hurt myself" is listed although it also describes sports injuries; "cut myself" is not (shaving,
  cooking), only "cutting myself".
- Negation is not parsed: "I don't want to die" matches "want to die". Showing resources to someone
  who is writing about dying is acceptable.
- "relapse and want to die" and similar longer phrases are covered by their core ("want to die").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from bot.logic.errors import UserError

__all__ = [
    "DEFAULT_RESOURCES",
    "DEFAULT_TERMS",
    "MAX_TERMS",
    "MAX_TERM_LENGTH",
    "find_crisis_language",
    "normalise_terms",
]

MAX_TERMS = 100
MAX_TERM_LENGTH = 60

DEFAULT_TERMS: tuple[str, ...] = (
    # Suicidal thoughts and intent.
    "kill myself",
    "want to die",
    "wanna die",
    "ready to die",
    "wish i was dead",
    "wish i were dead",
    "want to be dead",
    "better off dead",
    "better off without me",
    "end my life",
    "end it all",
    "take my own life",
    "no reason to live",
    "nothing to live for",
    "no point in living",
    "no point living",
    "not worth living",
    "don't want to live",
    "don't want to be alive",
    "don't want to exist",
    "don't want to wake up",
    "don't want to be here anymore",
    "can't go on like this",
    "can't go on anymore",
    "suicidal",
    "thinking about suicide",
    "thoughts of suicide",
    "considering suicide",
    "commit suicide",
    "attempt suicide",
    "suicide attempt",
    "suicide plan",
    "suicide note",
    "unalive myself",
    "hang myself",
    "shoot myself",
    # Self-harm.
    "hurt myself",
    "harm myself",
    "self harm",
    "self injury",
    "cutting myself",
    # Overdose and using or drinking with intent to die.
    "took too many pills",
    "take all my pills",
    "take an overdose",
    "overdose on purpose",
    "want to overdose",
    "drink myself to death",
)

DEFAULT_RESOURCES = """\
**If you are in immediate danger, call your local emergency number.**

- **US and Canada:** call or text **988** (US: 988 Suicide & Crisis Lifeline; Canada: 9-8-8 Suicide \
Crisis Helpline)
- **Crisis Text Line:** text **HOME** to **741741** (US) or **686868** (Canada)
- **UK:** text **SHOUT** to **85258**
- **Other countries:** find a free, confidential helpline at <https://findahelpline.com>

Talking to someone you trust, or to your group, can help too."""

# Each group lists the inflections of one word; any listed form in a term matches all forms of its group.
# Kept short and explicit so that a new form is a reviewed decision, not a stemmer's guess. "cut" is
# deliberately absent: "cutting myself" must not widen to "cut myself".
_FORM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("kill", "kills", "killing", "killed"),
    ("end", "ends", "ending", "ended"),
    ("take", "takes", "taking", "took", "taken"),
    ("hurt", "hurts", "hurting"),
    ("harm", "harms", "harming", "harmed"),
    ("hang", "hanging", "hanged"),
    ("shoot", "shooting"),
    ("want", "wants", "wanted", "wanting"),
    ("wish", "wished", "wishing"),
    ("think", "thinking", "thought"),
    ("plan", "plans", "planning", "planned"),
    ("attempt", "attempts", "attempted", "attempting"),
    ("commit", "committing", "committed"),
    ("consider", "considering", "considered"),
    ("overdose", "overdosing", "overdosed"),
    ("drink", "drinking"),
    # Apostrophes are dropped before matching, so "don't" and "dont" are the same word.
    ("dont", "do not"),
    ("cant", "cannot", "can not"),
    # British English writes "any more"; "unalive" is the euphemism people use where "kill" gets filtered.
    ("anymore", "any more"),
    ("unalive", "unalives", "unaliving", "unalived"),
)
_FORMS: dict[str, tuple[str, ...]] = {form: group for group in _FORM_GROUPS for form in group}

# Spans that contain a listed term but are idioms; they are blanked out before matching.
_IDIOMS: tuple[str, ...] = ("kill myself laughing",)

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "′": "'"})
# Underscore counts as punctuation so that Discord's _italics_ do not hide a phrase.
_SEPARATOR = r"[\W_]+"
_WORD = re.compile(r"[^\W_]+")
_TERM_SPLIT = re.compile(r"[,\r\n]+")


def _display(text: str) -> str:
    """Fold case, compatibility forms, apostrophe variants and runs of whitespace for showing a term."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold().split())


def _comparable(text: str) -> str:
    """Fold text for matching; apostrophes vanish so "don't", "don’t" and "dont" read the same."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold().replace("'", "")


def _words(term: str) -> tuple[str, ...]:
    """Split a term into the comparable words it is matched by."""
    return tuple(_WORD.findall(_comparable(term)))


def _word_pattern(word: str) -> str:
    """Build the pattern for one word of a term, with its listed inflections."""
    alternatives = sorted(_FORMS.get(word, (word,)), key=len, reverse=True)
    parts = [_SEPARATOR.join(re.escape(piece) for piece in alternative.split()) for alternative in alternatives]
    return "(?:" + "|".join(parts) + ")"


@lru_cache(maxsize=1024)
def _compile(words: tuple[str, ...]) -> re.Pattern[str]:
    """Compile a term's words into a whole-phrase pattern with flexible punctuation between words."""
    body = _SEPARATOR.join(_word_pattern(word) for word in words)
    return re.compile(rf"(?<![^\W_]){body}(?![^\W_])")


def _mask_idioms(text: str) -> str:
    """Blank out idiomatic spans, keeping offsets, so listed terms inside them do not match."""
    for idiom in _IDIOMS:
        text = _compile(_words(idiom)).sub(lambda match: " " * len(match.group()), text)
    return text


def find_crisis_language(text: str, extra_terms: Iterable[str] = ()) -> list[str]:
    """Return the crisis terms found in text, deduplicated, in order of first appearance."""
    if not text or not text.strip():
        return []
    haystack = _mask_idioms(_comparable(text))
    found: list[tuple[int, int, str]] = []
    seen: set[tuple[str, ...]] = set()
    candidates = [*DEFAULT_TERMS, *extra_terms]
    for index, term in enumerate(candidates):
        if not isinstance(term, str):
            continue
        label = _display(term)
        words = _words(label)
        # Blank or punctuation-only extras would match nothing sensible; a repeated term is reported once.
        if not words or words in seen:
            continue
        seen.add(words)
        match = _compile(words).search(haystack)
        if match:
            # Defaults keep their listed spelling; extras are reported the way they were normalised.
            found.append((match.start(), index, term if index < len(DEFAULT_TERMS) else label))
    found.sort()
    return [label for _, _, label in found]


def normalise_terms(text: str) -> list[str]:
    """Parse a moderator's comma- or newline-separated term list into clean, unique terms."""
    terms: list[str] = []
    for raw in _TERM_SPLIT.split(text or ""):
        term = _display(raw)
        if not term:
            continue
        if len(term) > MAX_TERM_LENGTH:
            shown = term[:30] + "…"
            raise UserError(f"“{shown}” is longer than {MAX_TERM_LENGTH} characters. Keep each term short.")
        if not _words(term):
            raise UserError(f"“{term}” has no letters or numbers to look for.")
        if term not in terms:
            terms.append(term)
    if len(terms) > MAX_TERMS:
        raise UserError(f"That is {len(terms)} terms; the limit is {MAX_TERMS}.")
    return terms
