"""Buddy pairing: profiles, confidential avoid lists, the cadence, rounds, continuity and the delivery ledger.

A round is decided in one transaction (who is paired with whom, who could not be placed, what each member
must be told) and only then announced. The announcement is driven by rows here (`buddy_pairings.via`,
`thread_requested_at`, `buddy_outbox.attempted_at`), so a restart resumes it instead of repeating it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.db import Database, Tx
from bot.errors import UserError
from bot.logic import pairing
from bot.logic.pairing import Candidate, PastGroup
from bot.logic.recurrence import to_local, to_utc
from bot.logic.timeparse import validate_timezone
from bot.services import groups as groups_service
from bot.services.groups import Group

ROLES = pairing.ROLES
ABOUT_MAX = 200
EVERY_DAYS = (7, 14, 28)
# Rounds start at this hour in the group's timezone (UTC when it has none): daytime, not a 3 a.m. ping.
ROUND_HOUR = 10
# No pair meets again within this many rounds when the matching can avoid it (the matching's default).
RECENT_ROUNDS = 6
# Older rounds only nudge "never met" over "met long ago"; a year of weekly rounds is plenty.
HISTORY_ROUNDS = 52
PAUSE_MAX_DAYS = 366
# A moderator's second /buddy pair-now waits while the last round is still being announced, for this long.
ANNOUNCING_GRACE = timedelta(minutes=10)

Db = Database | Tx


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def _at(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


# ---------------------------------------------------------------------------------------------------------------
# What the rest of the bot sees
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A member's opt-in for one group: what their match sees, and whether they are taking part."""

    group_id: int
    user_id: int
    role: str
    about: str
    timezone: str | None
    paused_at: int | None
    paused_until: int | None
    joined_at: int

    def paused(self, now: datetime) -> bool:
        """Say whether the member is paused at `now` (a pause with an end date lifts by itself)."""
        return self.paused_at is not None and (self.paused_until is None or self.paused_until > _ts(now))


@dataclass(frozen=True)
class Cadence:
    """How often a group's rounds run, and when the next one is due."""

    group_id: int
    every_days: int
    weekday: int | None
    enabled: bool
    next_round_at: datetime | None


@dataclass(frozen=True)
class Pairing:
    """A pair or trio of one round; `members` are those still in it."""

    id: int
    group_id: int
    round_id: int
    round_index: int
    created_at: int
    ended_at: int | None
    via: str
    thread_requested_at: int | None
    thread_id: int | None
    members: tuple[int, ...]


@dataclass(frozen=True)
class Placement:
    """Where a member went: a new pairing with someone waiting, or the third of an existing one."""

    pairing_id: int
    joined_existing: bool


@dataclass(frozen=True)
class Departure:
    """What happened when a member stopped taking part in a group's pairing."""

    group_id: int
    told: tuple[int, ...]  # buddies who will be told, kindly, that their buddy stepped away
    placement: Placement | None  # where a buddy left alone went (None: waiting, or nobody was left alone)


@dataclass(frozen=True)
class JoinResult:
    profile: Profile
    created: bool
    resumed: bool
    placement: Placement | None


@dataclass(frozen=True)
class RoundOutcome:
    round_id: int
    round_index: int
    groups: tuple[tuple[int, ...], ...]
    unplaced: tuple[int, ...]
    next_round_at: datetime | None


@dataclass(frozen=True)
class OutboxItem:
    """A message decided but not yet delivered (see migrations/0004_buddies.sql for the kinds)."""

    id: int
    group_id: int
    user_id: int
    kind: str
    pairing_id: int | None
    next_pairing_id: int | None
    newcomer_id: int | None
    created_at: int
    attempted_at: int | None


@dataclass(frozen=True)
class MemberStatus:
    """One group as a member sees it in /buddy status."""

    group: Group
    profile: Profile
    pairing: Pairing | None
    buddies: tuple[Profile, ...]
    next_round_at: datetime | None


_PROFILE_COLUMNS = ", ".join(f.name for f in fields(Profile))
_OUTBOX_COLUMNS = ", ".join(f.name for f in fields(OutboxItem))


def _profile(row: Any) -> Profile:
    return Profile(**{f.name: row[f.name] for f in fields(Profile)})


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers: text the member types, and when rounds fall
# ---------------------------------------------------------------------------------------------------------------


def clean_about(about: str | None) -> str | None:
    """Tidy an "about" (None: keep the current one; `-`: clear it); refuse more than ABOUT_MAX characters."""
    if about is None:
        return None
    text = " ".join(about.split())
    if text == "-":
        return ""
    if len(text) > ABOUT_MAX:
        raise UserError(f'Your "about" can be up to {ABOUT_MAX} characters; that one has {len(text)}.')
    return text


