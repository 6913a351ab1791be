"""Parsing and formatting of the times members type: meeting starts, timezones, reminder leads.

Everything here is pure: "now" is always passed in, and bad input raises ``UserError`` with a
message that says what was wrong and how to write it instead.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from dateutil.relativedelta import relativedelta

from bot.logic.errors import UserError
from bot.logic.recurrence import to_local, to_utc

# ---------------------------------------------------------------------------------------------
# Meeting start
# ---------------------------------------------------------------------------------------------

_START_EXAMPLES = "Try `2026-12-01 19:00` or `tuesday 19:00`."
_MAX_YEARS_AHEAD = 2

_WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mon", "monday"),
        ("tue", "tues", "tuesday"),
        ("wed", "weds", "wednesday"),
        ("thu", "thur", "thurs", "thursday"),
        ("fri", "friday"),
        ("sat", "saturday"),
        ("sun", "sunday"),
    )
):
    for _name in _names:
        _WEEKDAYS[_name] = _index

_RELATIVE_DAYS = {"today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1}

# A clock time: "19:00", "7pm", "7 pm", "7:30pm", "7:30 p.m.", "noon", "midnight".
_TIME_12 = (
    r"(?:(?P<word>noon|midnight)"
    r"|(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<ampm>[ap])\.?\s*m?\.?)"
)
# The 24-hour form needs the minutes; a bare "19" is too easy to misread.
_TIME_24 = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})"
_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_ISO_DATE_RE = re.compile(_ISO_DATE)
_DAY = rf"(?P<day>{_ISO_DATE}|[a-z]+)"


def _time_pattern() -> str:
    """Return the clock-time regex, with distinct group names for the 12- and 24-hour forms."""
    # Python refuses a group name used twice in one pattern, even in different alternatives.
    twelve = _TIME_12.replace("?P<", "?P<t12_")
    twenty_four = _TIME_24.replace("?P<", "?P<t24_")
    return rf"(?:{twelve}|{twenty_four})"


_CLOCK_ONLY_RE = re.compile(rf"^{_time_pattern()}$")
_DAY_THEN_TIME_RE = re.compile(rf"^{_DAY}(?:\s+(?:at\s+)?|t){_time_pattern()}$")
_TIME_THEN_DAY_RE = re.compile(rf"^{_time_pattern()}\s+(?:on\s+)?{_DAY}$")
_DAY_ONLY_RE = re.compile(rf"^{_DAY}$")
_BARE_HOUR_RE = re.compile(rf"^(?:{_DAY}\s+(?:at\s+)?)?(?P<hour>\d{{1,2}})$")


def _normalise(text: str) -> str:
    """Lower-case and collapse runs of whitespace, so spacing never decides a parse."""
    return " ".join(text.lower().split())


def _clock_from_match(match: re.Match[str], original: str) -> time:
    """Turn the named groups of a clock-time match into a ``time``, refusing impossible values."""
    # Fold the t12_/t24_ groups back into one view, keeping whichever form actually matched.
    groups: dict[str, str] = {}
    for key, value in match.groupdict().items():
        if value is not None and key.startswith(("t12_", "t24_")):
            groups[key.split("_", 1)[1]] = value
    word = groups.get("word")
    if word == "noon":
        return time(12, 0)
    if word == "midnight":
        return time(0, 0)
    hour = int(groups["hour"])
    minute = int(groups["minute"]) if groups.get("minute") else 0
    ampm = groups.get("ampm")
    if minute > 59:
        raise UserError(f"`{original}` has {minute} minutes past the hour; minutes go from 00 to 59.")
    if ampm:
        if not 1 <= hour <= 12:
            raise UserError(
                f"`{original}` isn't a time on a 12-hour clock. Use 1–12 with am/pm (`7pm`) or a "
                "24-hour time (`19:00`)."
            )
        # 12am is midnight and 12pm is noon; every other hour shifts by 12 in the afternoon.
        hour = hour % 12 + (12 if ampm == "p" else 0)
    elif hour > 23:
        raise UserError(f"`{original}` isn't a time of day. Use a 24-hour time like `19:00` or `7pm`.")
    return time(hour, minute)


def _match_clock(text: str, original: str) -> time | None:
    """Parse a clock time on its own, or return None when ``text`` is not one."""
    match = _CLOCK_ONLY_RE.match(text)
    if match is None:
        return None
    return _clock_from_match(match, original)


def _parse_iso_date(text: str) -> date:
    """Parse ``YYYY-MM-DD`` (single-digit month and day allowed), explaining impossible dates."""
    year_s, month_s, day_s = text.split("-")
    year, month, day = int(year_s), int(month_s), int(day_s)
    if year < 1:
        raise UserError(f"`{text}` isn't a real date. Dates are written year-month-day, e.g. `2026-12-01`.")
    if not 1 <= month <= 12:
        raise UserError(
            f"`{text}` has month {month}, but months go from 01 to 12. Dates are written "
            "year-month-day, e.g. `2026-12-01`."
        )
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        month_name = calendar.month_name[month]
        raise UserError(
            f"`{text}` isn't a real date: {month_name} {year} has {days_in_month} days. "
            "Check the day and month (dates are written year-month-day, e.g. `2026-12-01`)."
        )
    return date(year, month, day)


def parse_start(text: str, tz: str, now_utc: datetime) -> datetime:
    """Parse a meeting start typed by an organiser into a naive local datetime in ``tz``."""
    tz = validate_timezone(tz)
    original = text.strip()
    normalised = _normalise(text)
    if not normalised:
        raise UserError(f"Please give a start date and time. {_START_EXAMPLES}")
    unreadable = UserError(f'I couldn\'t read "{original}" as a date and time. {_START_EXAMPLES}')

    now_local = to_local(now_utc, tz)
    day_word: str | None = None
    clock = _match_clock(normalised, original)
    if clock is None:
        for pattern in (_DAY_THEN_TIME_RE, _TIME_THEN_DAY_RE):
            match = pattern.match(normalised)
            if match is not None and _is_day_word(match.group("day")):
                day_word = match.group("day")
                clock = _clock_from_match(match, original)
                break
    if clock is None:
        day_only = _DAY_ONLY_RE.match(normalised)
        if day_only is not None and _is_day_word(day_only.group("day")):
            raise UserError(f"`{original}` needs a time as well, e.g. `{original} 19:00` or `{original} 7pm`.")
        bare_hour = _BARE_HOUR_RE.match(normalised)
        if bare_hour is not None and (bare_hour.group("day") is None or _is_day_word(bare_hour.group("day"))):
            # "tue 19" could mean 19:00 or a typo; ask for the unambiguous form instead of guessing.
            prefix = f"{bare_hour.group('day')} " if bare_hour.group("day") else ""
            hour = int(bare_hour.group("hour"))
            if hour > 23:
                hour = 19
            twelve = f"{hour % 12 or 12}{'pm' if hour >= 12 else 'am'}"
            raise UserError(
                f"`{original}` needs minutes or am/pm after the hour, e.g. `{prefix}{hour:02d}:00` or "
                f"`{prefix}{twelve}`."
            )
        raise unreadable

    def is_ahead(candidate: datetime) -> bool:
        return to_utc(candidate, tz) > now_utc

    if day_word is None:
        # A bare time means the next time the clock shows it: today if still ahead, else tomorrow.
        candidate = datetime.combine(now_local.date(), clock)
        if not is_ahead(candidate):
            candidate += timedelta(days=1)
        return candidate

    if day_word in _WEEKDAYS:
        days_ahead = (_WEEKDAYS[day_word] - now_local.weekday()) % 7
        candidate = datetime.combine(now_local.date() + timedelta(days=days_ahead), clock)
        if not is_ahead(candidate):
            candidate += timedelta(days=7)
        return candidate

    if day_word in _RELATIVE_DAYS:
        candidate = datetime.combine(now_local.date() + timedelta(days=_RELATIVE_DAYS[day_word]), clock)
        if not is_ahead(candidate):
            shown = clock.strftime("%H:%M")
            raise UserError(f"{shown} today has already passed in {tz}. Try `tomorrow {shown}` or a later time.")
        return candidate

    candidate = datetime.combine(_parse_iso_date(day_word), clock)
    shown = candidate.strftime("%Y-%m-%d %H:%M")
    if not is_ahead(candidate):
        raise UserError(
            f"{shown} ({tz}) has already passed. Pick a date and time that's still ahead, e.g. `tuesday 19:00`."
        )
    latest = now_local + relativedelta(years=_MAX_YEARS_AHEAD)
    if candidate > latest:
        raise UserError(
            f"{shown} is more than {_MAX_YEARS_AHEAD} years away. Please pick a first meeting no "
            f"later than `{latest.strftime('%Y-%m-%d %H:%M')}`; a repeating series carries on by "
            "itself from there."
        )
    return candidate


def _is_day_word(word: str) -> bool:
    """Return True for the day parts we understand: an ISO date, a weekday, today or tomorrow."""
    return word in _WEEKDAYS or word in _RELATIVE_DAYS or _ISO_DATE_RE.fullmatch(word) is not None


# ---------------------------------------------------------------------------------------------
# Timezones
# ---------------------------------------------------------------------------------------------

# Areas whose "Area/City" names are the ones IANA recommends; everything else (US/Eastern, GB,
# Etc/GMT+5, EST5EDT...) is a legacy or technical alias and ranks after these.
_CANONICAL_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
# Not real zones for people: "localtime" is the host's own setting and "Factory" is a placeholder.
_HIDDEN_ZONES = frozenset({"localtime", "Factory", "posixrules"})

_COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Athens",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Perth",
    "Pacific/Auckland",
)

_COMMON_ZONE_SET = frozenset(_COMMON_ZONES)


@dataclass(frozen=True)
class _Zone:
    name: str
    lower: str
    city: str  # lower-cased last path part, with "_" shown as a space
    legacy: bool


@cache
def _zones() -> tuple[_Zone, ...]:
    """Return every usable zone, sorted by name; cached because the scan reads the zone database."""
    zones = []
    for name in sorted(zoneinfo.available_timezones() - _HIDDEN_ZONES):
        area = name.split("/", 1)[0]
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        legacy = not ("/" in name and area in _CANONICAL_AREAS) and name != "UTC"
        zones.append(_Zone(name=name, lower=name.lower(), city=city, legacy=legacy))
    return tuple(zones)


@cache
def _zones_by_lower() -> dict[str, str]:
    """Map lower-cased zone names to their proper spelling."""
    return {zone.lower: zone.name for zone in _zones()}


def _zone_key(text: str) -> str:
    """Normalise typed zone text: trimmed, lower-case, spaces written as IANA's underscores."""
    return "_".join(text.strip().lower().split())


