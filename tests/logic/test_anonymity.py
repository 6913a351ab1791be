"""Author keys, weekly aliases and the anonymity secret."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logic.anonymity import (
    ADJECTIVES,
    MIN_SECRET_BYTES,
    NOUNS,
    alias_for,
    alias_for_unique,
    author_key,
    new_secret,
    report_key,
    validate_secret,
    week_index,
)

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
ids = st.integers(min_value=0, max_value=2**63 - 1)


def test_author_key_is_hex_hmac_sha256_of_the_domain_separated_ids() -> None:
    expected = hmac.new(SECRET, b"author|10|20", hashlib.sha256).hexdigest()

    assert author_key(SECRET, 10, 20) == expected
    assert re.fullmatch(r"[0-9a-f]{64}", expected)


@given(guild=ids, user=ids)
def test_author_key_is_deterministic(guild: int, user: int) -> None:
    assert author_key(SECRET, guild, user) == author_key(SECRET, guild, user)


@given(guild=ids, user=ids, other=ids)
def test_author_key_differs_for_different_users(guild: int, user: int, other: int) -> None:
    if user != other:
        assert author_key(SECRET, guild, user) != author_key(SECRET, guild, other)


def test_author_key_differs_across_guilds() -> None:
    assert author_key(SECRET, 1, 42) != author_key(SECRET, 2, 42)


def test_different_secrets_give_unrelated_author_keys() -> None:
    first = author_key(SECRET, 1, 42)
    second = author_key(OTHER_SECRET, 1, 42)

    assert first != second
    # Unrelated, not merely different: roughly half the bits differ.
    differing = bin(int(first, 16) ^ int(second, 16)).count("1")
    assert 64 < differing < 192


def test_ids_cannot_be_shifted_between_fields_to_collide() -> None:
    assert author_key(SECRET, 12, 3) != author_key(SECRET, 1, 23)


def test_weeks_start_on_monday_midnight_utc() -> None:
    sunday_night = datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC)
    monday_morning = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)

    assert monday_morning.weekday() == 0
    assert week_index(monday_morning) == week_index(sunday_night) + 1
    assert week_index(monday_morning + timedelta(days=6, hours=23)) == week_index(monday_morning)


def test_week_index_uses_utc_whatever_the_offset() -> None:
    # 01:00 on Monday in UTC+2 is still Sunday 23:00 UTC.
    local = datetime(2026, 3, 9, 1, 0, tzinfo=timezone(timedelta(hours=2)))

    assert week_index(local) == week_index(datetime(2026, 3, 8, 23, 0, tzinfo=UTC))


def test_week_index_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone"):
        week_index(datetime(2026, 3, 9))


def test_alias_is_two_gentle_words_from_the_lists() -> None:
    adjective, noun = alias_for(SECRET, 1, 2, 3, 100).split(" ")

    assert adjective in ADJECTIVES
    assert noun in NOUNS


def test_word_lists_are_large_unique_and_single_words() -> None:
    assert len(ADJECTIVES) >= 64 and len(NOUNS) >= 64
    assert len(ADJECTIVES) * len(NOUNS) >= 4000
    assert len(set(ADJECTIVES)) == len(ADJECTIVES) and len(set(NOUNS)) == len(NOUNS)
    assert all(re.fullmatch(r"[A-Z][a-z]+", word) for word in (*ADJECTIVES, *NOUNS))


def test_alias_is_stable_within_a_week() -> None:
    monday = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    sunday = datetime(2026, 3, 15, 23, 59, tzinfo=UTC)

    assert alias_for(SECRET, 1, 2, 3, week_index(monday)) == alias_for(SECRET, 1, 2, 3, week_index(sunday))


def test_alias_rotates_across_weeks() -> None:
    aliases = {alias_for(SECRET, 1, 2, 3, week) for week in range(20)}

    assert len(aliases) > 15


def test_alias_differs_across_groups_and_guilds() -> None:
    in_groups = {alias_for(SECRET, 1, group, 3, 7) for group in range(20)}
    in_guilds = {alias_for(SECRET, guild, 2, 3, 7) for guild in range(20)}

    assert len(in_groups) > 15
    assert len(in_guilds) > 15


def test_alias_depends_on_the_secret() -> None:
    aliases = {alias_for(bytes([n]) * 32, 1, 2, 3, 7) for n in range(20)}

    assert len(aliases) > 15


def test_aliases_are_spread_over_many_combinations() -> None:
    aliases = {alias_for(SECRET, 1, 2, user, 7) for user in range(2000)}

    assert len(aliases) > 1500


def test_unique_alias_is_the_plain_alias_when_free() -> None:
    base = alias_for(SECRET, 1, 2, 3, 7)

    assert alias_for_unique(SECRET, 1, 2, 3, 7, taken={"Not An Alias", f"{base} 2"}) == base


def test_unique_alias_gets_a_deterministic_number_when_taken() -> None:
    base = alias_for(SECRET, 1, 2, 3, 7)

    first = alias_for_unique(SECRET, 1, 2, 3, 7, taken=[base])
    again = alias_for_unique(SECRET, 1, 2, 3, 7, taken=[base])

    assert first == again
    assert re.fullmatch(re.escape(base) + r" \d+", first)


def test_unique_alias_skips_numbers_that_are_also_taken() -> None:
    base = alias_for(SECRET, 1, 2, 3, 7)
    taken = {base, *(f"{base} {n}" for n in range(2, 100))}

    result = alias_for_unique(SECRET, 1, 2, 3, 7, taken=taken)

    assert result not in taken
    assert result.startswith(base + " ")


def test_unique_alias_ignores_case_when_comparing() -> None:
    base = alias_for(SECRET, 1, 2, 3, 7)

    assert alias_for_unique(SECRET, 1, 2, 3, 7, taken=[base.upper()]) != base


def test_new_secrets_are_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()

    assert len(first) == MIN_SECRET_BYTES == 32
    assert first != second
    assert validate_secret(first) == first


def test_validate_secret_accepts_longer_secrets_and_bytearrays() -> None:
    assert validate_secret(bytearray(64)) == bytes(64)


@pytest.mark.parametrize("data", [b"", b"short", bytes(31)])
def test_validate_secret_refuses_short_secrets_with_a_clear_message(data: bytes) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        validate_secret(data)


def test_validate_secret_refuses_text() -> None:
    with pytest.raises(ValueError, match="bytes"):
        validate_secret("x" * 40)  # type: ignore[arg-type]


def test_keys_and_aliases_refuse_a_short_secret() -> None:
    with pytest.raises(ValueError):
        author_key(b"short", 1, 2)
    with pytest.raises(ValueError):
        alias_for(b"short", 1, 2, 3, 4)


def test_report_keys_are_per_post_and_never_equal_an_author_key() -> None:
    assert report_key(SECRET, 7, 42) == report_key(SECRET, 7, 42)
    assert report_key(SECRET, 7, 42) != report_key(SECRET, 8, 42)
    assert report_key(SECRET, 7, 42) != report_key(SECRET, 7, 43)
    assert report_key(SECRET, 7, 42) != author_key(SECRET, 7, 42)
