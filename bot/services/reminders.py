"""Member-owned reminders, the exactly-once delivery ledger, and each member's nudge preferences."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.db import Database, Tx
from bot.errors import UserError
from bot.logic import nudging, timeparse
from bot.logic.nudging import NudgeState, Outcome
from bot.services import meetings as meetings_service
from bot.services.meetings import SERIES, Meeting, Occurrence

HORIZON = timedelta(days=15)  # longest lead (14 days) plus a margin
STYLES = ("steady", "fading", "off")
NUDGE = 0  # the meeting_id of ledger rows that are about the member, not one meeting
HISTORY_DAYS = 120
CLAIM_CHUNK = 200  # ledger rows claimed by one INSERT (5 parameters each, well under SQLite's limit)


@dataclass(frozen=True)
class Prefs:
    user_id: int
    style: str = "steady"
    level: str = "full"
    offer_sent_at: int | None = None
    offer_answered: int = 0
    offer_streak_start: int | None = None
    last_welcome_back_at: int | None = None
    buddy_alert_for: int | None = None
    buddy_alert: int = 0
    welcome_back: int = 1
    quiet_start: str | None = None
    quiet_end: str | None = None
    quiet_timezone: str | None = None
    suggestions_off: int = 0

    @property
    def nudge_state(self) -> NudgeState:
        def at(value: int | None) -> datetime | None:
            return datetime.fromtimestamp(value, UTC) if value is not None else None

        return NudgeState(
            style=self.style,
            level=self.level,
            offer_sent_at=at(self.offer_sent_at),
            offer_answered=bool(self.offer_answered),
            offer_streak_start=at(self.offer_streak_start),
            last_welcome_back_at=at(self.last_welcome_back_at),
            buddy_alert_for=at(self.buddy_alert_for),
        )

    @property
    def quiet(self) -> tuple[time, time, str] | None:
        if self.quiet_start and self.quiet_end and self.quiet_timezone and self.quiet_start != self.quiet_end:
            return time.fromisoformat(self.quiet_start), time.fromisoformat(self.quiet_end), self.quiet_timezone
        return None


@dataclass(frozen=True)
class Reminder:
    id: int
    user_id: int
    guild_id: int
    meeting_id: int | None
    group_id: int | None
    lead_minutes: int


@dataclass(frozen=True)
class Due:
    """One reminder DM to deliver: who, which occurrence, how long before, and when."""

    user_id: int
    occurrence: Occurrence
    lead_minutes: int
    fire_at: datetime

    @property
    def kind(self) -> str:
        return f"remind:{self.lead_minutes}"

    @property
    def key(self) -> tuple[int, int, int, str]:
        return (self.user_id, self.occurrence.meeting.id, self.occurrence.key, self.kind)


def nonce_for(key: Sequence[Any]) -> str:
    """Derive Discord's message nonce from a ledger key, so Discord also drops a resend it already has."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).hexdigest()
    return str(int(digest[:16], 16))[:25]


# ---------------------------------------------------------------------------------------------- preferences
async def get_prefs(db: Database | Tx, user_id: int) -> Prefs:
    """Return the member's preferences (defaults when they never chose)."""
    row = await db.fetchone(
        f"SELECT {', '.join(f.name for f in fields(Prefs))} FROM reminder_prefs WHERE user_id = ?", (user_id,)
    )
    return Prefs(**dict(row)) if row else Prefs(user_id)


async def save_prefs(tx: Tx, user_id: int, **changes: Any) -> Prefs:
    """Save some of the member's preferences."""
    allowed = {f.name for f in fields(Prefs)} - {"user_id"}
    if set(changes) - allowed:
        raise TypeError(f"not preferences: {sorted(set(changes) - allowed)}")
    await tx.execute("INSERT INTO reminder_prefs (user_id) VALUES (?) ON CONFLICT DO NOTHING", (user_id,))
    if changes:
        sets = ", ".join(f"{k} = ?" for k in changes)
        await tx.execute(f"UPDATE reminder_prefs SET {sets} WHERE user_id = ?", (*changes.values(), user_id))
    return await get_prefs(tx, user_id)


