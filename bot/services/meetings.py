"""Meeting series, their occurrences, RSVPs and self-reported attendance."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlparse

from bot.db import Database, Tx, cached_read
from bot.errors import UserError
from bot.logic import recurrence
from bot.logic.recurrence import Series

# Loops over every meeting (the plans at start) let other work, such as members' commands, use the event loop
# this often: planning 10,000 series in one go kept it busy for about a second (bench/startup.py).
BREATHE_EVERY = 200
STATUSES = ("going", "maybe", "not_going")
STATUS_LABELS = {"going": "Going", "maybe": "Maybe", "not_going": "Can't make it"}
SERIES = 0  # the occurrence value of a series-wide RSVP
CHECKIN_EARLY = timedelta(minutes=15)
UPCOMING_DAYS = 14
TITLE_MAX = 100
DESCRIPTION_MAX = 1000


@dataclass(frozen=True)
class Meeting:
    id: int
    guild_id: int
    group_id: int
    title: str
    description: str
    start_local: str
    timezone: str
    repeat: str
    monthly_by: str
    duration_minutes: int
    voice_channel_id: int | None
    link: str | None
    organiser_id: int
    created_at: int
    cancelled_at: int | None
    announcement_channel_id: int | None
    announcement_message_id: int | None
    event_id: int | None
    event_occurrence: int | None
    last_started: int | None

    @functools.cached_property
    def series(self) -> Series:
        # Kept on the (frozen, cached) Meeting: listing meetings asks for it on every command.
        return Series(datetime.fromisoformat(self.start_local), self.timezone, self.repeat, self.monthly_by)

    @functools.cached_property
    def _hash(self) -> int:
        return hash(tuple(getattr(self, name) for name in _NAMES))

    def __hash__(self) -> int:
        # Worked out once (dataclass's own hash walks all 20 fields each time): the listing caches are keyed by
        # the meetings they list, on every /meetings. (Meetings are never pickled: a kept hash would not hold
        # in another process.)
        return self._hash

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def active(self) -> bool:
        return self.cancelled_at is None


@dataclass(frozen=True)
class Occurrence:
    meeting: Meeting
    start: datetime
    skipped: bool = False

    # Worked out once: listing meetings compares and names the same occurrences many times over.
    @functools.cached_property
    def key(self) -> int:
        """The occurrence's name in the database: its UTC start in epoch seconds."""
        return int(self.start.timestamp())

    @functools.cached_property
    def end(self) -> datetime:
        return self.start + self.meeting.duration


async def breathe(index: int) -> None:
    """In a loop over every meeting, let other work (members' commands) use the event loop every BREATHE_EVERY."""
    if index % BREATHE_EVERY == BREATHE_EVERY - 1:
        await asyncio.sleep(0)


_NAMES = tuple(f.name for f in fields(Meeting))
_COLUMNS = ", ".join(_NAMES)
_M_COLUMNS = ", ".join(f"m.{name}" for name in _NAMES)


def _meeting(row: Any) -> Meeting:
    return Meeting(*(row[name] for name in _NAMES))  # every series is read at start: no fields() per row


def from_key(key: int) -> datetime:
    """Turn an occurrence key back into its UTC start."""
    return datetime.fromtimestamp(key, UTC)


