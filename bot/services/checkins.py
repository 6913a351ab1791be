"""Check-ins: the member's journal, anonymous posts and replies, weekly aliases and a group's weather.

Anonymity rule for everything below: a function that is given a member's id for an anonymous post uses it
only to derive the HMAC author key and alias, and never stores or returns it next to the post.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from bot.db import Database, Tx
from bot.errors import UserError
from bot.logic.anonymity import alias_for_unique, author_key, week_index
from bot.logic.moods import MOODS, distribution
from bot.services.groups import Group

NOTE_MAX = 1000
WARNING_MAX = 100
REPLY_MAX = 1000
SHARE_MODES = ("private", "anonymous", "named")
WEATHER_DAYS = 7
# A post Discord could not take for a passing reason (5xx, a timeout) is tried again this often.
RETRY_SECONDS = 60
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Checkin:
    """A private or named check-in in the member's journal."""

    id: int
    guild_id: int
    user_id: int
    group_id: int | None
    mood: int
    note: str | None
    content_warning: str | None
    share: str
    created_at: int
    channel_id: int | None
    message_id: int | None


@dataclass(frozen=True)
class AnonPost:
    """An anonymous check-in (mood set) or an anonymous reply in a check-in's thread (parent_id set)."""

    id: int
    guild_id: int
    group_id: int
    parent_id: int | None
    author_key: str
    alias: str
    mood: int | None
    note: str | None
    content_warning: str | None
    status: str
    attempts: int
    due_at: int | None
    released_at: int | None
    published_at: int | None
    channel_id: int | None
    message_id: int | None
    thread_id: int | None
    modlog_channel_id: int | None
    modlog_message_id: int | None
    reports: int

    @property
    def is_reply(self) -> bool:
        return self.parent_id is not None


_CHECKIN_COLUMNS = ", ".join(f.name for f in fields(Checkin))
_POST_COLUMNS = ", ".join(f.name for f in fields(AnonPost))


def _post(row: Any) -> AnonPost:
    return AnonPost(**{f.name: row[f.name] for f in fields(AnonPost)})


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def clean_text(text: str | None, *, limit: int, what: str) -> str | None:
    """Trim a note or reply; None when empty; a kind UserError when too long."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > limit:
        raise UserError(
            f"{what} can be up to {limit:,} characters; yours has {len(cleaned):,}. "
            "Could you shorten it a little and send it again?"
        )
    return cleaned


def check_mood(mood: int) -> int:
    """Return the mood if it is 1 to 5, else raise UserError."""
    if isinstance(mood, bool) or mood not in MOODS:
        raise UserError("Mood is a number from 1 (really struggling) to 5 (great).")
    return mood


# ---------------------------------------------------------------------------------------------- the journal
@dataclass(frozen=True)
class NewCheckin:
    """A journal check-in about to be written (private, or named in a group)."""

    guild_id: int
    user_id: int
    mood: int
    share: str
    now: datetime
    note: str | None = None
    content_warning: str | None = None
    group_id: int | None = None

    def insert(self) -> tuple[str, tuple]:
        """The INSERT … RETURNING that writes it (RETURNING: the row as stored, in the same trip)."""
        if self.share not in ("private", "named"):
            raise ValueError("anonymous check-ins are anonymous posts, never journal rows with a user id")
        if self.share == "named" and self.group_id is None:
            raise ValueError("a named check-in belongs to a group")
        return (
            "INSERT INTO checkins (guild_id, user_id, group_id, mood, note, content_warning, share, created_at)"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_CHECKIN_COLUMNS}",
            (
                self.guild_id,
                self.user_id,
                self.group_id,
                check_mood(self.mood),
                clean_text(self.note, limit=NOTE_MAX, what="Notes"),
                clean_text(self.content_warning, limit=WARNING_MAX, what="Content warnings"),
                self.share,
                _ts(self.now),
            ),
        )


async def record_checkin(
    store: Database | Tx,
    *,
    guild_id: int,
    user_id: int,
    mood: int,
    share: str,
    now: datetime,
    note: str | None = None,
    content_warning: str | None = None,
    group_id: int | None = None,
) -> Checkin:
    """Write a private or named check-in to the member's journal.

    Given the Database, it is one group-committed statement (`Database.write`); given a transaction, a part of it.
    """
    entry = NewCheckin(guild_id, user_id, mood, share, now, note, content_warning, group_id)
    [row] = await store.write(*entry.insert())
    return Checkin(**dict(row))


async def record_checkin_with_trend(
    db: Database, entry: NewCheckin, *, author_key: str, since: datetime
) -> tuple[Checkin, list[tuple[int, int]]]:
    """Write `entry`, and read the member's `journal_points` since `since` with it, in one trip to the database."""
    sql, params = entry.insert()
    trend = _points_query(entry.guild_id, entry.user_id, author_key, since)
    [row], points = await db.write_then_read(sql, params, *trend)
    if points is None:  # saved, but the trend could not be read with it
        points = await db.fetchall(*trend)
    return Checkin(*row), [(at, mood) for at, mood in points]  # RETURNING gives Checkin's fields in order


