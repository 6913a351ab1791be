"""Meeting series recurrence: local wall-clock rules expanded into UTC instants.

A series is stored as a naive local start, an IANA timezone and a repeat rule. The rule is
expanded with ``dateutil.rrule`` on the naive local time and each occurrence is converted to UTC
afterwards, so a weekly 19:00 meeting stays at 19:00 local time across DST changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, rrule, weekday

REPEATS = ("once", "weekly", "biweekly", "monthly")
MONTHLY_BY = ("weekday", "date")

# How far (in local wall-clock time) we widen a UTC window before expanding the rule. A local time
# and its UTC instant differ by the zone's offset, which can change between two moments by a DST
# shift or, in rare historical cases (Pacific/Apia in 2011), by a whole day. Two days covers both
# and the exact UTC filter afterwards keeps the result precise.
_LOCAL_MARGIN = timedelta(days=2)

_WEEK = timedelta(days=7)
_PERIODS = {"weekly": _WEEK, "biweekly": 2 * _WEEK}

# The hours of the night in which most zones change their clocks (01:00–03:00 local).
_RISKY_FROM = time(1, 0)
_RISKY_UNTIL = time(3, 0)


@dataclass(frozen=True)
class Series:
    """A meeting series: the first local start, its timezone and how it repeats."""

    start_local: datetime  # naive local wall-clock time of the first occurrence
    timezone: str  # IANA name, e.g. "Europe/London"
    repeat: str  # one of REPEATS
    # "weekday": the same nth weekday each month ("2nd Tuesday"; a 5th-week start means the last
    # such weekday). "date": the same day of the month; months without that day are skipped.
    monthly_by: str = "weekday"
    # Naive local; an occurrence whose rule time is after this is excluded (inclusive bound).
    until_local: datetime | None = None

    def __post_init__(self) -> None:
        # These are programming errors (user input is validated before a Series is built), so they
        # raise ValueError rather than UserError.
        if self.start_local.tzinfo is not None:
            raise ValueError("start_local must be a naive local datetime")
        if self.start_local.microsecond:
            # rrule silently drops microseconds; refuse rather than shift the meeting.
            raise ValueError("start_local must not carry microseconds")
        if self.until_local is not None and self.until_local.tzinfo is not None:
            raise ValueError("until_local must be a naive local datetime")
        if self.repeat not in REPEATS:
            raise ValueError(f"repeat must be one of {REPEATS}, not {self.repeat!r}")
        if self.monthly_by not in MONTHLY_BY:
            raise ValueError(f"monthly_by must be one of {MONTHLY_BY}, not {self.monthly_by!r}")
        ZoneInfo(self.timezone)  # raises ZoneInfoNotFoundError for an unknown zone


def to_utc(local_naive: datetime, tz: str) -> datetime:
    """Convert a naive local wall-clock time in ``tz`` to an aware UTC datetime."""
    # PEP 495: with fold=0 a time inside a gap is read with the offset in force before the gap,
    # which lands it "gap length" later on the clock (02:30 -> 03:30 EDT), and an ambiguous time
    # is read as its first (earlier) instant. Both are exactly the rules the spec asks for.
    aware = local_naive.replace(tzinfo=ZoneInfo(tz), fold=0)
    return aware.astimezone(UTC)


def to_local(at_utc: datetime, tz: str) -> datetime:
    """Return the naive local wall-clock time in ``tz`` for an aware instant."""
    _require_aware(at_utc)
    return at_utc.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def occurrences(series: Series, after_utc: datetime, before_utc: datetime) -> list[datetime]:
    """Return the UTC starts with ``after_utc <= start < before_utc``, in order."""
    _require_aware(after_utc)
    _require_aware(before_utc)
    if before_utc <= after_utc:
        return []
    lower_local = to_local(after_utc, series.timezone) - _LOCAL_MARGIN
    upper_local = to_local(before_utc, series.timezone) + _LOCAL_MARGIN
    found: list[datetime] = []
    for local in _iter_local(series, lower_local, upper_local):
        start = to_utc(local, series.timezone)
        if after_utc <= start < before_utc:
            found.append(start)
    return found


def next_occurrence(series: Series, after_utc: datetime) -> datetime | None:
    """Return the first UTC start at or after ``after_utc``, or None when the series has ended."""
    _require_aware(after_utc)
    lower_local = to_local(after_utc, series.timezone) - _LOCAL_MARGIN
    for local in _iter_local(series, lower_local):
        # Occurrences are at least a week apart, far more than any offset change, so the first
        # one that converts to a late-enough instant is the answer.
        start = to_utc(local, series.timezone)
        if start >= after_utc:
            return start
    return None


def occurrence_on(series: Series, local_date: date) -> datetime | None:
    """Return the UTC start of the occurrence on ``local_date`` (series timezone), or None."""
    midnight = datetime.combine(local_date, time())
    last_moment = midnight + timedelta(days=1) - timedelta(microseconds=1)
    # Occurrences are at least a week apart, so a local day holds at most one.
    for local in _iter_local(series, midnight, last_moment):
        return to_utc(local, series.timezone)
    return None


def is_dst_transition_risky(local_naive: datetime, tz: str) -> bool:
    """Return True when a start at this local time could be shifted or doubled by a DST change."""
    if _is_nonexistent_or_ambiguous(local_naive, tz):
        # Covers zones that change their clocks outside 01:00–03:00 (e.g. at midnight).
        return True
    if not _RISKY_FROM <= local_naive.time() < _RISKY_UNTIL:
        return False
    return _has_offset_change_on(local_naive.date(), tz)


def _iter_local(series: Series, lower_local: datetime, upper_local: datetime | None = None) -> Iterator[datetime]:
    """Yield the naive local starts in ``[lower_local, upper_local]`` in order (no upper: endless)."""
    start = series.start_local
    until = series.until_local
    if upper_local is not None:
        until = upper_local if until is None else min(until, upper_local)
    if until is not None and until < max(start, lower_local):
        return
    if series.repeat == "once":
        if start >= lower_local:
            yield start
        return
    if series.repeat in _PERIODS:
        yield from _iter_periodic(series, lower_local, until)
        return
    rule = _rule_near(series, lower_local, until)
    if rule is None:
        return
    for local in rule:
        if local >= lower_local:
            yield local


def _iter_periodic(series: Series, lower_local: datetime, until: datetime | None) -> Iterator[datetime]:
    """Yield a weekly or biweekly series' local starts from the first at or after ``lower_local``.

    Plain wall-clock addition of whole periods: exactly what ``rrule(WEEKLY, interval, dtstart)`` yields
    for a start with no other rule parts, at a fraction of its cost (every series is expanded at start-up,
    bench/startup.py); tests/logic/test_recurrence_periodic.py checks the two agree.
    """
    start = series.start_local
    period = _PERIODS[series.repeat]
    # Jump by whole periods (rounding up) to the first occurrence at or after lower_local; whole periods
    # keep a biweekly series on its original week parity.
    local = start + max(0, -((start - lower_local) // period)) * period
    while until is None or local <= until:
        yield local
        local += period


def _rule_near(series: Series, lower_local: datetime, until: datetime | None) -> rrule | None:
    """Build a monthly series' rule starting at or just before ``lower_local``, on the original phase."""
    start = series.start_local
    # Monthly: every month is a valid phase, so begin on the 1st of lower_local's month (or at the
    # real start if later); earlier days of that month are filtered out by the caller. The day
    # comes from bymonthday/byweekday and the time of day from dtstart.
    dtstart = max(start, datetime.combine(lower_local.date().replace(day=1), start.time()))
    if series.monthly_by == "date":
        return rrule(MONTHLY, dtstart=dtstart, bymonthday=start.day, until=until, cache=False)
    return rrule(MONTHLY, dtstart=dtstart, byweekday=_nth_weekday(start.date()), until=until, cache=False)