def validate_link(link: str | None) -> str | None:
    """Accept an http(s) link for online meetings, or nothing."""
    if not link:
        return None
    parsed = urlparse(link.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UserError(
            "The link must be a full web address starting with https://, e.g. https://meet.example.org/tuesday"
        )
    return link.strip()


def validate_start(start_local: datetime, tz: str) -> None:
    """Refuse a start the clocks jump over or repeat on a DST-change day."""
    if recurrence.is_dst_transition_risky(start_local, tz):
        raise UserError(
            f"{start_local:%A %d %B at %H:%M} falls when the clocks change in {tz}, so that time is skipped or "
            "happens twice. Please pick a time outside 01:00–03:00 on that day."
        )


def _text(value: str | None, limit: int, what: str) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise UserError(f"The {what} can be up to {limit} characters; that one has {len(text)}.")
    return text


async def create_meeting(
    tx: Tx,
    *,
    guild_id: int,
    group_id: int,
    title: str,
    start_local: datetime,
    timezone: str,
    repeat: str,
    organiser_id: int,
    now: datetime,
    monthly_by: str = "weekday",
    duration_minutes: int = 60,
    voice_channel_id: int | None = None,
    link: str | None = None,
    description: str | None = None,
) -> Meeting:
    """Create a series; the caller has validated the start, zone and duration."""
    title = _text(title, TITLE_MAX, "title")
    if not title:
        raise UserError("A meeting needs a title, e.g. `Tuesday evening circle`.")
    validate_start(start_local, timezone)
    meeting_id = await tx.insert(
        "INSERT INTO meetings (guild_id, group_id, title, description, start_local, timezone, repeat, monthly_by,"
        " duration_minutes, voice_channel_id, link, organiser_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            guild_id,
            group_id,
            title,
            _text(description, DESCRIPTION_MAX, "description"),
            start_local.isoformat(timespec="minutes"),
            timezone,
            repeat,
            monthly_by,
            duration_minutes,
            voice_channel_id,
            validate_link(link),
            organiser_id,
            int(now.timestamp()),
        ),
    )
    return await get_meeting(tx, guild_id, meeting_id)


async def get_meeting(db: Database | Tx, guild_id: int, meeting_id: int) -> Meeting:
    """Return a meeting of this server, or raise UserError."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM meetings WHERE id = ? AND guild_id = ?", (meeting_id, guild_id))
    if row is None:
        raise UserError("I can't find that meeting. Pick one from the list as you type.")
    return _meeting(row)


async def meeting_by_id(db: Database | Tx, meeting_id: int) -> Meeting | None:
    """Return a meeting by id, whatever its server (for jobs and buttons)."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM meetings WHERE id = ?", (meeting_id,))
    return _meeting(row) if row else None


async def find_meeting(db: Database | Tx, guild_id: int, text: str) -> Meeting:
    """Resolve an autocomplete value (`id` or `id@occurrence`) or a typed title to an active meeting."""
    text = (text or "").strip()
    head = text.split("@", 1)[0]
    row = None
    if head.isdigit():
        row = await db.fetchone(f"SELECT {_COLUMNS} FROM meetings WHERE id = ? AND guild_id = ?", (int(head), guild_id))
    if row is None:
        rows = await db.fetchall(
            f"SELECT {_COLUMNS} FROM meetings WHERE guild_id = ? AND cancelled_at IS NULL AND LOWER(title) = ?",
            (guild_id, text.casefold()),
        )
        if len(rows) > 1:
            raise UserError(f"Several meetings are called **{text}**. Pick one from the list as you type.")
        row = rows[0] if rows else None
    if row is None:
        raise UserError(f"There's no meeting called **{text}** here. `/meetings` lists what's coming up.")
    meeting = _meeting(row)
    if not meeting.active:
        raise UserError(f"**{meeting.title}** has ended, so it has no more meetings.")
    return meeting


def occurrence_from_value(text: str) -> int | None:
    """Return the occurrence key of an autocomplete value `id@occurrence`, if it names one."""
    _, _, tail = (text or "").partition("@")
    return int(tail) if tail.isdigit() else None


async def skipped_keys(db: Database | Tx, meeting_ids: Sequence[int]) -> dict[int, dict[int, str]]:
    """Return the skipped occurrences (key -> note) of each meeting."""
    if not meeting_ids:
        return {}
    if len(meeting_ids) <= 50:  # a command's few meetings, kept until a skip changes (not start-up's thousands)

        async def load() -> dict[int, dict[int, str]]:
            return await _skipped_keys(db, meeting_ids)

        key = ("skipped_keys", tuple(meeting_ids))
        found = await cached_read(db, key, ("meeting_skips",), load)
        return {m: dict(notes) for m, notes in found.items()}  # the callers' own copies
    return await _skipped_keys(db, meeting_ids)


async def _skipped_keys(db: Database | Tx, meeting_ids: Sequence[int]) -> dict[int, dict[int, str]]:
    out: dict[int, dict[int, str]] = {m: {} for m in meeting_ids}
    ids = list(out)
    for start in range(0, len(ids), 500):  # every meeting at start-up: keep each IN list short
        chunk = ids[start : start + 500]
        rows = await db.fetchall(
            "SELECT meeting_id, occurrence, note FROM meeting_skips"
            f" WHERE meeting_id IN ({', '.join('?' for _ in chunk)})",
            tuple(chunk),
        )
        for r in rows:
            out[r["meeting_id"]][r["occurrence"]] = r["note"]
    return out