async def save_state(tx: Tx, user_id: int, state: NudgeState) -> Prefs:
    """Store the nudge policy's state for a member."""

    def epoch(value: datetime | None) -> int | None:
        return int(value.timestamp()) if value else None

    return await save_prefs(
        tx,
        user_id,
        style=state.style,
        level=state.level,
        offer_sent_at=epoch(state.offer_sent_at),
        offer_answered=int(state.offer_answered),
        offer_streak_start=epoch(state.offer_streak_start),
        last_welcome_back_at=epoch(state.last_welcome_back_at),
        buddy_alert_for=epoch(state.buddy_alert_for),
    )


async def set_style(tx: Tx, user_id: int, style: str) -> Prefs:
    """Choose steady, fading or off."""
    prefs = await get_prefs(tx, user_id)
    return await save_state(tx, user_id, nudging.with_style(prefs.nudge_state, style))


async def set_quiet_hours(tx: Tx, user_id: int, start: str, end: str, zone: str) -> Prefs:
    """Set hours with no DMs (start == end turns them off)."""
    start_t, end_t = timeparse.parse_clock(start), timeparse.parse_clock(end)
    zone = timeparse.validate_timezone(zone)
    if start_t == end_t:
        return await save_prefs(tx, user_id, quiet_start=None, quiet_end=None, quiet_timezone=None)
    return await save_prefs(
        tx, user_id, quiet_start=start_t.isoformat("minutes"), quiet_end=end_t.isoformat("minutes"), quiet_timezone=zone
    )


# ---------------------------------------------------------------------------------------------- reminders
async def add_reminders(
    tx: Tx,
    *,
    user_id: int,
    guild_id: int,
    leads: Iterable[timedelta],
    now: datetime,
    meeting_id: int | None = None,
    group_id: int | None = None,
) -> int:
    """Set the member's own reminders for a meeting or all of a group's meetings; replace earlier leads."""
    if (meeting_id is None) == (group_id is None):
        raise TypeError("a reminder is for one meeting or one group")
    await clear_reminders(tx, user_id, meeting_id=meeting_id, group_id=group_id)
    added = 0
    for lead in leads:
        added += await tx.execute(
            "INSERT INTO reminders (user_id, guild_id, meeting_id, group_id, lead_minutes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, guild_id, meeting_id, group_id, int(lead.total_seconds() // 60), int(now.timestamp())),
        )
    return added


