"""Data rights: everything held about a member, found, exported and erased; retention; departures.

`HOLDINGS` is the map of every column that identifies a person. A test walks the schema and fails when a
table gains such a column without an entry here, so a new feature cannot forget the member's rights.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.db import Database, Tx
from bot.logic.anonymity import author_key, forget_author_keys
from bot.services import groups as groups_service
from bot.services import members as members_service
from bot.services import notices as notices_service

EXPORT_FORMAT = "peerbot-export"
EXPORT_VERSION = 1

_BY_MEETING = "meeting_id IN (SELECT id FROM meetings WHERE guild_id = ?)"
_BY_GROUP = "group_id IN (SELECT id FROM groups WHERE guild_id = ?)"


@dataclass(frozen=True)
class Holding:
    """A column that names a person, and what their rights mean for it."""

    table: str
    column: str
    # erase: delete the row; detach: set the column to NULL (the row is about something else);
    # keep: the row stays, for the reason given (it is someone else's data, or unlinkable)
    action: str
    scope: str | None  # SQL limiting rows to one server (`?` = its id); None: not tied to a server
    label: str  # the export section, in words a member understands
    reason: str = ""


HOLDINGS: tuple[Holding, ...] = (
    Holding("memberships", "user_id", "erase", _BY_GROUP, "group memberships"),
    Holding("audit_log", "actor_id", "detach", "guild_id = ?", "audit log entries of actions you took"),
    Holding("member_notices", "user_id", "erase", None, "notes waiting for you"),
    Holding(
        "meetings",
        "organiser_id",
        "keep",
        "guild_id = ?",
        "meetings you host",
        "a meeting others attend is handed to a co-host (or left without a host) rather than deleted",
    ),
    Holding("meeting_cohosts", "user_id", "erase", _BY_MEETING, "meetings you co-host"),
    Holding("rsvps", "user_id", "erase", _BY_MEETING, "RSVPs"),
    Holding("attendance", "user_id", "erase", _BY_MEETING, "your own meeting check-ins"),
    Holding("member_flags", "user_id", "erase", None, "DM status"),
    Holding("checkins", "user_id", "erase", "guild_id = ?", "check-in journal"),
    Holding("anon_posts", "author_key", "erase", "guild_id = ?", "your anonymous posts and replies"),
    Holding("anon_aliases", "author_key", "erase", _BY_GROUP, "your weekly aliases"),
    Holding(
        "anon_blocks",
        "author_key",
        "keep",
        "guild_id = ?",
        "moderation blocks",
        "a block is a moderator's record keyed by an unlinkable hash; erasing it would let a block be dodged",
    ),
    Holding(
        "anon_reports",
        "reporter_key",
        "keep",
        None,
        "reports",
        "reporter keys are per-post hashes that cannot be tied to anyone, so they hold nothing about you",
    ),
    Holding("escalations", "user_id", "erase", "guild_id = ?", "requests for someone to reach out"),
    Holding("escalations", "helper_user_id", "detach", "guild_id = ?", "requests you helped with"),
    Holding("buddy_profiles", "user_id", "erase", _BY_GROUP, "buddy profile"),
    Holding("buddy_avoids", "user_id", "erase", "guild_id = ?", "your confidential avoid list"),
    Holding(
        "buddy_avoids",
        "avoided_id",
        "keep",
        "guild_id = ?",
        "",
        "another member's confidential wish not to be paired with you is theirs, and is never shown to you",
    ),
    Holding(
        "buddy_pairing_members",
        "user_id",
        "erase",
        "pairing_id IN (SELECT id FROM buddy_pairings WHERE " + _BY_GROUP + ")",
        "buddy history",
    ),
    Holding("buddy_outbox", "user_id", "erase", _BY_GROUP, "buddy messages waiting to be sent"),
    Holding("buddy_outbox", "newcomer_id", "detach", _BY_GROUP, ""),
    Holding("reminders", "user_id", "erase", "guild_id = ?", "reminders"),
    Holding("deliveries", "user_id", "erase", _BY_MEETING, "reminders and notes sent to you"),
    Holding("reminder_prefs", "user_id", "erase", None, "reminder style and quiet hours"),
    Holding("reminder_suggestions", "user_id", "erase", None, "reminder suggestions shown"),
    Holding("departures", "user_id", "erase", "guild_id = ?", "when you left a server"),
)


def _keys_for(secret: bytes, guild_ids: Iterable[int], user_id: int) -> list[str]:
    return [author_key(secret, g, user_id) for g in guild_ids]


async def known_guilds(db: Database | Tx) -> list[int]:
    """Every server the database holds anything for (author keys are per server)."""
    rows = await db.fetchall(
        "SELECT guild_id FROM groups UNION SELECT guild_id FROM guild_settings UNION SELECT guild_id FROM anon_posts"
    )
    return [r[0] for r in rows]


def _match(holding: Holding, user_id: int, keys: list[str]) -> tuple[str, list[Any]]:
    if holding.column in ("author_key",):
        if not keys:
            return "0", []
        return f"{holding.column} IN ({', '.join('?' for _ in keys)})", list(keys)
    return f"{holding.column} = ?", [user_id]


async def export(db: Database | Tx, user_id: int, secret: bytes, now: datetime) -> dict[str, Any]:
    """Return everything held about the member, as a versioned, documented JSON-able dict."""
    keys = _keys_for(secret, await known_guilds(db), user_id)
    sections: dict[str, list[dict[str, Any]]] = {}
    for holding in HOLDINGS:
        if not holding.label or holding.column == "reporter_key":
            continue
        where, params = _match(holding, user_id, keys)
        # In the order they were written (an index would otherwise choose it, and change with the indexes).
        rows = await db.fetchall(f"SELECT * FROM {holding.table} WHERE {where} ORDER BY rowid", tuple(params))
        if rows:
            sections.setdefault(holding.label, []).extend(
                # sqlite3.Row iterates over values, so .keys() is needed here.
                {k: row[k] for k in row.keys() if k != "author_key"}  # noqa: SIM118
                for row in rows
            )
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now.isoformat(),
        "user_id": str(user_id),
        "data": sections,
    }


@dataclass(frozen=True)
class Erasure:
    counts: dict[str, int]
    anonymous_messages: list[tuple[int, int]]  # (channel id, message id) of published anonymous posts
    meetings_without_host: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def anonymous_messages(db: Database | Tx, user_id: int, secret: bytes) -> list[tuple[int, int]]:
    """Return where the member's published anonymous posts and replies are, to remove them if asked."""
    keys = _keys_for(secret, await known_guilds(db), user_id)
    if not keys:
        return []
    rows = await db.fetchall(
        f"SELECT channel_id, message_id FROM anon_posts WHERE author_key IN ({', '.join('?' for _ in keys)})"
        " AND message_id IS NOT NULL AND status = 'published'",
        tuple(keys),
    )
    return [(r[0], r[1]) for r in rows if r[0]]