def expand(
    meeting: Meeting,
    after: datetime,
    before: datetime,
    skipped: dict[int, str],
    *,
    include_ended: bool = False,
) -> list[Occurrence]:
    """Return the meeting's occurrences starting in [after, before), marking skipped ones.

    An ended series has none, unless `include_ended` asks for its history.
    """
    if not meeting.active and not include_ended:
        return []
    starts = recurrence.occurrences(meeting.series, after, before)
    return [Occurrence(meeting, start, int(start.timestamp()) in skipped) for start in starts]


async def next_occurrence(db: Database | Tx, meeting: Meeting, after: datetime) -> Occurrence | None:
    """Return the first occurrence starting at or after `after` that is not skipped."""
    return next_unskipped(meeting, after, (await skipped_keys(db, [meeting.id]))[meeting.id])


def next_unskipped(meeting: Meeting, after: datetime, skipped: Container[int]) -> Occurrence | None:
    """Return the first occurrence starting at or after `after` whose key is not in `skipped`."""
    cursor = after
    for _ in range(200):  # a long run of skips is possible; an endless one is not
        start = recurrence.next_occurrence(meeting.series, cursor) if meeting.active else None
        if start is None:
            return None
        if int(start.timestamp()) not in skipped:
            return Occurrence(meeting, start)
        cursor = start + timedelta(seconds=1)
    return None


async def active_meetings(
    db: Database | Tx, *, guild_id: int | None = None, group_ids: Iterable[int] | None = None
) -> list[Meeting]:
    """Return the active meetings of a server, of some groups, or of every server."""
    where, params = ["m.cancelled_at IS NULL", "g.archived_at IS NULL"], []
    if guild_id is not None:
        where.append("m.guild_id = ?")
        params.append(guild_id)
    if group_ids is not None:
        ids = list(group_ids)
        if not ids:
            return []
        where.append(f"m.group_id IN ({', '.join('?' for _ in ids)})")
        params += ids
    sql = (
        f"SELECT {_M_COLUMNS} FROM meetings m JOIN groups g ON g.id = m.group_id"
        f" WHERE {' AND '.join(where)} ORDER BY m.id"
    )

    async def load() -> tuple[Meeting, ...]:
        return tuple(_meeting(r) for r in await db.fetchall(sql, tuple(params)))

    if guild_id is None:  # every server's (start-up): read once, not kept
        return list(await load())
    return list(await cached_read(db, ("active_meetings", sql, tuple(params)), ("meetings", "groups"), load))


async def upcoming(
    db: Database | Tx, meetings: Sequence[Meeting], now: datetime, days: int = UPCOMING_DAYS, *, keep: bool = True
) -> list[Occurrence]:
    """Return the not-skipped occurrences of `meetings` in the next `days` days, soonest first.

    `/meetings`, autocomplete and `/group list` ask this for the same meetings again and again with `now` moving
    by seconds, so the dates any `now` of the same UTC day could show are worked out once and kept, under the
    meetings themselves (a meeting changed is another key) until a skip is written. `keep=False` for a caller
    that asks once in a while about one meeting (the reminders' planning), so as not to crowd the cache.
    """
    if not meetings:
        return []
    if not keep:
        return upcoming_with(meetings, now, await skipped_keys(db, [m.id for m in meetings]), days)
    day = now.astimezone(UTC).date()

    async def load() -> tuple[Occurrence, ...]:
        midnight = datetime.combine(day, time(), UTC)
        skipped = await skipped_keys(db, [m.id for m in meetings])
        return tuple(_upcoming_between(meetings, midnight, midnight + timedelta(days=1), skipped, days))

    candidates = await cached_read(db, ("upcoming", tuple(meetings), day, days), ("meeting_skips",), load)
    before = now + timedelta(days=days)
    return [o for o in candidates if o.end > now and o.start < before]