async def clear_reminders(
    tx: Tx, user_id: int, *, meeting_id: int | None = None, group_id: int | None = None, guild_id: int | None = None
) -> int:
    """Remove the member's reminders for a meeting, a group, a whole server, or everywhere."""
    where, params = ["user_id = ?"], [user_id]
    for column, value in (("meeting_id", meeting_id), ("group_id", group_id), ("guild_id", guild_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    return await tx.execute(f"DELETE FROM reminders WHERE {' AND '.join(where)}", tuple(params))


async def list_reminders(db: Database | Tx, user_id: int, guild_id: int | None = None) -> list[Reminder]:
    """Return the member's reminders."""
    sql = "SELECT id, user_id, guild_id, meeting_id, group_id, lead_minutes FROM reminders WHERE user_id = ?"
    params: list[Any] = [user_id]
    if guild_id is not None:
        sql += " AND guild_id = ?"
        params.append(guild_id)
    rows = await db.fetchall(sql + " ORDER BY guild_id, group_id, meeting_id, lead_minutes DESC", tuple(params))
    return [Reminder(**dict(r)) for r in rows]


async def has_reminders_for(db: Database | Tx, user_id: int, meeting_id: int, group_id: int) -> bool:
    """Say whether the member has reminders for this meeting, set for it or for all of its group's."""
    return bool(
        await db.fetchval(
            "SELECT 1 FROM reminders WHERE user_id = ? AND (meeting_id = ? OR group_id = ?)",
            (user_id, meeting_id, group_id),
        )
    )


async def meetings_with_reminders(db: Database | Tx, user_id: int | None = None) -> list[Meeting]:
    """Return the active meetings someone (or this member) has reminders for."""
    who = " AND r.user_id = ?" if user_id is not None else ""
    params = (user_id, user_id) if user_id is not None else ()
    rows = await db.fetchall(
        "SELECT DISTINCT m.id FROM meetings m JOIN reminders r ON r.meeting_id = m.id WHERE m.cancelled_at IS NULL"
        + who
        + " UNION SELECT DISTINCT m.id FROM meetings m JOIN reminders r ON r.group_id = m.group_id"
        " WHERE m.cancelled_at IS NULL" + who,
        params,
    )
    found = [await meetings_service.meeting_by_id(db, r[0]) for r in rows]
    return [m for m in found if m is not None]


# ---------------------------------------------------------------------------------------------- planning
async def plan_meeting(db: Database | Tx, meeting: Meeting, now: datetime) -> tuple[list[Due], datetime | None]:
    """Return the reminders of this meeting due now (not yet in the ledger) and when the next one falls due."""
    rows = await db.fetchall(
        "SELECT r.user_id, r.lead_minutes FROM reminders r LEFT JOIN member_flags f ON f.user_id = r.user_id"
        " WHERE (r.meeting_id = ? OR r.group_id = ?) AND f.dms_closed_at IS NULL",
        (meeting.id, meeting.group_id),
    )
    if not rows or not meeting.active:
        return [], None
    leads: dict[int, set[int]] = {}
    for r in rows:
        leads.setdefault(r["user_id"], set()).add(r["lead_minutes"])
    ahead = await meetings_service.upcoming(db, [meeting], now, days=HORIZON.days, keep=False)
    occurrences = [o for o in ahead if o.start > now]
    if not occurrences:
        return [], None
    answers: dict[int, dict[int, str]] = {}
    for r in await db.fetchall("SELECT user_id, occurrence, status FROM rsvps WHERE meeting_id = ?", (meeting.id,)):
        answers.setdefault(r["user_id"], {})[r["occurrence"]] = r["status"]
    delivered = {
        (r["user_id"], r["occurrence"], r["kind"])
        for r in await db.fetchall(
            "SELECT user_id, occurrence, kind FROM deliveries WHERE meeting_id = ? AND occurrence >= ?",
            (meeting.id, occurrences[0].key),
        )
    }
    prefs = await _prefs_for(db, list(leads))
    return _plan(leads, occurrences, answers, delivered, prefs, now)


async def plan_meetings(
    db: Database | Tx, meetings: Sequence[Meeting], now: datetime, skipped: dict[int, dict[int, str]]
) -> dict[int, tuple[list[Due], datetime | None]]:
    """`plan_meeting` for many meetings at once (the rebuild at start), in a handful of queries for all of them.

    `skipped` is `meetings.skipped_keys` of these meetings. The answers are plan_meeting's, meeting by meeting.
    """
    by_meeting: dict[int, list[tuple[int, int]]] = {}
    by_group: dict[int, list[tuple[int, int]]] = {}
    for r in await db.fetchall(
        "SELECT r.user_id, r.lead_minutes, r.meeting_id, r.group_id FROM reminders r"
        " LEFT JOIN member_flags f ON f.user_id = r.user_id WHERE f.dms_closed_at IS NULL"
    ):
        if r["meeting_id"] is not None:
            by_meeting.setdefault(r["meeting_id"], []).append((r["user_id"], r["lead_minutes"]))
        else:
            by_group.setdefault(r["group_id"], []).append((r["user_id"], r["lead_minutes"]))
    floor = int(now.timestamp())
    # Every answer and delivery a plan could look up: series answers and dates from now on.
    answers: dict[int, dict[int, dict[int, str]]] = {}
    for r in await db.fetchall(
        "SELECT meeting_id, user_id, occurrence, status FROM rsvps WHERE occurrence = ? OR occurrence >= ?",
        (SERIES, floor),
    ):
        answers.setdefault(r["meeting_id"], {}).setdefault(r["user_id"], {})[r["occurrence"]] = r["status"]
    delivered: dict[int, set[tuple[int, int, str]]] = {}
    for r in await db.fetchall(
        "SELECT user_id, meeting_id, occurrence, kind FROM deliveries WHERE occurrence >= ?", (floor,)
    ):
        delivered.setdefault(r["meeting_id"], set()).add((r["user_id"], r["occurrence"], r["kind"]))
    names = ", ".join(f.name for f in fields(Prefs))
    prefs = {r["user_id"]: Prefs(**dict(r)) for r in await db.fetchall(f"SELECT {names} FROM reminder_prefs")}
    plans: dict[int, tuple[list[Due], datetime | None]] = {}
    for index, meeting in enumerate(meetings):
        await meetings_service.breathe(index)
        rows = by_meeting.get(meeting.id, []) + by_group.get(meeting.group_id, [])
        if not rows or not meeting.active:
            plans[meeting.id] = ([], None)
            continue
        leads: dict[int, set[int]] = {}
        for user_id, minutes in rows:
            leads.setdefault(user_id, set()).add(minutes)
        mine = {meeting.id: skipped.get(meeting.id, {})}
        occurrences = [o for o in meetings_service.upcoming_with([meeting], now, mine, HORIZON.days) if o.start > now]
        if not occurrences:
            plans[meeting.id] = ([], None)
            continue
        plans[meeting.id] = _plan(
            leads, occurrences, answers.get(meeting.id, {}), delivered.get(meeting.id, set()), prefs, now
        )
    return plans


def _plan(
    leads: dict[int, set[int]],
    occurrences: Sequence[Occurrence],
    answers: dict[int, dict[int, str]],
    delivered: set[tuple[int, int, str]],
    prefs: dict[int, Prefs],
    now: datetime,
) -> tuple[list[Due], datetime | None]:
    """Return what is due now and when the next one falls due, from what the database says (no queries).

    Runs for every member and date of every meeting at start. Most members have the default preferences,
    no answer and nothing sent yet, so their plan depends only on their lead times: it is worked out once
    per set of lead times and shared.
    """
    keyed = [(occ, occ.key) for occ in occurrences]
    delivered_to = {user_id for user_id, _, _ in delivered}
    shared: dict[tuple[int, ...], tuple[list[tuple[Occurrence, int, datetime]], datetime | None]] = {}
    due: list[Due] = []
    nexts: list[datetime] = []
    for user_id, minutes in leads.items():
        pref = prefs.get(user_id)
        if pref is None and user_id not in answers and user_id not in delivered_to:
            order = tuple(minutes)  # the set's own order, so the DMs go out in the order they always did
            plan = shared.get(order)
            if plan is None:
                effective = _effective_leads(order, Prefs(user_id))
                plan = shared[order] = _member_plan(user_id, effective, None, {}, set(), keyed, now)
                if plan[1] is not None:
                    nexts.append(plan[1])
        else:
            pref = pref or Prefs(user_id)
            mine = answers.get(user_id, {})
            plan = _member_plan(user_id, _effective_leads(minutes, pref), pref.quiet, mine, delivered, keyed, now)
            if plan[1] is not None:
                nexts.append(plan[1])
        if plan[0]:
            due.extend(Due(user_id, occ, lead_minutes, fire) for occ, lead_minutes, fire in plan[0])
    return due, min(nexts, default=None)


def _member_plan(
    user_id: int,
    effective: Sequence[tuple[timedelta, int, str]],
    quiet: tuple[time, time, str] | None,
    mine: dict[int, str],
    delivered: set[tuple[int, int, str]],
    keyed: list[tuple[Occurrence, int]],
    now: datetime,
) -> tuple[list[tuple[Occurrence, int, datetime]], datetime | None]:
    """One member's reminders of one meeting: (date, minutes before, when) due now, and the next one's time."""
    items: list[tuple[Occurrence, int, datetime]] = []
    next_fire: datetime | None = None
    series_answer = mine.get(SERIES)
    for occ, key in keyed:
        if mine.get(key, series_answer) == "not_going":
            continue
        for lead, lead_minutes, kind in effective:
            if (user_id, key, kind) in delivered:
                continue
            fire = occ.start - lead
            if quiet is not None and timeparse.in_quiet_hours(fire, *quiet):
                fire = timeparse.quiet_hours_end(fire, *quiet)
            if fire >= occ.start:
                continue  # quiet hours last until the meeting has begun: dropped
            if fire <= now:
                items.append((occ, lead_minutes, fire))
            elif next_fire is None or fire < next_fire:
                next_fire = fire
    return items, next_fire


def _effective_leads(minutes: Iterable[int], pref: Prefs) -> tuple[tuple[timedelta, int, str], ...]:
    """The member's lead times after the nudge policy, each with its minutes and its ledger kind."""
    return _leads_under(tuple(minutes), pref.style, pref.level)


@functools.lru_cache(maxsize=1024)
def _leads_under(minutes: tuple[int, ...], style: str, level: str) -> tuple[tuple[timedelta, int, str], ...]:
    # The policy looks at the style and the fading level only, which most members share: the start-up plan
    # of 100,000 reminders asks this for a handful of different answers (bench/startup.py).
    chosen = [timedelta(minutes=m) for m in minutes]
    out = []
    for lead in nudging.effective_lead_times(chosen, nudging.NudgeState(style=style, level=level)):
        lead_minutes = int(lead.total_seconds() // 60)
        out.append((lead, lead_minutes, f"remind:{lead_minutes}"))
    return tuple(out)


async def _prefs_for(db: Database | Tx, user_ids: list[int]) -> dict[int, Prefs]:
    out: dict[int, Prefs] = {}
    names = ", ".join(f.name for f in fields(Prefs))
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in await db.fetchall(f"SELECT {names} FROM reminder_prefs WHERE user_id IN ({marks})", tuple(chunk)):
            out[row["user_id"]] = Prefs(**dict(row))
    return out


async def still_wanted(tx: Tx, due: Sequence[Due]) -> list[Due]:
    """Return the planned reminders whose member still has a reminder for that meeting and open DMs.

    The plan is read before the claim's transaction; a member who stopped their reminders or erased their
    data in between must get nothing, and no ledger row about them may be written.
    """
    keep: list[Due] = []
    by_meeting: dict[int, list[Due]] = {}
    for item in due:
        by_meeting.setdefault(item.occurrence.meeting.id, []).append(item)
    for items in by_meeting.values():
        meeting = items[0].occurrence.meeting
        users = sorted({d.user_id for d in items})
        wanted: set[int] = set()
        for start in range(0, len(users), CLAIM_CHUNK):
            chunk = users[start : start + CLAIM_CHUNK]
            rows = await tx.fetchall(
                "SELECT DISTINCT r.user_id FROM reminders r LEFT JOIN member_flags f ON f.user_id = r.user_id"
                " WHERE (r.meeting_id = ? OR r.group_id = ?) AND f.dms_closed_at IS NULL"
                f" AND r.user_id IN ({', '.join('?' for _ in chunk)})",
                (meeting.id, meeting.group_id, *chunk),
            )
            wanted.update(r["user_id"] for r in rows)
        keep += [d for d in items if d.user_id in wanted]
    return keep


async def claim(tx: Tx, keys: Iterable[tuple[int, int, int, str]], now: datetime) -> list[tuple[int, int, int, str]]:
    """Write each delivery into the ledger; return the ones this process now owns (others had them)."""
    wanted = list(dict.fromkeys(keys))
    claimed_at = int(now.timestamp())
    inserted: set[tuple[int, int, int, str]] = set()
    # Many rows a statement, and RETURNING names the rows this statement inserted: a fan-out to 5,000 members
    # claimed row by row held the write lock for half a second (bench/fanout.py).
    for start in range(0, len(wanted), CLAIM_CHUNK):
        chunk = wanted[start : start + CLAIM_CHUNK]
        rows = await tx.fetchall(
            "INSERT INTO deliveries (user_id, meeting_id, occurrence, kind, status, claimed_at) VALUES "
            + ", ".join("(?, ?, ?, ?, 'claimed', ?)" for _ in chunk)
            + " ON CONFLICT DO NOTHING RETURNING user_id, meeting_id, occurrence, kind",
            [value for key in chunk for value in (*key, claimed_at)],
        )
        inserted.update(tuple(r) for r in rows)
    return [key for key in wanted if key in inserted]


_MARK = "UPDATE deliveries SET status = ? WHERE user_id = ? AND meeting_id = ? AND occurrence = ? AND kind = ?"


async def mark(tx: Tx, keys: Iterable[tuple[int, int, int, str]], status: str) -> None:
    """Record how claimed deliveries ended: sent, dropped or failed."""
    await tx.executemany(
        _MARK,
        [(status, *key) for key in keys],
    )


async def mark_one(db: Database, key: tuple[int, int, int, str], status: str) -> None:
    """`mark` one delivery as a write of its own (committed with the fan-out's others: `Database.write`)."""
    await db.write(
        _MARK,
        (status, *key),
    )


async def unfinished_claims(db: Database | Tx) -> list[tuple[int, int, int, str]]:
    """Return deliveries claimed but never finished (a crash between the claim and the send)."""
    rows = await db.fetchall("SELECT user_id, meeting_id, occurrence, kind FROM deliveries WHERE status = 'claimed'")
    return [tuple(r) for r in rows]


# ---------------------------------------------------------------------------------------------- nudges
async def history(db: Database | Tx, guild_id: int, user_id: int, now: datetime) -> list[Outcome]:
    """Return the member's past occurrences of meetings they chose to be involved in (reminders or RSVPs)."""
    involved = await db.fetchall(
        "SELECT DISTINCT m.id FROM meetings m LEFT JOIN reminders r ON r.user_id = ? AND (r.meeting_id = m.id"
        " OR r.group_id = m.group_id) LEFT JOIN rsvps v ON v.meeting_id = m.id AND v.user_id = ?"
        " WHERE m.guild_id = ? AND (r.id IS NOT NULL OR v.user_id IS NOT NULL)",
        (user_id, user_id, guild_id),
    )
    outcomes: list[Outcome] = []
    since = now - timedelta(days=HISTORY_DAYS)
    for row in involved:
        meeting = await meetings_service.meeting_by_id(db, row[0])
        if meeting is None:
            continue
        skipped = (await meetings_service.skipped_keys(db, [meeting.id]))[meeting.id]
        past = [
            o
            for o in meetings_service.expand(meeting, since, now, skipped, include_ended=True)
            if not o.skipped and o.end <= now
        ]
        if meeting.cancelled_at:
            past = [o for o in past if o.start.timestamp() < meeting.cancelled_at]
        if not past:
            continue
        statuses = await meetings_service.rsvp_statuses(db, meeting.id, user_id, [o.key for o in past])
        attended = {
            r[0]
            for r in await db.fetchall(
                "SELECT occurrence FROM attendance WHERE meeting_id = ? AND user_id = ?", (meeting.id, user_id)
            )
        }
        outcomes += [Outcome(o.start, statuses[o.key], o.key in attended) for o in past]
    return sorted(outcomes, key=lambda o: o.start)


async def involved_members(db: Database | Tx, meeting: Meeting) -> list[int]:
    """Return who has reminders or RSVPs for this meeting (the members whose nudges may change after it)."""
    rows = await db.fetchall(
        "SELECT user_id FROM reminders WHERE meeting_id = ? OR group_id = ?"
        " UNION SELECT user_id FROM rsvps WHERE meeting_id = ?",
        (meeting.id, meeting.group_id, meeting.id),
    )
    return [r[0] for r in rows]


async def still_involved(tx: Tx, guild_id: int, user_id: int) -> bool:
    """Say whether the member still has reminders or RSVPs in this server (read inside the writing transaction).

    A nudge is decided from reads made before its transaction; a member who erased their data in between
    must get nothing, and no row about them may be written again.
    """
    row = await tx.fetchone(
        "SELECT 1 FROM reminders WHERE user_id = ? AND guild_id = ?"
        " UNION ALL SELECT 1 FROM rsvps r JOIN meetings m ON m.id = r.meeting_id WHERE r.user_id = ? AND m.guild_id = ?"
        " LIMIT 1",
        (user_id, guild_id, user_id, guild_id),
    )
    return row is not None


async def pending_offers(db: Database | Tx) -> list[Prefs]:
    """Return members with an unanswered fading offer (their 7-day timer is rebuilt at start)."""
    names = ", ".join(f.name for f in fields(Prefs))
    rows = await db.fetchall(
        f"SELECT {names} FROM reminder_prefs WHERE style = 'fading' AND offer_sent_at IS NOT NULL"
        " AND offer_answered = 0 AND level = 'full'"
    )
    return [Prefs(**dict(r)) for r in rows]


def parse_target(value: str) -> tuple[str, int | None]:
    """Read a `/reminders set meeting:` value: a meeting id, `all:<group id>`, or `all`."""
    value = (value or "").strip()
    if value.casefold() == "all":
        return "all", None
    if value.startswith("all:") and value[4:].isdigit():
        return "group", int(value[4:])
    return "meeting", None


def require_leads(text: str) -> list[timedelta]:
    """Parse `before`, with the bot's wording on top of the parser's."""
    if not (text or "").strip():
        raise UserError("Say how long before, e.g. `1h`, `1d` or `30m, 1d`.")
    return timeparse.parse_lead_times(text)