async def erase(tx: Tx, user_id: int, secret: bytes, *, guild_id: int | None = None) -> Erasure:
    """Erase every row about the member (in one server, or everywhere); hosted meetings pass on or lose their host."""
    guilds = [guild_id] if guild_id is not None else await known_guilds(tx)
    keys = _keys_for(secret, guilds, user_id)
    messages = await anonymous_messages(tx, user_id, secret) if guild_id is None else []
    counts: dict[str, int] = {}
    orphaned = await _hand_over_meetings(tx, user_id, guild_id)
    tx.forget(notices_service.notices_key(user_id))
    if guild_id is None:  # member_flags is not tied to a server: erased only with everything
        tx.forget(members_service.dm_channel_key(user_id))
    for holding in HOLDINGS:
        if holding.action == "keep":
            continue
        where, params = _match(holding, user_id, keys)
        if guild_id is not None:
            if holding.scope is None:
                continue  # not tied to one server: kept while the member may still be elsewhere
            where += f" AND {holding.scope}"
            params.append(guild_id)
        if holding.action == "erase":
            changed = await tx.execute(f"DELETE FROM {holding.table} WHERE {where}", tuple(params))
        else:
            changed = await tx.execute(
                f"UPDATE {holding.table} SET {holding.column} = NULL WHERE {where}", tuple(params)
            )
        if changed and holding.label:
            counts[holding.label] = counts.get(holding.label, 0) + changed
    forget_author_keys()
    return Erasure(counts, messages, orphaned)


async def _hand_over_meetings(tx: Tx, user_id: int, guild_id: int | None) -> list[int]:
    """Pass the member's meetings to their first co-host; with none, the meeting keeps running without a host."""
    sql = "SELECT id FROM meetings WHERE organiser_id = ?" + (" AND guild_id = ?" if guild_id else "")
    rows = await tx.fetchall(sql, (user_id, guild_id) if guild_id else (user_id,))
    orphaned = []
    for row in rows:
        cohost = await tx.fetchval(
            "SELECT user_id FROM meeting_cohosts WHERE meeting_id = ? AND user_id <> ? ORDER BY added_at LIMIT 1",
            (row[0], user_id),
        )
        await tx.execute("UPDATE meetings SET organiser_id = ? WHERE id = ?", (cohost or 0, row[0]))
        await tx.execute("DELETE FROM meeting_cohosts WHERE meeting_id = ? AND user_id = ?", (row[0], cohost or 0))
        if cohost is None:
            orphaned.append(row[0])
    return orphaned