async def set_checkin_message(tx: Tx, checkin_id: int, channel_id: int, message_id: int) -> None:
    """Remember where a named check-in was posted."""
    await tx.execute(
        "UPDATE checkins SET channel_id = ?, message_id = ? WHERE id = ?", (channel_id, message_id, checkin_id)
    )


def _points_query(guild_id: int, user_id: int, author_key: str, since: datetime | None) -> tuple[str, tuple]:
    floor = _ts(since) if since is not None else 0
    return (
        "SELECT created_at AS at, mood FROM checkins WHERE guild_id = ? AND user_id = ? AND created_at >= ?"
        " UNION ALL"
        " SELECT COALESCE(released_at, due_at) AS at, mood FROM anon_posts"
        " WHERE guild_id = ? AND author_key = ? AND parent_id IS NULL AND COALESCE(released_at, due_at) >= ?"
        " ORDER BY at",
        (guild_id, user_id, floor, guild_id, author_key, floor),
    )


async def journal_points(
    db: Database | Tx, *, guild_id: int, user_id: int, author_key: str, since: datetime | None = None
) -> list[tuple[int, int]]:
    """Return (epoch second, mood) of the member's check-ins in a server: journal rows and anonymous posts.

    Anonymous check-ins are found by the member's author key: nothing with their id records them. Their
    time is when they went out (or are due to), never when they were written.
    """
    rows = await db.fetchall(*_points_query(guild_id, user_id, author_key, since))
    return [(r["at"], r["mood"]) for r in rows]


async def meetings_attended(db: Database | Tx, guild_id: int, user_id: int) -> int:
    """Count the meetings the member checked themselves into in this server (self-reported, never reset)."""
    return await db.fetchval(
        "SELECT COUNT(*) FROM attendance a JOIN meetings m ON m.id = a.meeting_id"
        " WHERE a.user_id = ? AND m.guild_id = ?",
        (user_id, guild_id),
        default=0,
    )


# ---------------------------------------------------------------------------------------------- aliases
async def alias_for_week(
    tx: Tx, secret: bytes, *, guild_id: int, group_id: int, user_id: int, now: datetime
) -> tuple[str, str]:
    """Return (author key, alias) for the member in a group this week, creating the alias on first use."""
    key = author_key(secret, guild_id, user_id)
    week = week_index(now)
    existing = await tx.fetchval(
        "SELECT alias FROM anon_aliases WHERE group_id = ? AND week = ? AND author_key = ?", (group_id, week, key)
    )
    if existing is not None:
        return key, existing
    taken = [r["alias"] for r in await tx.fetchall(
        "SELECT alias FROM anon_aliases WHERE group_id = ? AND week = ?", (group_id, week)
    )]  # fmt: skip
    alias = alias_for_unique(secret, guild_id, group_id, user_id, week, taken)
    await tx.execute(
        "INSERT INTO anon_aliases (group_id, week, author_key, alias) VALUES (?, ?, ?, ?)",
        (group_id, week, key, alias),
    )
    return key, alias