_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "week": 7, "weeks": 7, "month": 30, "months": 30}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(r"^(?:in\s+)?(?P<n>\d{1,3})\s*(?P<unit>[a-z]+)$")
_UNTIL_EXAMPLES = "Try a date like `2026-12-01`, or `2 weeks`, `10 days` or `monday`."


def parse_pause_until(text: str, tz: str, now: datetime) -> datetime:
    """Read the day a pause ends ("2026-12-01", "2 weeks", "monday"); return the start of that local day."""
    original = text.strip()
    typed = " ".join(original.lower().split())
    today = to_local(now, tz).date()
    day: date | None = None
    relative = _RELATIVE.match(typed)
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", typed):
        year, month, dom = (int(part) for part in typed.split("-"))
        try:
            day = date(year, month, dom)
        except ValueError:
            raise UserError(
                f"`{original}` isn't a real date. Dates are written year-month-day, e.g. `2026-12-01`."
            ) from None
    elif relative and relative["unit"] in _UNITS:
        day = today + timedelta(days=int(relative["n"]) * _UNITS[relative["unit"]])
    elif typed == "tomorrow":
        day = today + timedelta(days=1)
    else:
        name = next((w for w in _WEEKDAYS if len(typed) >= 3 and w.startswith(typed)), None)
        if name is not None:
            day = today + timedelta(days=(_WEEKDAYS.index(name) - today.weekday() - 1) % 7 + 1)
    if day is None:
        raise UserError(f"I couldn't read `{original}` as a date. {_UNTIL_EXAMPLES}")
    if day <= today:
        raise UserError(f"`{original}` isn't after today. Pick a day that's still ahead, e.g. `2 weeks`.")
    if day > today + timedelta(days=PAUSE_MAX_DAYS):
        raise UserError(
            "A pause can last up to a year. Leave out the date to pause until you come back with `/buddy join`."
        )
    return to_utc(datetime.combine(day, time()), tz)


def _round_time(day: date, tz: str) -> datetime:
    return to_utc(datetime.combine(day, time(ROUND_HOUR)), tz)


def first_round_at(now: datetime, weekday: int | None, tz: str) -> datetime:
    """Return the first round slot after `now`: ROUND_HOUR local, on `weekday` when one is set."""
    today = to_local(now, tz).date()
    for ahead in range(8):
        day = today + timedelta(days=ahead)
        if weekday is not None and day.weekday() != weekday:
            continue
        at = _round_time(day, tz)
        if at > now:
            return at
    raise AssertionError("a week always holds a round slot")


def following_round_at(last: datetime, every_days: int, weekday: int | None, tz: str, now: datetime) -> datetime:
    """Return the slot `every_days` after the round at `last` (then on to `weekday`), and after `now`."""
    day = to_local(last, tz).date() + timedelta(days=every_days)
    if weekday is not None:
        day += timedelta(days=(weekday - day.weekday()) % 7)
    at = _round_time(day, tz)
    while at <= now:  # the bot was away for whole cycles: one round now, then back on the cadence
        day += timedelta(days=every_days)
        at = _round_time(day, tz)
    return at