def upcoming_with(
    meetings: Sequence[Meeting], now: datetime, skipped: dict[int, dict[int, str]], days: int = UPCOMING_DAYS
) -> list[Occurrence]:
    """`upcoming`, with the skipped dates already read (`skipped_keys`)."""
    before = now + timedelta(days=days)
    return [o for o in _upcoming_between(meetings, now, now, skipped, days) if o.end > now and o.start < before]


def _upcoming_between(
    meetings: Sequence[Meeting], first: datetime, last: datetime, skipped: dict[int, dict[int, str]], days: int
) -> list[Occurrence]:
    """The not-skipped occurrences `upcoming` could list for any `now` in [first, last], soonest first."""
    found = [
        occ
        for meeting in meetings
        for occ in expand(meeting, first - meeting.duration, last + timedelta(days=days), skipped[meeting.id])
        if not occ.skipped
    ]
    return sorted(found, key=lambda o: (o.start, o.meeting.id))


async def occurrence_now(db: Database | Tx, meeting: Meeting, now: datetime) -> Occurrence | None:
    """Return the occurrence whose check-in window (15 minutes before start to its end) contains `now`."""
    skipped = (await skipped_keys(db, [meeting.id]))[meeting.id]
    for occ in expand(meeting, now - meeting.duration, now + CHECKIN_EARLY + timedelta(seconds=1), skipped):
        if not occ.skipped and occ.start - CHECKIN_EARLY <= now < occ.end:
            return occ
    return None


async def require_future_occurrence(db: Database | Tx, meeting: Meeting, key: int, now: datetime) -> Occurrence:
    """Return the occurrence `key` if it exists, is not skipped and has not ended; else a kind refusal."""
    start = from_key(key)
    skipped = (await skipped_keys(db, [meeting.id]))[meeting.id]
    exists = any(o.key == key for o in expand(meeting, start, start + timedelta(seconds=1), skipped))
    if not exists:
        raise UserError("That meeting date isn't part of this series any more. `/meetings` shows the current ones.")
    if key in skipped:
        raise UserError("That meeting was called off, so there's nothing to RSVP to. `/meetings` shows the next ones.")
    occurrence = Occurrence(meeting, start)
    if occurrence.end <= now:
        raise UserError("That meeting has already happened. `/meetings` shows the next ones.")
    return occurrence


async def set_rsvp(tx: Tx, meeting: Meeting, user_id: int, occurrence: int, status: str, now: datetime) -> None:
    """Record a member's RSVP for one occurrence, or for the series (occurrence = SERIES)."""
    if status not in STATUSES:
        raise UserError("An RSVP is going, maybe or not_going.")
    await tx.execute(
        "INSERT INTO rsvps (meeting_id, user_id, occurrence, status, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (meeting_id, user_id, occurrence) DO UPDATE SET status = excluded.status,"
        " updated_at = excluded.updated_at",
        (meeting.id, user_id, occurrence, status, int(now.timestamp())),
    )
    if occurrence == SERIES:
        # A series answer replaces earlier answers for upcoming dates: the member just said what they want.
        await tx.execute(
            "DELETE FROM rsvps WHERE meeting_id = ? AND user_id = ? AND occurrence > ?",
            (meeting.id, user_id, int(now.timestamp())),
        )


async def rsvp_statuses(db: Database | Tx, meeting_id: int, user_id: int, keys: Iterable[int]) -> dict[int, str | None]:
    """Return the member's effective RSVP for each occurrence (its own answer, else the series answer)."""
    rows = await db.fetchall(
        "SELECT occurrence, status FROM rsvps WHERE meeting_id = ? AND user_id = ?", (meeting_id, user_id)
    )
    answers = {r["occurrence"]: r["status"] for r in rows}
    return {k: answers.get(k, answers.get(SERIES)) for k in keys}


