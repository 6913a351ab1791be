"""A member's own trend and counters: daily means, buckets, counters that never reset, kind words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.logic.journal import average, bucket_means, count_checkins, daily_means, day_of, kind_words
from bot.logic.moods import MOODS


def at(*args: int, tz=UTC) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp())


def test_daily_means_average_each_day_and_leave_gaps_oldest_first():
    points = [(at(2026, 11, 1, 9), 2), (at(2026, 11, 1, 21), 4), (at(2026, 11, 3, 12), 5)]
    assert daily_means(points, today=date(2026, 11, 3), days=4) == [None, 3.0, None, 5.0]


def test_daily_means_ignore_points_outside_the_window():
    points = [(at(2026, 10, 1, 9), 1), (at(2026, 11, 4, 1), 5)]
    assert daily_means(points, today=date(2026, 11, 3), days=2) == [None, None]


def test_days_are_counted_in_the_servers_time_zone():
    # 23:30 UTC on the 2nd is already the 3rd in Auckland.
    auckland = ZoneInfo("Pacific/Auckland")
    late = at(2026, 11, 2, 23, 30)
    assert day_of(late) == date(2026, 11, 2)
    assert day_of(late, auckland) == date(2026, 11, 3)
    assert daily_means([(late, 4)], today=date(2026, 11, 3), days=2, tz=auckland) == [None, 4.0]


@pytest.mark.parametrize(
    ("zone", "today"),
    [
        ("Europe/London", date(2026, 3, 31)),  # clocks forward at 01:00 on the 29th
        ("Europe/London", date(2026, 10, 27)),  # and back on the 25th
        ("America/Santiago", date(2026, 4, 7)),  # back at midnight (local midnight happens twice)
        ("America/Santiago", date(2026, 9, 8)),  # forward at midnight (local midnight never happens)
        ("Asia/Kolkata", date(2026, 11, 3)),
    ],
)
def test_daily_means_put_every_instant_on_its_local_day_across_clock_changes(zone, today):
    tz = ZoneInfo(zone)
    start = int(datetime.combine(today - timedelta(days=8), datetime.min.time(), UTC).timestamp())
    for at_ in range(start, start + 10 * 86_400, 600):  # every 10 minutes from 8 days before to the day after
        expected = [None] * 7
        index = (day_of(at_, tz) - (today - timedelta(days=6))).days
        if 0 <= index < 7:
            expected[index] = 3.0
        assert daily_means([(at_, 3)], today=today, days=7, tz=tz) == expected, datetime.fromtimestamp(at_, tz)


def test_daily_means_need_at_least_one_day():
    with pytest.raises(ValueError):
        daily_means([], today=date(2026, 11, 3), days=0)


def test_buckets_end_at_the_most_recent_value():
    values = [1.0, None, 3.0, 5.0, None, None, 4.0, 2.0]
    assert bucket_means(values, 3) == [1.0, 4.0, 3.0]
    assert bucket_means([None, None], 7) == [None]
    with pytest.raises(ValueError):
        bucket_means(values, 0)


def test_average_of_nothing_is_none():
    assert average([]) is None
    assert average([2, 3]) == 2.5


def test_counters_count_this_month_all_and_distinct_days():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    times = [at(2026, 10, 31, 10), at(2026, 11, 1, 8), at(2026, 11, 1, 20), at(2026, 11, 19, 7)]
    assert count_checkins(times, now=now) == (3, 4, 3)


def test_counters_never_drop_after_a_long_gap():
    times = [at(2026, 1, 5, 10), at(2026, 1, 6, 10)]
    before = count_checkins(times, now=datetime(2026, 1, 7, tzinfo=UTC))
    after = count_checkins(times, now=datetime(2026, 9, 1, tzinfo=UTC))
    assert before[1:] == after[1:] == (2, 2)


def test_every_mood_has_kind_words_without_advice():
    for mood in MOODS:
        words = kind_words(mood)
        assert words.endswith((".", "!"))
        assert "should" not in words.lower()


def test_a_day_is_a_calendar_day_not_24_hours():
    start = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
    points = [(int(start.timestamp()), 3), (int((start + timedelta(hours=2)).timestamp()), 3)]
    assert count_checkins((p for p, _ in points), now=start)[2] == 2
