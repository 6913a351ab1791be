"""Tests for meeting-series recurrence: local wall-clock rules expanded into UTC instants."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.logic.recurrence import (
    REPEATS,
    Series,
    is_dst_transition_risky,
    next_occurrence,
    occurrence_on,
    occurrences,
    to_local,
    to_utc,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# to_utc
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "tz", "expected"),
    [
        (datetime(2026, 1, 15, 19, 0), "America/New_York", utc(2026, 1, 16, 0, 0)),
        (datetime(2026, 7, 15, 19, 0), "America/New_York", utc(2026, 7, 15, 23, 0)),
        # Spring forward: 02:00 -> 03:00, so 02:30 does not exist and becomes 03:30 EDT.
        (datetime(2026, 3, 8, 2, 30), "America/New_York", utc(2026, 3, 8, 7, 30)),
        # Fall back: 01:30 happens twice; the first (EDT) is taken.
        (datetime(2026, 11, 1, 1, 30), "America/New_York", utc(2026, 11, 1, 5, 30)),
        # London's gap is 01:00 -> 02:00.
        (datetime(2026, 3, 29, 1, 15), "Europe/London", utc(2026, 3, 29, 1, 15)),
        (datetime(2026, 10, 25, 1, 15), "Europe/London", utc(2026, 10, 25, 0, 15)),
        # Lord Howe shifts by only 30 minutes: 02:00 -> 02:30 on 2026-10-04.
        (datetime(2026, 10, 4, 2, 10), "Australia/Lord_Howe", utc(2026, 10, 3, 15, 40)),
        (datetime(2026, 6, 1, 9, 0), "UTC", utc(2026, 6, 1, 9, 0)),
    ],
)
def test_to_utc_moves_gap_times_forward_and_takes_the_first_of_ambiguous_times(
    local: datetime, tz: str, expected: datetime
) -> None:
    assert to_utc(local, tz) == expected
    assert to_utc(local, tz).tzinfo is UTC


def test_a_time_in_the_spring_forward_gap_reads_as_the_gap_length_later_on_the_clock() -> None:
    start = to_utc(datetime(2026, 3, 8, 2, 30), "America/New_York")
    assert to_local(start, "America/New_York") == datetime(2026, 3, 8, 3, 30)


def test_to_local_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError):
        to_local(datetime(2026, 1, 1, 12, 0), "Europe/London")


# ---------------------------------------------------------------------------------------------
# Table tests for occurrences
# ---------------------------------------------------------------------------------------------


def test_weekly_meeting_keeps_local_time_across_spring_forward_in_new_york() -> None:
    series = Series(datetime(2026, 3, 3, 19, 0), "America/New_York", "weekly")
    assert occurrences(series, utc(2026, 3, 1), utc(2026, 3, 20)) == [
        utc(2026, 3, 4, 0, 0),  # 19:00 EST
        utc(2026, 3, 10, 23, 0),  # 19:00 EDT
        utc(2026, 3, 17, 23, 0),
    ]


def test_weekly_meeting_keeps_local_time_across_fall_back_in_new_york() -> None:
    series = Series(datetime(2026, 3, 3, 19, 0), "America/New_York", "weekly")
    assert occurrences(series, utc(2026, 10, 25), utc(2026, 11, 12)) == [
        utc(2026, 10, 27, 23, 0),  # 19:00 EDT
        utc(2026, 11, 4, 0, 0),  # 19:00 EST
        utc(2026, 11, 11, 0, 0),
    ]


def test_weekly_meeting_keeps_local_time_across_dst_in_london() -> None:
    series = Series(datetime(2026, 3, 22, 18, 0), "Europe/London", "weekly")
    assert occurrences(series, utc(2026, 3, 20), utc(2026, 4, 6)) == [
        utc(2026, 3, 22, 18, 0),  # GMT
        utc(2026, 3, 29, 17, 0),  # BST, the first day of summer time
        utc(2026, 4, 5, 17, 0),
    ]


def test_weekly_meeting_keeps_local_time_across_southern_hemisphere_dst_in_sydney() -> None:
    # Sydney leaves daylight time on 2026-04-05 and returns on 2026-10-04.
    series = Series(datetime(2026, 3, 26, 19, 0), "Australia/Sydney", "weekly")
    assert occurrences(series, utc(2026, 3, 26), utc(2026, 4, 10)) == [
        utc(2026, 3, 26, 8, 0),  # 19:00 AEDT (+11)
        utc(2026, 4, 2, 8, 0),
        utc(2026, 4, 9, 9, 0),  # 19:00 AEST (+10)
    ]
    assert occurrences(series, utc(2026, 9, 28), utc(2026, 10, 10)) == [
        utc(2026, 10, 1, 9, 0),
        utc(2026, 10, 8, 8, 0),
    ]


def test_weekly_meeting_inside_the_dst_gap_moves_forward_that_day_only() -> None:
    series = Series(datetime(2026, 3, 1, 2, 30), "America/New_York", "weekly")
    starts = occurrences(series, utc(2026, 3, 1), utc(2026, 3, 16))
    assert [to_local(start, "America/New_York") for start in starts] == [
        datetime(2026, 3, 1, 2, 30),
        datetime(2026, 3, 8, 3, 30),  # 02:30 does not exist that night
        datetime(2026, 3, 15, 2, 30),
    ]


def test_weekly_meeting_at_an_ambiguous_time_takes_the_first_instant() -> None:
    series = Series(datetime(2026, 10, 25, 1, 30), "America/New_York", "weekly")
    assert occurrences(series, utc(2026, 10, 25), utc(2026, 11, 2)) == [
        utc(2026, 10, 25, 5, 30),
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT, not the repeated 01:30 EST an hour later
    ]


def test_monthly_meeting_repeats_on_the_same_nth_weekday() -> None:
    # 2026-01-13 is the 2nd Tuesday of January.
    series = Series(datetime(2026, 1, 13, 18, 0), "Europe/London", "monthly")
    starts = occurrences(series, utc(2026, 1, 1), utc(2026, 5, 1))
    assert [to_local(s, "Europe/London").date() for s in starts] == [
        date(2026, 1, 13),
        date(2026, 2, 10),
        date(2026, 3, 10),
        date(2026, 4, 14),
    ]
    assert all(to_local(s, "Europe/London").time() == time(18, 0) for s in starts)


def test_monthly_meeting_in_the_fifth_week_repeats_on_the_last_such_weekday() -> None:
    # 2026-03-31 is the 5th Tuesday of March; most months have only four.
    series = Series(datetime(2026, 3, 31, 19, 0), "Europe/Berlin", "monthly")
    starts = occurrences(series, utc(2026, 3, 1), utc(2026, 7, 15))
    assert [to_local(s, "Europe/Berlin").date() for s in starts] == [
        date(2026, 3, 31),
        date(2026, 4, 28),
        date(2026, 5, 26),
        date(2026, 6, 30),
    ]


def test_monthly_meeting_in_the_fourth_week_stays_on_the_fourth_weekday() -> None:
    # 2026-02-24 is the 4th (and last) Tuesday of February; in March the 4th is not the last.
    series = Series(datetime(2026, 2, 24, 19, 0), "Europe/Berlin", "monthly")
    starts = occurrences(series, utc(2026, 3, 1), utc(2026, 4, 1))
    assert [to_local(s, "Europe/Berlin").date() for s in starts] == [date(2026, 3, 24)]


def test_monthly_meeting_by_date_on_the_31st_skips_months_without_one() -> None:
    series = Series(datetime(2026, 1, 31, 12, 0), "Asia/Tokyo", "monthly", monthly_by="date")
    starts = occurrences(series, utc(2026, 1, 1), utc(2026, 9, 1))
    assert [to_local(s, "Asia/Tokyo").date() for s in starts] == [
        date(2026, 1, 31),
        date(2026, 3, 31),
        date(2026, 5, 31),
        date(2026, 7, 31),
        date(2026, 8, 31),
    ]


def test_biweekly_meeting_keeps_its_phase_after_many_weeks() -> None:
    series = Series(datetime(2026, 1, 5, 18, 0), "Europe/London", "biweekly")
    # 2031-06-02 is 282 weeks (an even number) after the start; 2031-06-09 is one week later.
    starts = occurrences(series, utc(2031, 6, 1), utc(2031, 7, 1))
    assert [to_local(s, "Europe/London").date() for s in starts] == [
        date(2031, 6, 2),
        date(2031, 6, 16),
        date(2031, 6, 30),
    ]


def test_biweekly_meeting_skips_the_week_between() -> None:
    series = Series(datetime(2026, 1, 5, 18, 0), "Europe/London", "biweekly")
    assert occurrences(series, utc(2026, 1, 6), utc(2026, 1, 19)) == []


def test_occurrences_after_until_are_excluded_and_until_itself_is_included() -> None:
    included = Series(
        datetime(2026, 3, 3, 19, 0), "America/New_York", "weekly", until_local=datetime(2026, 3, 17, 19, 0)
    )
    excluded = Series(
        datetime(2026, 3, 3, 19, 0), "America/New_York", "weekly", until_local=datetime(2026, 3, 17, 18, 59)
    )
    window = (utc(2026, 3, 1), utc(2026, 6, 1))
    assert len(occurrences(included, *window)) == 3
    assert len(occurrences(excluded, *window)) == 2


def test_a_series_whose_until_is_before_its_start_has_no_occurrences() -> None:
    series = Series(datetime(2026, 3, 3, 19, 0), "Europe/London", "weekly", until_local=datetime(2026, 3, 1))
    assert occurrences(series, utc(2026, 1, 1), utc(2027, 1, 1)) == []
    assert next_occurrence(series, utc(2026, 1, 1)) is None


def test_a_once_meeting_occurs_only_at_its_start() -> None:
    series = Series(datetime(2026, 5, 1, 10, 0), "Europe/London", "once")
    assert occurrences(series, utc(2026, 1, 1), utc(2027, 1, 1)) == [utc(2026, 5, 1, 9, 0)]
    assert occurrences(series, utc(2026, 5, 1, 9, 1), utc(2027, 1, 1)) == []
    assert next_occurrence(series, utc(2026, 4, 1)) == utc(2026, 5, 1, 9, 0)
    assert next_occurrence(series, utc(2026, 5, 1, 9, 0)) == utc(2026, 5, 1, 9, 0)
    assert next_occurrence(series, utc(2026, 5, 1, 9, 1)) is None


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    series = Series(datetime(2026, 3, 3, 19, 0), "UTC", "weekly")
    assert occurrences(series, utc(2026, 3, 3, 19), utc(2026, 3, 10, 19)) == [utc(2026, 3, 3, 19)]
    assert occurrences(series, utc(2026, 3, 3, 19), utc(2026, 3, 3, 19)) == []


def test_occurrences_never_start_before_the_series_start() -> None:
    series = Series(datetime(2026, 3, 17, 19, 0), "UTC", "weekly")
    assert occurrences(series, utc(2026, 1, 1), utc(2026, 3, 24)) == [utc(2026, 3, 17, 19)]


def test_next_occurrence_finds_the_first_start_at_or_after_the_instant() -> None:
    series = Series(datetime(2026, 3, 3, 19, 0), "America/New_York", "weekly")
    assert next_occurrence(series, utc(2026, 3, 8)) == utc(2026, 3, 10, 23, 0)
    assert next_occurrence(series, utc(2026, 3, 10, 23, 0)) == utc(2026, 3, 10, 23, 0)
    assert next_occurrence(series, utc(2020, 1, 1)) == utc(2026, 3, 4, 0, 0)


def test_next_occurrence_is_none_once_the_series_has_ended() -> None:
    series = Series(datetime(2026, 3, 3, 19, 0), "UTC", "monthly", until_local=datetime(2026, 6, 30))
    assert next_occurrence(series, utc(2026, 7, 1)) is None


def test_next_occurrence_of_a_monthly_31st_jumps_over_short_months() -> None:
    series = Series(datetime(2026, 1, 31, 12, 0), "UTC", "monthly", monthly_by="date")
    assert next_occurrence(series, utc(2026, 2, 1)) == utc(2026, 3, 31, 12, 0)


def test_occurrence_on_a_local_date_returns_that_days_start() -> None:
    series = Series(datetime(2026, 3, 3, 19, 0), "America/New_York", "weekly")
    assert occurrence_on(series, date(2026, 3, 10)) == utc(2026, 3, 10, 23, 0)


def test_occurrence_on_a_date_without_a_meeting_is_none() -> None:
    series = Series(datetime(2026, 3, 3, 19, 0), "America/New_York", "weekly")
    assert occurrence_on(series, date(2026, 3, 11)) is None
    assert occurrence_on(series, date(2026, 2, 24)) is None  # before the series starts


def test_occurrence_on_uses_the_local_date_not_the_utc_date() -> None:
    # 19:00 in New York is already the next day in UTC.
    series = Series(datetime(2026, 1, 6, 19, 0), "America/New_York", "weekly")
    assert occurrence_on(series, date(2026, 1, 13)) == utc(2026, 1, 14, 0, 0)
    assert occurrence_on(series, date(2026, 1, 14)) is None


def test_occurrence_on_a_once_meeting_matches_only_its_date() -> None:
    series = Series(datetime(2026, 5, 1, 10, 0), "Europe/London", "once")
    assert occurrence_on(series, date(2026, 5, 1)) == utc(2026, 5, 1, 9, 0)
    assert occurrence_on(series, date(2026, 5, 8)) is None


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"start_local": datetime(2026, 1, 1, 10, tzinfo=UTC)}, "naive"),
        ({"start_local": datetime(2026, 1, 1, 10, 0, 0, 5)}, "microseconds"),
        ({"repeat": "daily"}, "repeat"),
        ({"monthly_by": "weekend"}, "monthly_by"),
    ],
)
def test_a_series_refuses_values_that_would_be_programming_errors(kwargs: dict, problem: str) -> None:
    fields = {"start_local": datetime(2026, 1, 1, 10), "timezone": "UTC", "repeat": "weekly"} | kwargs
    with pytest.raises(ValueError, match=problem):
        Series(**fields)


def test_a_series_refuses_an_unknown_timezone() -> None:
    with pytest.raises(KeyError):
        Series(datetime(2026, 1, 1, 10), "Mars/Base", "weekly")


# ---------------------------------------------------------------------------------------------
# DST risk
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "tz", "risky"),
    [
        (datetime(2026, 3, 8, 2, 30), "America/New_York", True),  # in the gap
        (datetime(2026, 3, 8, 1, 0), "America/New_York", True),  # just before the change
        (datetime(2026, 3, 8, 3, 0), "America/New_York", False),
        (datetime(2026, 3, 8, 19, 0), "America/New_York", False),
        (datetime(2026, 3, 9, 2, 30), "America/New_York", False),  # the day after
        (datetime(2026, 11, 1, 1, 30), "America/New_York", True),  # ambiguous
        (datetime(2026, 10, 25, 2, 59), "Europe/London", True),
        (datetime(2026, 10, 25, 0, 59), "Europe/London", False),
        (datetime(2026, 4, 5, 2, 30), "Australia/Sydney", True),
        (datetime(2026, 3, 8, 2, 30), "Asia/Tokyo", False),  # Japan has no DST
        # Santiago springs forward at midnight, outside 01:00–03:00, but 00:30 still does not exist.
        (datetime(2026, 9, 6, 0, 30), "America/Santiago", True),
    ],
)
def test_dst_transition_risk_is_flagged_for_early_morning_starts_on_change_days(
    local: datetime, tz: str, risky: bool
) -> None:
    assert is_dst_transition_risky(local, tz) is risky


# ---------------------------------------------------------------------------------------------
# Efficiency
# ---------------------------------------------------------------------------------------------


def test_two_weeks_of_ten_thousand_series_expand_quickly() -> None:
    zones = ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "Europe/Berlin"]
    series = [
        Series(
            datetime(2020 + i % 6, 1 + i % 12, 1 + i % 28, i % 24, (i * 5) % 60),
            zones[i % len(zones)],
            REPEATS[1 + i % 3],
            monthly_by="date" if i % 2 else "weekday",
        )
        for i in range(10_000)
    ]
    after = utc(2034, 11, 20)
    before = after + timedelta(days=14)
    began = clock.perf_counter()
    total = sum(len(occurrences(s, after, before)) for s in series)
    elapsed = clock.perf_counter() - began
    assert total > 10_000
    # Typically ~0.3 s; the bound is loose so a busy CI machine does not fail it.
    assert elapsed < 2.0


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST
    "America/Santiago",  # changes at midnight
    "America/Havana",
    "Africa/Casablanca",  # DST suspended for Ramadan
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",
    "America/Sao_Paulo",  # DST abolished in 2019
    "UTC",
]

local_starts = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(minute=d.minute - d.minute % 5, second=0, microsecond=0)
)
rules = st.sampled_from([("weekly", "weekday"), ("biweekly", "weekday"), ("monthly", "weekday"), ("monthly", "date")])
window_starts = st.datetimes(min_value=datetime(2019, 12, 1), max_value=datetime(2036, 2, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)
window_lengths = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=120))

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def series_strategy(draw: st.DrawFn) -> Series:
    repeat, monthly_by = draw(rules)
    return Series(draw(local_starts), draw(st.sampled_from(ZONES)), repeat, monthly_by=monthly_by)


def _wall_time_exists(local: datetime, tz: str) -> bool:
    return to_local(to_utc(local, tz), tz) == local


def _matches_rule(series: Series, day: date) -> bool:
    """Decide day by day, without rrule, whether the series has an occurrence on ``day``."""
    start = series.start_local.date()
    if day < start:
        return False
    if series.repeat == "weekly":
        return (day - start).days % 7 == 0
    if series.repeat == "biweekly":
        return (day - start).days % 14 == 0
    if series.monthly_by == "date":
        return day.day == start.day
    if day.weekday() != start.weekday():
        return False
    nth = (start.day - 1) // 7 + 1
    if nth == 5:
        return (day + timedelta(days=7)).month != day.month
    return (day.day - 1) // 7 + 1 == nth


def _reference_occurrences(series: Series, after: datetime, before: datetime) -> list[datetime]:
    """Expand by brute force over local days, as an independent check of the fast expansion."""
    day = to_local(after, series.timezone).date() - timedelta(days=3)
    last = to_local(before, series.timezone).date() + timedelta(days=3)
    found = []
    while day <= last:
        if _matches_rule(series, day):
            start = to_utc(datetime.combine(day, series.start_local.time()), series.timezone)
            if after <= start < before:
                found.append(start)
        day += timedelta(days=1)
    return found


@SETTINGS
@given(series_strategy(), window_starts, window_lengths)
@example(Series(datetime(2026, 3, 1, 2, 30), "America/New_York", "weekly"), utc(2026, 3, 1), timedelta(days=30))
def test_every_occurrence_keeps_the_start_wall_clock_time_unless_it_falls_in_a_gap(
    series: Series, after: datetime, length: timedelta
) -> None:
    for start in occurrences(series, after, after + length):
        local = to_local(start, series.timezone)
        intended = datetime.combine(local.date(), series.start_local.time())
        if _wall_time_exists(intended, series.timezone):
            assert local.time() == series.start_local.time()
        else:
            # Moved forward by the gap (at most a few hours), never backward.
            assert timedelta(0) < local - intended <= timedelta(hours=3)


@SETTINGS
@given(series_strategy(), window_starts, window_lengths)
def test_occurrences_are_strictly_increasing_and_inside_the_window(
    series: Series, after: datetime, length: timedelta
) -> None:
    before = after + length
    starts = occurrences(series, after, before)
    assert all(a < b for a, b in pairwise(starts))
    assert all(after <= s < before and s.tzinfo is UTC for s in starts)


@SETTINGS
@given(series_strategy(), window_starts)
def test_weekly_and_biweekly_occurrences_are_whole_weeks_apart_in_local_days(series: Series, after: datetime) -> None:
    step = {"weekly": 7, "biweekly": 14}.get(series.repeat)
    if step is None:
        return
    starts = occurrences(series, after, after + timedelta(days=100))
    days = [to_local(s, series.timezone).date() for s in starts]
    assert all((b - a).days == step for a, b in pairwise(days))
    assert all((d - series.start_local.date()).days % step == 0 for d in days)


@SETTINGS
@given(series_strategy(), window_starts, window_lengths, window_lengths)
def test_splitting_a_window_in_two_gives_the_same_occurrences(
    series: Series, a: datetime, first: timedelta, second: timedelta
) -> None:
    b = a + first
    c = b + second
    assert occurrences(series, a, c) == occurrences(series, a, b) + occurrences(series, b, c)


@SETTINGS
@given(series_strategy(), window_starts, window_lengths)
def test_the_fast_expansion_matches_a_day_by_day_reference(series: Series, after: datetime, length: timedelta) -> None:
    before = after + length
    assert occurrences(series, after, before) == _reference_occurrences(series, after, before)


@SETTINGS
@given(series_strategy(), window_starts)
def test_next_occurrence_is_the_first_of_the_following_occurrences(series: Series, after: datetime) -> None:
    horizon = after + timedelta(days=70)
    upcoming = occurrences(series, after, horizon)
    found = next_occurrence(series, after)
    if upcoming:
        assert found == upcoming[0]
    else:
        assert found is None or found >= horizon


@SETTINGS
@given(series_strategy(), window_starts)
def test_occurrence_on_agrees_with_occurrences_for_each_local_date(series: Series, after: datetime) -> None:
    starts = occurrences(series, after, after + timedelta(days=40))
    for start in starts:
        local_day = to_local(start, series.timezone).date()
        assert occurrence_on(series, local_day) == start
    if starts:
        day_before = to_local(starts[0], series.timezone).date() - timedelta(days=1)
        assert occurrence_on(series, day_before) is None