async def rsvp_statuses_of(
    db: Database | Tx, user_id: int, occurrences: Sequence[Occurrence]
) -> dict[tuple[int, int], str | None]:
    """Return the member's effective RSVP for each (meeting id, occurrence key), in one query for all."""
    meeting_ids = sorted({o.meeting.id for o in occurrences})
    if not meeting_ids:
        return {}

    async def load() -> tuple[tuple[int, int, str], ...]:
        found = await db.fetchall(
            f"SELECT meeting_id, occurrence, status FROM rsvps WHERE user_id = ?"
            f" AND meeting_id IN ({', '.join('?' for _ in meeting_ids)})",
            (user_id, *meeting_ids),
        )
        return tuple((r["meeting_id"], r["occurrence"], r["status"]) for r in found)

    rows = await cached_read(db, ("rsvps_of", user_id, tuple(meeting_ids)), ("rsvps",), load)
    answers: dict[int, dict[int, str]] = {}
    for meeting_id, occurrence, status in rows:
        answers.setdefault(meeting_id, {})[occurrence] = status
    out = {}
    for occ in occurrences:
        mine = answers.get(occ.meeting.id, {})
        out[(occ.meeting.id, occ.key)] = mine.get(occ.key, mine.get(SERIES))
    return out


async def rsvp_audience(
    db: Database | Tx, meeting: Meeting, keys: Iterable[int], statuses=("going", "maybe")
) -> set[int]:
    """Return who answered one of `statuses` for any of these occurrences (own answer, else series answer)."""
    keys = list(keys)
    rows = await db.fetchall("SELECT user_id, occurrence, status FROM rsvps WHERE meeting_id = ?", (meeting.id,))
    by_user: dict[int, dict[int, str]] = {}
    for r in rows:
        by_user.setdefault(r["user_id"], {})[r["occurrence"]] = r["status"]
    return {
        user for user, answers in by_user.items() if any(answers.get(k, answers.get(SERIES)) in statuses for k in keys)
    }


async def record_attendance(tx: Tx, meeting: Meeting, user_id: int, occurrence: int, now: datetime) -> bool:
    """Record a member's own check-in; return False when they had already checked in."""
    return (
        await tx.execute(
            "INSERT INTO attendance (meeting_id, user_id, occurrence, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (meeting.id, user_id, occurrence, int(now.timestamp())),
        )
        > 0
    )


async def stats(db: Database | Tx, meeting: Meeting, keys: Sequence[int]) -> list[tuple[int, int, int, int]]:
    """Return (occurrence, going, maybe, checked in) counts per occurrence: numbers only, never names."""
    rows = await db.fetchall("SELECT user_id, occurrence, status FROM rsvps WHERE meeting_id = ?", (meeting.id,))
    by_user: dict[int, dict[int, str]] = {}
    for r in rows:
        by_user.setdefault(r["user_id"], {})[r["occurrence"]] = r["status"]
    attended = await db.fetchall(
        "SELECT occurrence, COUNT(*) AS n FROM attendance WHERE meeting_id = ? GROUP BY occurrence", (meeting.id,)
    )
    checked = {r["occurrence"]: r["n"] for r in attended}
    out = []
    for key in keys:
        statuses = [answers.get(key, answers.get(SERIES)) for answers in by_user.values()]
        out.append((key, statuses.count("going"), statuses.count("maybe"), checked.get(key, 0)))
    return out


async def skip(tx: Tx, meeting: Meeting, local_day: date, note: str | None, now: datetime) -> Occurrence:
    """Cancel the occurrence on a local date; refuse a date that is not an upcoming occurrence."""
    start = recurrence.occurrence_on(meeting.series, local_day)
    if start is None:
        raise UserError(f"**{meeting.title}** doesn't meet on {local_day:%A %d %B %Y}. Pick a date it meets on.")
    if start + meeting.duration <= now:
        raise UserError("That meeting has already happened, so it can't be skipped.")
    inserted = await tx.execute(
        "INSERT INTO meeting_skips (meeting_id, occurrence, note) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (meeting.id, int(start.timestamp()), _text(note, 300, "note")),
    )
    if not inserted:
        raise UserError(f"The {local_day:%d %B} meeting is already called off.")
    return Occurrence(meeting, start, skipped=True)


async def cancel(tx: Tx, meeting: Meeting, now: datetime) -> Meeting:
    """End the series (its history stays)."""
    await tx.execute("UPDATE meetings SET cancelled_at = ? WHERE id = ?", (int(now.timestamp()), meeting.id))
    return replace(meeting, cancelled_at=int(now.timestamp()))


_EDITABLE = {
    "title",
    "description",
    "start_local",
    "timezone",
    "repeat",
    "monthly_by",
    "duration_minutes",
    "voice_channel_id",
    "link",
    "organiser_id",
    "announcement_channel_id",
    "announcement_message_id",
    "event_id",
    "event_occurrence",
    "last_started",
}


