"""Summarise a member's own check-ins: a daily trend, kind words, and counters that only ever go up.

There are no streaks here on purpose: a streak turns one hard day into a broken record. Counters count
what happened (check-ins, days with one, meetings attended) and never drop back to zero.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = ["Counters", "average", "bucket_means", "count_checkins", "daily_means", "day_of", "kind_words"]

# Said back to the member after a check-in. No advice and no judgement: acknowledgement only.
_KIND_WORDS = {
    1: "That sounds really hard. Thank you for checking in — it takes something to do that on a day like this.",
    2: "Thanks for being honest about a low day. It's okay not to be okay.",
    3: "Getting by counts. Thanks for checking in.",
    4: "Glad today is a good one. Thanks for checking in.",
    5: "Love to hear it. Thanks for checking in.",
}


@dataclass(frozen=True)
class Counters:
    """Totals for the member's history; none of them ever resets."""

    this_month: int
    total: int
    days: int
    meetings_attended: int = 0


def kind_words(mood: int) -> str:
    """Return the acknowledgement for a mood from 1 to 5."""
    return _KIND_WORDS[mood]


def day_of(at: int, tz: tzinfo = UTC) -> date:
    """Return the calendar day an epoch-second instant falls on in `tz`."""
    return datetime.fromtimestamp(at, tz).date()


@functools.lru_cache(maxsize=256)
def _day_starts(today: date, days: int, tz: tzinfo) -> tuple[int, ...]:
    """The epoch second each of the `days` days ending `today` begins at in `tz`, and the one after it.

    Worked out once a day per time zone (every /checkin shows its member's week). A local midnight that a
    clock change skips begins its day at the change (the earlier offset, as `datetime` takes it), and a
    repeated one at its first time: where `day_of` puts the instants either side.
    """
    first = today - timedelta(days=days - 1)
    return tuple(int(datetime.combine(first + timedelta(days=n), time(), tz).timestamp()) for n in range(days + 1))


def average(moods: Iterable[int]) -> float | None:
    """Return the mean mood, or None when there is none."""
    values = list(moods)
    return sum(values) / len(values) if values else None


def daily_means(points: Iterable[tuple[int, int]], *, today: date, days: int, tz: tzinfo = UTC) -> list[float | None]:
    """Return the mean mood of each of the `days` days ending `today` (oldest first), None for empty days."""
    if days < 1:
        raise ValueError("days must be at least 1")
    starts = _day_starts(today, days, tz)
    sums = [0] * days
    counts = [0] * days
    for at, mood in points:
        index = bisect_right(starts, at) - 1  # the day whose first second is the last one not after `at`
        if 0 <= index < days:
            sums[index] += mood
            counts[index] += 1
    return [s / c if c else None for s, c in zip(sums, counts, strict=True)]


def bucket_means(values: Sequence[float | None], size: int) -> list[float | None]:
    """Merge consecutive values into buckets of `size` (the last may be shorter), averaging what is there."""
    if size < 1:
        raise ValueError("size must be at least 1")
    out: list[float | None] = []
    # Buckets end at the most recent value, so "this week" is always a whole bucket.
    start = len(values) % size
    if start:
        out.append(average(v for v in values[:start] if v is not None))  # type: ignore[arg-type]
    for i in range(start, len(values), size):
        out.append(average(v for v in values[i : i + size] if v is not None))  # type: ignore[arg-type]
    return out


def count_checkins(times: Iterable[int], *, now: datetime, tz: tzinfo = UTC) -> tuple[int, int, int]:
    """Return (check-ins this calendar month, check-ins in all, distinct days with one), all in `tz`."""
    local_now = now.astimezone(tz)
    this_month = total = 0
    days: set[date] = set()
    for at in times:
        day = day_of(at, tz)
        total += 1
        days.add(day)
        if (day.year, day.month) == (local_now.year, local_now.month):
            this_month += 1
    return this_month, total, len(days)