def validate_timezone(name: str) -> str:
    """Return the properly spelled IANA name for ``name`` (any case), or raise UserError."""
    key = _zone_key(name)
    if not key:
        raise UserError("Please choose a timezone. Start typing a city, e.g. `Europe/London`.")
    canonical = _zones_by_lower().get(key)
    if canonical is None:
        raise UserError(f"`{name.strip()}` isn't a timezone I know. Start typing a city, e.g. `Europe/London`.")
    return canonical


def search_timezones(query: str, limit: int = 25) -> list[str]:
    """Return timezone names matching ``query`` for autocomplete, best matches first."""
    if limit <= 0:
        return []
    key = _zone_key(query)
    if not key:
        available = _zones_by_lower()
        return [name for name in _COMMON_ZONES if name.lower() in available][:limit]

    city_key = key.replace("_", " ")
    ranked: list[tuple[bool, bool, int, bool, str]] = []
    for zone in _zones():
        if zone.lower.startswith(key):
            tier = 0
        elif zone.city.startswith(city_key):
            tier = 1
        elif key in zone.lower:
            tier = 2
        else:
            continue
        # Canonical Area/City names come before legacy aliases ("sing" offers Asia/Singapore before
        # Singapore), but a legacy name the member is typing out ("US/") still beats a canonical
        # name that merely contains the text somewhere. Among equals, widely used zones lead (so
        # "lon" offers Europe/London before Arctic/Longyearbyen).
        ranked.append((tier == 2, zone.legacy, tier, zone.name not in _COMMON_ZONE_SET, zone.name))
    ranked.sort()
    return [entry[-1] for entry in ranked[:limit]]