def utc_offset_minutes(tz: str | None, now: datetime) -> int:
    """Return a zone's UTC offset at `now` in minutes (0 for no zone)."""
    if not tz:
        return 0
    offset = now.astimezone(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def _candidate(profile: Profile, group: Group, now: datetime) -> Candidate:
    return Candidate(profile.user_id, profile.role, utc_offset_minutes(profile.timezone or group.timezone, now))


# ---------------------------------------------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------------------------------------------


async def get_profile(db: Db, group_id: int, user_id: int) -> Profile | None:
    """Return a member's profile in a group, or None."""
    row = await db.fetchone(
        f"SELECT {_PROFILE_COLUMNS} FROM buddy_profiles WHERE group_id = ? AND user_id = ?", (group_id, user_id)
    )
    return None if row is None else _profile(row)


async def _active_profiles(db: Db, group_id: int, now: datetime) -> list[Profile]:
    rows = await db.fetchall(
        f"SELECT {_PROFILE_COLUMNS} FROM buddy_profiles WHERE group_id = ?"
        " AND (paused_at IS NULL OR (paused_until IS NOT NULL AND paused_until <= ?)) ORDER BY user_id",
        (group_id, _ts(now)),
    )
    return [_profile(r) for r in rows]


async def count_active(db: Db, group_id: int, now: datetime) -> int:
    """Return how many members of a group take part in pairing now (not paused)."""
    return len(await _active_profiles(db, group_id, now))


async def join(
    tx: Tx,
    group: Group,
    user_id: int,
    *,
    role: str,
    about: str | None,
    timezone: str | None,
    now: datetime,
) -> JoinResult:
    """Opt a member in (or update them, or end their pause); pair them at once with anyone waiting."""
    if group.archived:
        raise UserError(f"**{group.name}** has been archived, so it has no buddy pairing any more.")
    if role not in ROLES:
        raise UserError(f"The role can be {', '.join(ROLES)}.")
    if not await groups_service.is_member(tx, group.id, user_id):
        raise UserError(
            f"Buddy pairing is for members of **{group.name}**. Join it with `/group join` first, then run this again."
        )
    about = clean_about(about)
    zone = validate_timezone(timezone) if timezone else None
    existing = await get_profile(tx, group.id, user_id)
    stamp = _ts(now)
    if existing is None:
        await tx.execute(
            "INSERT INTO buddy_profiles (group_id, user_id, role, about, timezone, joined_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (group.id, user_id, role, about or "", zone, stamp, stamp),
        )
    else:
        await tx.execute(
            "UPDATE buddy_profiles SET role = ?, about = COALESCE(?, about), timezone = COALESCE(?, timezone),"
            " paused_at = NULL, paused_until = NULL, updated_at = ? WHERE group_id = ? AND user_id = ?",
            (role, about, zone, stamp, group.id, user_id),
        )
    profile = await get_profile(tx, group.id, user_id)
    placement = None
    if await current_pairing(tx, group.id, user_id) is None:
        placement = await _place(tx, group, user_id, now, into_pairs=False)
    return JoinResult(profile, existing is None, existing is not None and existing.paused(now), placement)


async def leave(tx: Tx, group: Group, user_id: int, now: datetime) -> Departure | None:
    """Take a member out of a group's pairing (their profile goes); None when they were not in it."""
    if await get_profile(tx, group.id, user_id) is None:
        return None
    await tx.execute("DELETE FROM buddy_profiles WHERE group_id = ? AND user_id = ?", (group.id, user_id))
    return await _depart(tx, group, user_id, now)


async def pause(tx: Tx, group: Group, user_id: int, until: datetime | None, now: datetime) -> Departure:
    """Pause a member until a day (None: until they run /buddy join again); their buddy is re-paired."""
    if await get_profile(tx, group.id, user_id) is None:
        raise UserError(f"You're not in buddy pairing for **{group.name}**, so there's nothing to pause.")
    await tx.execute(
        "UPDATE buddy_profiles SET paused_at = ?, paused_until = ?, updated_at = ? WHERE group_id = ? AND user_id = ?",
        (_ts(now), None if until is None else _ts(until), _ts(now), group.id, user_id),
    )
    return await _depart(tx, group, user_id, now)


async def leave_everywhere(tx: Tx, guild_id: int, user_id: int, now: datetime) -> list[Departure]:
    """Take a member who left the server out of pairing in all of its groups."""
    rows = await tx.fetchall(
        "SELECT g.id FROM groups g JOIN buddy_profiles p ON p.group_id = g.id WHERE g.guild_id = ? AND p.user_id = ?",
        (guild_id, user_id),
    )
    departures = []
    for row in rows:
        group = await groups_service.get_group(tx, guild_id, row["id"])
        departure = await leave(tx, group, user_id, now)
        if departure is not None:
            departures.append(departure)
    return departures


# ---------------------------------------------------------------------------------------------------------------
# Avoid lists: confidential, per server. Only `avoided_by` reads them for a person, and only for the setter.
# ---------------------------------------------------------------------------------------------------------------


async def avoid(tx: Tx, guild_id: int, user_id: int, avoided_id: int, now: datetime) -> bool:
    """Never pair `user_id` with `avoided_id` in this server; return False when it was already so."""
    if avoided_id == user_id:
        raise UserError("That's you! Pick the member you'd rather not be paired with.")
    return (
        await tx.execute(
            "INSERT INTO buddy_avoids (guild_id, user_id, avoided_id, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (guild_id, user_id, avoided_id, _ts(now)),
        )
        > 0
    )


async def unavoid(tx: Tx, guild_id: int, user_id: int, avoided_id: int) -> bool:
    """Drop an entry from a member's own avoid list; return whether it was there."""
    return (
        await tx.execute(
            "DELETE FROM buddy_avoids WHERE guild_id = ? AND user_id = ? AND avoided_id = ?",
            (guild_id, user_id, avoided_id),
        )
        > 0
    )


async def avoided_by(db: Db, guild_id: int, user_id: int) -> list[int]:
    """Return the members `user_id` asked never to be paired with (show this to `user_id` alone)."""
    rows = await db.fetchall(
        "SELECT avoided_id FROM buddy_avoids WHERE guild_id = ? AND user_id = ? ORDER BY created_at, avoided_id",
        (guild_id, user_id),
    )
    return [r["avoided_id"] for r in rows]


async def _avoid_pairs(db: Db, guild_id: int) -> set[frozenset[int]]:
    rows = await db.fetchall("SELECT user_id, avoided_id FROM buddy_avoids WHERE guild_id = ?", (guild_id,))
    return {frozenset((r["user_id"], r["avoided_id"])) for r in rows}


# ---------------------------------------------------------------------------------------------------------------
# Pairings
# ---------------------------------------------------------------------------------------------------------------

_PAIRING_SELECT = (
    "SELECT p.id, p.group_id, p.round_id, r.round_index, p.created_at, p.ended_at, p.via, p.thread_requested_at,"
    " p.thread_id FROM buddy_pairings p JOIN buddy_rounds r ON r.id = p.round_id"
)


async def _pairings(db: Db, where: str, params: Sequence[Any]) -> list[Pairing]:
    rows = await db.fetchall(f"{_PAIRING_SELECT} WHERE {where} ORDER BY p.id", params)
    if not rows:
        return []
    members: dict[int, list[int]] = {r["id"]: [] for r in rows}
    # The same filter again rather than IN (…): a big group has thousands of pairings.
    for m in await db.fetchall(
        "SELECT m.pairing_id, m.user_id FROM buddy_pairing_members m JOIN buddy_pairings p ON p.id = m.pairing_id"
        f" JOIN buddy_rounds r ON r.id = p.round_id WHERE {where} AND m.left_at IS NULL"
        " ORDER BY m.joined_at, m.user_id",
        params,
    ):
        members[m["pairing_id"]].append(m["user_id"])
    return [Pairing(**dict(r), members=tuple(members[r["id"]])) for r in rows]


async def get_pairing(db: Db, pairing_id: int) -> Pairing | None:
    """Return a pairing with its current members, or None."""
    found = await _pairings(db, "p.id = ?", (pairing_id,))
    return found[0] if found else None


async def current_pairing(db: Db, group_id: int, user_id: int) -> Pairing | None:
    """Return the pairing a member is in now in a group, or None."""
    found = await _pairings(
        db,
        "p.group_id = ? AND p.ended_at IS NULL AND EXISTS (SELECT 1 FROM buddy_pairing_members m"
        " WHERE m.pairing_id = p.id AND m.user_id = ? AND m.left_at IS NULL)",
        (group_id, user_id),
    )
    return found[0] if found else None


async def current_buddies(db: Db, guild_id: int, user_id: int) -> list[int]:
    """Return everyone a member is paired with now, across the server's active groups."""
    rows = await db.fetchall(
        "SELECT DISTINCT other.user_id FROM buddy_pairing_members me"
        " JOIN buddy_pairings p ON p.id = me.pairing_id AND p.ended_at IS NULL"
        " JOIN groups g ON g.id = p.group_id AND g.guild_id = ? AND g.archived_at IS NULL"
        " JOIN buddy_pairing_members other ON other.pairing_id = p.id AND other.left_at IS NULL"
        " WHERE me.user_id = ? AND me.left_at IS NULL AND other.user_id <> me.user_id ORDER BY other.user_id",
        (guild_id, user_id),
    )
    return [r["user_id"] for r in rows]


async def pairing_profiles(db: Db, pairing_: Pairing) -> list[Profile]:
    """Return the profiles of a pairing's current members, in the order they joined it."""
    profiles = []
    for user_id in pairing_.members:
        profile = await get_profile(db, pairing_.group_id, user_id)
        if profile is not None:
            profiles.append(profile)
    return profiles


async def _create_pairing(tx: Tx, group_id: int, round_id: int, user_ids: Sequence[int], now: datetime) -> int:
    stamp = _ts(now)
    pairing_id = await tx.insert(
        "INSERT INTO buddy_pairings (group_id, round_id, created_at) VALUES (?, ?, ?)", (group_id, round_id, stamp)
    )
    for user_id in user_ids:
        await tx.execute(
            "INSERT INTO buddy_pairing_members (pairing_id, user_id, joined_at) VALUES (?, ?, ?)",
            (pairing_id, user_id, stamp),
        )
        await _tell(tx, group_id, user_id, "opener", now, pairing_id=pairing_id)
    return pairing_id


async def _end_pairing(tx: Tx, pairing_id: int, now: datetime) -> None:
    await tx.execute("UPDATE buddy_pairings SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (_ts(now), pairing_id))
    # Nobody is introduced to a pairing that is over; news for its members (departed) still goes out.
    await tx.execute("DELETE FROM buddy_outbox WHERE pairing_id = ? AND kind IN ('opener', 'welcome')", (pairing_id,))


async def _latest_round(db: Db, group_id: int) -> Any:
    return await db.fetchone(
        "SELECT id, round_index, due_at, created_at FROM buddy_rounds WHERE group_id = ?"
        " ORDER BY round_index DESC LIMIT 1",
        (group_id,),
    )


async def _history(db: Db, group_id: int, from_index: int) -> list[PastGroup]:
    rows = await db.fetchall(
        "SELECT r.round_index, m.pairing_id, m.user_id FROM buddy_rounds r"
        " JOIN buddy_pairings p ON p.round_id = r.id JOIN buddy_pairing_members m ON m.pairing_id = p.id"
        " WHERE r.group_id = ? AND r.round_index >= ?",
        (group_id, from_index),
    )
    groups: dict[int, tuple[int, set[int]]] = {}
    for row in rows:
        groups.setdefault(row["pairing_id"], (row["round_index"], set()))[1].add(row["user_id"])
    return [PastGroup(index, frozenset(members)) for index, members in groups.values() if len(members) > 1]


async def _current_groups(db: Db, group_id: int) -> dict[int, tuple[int, ...]]:
    return {p.id: p.members for p in await _pairings(db, "p.group_id = ? AND p.ended_at IS NULL", (group_id,))}


async def _pairing_live(db: Db, group: Group) -> Any:
    """Return the current round when pairing is live in the group (rounds ran, not archived or switched off)."""
    if group.archived:
        return None
    cadence = await get_cadence(db, group.id)
    if cadence is not None and not cadence.enabled:
        return None
    return await _latest_round(db, group.id)


async def _place(tx: Tx, group: Group, user_id: int, now: datetime, *, into_pairs: bool) -> Placement | None:
    """Pair a member with someone waiting or, when `into_pairs`, as a third; None when they must wait."""
    current = await _pairing_live(tx, group)
    if current is None:
        return None
    profiles = {p.user_id: p for p in await _active_profiles(tx, group.id, now)}
    if user_id not in profiles:
        return None
    paired = await _current_groups(tx, group.id)
    taken = {u for members in paired.values() for u in members}
    singles = [_candidate(p, group, now) for u, p in profiles.items() if u not in taken and u != user_id]
    pairs = []
    if into_pairs:
        for members in paired.values():
            if len(members) >= 2 and all(u in profiles for u in members):
                pairs.append(tuple(_candidate(profiles[u], group, now) for u in members))
    history = await _history(tx, group.id, current["round_index"] - HISTORY_ROUNDS)
    try:
        chosen = pairing.rejoin(
            _candidate(profiles[user_id], group, now),
            singles,
            pairs,
            history,
            await _avoid_pairs(tx, group.guild_id),
            round_index=current["round_index"],
            recent_rounds=RECENT_ROUNDS,
        )
    except ValueError:
        return None
    others = {u for u in chosen if u != user_id}
    existing = next((pid for pid, members in paired.items() if set(members) == others), None)
    if existing is None:
        pairing_id = await _create_pairing(tx, group.id, current["id"], sorted(chosen), now)
        # Whoever was waiting is paired now: a pending "I couldn't pair you" would be out of date.
        marks = ", ".join("?" for _ in others)
        await tx.execute(
            f"DELETE FROM buddy_outbox WHERE group_id = ? AND kind = 'unplaced' AND user_id IN ({marks})",
            (group.id, *others),
        )
        return Placement(pairing_id, joined_existing=False)
    await tx.execute(
        "INSERT INTO buddy_pairing_members (pairing_id, user_id, joined_at) VALUES (?, ?, ?)",
        (existing, user_id, _ts(now)),
    )
    for member in (*paired[existing], user_id):
        await _tell(tx, group.id, member, "welcome", now, pairing_id=existing, newcomer_id=user_id)
    return Placement(existing, joined_existing=True)


async def _depart(tx: Tx, group: Group, user_id: int, now: datetime) -> Departure:
    """Take a member out of their current pairing; tell their buddies and re-pair one left alone."""
    # Whatever was still to be delivered to them here is moot now.
    await tx.execute("DELETE FROM buddy_outbox WHERE group_id = ? AND user_id = ?", (group.id, user_id))
    current = await current_pairing(tx, group.id, user_id)
    if current is None:
        return Departure(group.id, (), None)
    await tx.execute(
        "UPDATE buddy_pairing_members SET left_at = ? WHERE pairing_id = ? AND user_id = ?",
        (_ts(now), current.id, user_id),
    )
    remaining = [u for u in current.members if u != user_id]
    # Members never introduced to the leaver have nothing to be told; they are simply (re)introduced.
    introduced = current.via != "pending"
    if len(remaining) >= 2:
        if introduced:
            for member in remaining:
                await _tell(tx, group.id, member, "departed", now, pairing_id=current.id)
        return Departure(group.id, tuple(remaining) if introduced else (), None)
    await _end_pairing(tx, current.id, now)
    if not remaining:
        return Departure(group.id, (), None)
    orphan = remaining[0]
    placement = await _place(tx, group, orphan, now, into_pairs=True)
    if introduced:
        await _tell(
            tx,
            group.id,
            orphan,
            "departed",
            now,
            pairing_id=current.id,
            next_pairing_id=placement.pairing_id if placement else None,
        )
    return Departure(group.id, (orphan,) if introduced else (), placement)


async def buddy_statuses(db: Db, guild_id: int, user_id: int) -> list[MemberStatus]:
    """Return, for each active group of a server where a member opted in, their profile, buddies and next round."""
    rows = await db.fetchall(
        "SELECT p.group_id FROM buddy_profiles p JOIN groups g ON g.id = p.group_id"
        " WHERE g.guild_id = ? AND p.user_id = ? AND g.archived_at IS NULL ORDER BY g.name_key",
        (guild_id, user_id),
    )
    statuses = []
    for row in rows:
        group = await groups_service.get_group(db, guild_id, row["group_id"])
        profile = await get_profile(db, group.id, user_id)
        current = await current_pairing(db, group.id, user_id)
        buddies = ()
        if current is not None:
            buddies = tuple(p for p in await pairing_profiles(db, current) if p.user_id != user_id)
        cadence = await get_cadence(db, group.id)
        next_at = cadence.next_round_at if cadence and cadence.enabled else None
        statuses.append(MemberStatus(group, profile, current, buddies, next_at))
    return statuses


# ---------------------------------------------------------------------------------------------------------------
# Cadence and rounds
# ---------------------------------------------------------------------------------------------------------------


async def get_cadence(db: Db, group_id: int) -> Cadence | None:
    """Return a group's pairing cadence, or None when /setup pairing was never run for it."""
    row = await db.fetchone(
        "SELECT group_id, every_days, weekday, enabled, next_round_at FROM buddy_settings WHERE group_id = ?",
        (group_id,),
    )
    if row is None:
        return None
    return Cadence(row["group_id"], row["every_days"], row["weekday"], bool(row["enabled"]), _at(row["next_round_at"]))


async def configure(
    tx: Tx, group: Group, *, every_days: int, weekday: int | None, enabled: bool, now: datetime
) -> Cadence:
    """Save a group's cadence and plan its next round (counted from the last round when there was one)."""
    if every_days not in EVERY_DAYS:
        raise UserError(f"Rounds can run every {', '.join(map(str, EVERY_DAYS))} days.")
    if weekday is not None and not 0 <= weekday <= 6:
        raise UserError("Pick a weekday from Monday to Sunday.")
    next_at = None
    if enabled:
        tz = group.timezone or "UTC"
        last = await _latest_round(tx, group.id)
        if last is None:
            next_at = first_round_at(now, weekday, tz)
        else:
            next_at = following_round_at(_at(last["due_at"]), every_days, weekday, tz, now)
    await tx.execute(
        "INSERT INTO buddy_settings (group_id, every_days, weekday, enabled, next_round_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET every_days = excluded.every_days,"
        " weekday = excluded.weekday, enabled = excluded.enabled, next_round_at = excluded.next_round_at,"
        " updated_at = excluded.updated_at",
        (group.id, every_days, weekday, int(enabled), None if next_at is None else _ts(next_at), _ts(now)),
    )
    return await get_cadence(tx, group.id)


async def stop_rounds(tx: Tx, group_id: int) -> None:
    """Plan no more rounds for a group (it was archived); its settings stay for the record."""
    await tx.execute("UPDATE buddy_settings SET next_round_at = NULL WHERE group_id = ?", (group_id,))


async def scheduled_rounds(db: Db) -> list[tuple[int, datetime]]:
    """Return (group id, due time) of every planned round in groups that are not archived."""
    rows = await db.fetchall(
        "SELECT s.group_id, s.next_round_at FROM buddy_settings s JOIN groups g ON g.id = s.group_id"
        " WHERE s.enabled = 1 AND s.next_round_at IS NOT NULL AND g.archived_at IS NULL"
    )
    return [(r["group_id"], _at(r["next_round_at"])) for r in rows]


async def _run_round(
    tx: Tx, group: Group, now: datetime, *, started_by: str, due_at: datetime, present: Collection[int] | None
) -> RoundOutcome | None:
    """Pair everyone taking part (present in the server, when known); None when fewer than two are."""
    profiles = [p for p in await _active_profiles(tx, group.id, now) if present is None or p.user_id in present]
    if len(profiles) < 2:
        return None
    last = await _latest_round(tx, group.id)
    index = 0 if last is None else last["round_index"] + 1
    history = await _history(tx, group.id, index - HISTORY_ROUNDS)
    avoid_pairs = await _avoid_pairs(tx, group.guild_id)
    # Thousands of members take a moment: keep the event loop (and Discord's heartbeats) running meanwhile.
    result = await asyncio.to_thread(
        pairing.pair_round,
        [_candidate(p, group, now) for p in profiles],
        history,
        avoid_pairs,
        round_index=index,
        recent_rounds=RECENT_ROUNDS,
        seed=group.id,
    )
    await tx.execute(
        "UPDATE buddy_pairings SET ended_at = ? WHERE group_id = ? AND ended_at IS NULL", (_ts(now), group.id)
    )
    # Anything still undelivered from the last round is out of date: this round tells everyone afresh.
    await tx.execute("DELETE FROM buddy_outbox WHERE group_id = ?", (group.id,))
    round_id = await tx.insert(
        "INSERT INTO buddy_rounds (group_id, round_index, due_at, created_at, started_by) VALUES (?, ?, ?, ?, ?)",
        (group.id, index, _ts(due_at), _ts(now), started_by),
    )
    for members in result.groups:
        await _create_pairing(tx, group.id, round_id, members, now)
    for user_id in result.unplaced:
        await _tell(tx, group.id, user_id, "unplaced", now)
    return RoundOutcome(round_id, index, result.groups, result.unplaced, None)


async def run_scheduled_round(
    tx: Tx, group_id: int, due_at: datetime, now: datetime, present: Collection[int] | None = None
) -> tuple[RoundOutcome | None, Cadence | None]:
    """Run the round due at `due_at` once: a slot already run (or re-planned) does nothing.

    Returns the round (None when nothing was paired) and the cadence with the next slot.
    """
    cadence = await get_cadence(tx, group_id)
    if cadence is None or not cadence.enabled or cadence.next_round_at != due_at:
        return None, cadence
    guild_id = await tx.fetchval("SELECT guild_id FROM groups WHERE id = ?", (group_id,))
    group = await groups_service.get_group(tx, guild_id, group_id)
    if group.archived:
        await tx.execute("UPDATE buddy_settings SET next_round_at = NULL WHERE group_id = ?", (group_id,))
        return None, replace(cadence, next_round_at=None)
    outcome = await _run_round(tx, group, now, started_by="schedule", due_at=due_at, present=present)
    next_at = following_round_at(due_at, cadence.every_days, cadence.weekday, group.timezone or "UTC", now)
    await tx.execute("UPDATE buddy_settings SET next_round_at = ? WHERE group_id = ?", (_ts(next_at), group_id))
    if outcome is not None:
        outcome = replace(outcome, next_round_at=next_at)
    return outcome, replace(cadence, next_round_at=next_at)


async def pair_now(tx: Tx, group: Group, now: datetime, present: Collection[int] | None = None) -> RoundOutcome:
    """Run a round now for a moderator; the cadence then counts from today."""
    last = await _latest_round(tx, group.id)
    if last is not None and now - _at(last["created_at"]) < ANNOUNCING_GRACE and await _has_pending(tx, group.id):
        raise UserError(f"I'm still introducing **{group.name}**'s last round. Give it a minute, then try again.")
    outcome = await _run_round(tx, group, now, started_by="moderator", due_at=now, present=present)
    if outcome is None:
        active = await count_active(tx, group.id, now)
        who = "Nobody is" if active == 0 else "Only one member is"
        raise UserError(
            f"{who} taking part in buddy pairing for **{group.name}** right now, so there's nobody to pair."
        )
    cadence = await get_cadence(tx, group.id)
    if cadence is None or not cadence.enabled:
        return outcome
    next_at = following_round_at(now, cadence.every_days, cadence.weekday, group.timezone or "UTC", now)
    await tx.execute("UPDATE buddy_settings SET next_round_at = ? WHERE group_id = ?", (_ts(next_at), group.id))
    return replace(outcome, next_round_at=next_at)


# ---------------------------------------------------------------------------------------------------------------
# The delivery ledger: what is still to be set up on Discord or said, and progress made on it
# ---------------------------------------------------------------------------------------------------------------


async def _tell(
    tx: Tx,
    group_id: int,
    user_id: int,
    kind: str,
    now: datetime,
    *,
    pairing_id: int | None = None,
    next_pairing_id: int | None = None,
    newcomer_id: int | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO buddy_outbox (group_id, user_id, kind, pairing_id, next_pairing_id, newcomer_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (group_id, user_id, kind, pairing_id, next_pairing_id, newcomer_id, _ts(now)),
    )


async def _has_pending(db: Db, group_id: int) -> bool:
    return bool(
        await db.fetchval("SELECT 1 FROM buddy_outbox WHERE group_id = ? LIMIT 1", (group_id,))
        or await db.fetchval(
            "SELECT 1 FROM buddy_pairings WHERE group_id = ? AND ended_at IS NULL AND via = 'pending' LIMIT 1",
            (group_id,),
        )
    )


async def groups_with_pending_work(db: Db) -> list[int]:
    """Return the groups with pairings to set up or messages to deliver (resumed at start)."""
    rows = await db.fetchall(
        "SELECT group_id FROM buddy_outbox UNION"
        " SELECT group_id FROM buddy_pairings WHERE ended_at IS NULL AND via = 'pending'"
    )
    return sorted(r["group_id"] for r in rows)


async def pairings_to_set_up(db: Db, group_id: int) -> list[Pairing]:
    """Return current pairings not yet introduced, or with a thread someone must still be added to."""
    return await _pairings(
        db,
        "p.group_id = ? AND p.ended_at IS NULL AND (p.via = 'pending' OR (p.via = 'thread' AND EXISTS ("
        "SELECT 1 FROM buddy_pairing_members m WHERE m.pairing_id = p.id AND m.left_at IS NULL"
        " AND m.in_thread_at IS NULL)))",
        (group_id,),
    )


async def members_outside_thread(db: Db, pairing_id: int) -> list[int]:
    """Return the current members of a pairing not yet added to its thread."""
    rows = await db.fetchall(
        "SELECT user_id FROM buddy_pairing_members WHERE pairing_id = ? AND left_at IS NULL AND in_thread_at IS NULL"
        " ORDER BY joined_at, user_id",
        (pairing_id,),
    )
    return [r["user_id"] for r in rows]


async def mark_thread_requested(tx: Tx, pairing_id: int, now: datetime) -> None:
    """Record that a thread is about to be asked for (before the Discord call)."""
    await tx.execute("UPDATE buddy_pairings SET thread_requested_at = ? WHERE id = ?", (_ts(now), pairing_id))


async def record_thread(tx: Tx, pairing_id: int, thread_id: int) -> None:
    """Record the pairing's thread (after the Discord call)."""
    await tx.execute("UPDATE buddy_pairings SET thread_id = ? WHERE id = ?", (thread_id, pairing_id))


async def record_in_thread(tx: Tx, pairing_id: int, user_id: int, now: datetime) -> None:
    """Record that a member was added to the pairing's thread."""
    await tx.execute(
        "UPDATE buddy_pairing_members SET in_thread_at = ? WHERE pairing_id = ? AND user_id = ?",
        (_ts(now), pairing_id, user_id),
    )


async def record_via(tx: Tx, pairing_id: int, via: str) -> None:
    """Record how a pairing's members are introduced: in its 'thread' or by 'dm'."""
    if via not in ("thread", "dm"):
        raise ValueError(via)
    await tx.execute("UPDATE buddy_pairings SET via = ? WHERE id = ?", (via, pairing_id))


async def pending_outbox(db: Db, group_id: int) -> list[OutboxItem]:
    """Return a group's undelivered messages, oldest first."""
    rows = await db.fetchall(f"SELECT {_OUTBOX_COLUMNS} FROM buddy_outbox WHERE group_id = ? ORDER BY id", (group_id,))
    return [OutboxItem(**dict(r)) for r in rows]


async def mark_attempted(tx: Tx, item_ids: Sequence[int], now: datetime) -> int:
    """Record that these messages are about to be sent; return how many still exist (0: superseded)."""
    marks = ", ".join("?" for _ in item_ids)
    return await tx.execute(f"UPDATE buddy_outbox SET attempted_at = ? WHERE id IN ({marks})", (_ts(now), *item_ids))


async def mark_delivered(tx: Tx, item_ids: Sequence[int]) -> None:
    """Forget messages once delivered (or given up on)."""
    marks = ", ".join("?" for _ in item_ids)
    await tx.execute(f"DELETE FROM buddy_outbox WHERE id IN ({marks})", tuple(item_ids))
