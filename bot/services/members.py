"""What the bot knows about reaching a member: closed DMs."""

from __future__ import annotations

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