# ---------------------------------------------------------------------------------------------
# Reminder lead times
# ---------------------------------------------------------------------------------------------

MIN_LEAD = timedelta(minutes=5)
MAX_LEAD = timedelta(days=14)
MAX_LEADS = 5

_LEAD_RANGE = "from 5 minutes to 14 days before the meeting"
_LEAD_EXAMPLES = "e.g. `1h`, `1d` or `30m, 1d`"

_UNITS: dict[str, timedelta] = {}
for _unit, _names in (
    (timedelta(minutes=1), ("m", "min", "mins", "minute", "minutes")),
    (timedelta(hours=1), ("h", "hr", "hrs", "hour", "hours")),
    (timedelta(days=1), ("d", "day", "days")),
    (timedelta(weeks=1), ("w", "wk", "wks", "week", "weeks")),
):
    for _name in _names:
        _UNITS[_name] = _unit

# Commas, semicolons, "&" and the word "and" always separate reminders.
_LEAD_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b)\s*")
_LEAD_PAIR = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]*)")


@dataclass
class _Lead:
    text: str
    value: timedelta
    last_unit: timedelta
    last_unit_is_word: bool


def parse_lead_times(text: str) -> list[timedelta]:
    """Parse reminder lead times like ``30m, 1d`` into a sorted (longest first), de-duplicated list."""
    normalised = _normalise(text)
    if not normalised:
        raise UserError(f"Tell me how long before the meeting to remind you, {_LEAD_EXAMPLES}.")
    leads: list[_Lead] = []
    for chunk in _LEAD_SEPARATORS.split(normalised):
        if chunk:
            leads.extend(_parse_lead_chunk(chunk))
    if not leads:
        raise UserError(f"Tell me how long before the meeting to remind you, {_LEAD_EXAMPLES}.")

    for lead in leads:
        if lead.value < MIN_LEAD:
            raise UserError(f"`{lead.text}` is too short: reminders can be {_LEAD_RANGE}, {_LEAD_EXAMPLES}.")
        if lead.value > MAX_LEAD:
            raise UserError(f"`{lead.text}` is too far ahead: reminders can be {_LEAD_RANGE}, {_LEAD_EXAMPLES}.")
    values = sorted({lead.value for lead in leads}, reverse=True)
    if len(values) > MAX_LEADS:
        raise UserError(
            f"That's {len(values)} different reminders; you can have up to {MAX_LEADS} per meeting. "
            "Keep the ones that help most, e.g. `1d, 1h`."
        )
    return values