# ---------------------------------------------------------------------------------------------- anonymous posts
async def enqueue_post(
    tx: Tx,
    *,
    guild_id: int,
    group_id: int,
    author_key: str,
    alias: str,
    mood: int,
    due_at: datetime,
    note: str | None = None,
    content_warning: str | None = None,
) -> AnonPost:
    """Queue an anonymous check-in to go out at `due_at`."""
    post_id = await tx.insert(
        "INSERT INTO anon_posts (guild_id, group_id, author_key, alias, mood, note, content_warning, due_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            guild_id,
            group_id,
            author_key,
            alias,
            check_mood(mood),
            clean_text(note, limit=NOTE_MAX, what="Notes"),
            clean_text(content_warning, limit=WARNING_MAX, what="Content warnings"),
            _ts(due_at),
        ),
    )
    return await get_post(tx, post_id)  # type: ignore[return-value]


async def enqueue_reply(tx: Tx, *, parent: AnonPost, author_key: str, alias: str, text: str, now: datetime) -> AnonPost:
    """Queue an anonymous reply in a check-in's thread, due at once (replies are a conversation)."""
    body = clean_text(text, limit=REPLY_MAX, what="Replies")
    if body is None:
        raise UserError("Your reply is empty. Write a few words and send it again.")
    post_id = await tx.insert(
        "INSERT INTO anon_posts (guild_id, group_id, parent_id, author_key, alias, note, due_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (parent.guild_id, parent.group_id, parent.id, author_key, alias, body, _ts(now)),
    )
    return await get_post(tx, post_id)  # type: ignore[return-value]


async def get_post(db: Database | Tx, post_id: int) -> AnonPost | None:
    """Return an anonymous post or reply by id."""
    row = await db.fetchone(f"SELECT {_POST_COLUMNS} FROM anon_posts WHERE id = ?", (post_id,))
    return _post(row) if row is not None else None


async def post_for_message(db: Database | Tx, message_id: int) -> AnonPost | None:
    """Return the anonymous post or reply shown as this message (or whose thread this is)."""
    row = await db.fetchone(
        f"SELECT {_POST_COLUMNS} FROM anon_posts WHERE message_id = ?"
        f" UNION ALL SELECT {_POST_COLUMNS} FROM anon_posts WHERE thread_id = ? AND parent_id IS NULL LIMIT 1",
        (message_id, message_id),
    )
    return _post(row) if row is not None else None


async def queued_posts(db: Database | Tx) -> list[AnonPost]:
    """Return the posts waiting to go out, including any cut off mid-send by a crash."""
    rows = await db.fetchall(
        f"SELECT {_POST_COLUMNS} FROM anon_posts WHERE status IN ('pending', 'sending') ORDER BY due_at, id"
    )
    return [_post(r) for r in rows]


async def reset_interrupted_approvals(tx: Tx) -> int:
    """Put posts whose approval a crash cut off back in the mod-log's hands; return how many."""
    return await tx.execute("UPDATE anon_posts SET status = 'held' WHERE status = 'approving'")


async def claim_post(tx: Tx, post_id: int) -> AnonPost | None:
    """Take a queued post for sending (once: a second claimer gets None unless resuming after a crash)."""
    changed = await tx.execute(
        "UPDATE anon_posts SET status = 'sending', attempts = attempts + 1"
        " WHERE id = ? AND status IN ('pending', 'sending')",
        (post_id,),
    )
    return await get_post(tx, post_id) if changed else None


async def retry_later(tx: Tx, post_id: int, at: datetime) -> None:
    """Put a post Discord could not take for a passing reason back in the queue."""
    await tx.execute(
        "UPDATE anon_posts SET status = 'pending', due_at = ? WHERE id = ? AND status = 'sending'", (_ts(at), post_id)
    )


async def mark_published(
    tx: Tx, post_id: int, *, channel_id: int, message_id: int, thread_id: int | None, now: datetime
) -> AnonPost:
    """Record that a post is out; from now on only its publish time is kept (the queue time is cleared)."""
    await tx.execute(
        "UPDATE anon_posts SET status = 'published', due_at = NULL, released_at = COALESCE(released_at, ?),"
        " published_at = ?, channel_id = ?, message_id = ?, thread_id = ? WHERE id = ?",
        (_ts(now), _ts(now), channel_id, message_id, thread_id, post_id),
    )
    return await get_post(tx, post_id)  # type: ignore[return-value]


