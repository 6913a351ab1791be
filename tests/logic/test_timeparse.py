"""Tests for parsing what members type: meeting starts, timezones, reminder leads, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logic.errors import UserError
from bot.logic.timeparse import (
    format_lead_time,
    format_lead_times,
    in_quiet_hours,
    parse_clock,
    parse_duration_minutes,
    parse_lead_times,
    parse_start,
    quiet_hours_end,
    search_timezones,
    validate_timezone,
)

# Tuesday 2026-03-03, 12:00 in London (GMT) and 07:00 in New York (EST).
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
LONDON = "Europe/London"


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def hours(n: int) -> timedelta:
    return timedelta(hours=n)


def days(n: int) -> timedelta:
    return timedelta(days=n)


# ---------------------------------------------------------------------------------------------
# parse_start
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 19:00", datetime(2026, 12, 1, 19, 0)),
        ("2026-12-01 7pm", datetime(2026, 12, 1, 19, 0)),
        ("2026-12-01 7:30 PM", datetime(2026, 12, 1, 19, 30)),
        ("2026-12-01T19:00", datetime(2026, 12, 1, 19, 0)),
        ("2026-3-5 9:05", datetime(2026, 3, 5, 9, 5)),
        ("tuesday 19:00", datetime(2026, 3, 3, 19, 0)),  # today, still ahead
        ("tue 7pm", datetime(2026, 3, 3, 19, 0)),
        ("Tue 7:30 pm", datetime(2026, 3, 3, 19, 30)),
        ("  TUESDAY    19:00  ", datetime(2026, 3, 3, 19, 0)),
        ("tuesday 11:00", datetime(2026, 3, 10, 11, 0)),  # today but passed: next week
        ("tuesday 12:00", datetime(2026, 3, 10, 12, 0)),  # exactly now is not ahead
        ("wed 9am", datetime(2026, 3, 4, 9, 0)),
        ("thurs 6 p.m.", datetime(2026, 3, 5, 18, 0)),
        ("monday 10:00", datetime(2026, 3, 9, 10, 0)),
        ("tuesday at 7pm", datetime(2026, 3, 3, 19, 0)),
        ("7pm tuesday", datetime(2026, 3, 3, 19, 0)),
        ("19:00", datetime(2026, 3, 3, 19, 0)),  # today, still ahead
        ("11:00", datetime(2026, 3, 4, 11, 0)),  # passed today: tomorrow
        ("7pm", datetime(2026, 3, 3, 19, 0)),
        ("12am", datetime(2026, 3, 4, 0, 0)),
        ("noon", datetime(2026, 3, 4, 12, 0)),
        ("tomorrow 18:30", datetime(2026, 3, 4, 18, 30)),
        ("Tomorrow 9am", datetime(2026, 3, 4, 9, 0)),
        ("today 20:00", datetime(2026, 3, 3, 20, 0)),
        ("2028-03-03 11:00", datetime(2028, 3, 3, 11, 0)),  # just inside two years
    ],
)
def test_parse_start_accepts_the_documented_forms(text: str, expected: datetime) -> None:
    assert parse_start(text, LONDON, NOW) == expected


def test_parse_start_reads_relative_days_in_the_meeting_timezone() -> None:
    # 02:00 UTC on Wednesday is still Tuesday evening in New York.
    now = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    assert parse_start("today 22:00", "America/New_York", now) == datetime(2026, 3, 3, 22, 0)
    assert parse_start("wednesday 10:00", "America/New_York", now) == datetime(2026, 3, 4, 10, 0)


def test_parse_start_returns_a_naive_local_time() -> None:
    assert parse_start("2026-12-01 19:00", "Asia/Tokyo", NOW).tzinfo is None


def test_parse_start_accepts_a_timezone_in_any_case() -> None:
    assert parse_start("2026-12-01 19:00", "europe/london", NOW) == datetime(2026, 12, 1, 19, 0)


@pytest.mark.parametrize(
    ("text", "expected_in_message"),
    [
        ("xyz", 'I couldn\'t read "xyz" as a date and time. Try `2026-12-01 19:00` or `tuesday 19:00`.'),
        ("next tuesday 7pm", "Try `2026-12-01 19:00` or `tuesday 19:00`"),
        ("12/01 19:00", "Try `2026-12-01 19:00`"),
        ("", "Please give a start date and time"),
        ("2026-02-30 19:00", "February 2026 has 28 days"),
        ("2026-13-01 10:00", "months go from 01 to 12"),
        ("0000-01-01 10:00", "isn't a real date"),
        ("today 09:00", "has already passed"),
        ("2026-03-01 10:00", "has already passed"),
        ("2026-03-03 12:00", "has already passed"),
        ("2028-03-04 10:00", "more than 2 years away"),
        ("tuesday", "needs a time as well, e.g. `tuesday 19:00`"),
        ("2026-12-01", "needs a time as well"),
        ("tue 19", "needs minutes or am/pm after the hour, e.g. `tue 19:00` or `tue 7pm`"),
        ("25:00", "isn't a time of day"),
        ("19:75", "minutes go from 00 to 59"),
        ("13pm", "isn't a time on a 12-hour clock"),
    ],
)
def test_parse_start_refuses_bad_input_with_a_message_that_says_how_to_fix_it(
    text: str, expected_in_message: str
) -> None:
    with pytest.raises(UserError) as caught:
        parse_start(text, LONDON, NOW)
    assert expected_in_message in caught.value.message
    assert "`" in caught.value.message  # every refusal shows an example to copy


def test_parse_start_explains_which_time_has_passed_and_suggests_tomorrow() -> None:
    with pytest.raises(UserError) as caught:
        parse_start("today 9am", LONDON, NOW)
    assert "09:00 today has already passed in Europe/London. Try `tomorrow 09:00`" in caught.value.message


def test_parse_start_refuses_an_unknown_timezone() -> None:
    with pytest.raises(UserError, match="isn't a timezone I know"):
        parse_start("tuesday 19:00", "Mars/Base", NOW)


# ---------------------------------------------------------------------------------------------
# Timezones
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("  AMERICA/NEW_YORK ", "America/New_York"),
        ("america/new york", "America/New_York"),
        ("utc", "UTC"),
        ("us/eastern", "US/Eastern"),
    ],
)
def test_validate_timezone_returns_the_properly_spelled_name(typed: str, canonical: str) -> None:
    assert validate_timezone(typed) == canonical


def test_validate_timezone_refuses_an_unknown_zone_kindly() -> None:
    with pytest.raises(UserError) as caught:
        validate_timezone("Mars/Base")
    assert caught.value.message == "`Mars/Base` isn't a timezone I know. Start typing a city, e.g. `Europe/London`."


@pytest.mark.parametrize("name", ["", "   ", "localtime", "Factory", "London"])
def test_validate_timezone_refuses_empty_and_non_zone_names(name: str) -> None:
    with pytest.raises(UserError, match="Europe/London"):
        validate_timezone(name)


def test_an_empty_timezone_search_offers_a_short_list_of_common_zones() -> None:
    results = search_timezones("")
    assert "UTC" in results
    assert "Europe/London" in results
    assert "America/New_York" in results
    assert len(results) <= 25
    assert search_timezones("", limit=3) == results[:3]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("lon", "Europe/London"),
        ("new", "America/New_York"),
        ("tokyo", "Asia/Tokyo"),
        ("TOKYO", "Asia/Tokyo"),
        ("new york", "America/New_York"),
        ("america/new", "America/New_York"),
        ("kolk", "Asia/Kolkata"),
        ("sing", "Asia/Singapore"),
        ("us/", "US/Alaska"),
    ],
)
def test_timezone_search_puts_the_likely_zone_first(query: str, first: str) -> None:
    assert search_timezones(query)[0] == first


def test_timezone_search_ranks_full_name_prefixes_before_city_prefixes_before_substrings() -> None:
    results = search_timezones("ber")
    # No zone name starts with "ber"; Berlin and Bermuda are city matches, then substrings.
    assert results[:2] == ["Europe/Berlin", "Atlantic/Bermuda"]
    assert "America/Cambridge_Bay" not in results or results.index("America/Cambridge_Bay") > 1
    assert search_timezones("europe/")[0].startswith("Europe/")


def test_timezone_search_ranks_legacy_aliases_after_canonical_names() -> None:
    results = search_timezones("pacific")
    assert "US/Pacific" in results or len(results) == 25
    canonical = [name for name in results if name.startswith("Pacific/")]
    legacy = [name for name in results if not name.startswith("Pacific/")]
    assert all(results.index(c) < results.index(lg) for c in canonical for lg in legacy)
    singapore = search_timezones("singapore")
    assert singapore.index("Asia/Singapore") < singapore.index("Singapore")


def test_timezone_search_still_offers_legacy_names_being_typed_out() -> None:
    assert "US/Eastern" in search_timezones("us/e")
    assert "US/Eastern" in search_timezones("us")


def test_timezone_search_respects_the_limit_and_hides_non_zones() -> None:
    assert len(search_timezones("a", limit=5)) == 5
    assert search_timezones("a", limit=0) == []
    assert "localtime" not in search_timezones("local")
    assert search_timezones("no such place") == []


# ---------------------------------------------------------------------------------------------
# Reminder lead times
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", [hours(1)]),
        ("1d", [days(1)]),
        ("30m, 1d", [days(1), minutes(30)]),
        ("1h30m", [minutes(90)]),
        ("2 hours", [hours(2)]),
        ("90 minutes", [minutes(90)]),
        ("1 day", [days(1)]),
        ("1w", [days(7)]),
        ("2w", [days(14)]),
        ("5m", [minutes(5)]),
        ("14d", [days(14)]),
        ("1d 1h", [days(1), hours(1)]),  # spaces separate short forms
        ("30m 1d 2h", [days(1), hours(2), minutes(30)]),
        ("1h 30m", [hours(1), minutes(30)]),
        ("1 hour 30 minutes", [minutes(90)]),  # spelled-out units read as one length
        ("1 day and 1 hour", [days(1), hours(1)]),
        ("1 day, 1 hour 30 minutes and 10 minutes", [days(1), minutes(90), minutes(10)]),
        ("60m, 1h", [hours(1)]),  # the same length twice counts once
        ("1d,1h,1d", [days(1), hours(1)]),
        ("  30M ,  1D  ", [days(1), minutes(30)]),
        ("2 hrs; 15 mins", [hours(2), minutes(15)]),
        ("1d, 12h, 6h, 1h, 30m", [days(1), hours(12), hours(6), hours(1), minutes(30)]),
    ],
)
def test_parse_lead_times_accepts_the_documented_forms(text: str, expected: list[timedelta]) -> None:
    assert parse_lead_times(text) == expected


@pytest.mark.parametrize(
    ("text", "expected_in_message"),
    [
        ("0m", "`0m` is too short: reminders can be from 5 minutes to 14 days before the meeting"),
        ("4m", "`4m` is too short"),
        ("45d", "`45d` is too far ahead: reminders can be from 5 minutes to 14 days before the meeting"),
        ("14d 1m", "`1m` is too short"),
        ("15d", "`15d` is too far ahead"),
        ("3w", "`3w` is too far ahead"),
        ("1h, 15 days", "`15 days` is too far ahead"),
        ("soon", "I couldn't read `soon` as a time before the meeting"),
        ("1h, soon", "`soon`"),
        ("", "Tell me how long before the meeting to remind you"),
        (" , ", "Tell me how long before the meeting to remind you"),
        ("1.5h", "`1.5h` has a fraction; please use whole numbers"),
        ("30", "`30` needs a unit"),
        ("30m1h", "Put the bigger unit first"),
        ("5 parsecs", "I don't know the unit in `5 parsecs`"),
        ("1h, 2h, 3h, 4h, 5h, 6h", "you can have up to 5 per meeting"),
    ],
)
def test_parse_lead_times_refuses_bad_input_naming_the_bad_part(text: str, expected_in_message: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_lead_times(text)
    assert expected_in_message in caught.value.message
    assert "e.g. `" in caught.value.message


@pytest.mark.parametrize(
    ("lead", "words"),
    [
        (hours(1), "1 hour"),
        (days(1), "1 day"),
        (minutes(30), "30 minutes"),
        (minutes(1), "1 minute"),
        (minutes(90), "1 hour 30 minutes"),
        (hours(2), "2 hours"),
        (days(7), "1 week"),
        (days(14), "2 weeks"),
        (days(8), "8 days"),
        (days(1) + hours(1) + minutes(1), "1 day 1 hour 1 minute"),
        (days(2) + minutes(5), "2 days 5 minutes"),
    ],
)
def test_format_lead_time_writes_the_length_in_words(lead: timedelta, words: str) -> None:
    assert format_lead_time(lead) == words


@pytest.mark.parametrize(
    ("leads", "words"),
    [
        ([], ""),
        ([hours(1)], "1 hour"),
        ([days(1), hours(1)], "1 day and 1 hour"),
        ([days(1), hours(1), minutes(30)], "1 day, 1 hour and 30 minutes"),
    ],
)
def test_format_lead_times_joins_lengths_in_plain_english(leads: list[timedelta], words: str) -> None:
    assert format_lead_times(leads) == words


@given(st.lists(st.integers(min_value=5, max_value=14 * 24 * 60), min_size=1, max_size=5, unique=True))
def test_formatted_lead_times_parse_back_to_the_same_set(lengths: list[int]) -> None:
    leads = [minutes(n) for n in lengths]
    assert set(parse_lead_times(format_lead_times(leads))) == set(leads)


@given(st.lists(st.integers(min_value=5, max_value=14 * 24 * 60), min_size=1, max_size=5))
def test_parsed_lead_times_are_sorted_longest_first_without_duplicates(lengths: list[int]) -> None:
    parsed = parse_lead_times(", ".join(f"{n}m" for n in lengths))
    assert parsed == sorted({minutes(n) for n in lengths}, reverse=True)


# ---------------------------------------------------------------------------------------------
# Quiet hours
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22:00", time(22, 0)),
        ("7am", time(7, 0)),
        ("7:30pm", time(19, 30)),
        ("07:00", time(7, 0)),
        ("7 AM", time(7, 0)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("midnight", time(0, 0)),
        ("0:00", time(0, 0)),
    ],
)
def test_parse_clock_accepts_24_hour_and_am_pm_times(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    ("text", "expected_in_message"),
    [
        ("", "I couldn't read `` as a time of day. Try a 24-hour time like `22:00` or `7am`."),
        ("7", "Try a 24-hour time like `22:00` or `7am`"),
        ("bedtime", "I couldn't read `bedtime` as a time of day"),
        ("25:00", "isn't a time of day"),
        ("13pm", "isn't a time on a 12-hour clock"),
        ("tuesday 22:00", "I couldn't read `tuesday 22:00`"),
    ],
)
def test_parse_clock_refuses_anything_that_is_not_a_time_of_day(text: str, expected_in_message: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_clock(text)
    assert expected_in_message in caught.value.message


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (datetime(2026, 1, 10, 21, 59, tzinfo=UTC), False),
        (datetime(2026, 1, 10, 22, 0, tzinfo=UTC), True),
        (datetime(2026, 1, 10, 23, 30, tzinfo=UTC), True),
        (datetime(2026, 1, 11, 0, 0, tzinfo=UTC), True),
        (datetime(2026, 1, 11, 6, 59, tzinfo=UTC), True),
        (datetime(2026, 1, 11, 7, 0, tzinfo=UTC), False),
        (datetime(2026, 1, 11, 12, 0, tzinfo=UTC), False),
    ],
)
def test_quiet_hours_that_wrap_midnight_cover_the_late_evening_and_early_morning(at: datetime, quiet: bool) -> None:
    assert in_quiet_hours(at, time(22, 0), time(7, 0), LONDON) is quiet


def test_quiet_hours_within_one_day_cover_only_that_span() -> None:
    start, end = time(13, 0), time(14, 0)
    assert in_quiet_hours(datetime(2026, 1, 10, 13, 30, tzinfo=UTC), start, end, LONDON)
    assert not in_quiet_hours(datetime(2026, 1, 10, 14, 0, tzinfo=UTC), start, end, LONDON)
    assert not in_quiet_hours(datetime(2026, 1, 10, 12, 59, tzinfo=UTC), start, end, LONDON)


def test_quiet_hours_with_equal_start_and_end_are_off() -> None:
    at = datetime(2026, 1, 10, 22, 0, tzinfo=UTC)
    assert not in_quiet_hours(at, time(22, 0), time(22, 0), LONDON)
    assert quiet_hours_end(at, time(22, 0), time(22, 0), LONDON) == at


def test_quiet_hours_are_read_in_the_members_timezone() -> None:
    # 03:00 UTC is 22:00 the evening before in New York (EST).
    at = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    assert in_quiet_hours(at, time(22, 0), time(7, 0), "America/New_York")
    assert not in_quiet_hours(at, time(22, 0), time(7, 0), "Asia/Tokyo")  # 12:00 in Tokyo


@pytest.mark.parametrize(
    ("at", "ends"),
    [
        # Evening part of a wrapping window: ends tomorrow morning.
        (datetime(2026, 1, 10, 23, 0, tzinfo=UTC), datetime(2026, 1, 11, 7, 0, tzinfo=UTC)),
        # Morning part: ends today.
        (datetime(2026, 1, 11, 3, 0, tzinfo=UTC), datetime(2026, 1, 11, 7, 0, tzinfo=UTC)),
        # Summer time: 07:00 BST is 06:00 UTC.
        (datetime(2026, 7, 11, 3, 0, tzinfo=UTC), datetime(2026, 7, 11, 6, 0, tzinfo=UTC)),
        # Not quiet: nothing to wait for.
        (datetime(2026, 1, 11, 12, 0, tzinfo=UTC), datetime(2026, 1, 11, 12, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_end_is_the_next_local_end_time(at: datetime, ends: datetime) -> None:
    assert quiet_hours_end(at, time(22, 0), time(7, 0), LONDON) == ends


def test_quiet_hours_end_spans_a_spring_forward_night_in_real_time() -> None:
    # London springs forward 2026-03-29 01:00 GMT -> 02:00 BST; 07:00 BST is 06:00 UTC.
    at = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert quiet_hours_end(at, time(22, 0), time(7, 0), LONDON) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


def test_quiet_hours_ending_inside_the_dst_gap_move_forward_like_a_meeting_start() -> None:
    # 01:30 does not exist in London on 2026-03-29 (01:00 GMT -> 02:00 BST); like a meeting start
    # it moves forward by the gap, to 02:30 BST = 01:30 UTC.
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert quiet_hours_end(at, time(23, 0), time(1, 30), LONDON) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_quiet_hours_end_during_the_repeated_fall_back_hour_is_the_second_end_time() -> None:
    # New York falls back 2026-11-01 02:00 EDT -> 01:00 EST. At 01:10 EST (06:10 UTC) the first
    # 01:30 (EDT, 05:30 UTC) is already over, so the window ends at 01:30 EST (06:30 UTC).
    at = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    assert in_quiet_hours(at, time(22, 0), time(1, 30), "America/New_York")
    assert quiet_hours_end(at, time(22, 0), time(1, 30), "America/New_York") == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.times(),
    st.times(),
    st.sampled_from([LONDON, "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
)
def test_quiet_hours_end_is_never_in_the_past_and_not_quiet_just_after(
    at: datetime, start: time, end: time, tz: str
) -> None:
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    ends = quiet_hours_end(at, start, end, tz)
    assert ends >= at
    if in_quiet_hours(at, start, end, tz):
        assert ends > at
        assert ends - at <= timedelta(hours=25)


# ---------------------------------------------------------------------------------------------
# Meeting length
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [5, 60, 90, 600])
def test_parse_duration_minutes_accepts_five_to_six_hundred(value: int) -> None:
    assert parse_duration_minutes(value) == value


@pytest.mark.parametrize("value", [-1, 0, 4, 601, 10_000])
def test_parse_duration_minutes_refuses_lengths_outside_the_range(value: int) -> None:
    with pytest.raises(UserError) as caught:
        parse_duration_minutes(value)
    assert caught.value.message.startswith("A meeting can last from 5 to 600 minutes.")