def _parse_lead_chunk(chunk: str) -> list[_Lead]:
    """Parse one separator-free chunk such as ``1h30m``, ``2 hours`` or ``1d 1h`` (two leads)."""
    leads: list[_Lead] = []
    position = 0
    while position < len(chunk):
        spaced = chunk[position] == " "
        if spaced:
            position += 1
        match = _LEAD_PAIR.match(chunk, position)
        if match is None:
            bad = chunk[position:].split(" ", 1)[0]
            raise UserError(
                f"I couldn't read `{bad}` as a time before the meeting. Use a number and a unit, "
                f"{_LEAD_EXAMPLES} ({_LEAD_RANGE})."
            )
        number, unit_name = match.group("number"), match.group("unit")
        piece = match.group(0)
        position = match.end()
        if not number.isdigit():
            raise UserError(f"`{piece}` has a fraction; please use whole numbers, e.g. `1h30m` rather than `1.5h`.")
        if not unit_name:
            raise UserError(f"`{number}` needs a unit: minutes, hours, days or weeks, e.g. `{number}m` or `{number}h`.")
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise UserError(
                f"I don't know the unit in `{piece}`. Use m (minutes), h (hours), d (days) or w (weeks), "
                f"{_LEAD_EXAMPLES}."
            )
        value = int(number) * unit
        is_word = len(unit_name) > 1
        previous = leads[-1] if leads else None
        # "1h30m" (no space) and "1 hour 30 minutes" (spelled out) are one lead; "1h 30m" is two,
        # because the brief lets members separate short leads with spaces.
        joins = (
            previous is not None
            and unit < previous.last_unit
            and (not spaced or (is_word and previous.last_unit_is_word))
        )
        if joins and previous is not None:
            previous.text = f"{previous.text}{' ' if spaced else ''}{piece}"
            previous.value += value
            previous.last_unit = unit
            previous.last_unit_is_word = is_word
        elif previous is not None and not spaced:
            raise UserError(
                f"I couldn't read `{previous.text}{piece}`. Put the bigger unit first, e.g. `1h30m`, or "
                "separate reminders with a comma, e.g. `30m, 1h`."
            )
        else:
            leads.append(_Lead(text=piece, value=value, last_unit=unit, last_unit_is_word=is_word))
    return leads


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def format_lead_time(td: timedelta) -> str:
    """Format a lead time in words, e.g. ``1 hour 30 minutes``."""
    minutes = int(td.total_seconds() // 60)
    if minutes <= 0:
        return "0 minutes"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days and days % 7 == 0 and not hours and not minutes:
        return _plural(days // 7, "week")
    parts = []
    if days:
        parts.append(_plural(days, "day"))
    if hours:
        parts.append(_plural(hours, "hour"))
    if minutes:
        parts.append(_plural(minutes, "minute"))
    return " ".join(parts)


def format_lead_times(leads: list[timedelta]) -> str:
    """Format several lead times in the given order, e.g. ``1 day and 1 hour``."""
    words = [format_lead_time(lead) for lead in leads]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


# ---------------------------------------------------------------------------------------------
# Quiet hours
# ---------------------------------------------------------------------------------------------


def parse_clock(text: str) -> time:
    """Parse a time of day such as ``22:00``, ``7am`` or ``7:30pm``."""
    original = text.strip()
    clock = _match_clock(_normalise(text), original)
    if clock is None:
        raise UserError(f"I couldn't read `{original}` as a time of day. Try a 24-hour time like `22:00` or `7am`.")
    return clock


def in_quiet_hours(at_utc: datetime, start: time, end: time, tz: str) -> bool:
    """Return True when ``at_utc`` falls in the local quiet window ``[start, end)``."""
    if start == end:
        return False
    now = to_local(at_utc, tz).time()
    if start < end:
        return start <= now < end
    # The window wraps midnight, e.g. 22:00–07:00.
    return now >= start or now < end


def quiet_hours_end(at_utc: datetime, start: time, end: time, tz: str) -> datetime:
    """Return the UTC instant the current quiet window ends (``at_utc`` itself when not quiet)."""
    if not in_quiet_hours(at_utc, start, end, tz):
        return at_utc.astimezone(UTC)
    now_local = to_local(at_utc, tz)
    end_day = now_local.date()
    if now_local.time() >= end:
        # We are in the evening part of a window that wraps midnight; it ends tomorrow.
        end_day += timedelta(days=1)
    end_local = datetime.combine(end_day, end)
    first = to_utc(end_local, tz)
    if first > at_utc:
        return first
    # On a fall-back night the end time happens twice; if the first one is behind us (we are in
    # the repeated hour) the window ends at the second.
    second = end_local.replace(tzinfo=zoneinfo.ZoneInfo(tz), fold=1).astimezone(UTC)
    return max(second, at_utc.astimezone(UTC))


# ---------------------------------------------------------------------------------------------
# Meeting length
# ---------------------------------------------------------------------------------------------

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 600


def parse_duration_minutes(value: int) -> int:
    """Check a meeting length in minutes and return it."""
    if not MIN_DURATION_MINUTES <= value <= MAX_DURATION_MINUTES:
        raise UserError(
            f"A meeting can last from {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES} minutes. "
            f"{value} is outside that; e.g. use 60 for an hour or 90 for an hour and a half."
        )
    return value