async def mark_held(tx: Tx, post_id: int, *, channel_id: int, message_id: int, now: datetime) -> AnonPost:
    """Record that a post waits in the mod-log for a moderator (vetted mode)."""
    await tx.execute(
        "UPDATE anon_posts SET status = 'held', due_at = NULL, released_at = ?, modlog_channel_id = ?,"
        " modlog_message_id = ? WHERE id = ?",
        (_ts(now), channel_id, message_id, post_id),
    )
    return await get_post(tx, post_id)  # type: ignore[return-value]


async def mark_released(tx: Tx, post_id: int, status: str, now: datetime) -> None:
    """Record that a queued post did not go out ('withheld' or 'failed')."""
    if status not in ("withheld", "failed"):
        raise ValueError(status)
    await tx.execute(
        "UPDATE anon_posts SET status = ?, due_at = NULL, released_at = ? WHERE id = ?", (status, _ts(now), post_id)
    )


async def move_post(tx: Tx, post_id: int, from_statuses: tuple[str, ...], to_status: str) -> AnonPost | None:
    """Move a post between moderation states atomically; None when it was not in one of `from_statuses`."""
    marks = ", ".join("?" for _ in from_statuses)
    changed = await tx.execute(
        f"UPDATE anon_posts SET status = ? WHERE id = ? AND status IN ({marks})", (to_status, post_id, *from_statuses)
    )
    return await get_post(tx, post_id) if changed else None


async def member_group_ids(db: Database | Tx, user_id: int) -> list[int]:
    """Return the ids of every group the member belongs to, in any server (replies work from DMs)."""
    rows = await db.fetchall("SELECT group_id FROM memberships WHERE user_id = ?", (user_id,))
    return [r["group_id"] for r in rows]


async def recent_posts(db: Database | Tx, group_ids: list[int], since: datetime, limit: int = 25) -> list[AnonPost]:
    """Return published anonymous check-ins (not replies) in these groups since `since`, newest first."""
    if not group_ids:
        return []
    marks = ", ".join("?" for _ in group_ids)
    rows = await db.fetchall(
        f"SELECT {_POST_COLUMNS} FROM anon_posts WHERE group_id IN ({marks}) AND parent_id IS NULL"
        " AND status = 'published' AND published_at >= ? ORDER BY published_at DESC LIMIT ?",
        (*group_ids, _ts(since), limit),
    )
    return [_post(r) for r in rows]


# ---------------------------------------------------------------------------------------------- weather
async def group_weather(db: Database | Tx, group: Group, secret: bytes, now: datetime) -> tuple[dict[int, int], int]:
    """Return the mood distribution of check-ins shared in a group over 7 days, and how many people shared.

    Only shared check-ins count (named, and published anonymous ones): their moods are already visible to
    the group, so the summary never reveals a private check-in. People are counted once even when they
    shared both ways; the author keys are matched to members in memory only, and nothing is stored.
    """
    since = _ts(now - timedelta(days=WEATHER_DAYS))
    named = await db.fetchall(
        "SELECT user_id, mood FROM checkins WHERE group_id = ? AND share = 'named' AND created_at >= ?",
        (group.id, since),
    )
    anonymous = await db.fetchall(
        "SELECT author_key, mood FROM anon_posts WHERE group_id = ? AND parent_id IS NULL"
        " AND status = 'published' AND published_at >= ?",
        (group.id, since),
    )
    if not named and not anonymous:
        return distribution([]), 0
    people: set[int | str] = {r["user_id"] for r in named}
    members = {
        r["user_id"] for r in await db.fetchall("SELECT user_id FROM memberships WHERE group_id = ?", (group.id,))
    }
    person_of = {author_key(secret, group.guild_id, uid): uid for uid in members | people}
    for row in anonymous:
        people.add(person_of.get(row["author_key"], row["author_key"]))
    return distribution([r["mood"] for r in named] + [r["mood"] for r in anonymous]), len(people)