async def update(tx: Tx, meeting: Meeting, **changes: Any) -> Meeting:
    """Change fields of a series; the caller validated user input."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if "title" in changes:
        changes["title"] = _text(changes["title"], TITLE_MAX, "title")
    if "description" in changes:
        changes["description"] = _text(changes["description"], DESCRIPTION_MAX, "description")
    if "link" in changes:
        changes["link"] = validate_link(changes["link"])
    if "start_local" in changes and isinstance(changes["start_local"], datetime):
        validate_start(changes["start_local"], changes.get("timezone", meeting.timezone))
        changes["start_local"] = changes["start_local"].isoformat(timespec="minutes")
    if changes:
        sets = ", ".join(f"{c} = ?" for c in changes)
        await tx.execute(f"UPDATE meetings SET {sets} WHERE id = ?", (*changes.values(), meeting.id))
    return await get_meeting(tx, meeting.guild_id, meeting.id)


async def move_rsvps(tx: Tx, meeting: Meeting, old: Sequence[int], new: Sequence[int]) -> None:
    """After a time change, carry each upcoming answer to the matching new date (in order)."""
    pairs = [(o, n) for o, n in zip(old, new, strict=False) if o != n]
    # Move to temporary negative keys first so an old key equal to another new key never collides.
    for o, n in pairs:
        await tx.execute("UPDATE rsvps SET occurrence = ? WHERE meeting_id = ? AND occurrence = ?", (-n, meeting.id, o))
    for _, n in pairs:
        await tx.execute("UPDATE rsvps SET occurrence = ? WHERE meeting_id = ? AND occurrence = ?", (n, meeting.id, -n))
    moved = {o for o, _ in pairs}
    stale = [k for k in old if k not in set(new) and k not in moved]
    for key in stale:
        await tx.execute("DELETE FROM rsvps WHERE meeting_id = ? AND occurrence = ?", (meeting.id, key))


async def cohosts(db: Database | Tx, meeting_id: int) -> list[int]:
    """Return a meeting's co-hosts, earliest first."""
    rows = await db.fetchall(
        "SELECT user_id FROM meeting_cohosts WHERE meeting_id = ? ORDER BY added_at, user_id", (meeting_id,)
    )
    return [r["user_id"] for r in rows]


async def add_cohost(tx: Tx, meeting: Meeting, user_id: int, now: datetime) -> bool:
    """Add a co-host; return False when they already were one."""
    if user_id == meeting.organiser_id:
        raise UserError("They already host this meeting.")
    return (
        await tx.execute(
            "INSERT INTO meeting_cohosts (meeting_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (meeting.id, user_id, int(now.timestamp())),
        )
        > 0
    )


async def remove_cohost(tx: Tx, meeting: Meeting, user_id: int) -> bool:
    """Remove a co-host; return False when they were not one."""
    return (
        await tx.execute("DELETE FROM meeting_cohosts WHERE meeting_id = ? AND user_id = ?", (meeting.id, user_id)) > 0
    )


async def hand_over(tx: Tx, meeting: Meeting, new_organiser: int) -> Meeting:
    """Make `new_organiser` the host; the previous host stays on as a co-host only if they already were one."""
    await tx.execute("DELETE FROM meeting_cohosts WHERE meeting_id = ? AND user_id = ?", (meeting.id, new_organiser))
    return await update(tx, meeting, organiser_id=new_organiser)


async def hosted_by(db: Database | Tx, guild_id: int, user_id: int) -> list[Meeting]:
    """Return the active meetings a member organises in a server."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM meetings WHERE guild_id = ? AND organiser_id = ? AND cancelled_at IS NULL",
        (guild_id, user_id),
    )
    return [_meeting(r) for r in rows]


async def search(db: Database | Tx, guild_id: int, text: str, limit: int = 25) -> list[Meeting]:
    """Return active meetings whose title matches (prefix first), for autocomplete."""
    needle = (text or "").strip().casefold()
    meetings = [m for m in await active_meetings(db, guild_id=guild_id) if needle in m.title.casefold()]
    meetings.sort(key=lambda m: (not m.title.casefold().startswith(needle), m.title.casefold(), m.id))
    return meetings[:limit]