# ---------------------------------------------------------------------------------------------- departures
async def record_departure(tx: Tx, guild_id: int, user_id: int, now: datetime) -> None:
    """Remember that a member left a server (their data there is erased after the grace period)."""
    await tx.execute(
        "INSERT INTO departures (guild_id, user_id, left_at) VALUES (?, ?, ?)"
        " ON CONFLICT (guild_id, user_id) DO UPDATE SET left_at = excluded.left_at",
        (guild_id, user_id, int(now.timestamp())),
    )


async def cancel_departure(tx: Tx, guild_id: int, user_id: int) -> bool:
    """A member came back: keep their data."""
    return await tx.execute("DELETE FROM departures WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)) > 0


async def departures_due(db: Database | Tx, now: datetime, grace: timedelta) -> list[tuple[int, int]]:
    """Return (server, member) pairs whose grace period has passed."""
    rows = await db.fetchall(
        "SELECT guild_id, user_id FROM departures WHERE left_at <= ?", (int((now - grace).timestamp()),)
    )
    return [(r[0], r[1]) for r in rows]


async def guilds_to_forget(db: Database | Tx, now: datetime, grace: timedelta) -> list[int]:
    """Return servers that removed the bot longer ago than the grace period."""
    rows = await db.fetchall(
        "SELECT guild_id FROM guild_settings WHERE bot_removed_at IS NOT NULL AND bot_removed_at <= ?",
        (int((now - grace).timestamp()),),
    )
    return [r[0] for r in rows]


async def forget_guild(tx: Tx, guild_id: int) -> None:
    """Erase everything held for a server (groups cascade to meetings, RSVPs, memberships, buddies…)."""
    for table in (
        "checkins",
        "anon_posts",
        "anon_blocks",
        "escalations",
        "reminders",
        "buddy_avoids",
        "audit_log",
        "departures",
    ):
        await tx.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
    await tx.execute(
        "DELETE FROM deliveries WHERE meeting_id IN (SELECT id FROM meetings WHERE guild_id = ?)", (guild_id,)
    )
    await tx.execute("DELETE FROM meetings WHERE guild_id = ?", (guild_id,))
    await tx.execute("DELETE FROM groups WHERE guild_id = ?", (guild_id,))
    await tx.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))
    tx.forget(groups_service.settings_key(guild_id))


async def set_bot_removed(tx: Tx, guild_id: int, at: datetime | None) -> None:
    """Note when the bot was removed from a server (None: it is back)."""
    tx.forget(groups_service.settings_key(guild_id))
    await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING", (guild_id,))
    await tx.execute(
        "UPDATE guild_settings SET bot_removed_at = ? WHERE guild_id = ?",
        (int(at.timestamp()) if at else None, guild_id),
    )


# ---------------------------------------------------------------------------------------------- retention
async def purge_notes(tx: Tx, now: datetime) -> int:
    """Blank check-in notes older than each server's retention; moods stay. Idempotent."""
    purged = 0
    for row in await tx.fetchall("SELECT guild_id, retention_days FROM guild_settings"):
        cutoff = int((now - timedelta(days=row["retention_days"])).timestamp())
        purged += await tx.execute(
            "UPDATE checkins SET note = NULL, content_warning = NULL WHERE guild_id = ? AND created_at < ?"
            " AND (note IS NOT NULL OR content_warning IS NOT NULL)",
            (row["guild_id"], cutoff),
        )
        purged += await tx.execute(
            "UPDATE anon_posts SET note = NULL, content_warning = NULL WHERE guild_id = ?"
            " AND COALESCE(published_at, released_at) < ? AND status NOT IN ('pending', 'sending', 'held', 'approving')"
            " AND (note IS NOT NULL OR content_warning IS NOT NULL)",
            (row["guild_id"], cutoff),
        )
    # Servers with no settings row keep the default retention.
    default_cutoff = int((now - timedelta(days=90)).timestamp())
    purged += await tx.execute(
        "UPDATE checkins SET note = NULL, content_warning = NULL WHERE created_at < ?"
        " AND (note IS NOT NULL OR content_warning IS NOT NULL)"
        " AND guild_id NOT IN (SELECT guild_id FROM guild_settings)",
        (default_cutoff,),
    )
    return purged