def _nth_weekday(day: date) -> weekday:
    """Return the rrule weekday for "the nth <weekday> of the month" that ``day`` is."""
    nth = (day.day - 1) // 7 + 1
    # A 5th <weekday> does not exist in most months; "the last <weekday>" is what people mean.
    if nth == 5:
        nth = -1
    return weekday(day.weekday(), nth)


def _is_nonexistent_or_ambiguous(local_naive: datetime, tz: str) -> bool:
    """Return True when the wall time is skipped (gap) or occurs twice (fold) in ``tz``."""
    zone = ZoneInfo(tz)
    first = local_naive.replace(tzinfo=zone, fold=0)
    second = local_naive.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset()


def _has_offset_change_on(day: date, tz: str) -> bool:
    """Return True when the UTC offset of ``tz`` changes during (or at either edge of) a local day."""
    zone = ZoneInfo(tz)
    offsets = set()
    for midnight in (datetime.combine(day, time()), datetime.combine(day + timedelta(days=1), time())):
        # Both folds, so a change exactly at midnight (America/Santiago, America/Havana) is seen
        # whichever side of it the midnight falls on.
        for fold in (0, 1):
            offsets.add(midnight.replace(tzinfo=zone, fold=fold).utcoffset())
    return len(offsets) > 1


def _require_aware(value: datetime) -> None:
    """Refuse naive datetimes where an instant is expected, so no local time is mistaken for UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")
