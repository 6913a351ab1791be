"""Weekly and biweekly series are expanded by adding periods: the same dates dateutil's WEEKLY rrule gives."""

from datetime import datetime, timedelta

from dateutil.rrule import WEEKLY, rrule
from hypothesis import given
from hypothesis import strategies as st

from bot.logic import recurrence
from bot.logic.recurrence import Series

starts = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


def rrule_dates(series: Series, lower: datetime, until: datetime) -> list[datetime]:
    interval = 2 if series.repeat == "biweekly" else 1
    rule = rrule(WEEKLY, interval=interval, dtstart=series.start_local, until=until, cache=False)
    return [d for d in rule if d >= lower]


@given(
    start=starts,
    repeat=st.sampled_from(["weekly", "biweekly"]),
    lower_offset=st.integers(min_value=-60, max_value=800),
    span=st.integers(min_value=0, max_value=120),
)
def test_periodic_expansion_matches_a_weekly_rrule(start, repeat, lower_offset, span):
    series = Series(start, "Europe/London", repeat)
    lower = start + timedelta(days=lower_offset, minutes=lower_offset)
    until = lower + timedelta(days=span)
    assert list(recurrence._iter_local(series, lower, until)) == rrule_dates(series, lower, until)


def test_an_endless_series_keeps_going_on_its_own_week_parity():
    series = Series(datetime(2026, 1, 6, 19, 0), "America/New_York", "biweekly")
    dates = recurrence._iter_local(series, datetime(2026, 3, 1))
    first = [next(dates) for _ in range(3)]
    assert first == [datetime(2026, 3, 3, 19, 0), datetime(2026, 3, 17, 19, 0), datetime(2026, 3, 31, 19, 0)]
