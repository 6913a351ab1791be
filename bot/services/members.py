"""What the bot knows about reaching a member: closed DMs, and the id of their DM channel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.db import Database, Tx
from bot.services.notices import add_notice

CLOSED_DMS_NOTICE = (
    "I tried to send you a direct message but Discord wouldn't let me, so I've paused DMs to you (nothing was "
    "posted publicly instead). To get reminders and notes again, allow direct messages from this server "
    "(Server name → Privacy Settings → Direct Messages), then run `/reminders list`."
)


async def dms_closed(db: Database | Tx, user_id: int) -> bool:
    """Say whether DMs to this member are paused because Discord refused one."""
    return bool(
        await db.fetchval("SELECT 1 FROM member_flags WHERE user_id = ? AND dms_closed_at IS NOT NULL", (user_id,))
    )


async def mark_dms_closed(tx: Tx, user_id: int, now: datetime) -> None:
    """Pause DMs to the member and keep a note for their next interaction."""
    await tx.execute(
        "INSERT INTO member_flags (user_id, dms_closed_at) VALUES (?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET dms_closed_at = excluded.dms_closed_at",
        (user_id, int(now.timestamp())),
    )
    await add_notice(tx, user_id, CLOSED_DMS_NOTICE, now)


async def clear_dms_closed(tx: Tx, user_id: int) -> bool:
    """Resume DMs to the member; return whether they were paused."""
    return (
        await tx.execute(
            "UPDATE member_flags SET dms_closed_at = NULL WHERE user_id = ? AND dms_closed_at IS NOT NULL", (user_id,)
        )
        > 0
    )


# ---------------------------------------------------------------------------------------------- DM channels
def dm_channel_key(user_id: int) -> tuple[str, int]:
    """The key of a member's DM channel id in `Database.remembered` (0: known to have none stored)."""
    return ("dm_channel", user_id)


async def dm_channel_id(db: Database, user_id: int) -> int | None:
    """Return the id of the member's DM channel with the bot, if Discord gave it before."""

    async def load() -> int:
        return await db.fetchval("SELECT dm_channel_id FROM member_flags WHERE user_id = ?", (user_id,)) or 0

    return await db.remembered(dm_channel_key(user_id), load) or None


async def load_dm_channels(db: Database, user_ids: Iterable[int]) -> None:
    """Read the DM channel ids of many members at once (before a fan-out), so each DM needs no query."""
    missing = [u for u in set(user_ids) if not db.is_remembered(dm_channel_key(u))]
    for start in range(0, len(missing), 500):
        chunk = missing[start : start + 500]
        versions = {u: db.version(dm_channel_key(u)) for u in chunk}
        rows = await db.fetchall(
            f"SELECT user_id, dm_channel_id FROM member_flags WHERE user_id IN ({', '.join('?' for _ in chunk)})",
            tuple(chunk),
        )
        found = {r["user_id"]: r["dm_channel_id"] for r in rows}
        for user_id in chunk:
            db.keep(dm_channel_key(user_id), found.get(user_id) or 0, versions[user_id])


async def remember_dm_channel(db: Database, user_id: int, channel_id: int | None) -> None:
    """Store (or, with None, drop) the id of the member's DM channel.

    Only for a member the bot still holds something about (groups, reminders, a buddy profile, a request
    for help): a DM in flight while the member erases their data must not leave a row about them behind.
    """
    db.forget(dm_channel_key(user_id))
    await db.write(
        "INSERT INTO member_flags (user_id, dm_channel_id) SELECT ?, ?"
        " WHERE EXISTS (SELECT 1 FROM memberships WHERE user_id = ?)"
        " OR EXISTS (SELECT 1 FROM reminders WHERE user_id = ?)"
        " OR EXISTS (SELECT 1 FROM buddy_profiles WHERE user_id = ?)"
        " OR EXISTS (SELECT 1 FROM escalations WHERE user_id = ?)"
        " OR EXISTS (SELECT 1 FROM member_flags WHERE user_id = ?)"
        " ON CONFLICT (user_id) DO UPDATE SET dm_channel_id = excluded.dm_channel_id",
        (user_id, channel_id, user_id, user_id, user_id, user_id, user_id),
    )
    db.forget(dm_channel_key(user_id))
