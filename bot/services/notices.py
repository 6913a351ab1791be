"""Notes kept for a member until their next interaction (closed DMs, changed meetings)."""

from __future__ import annotations

from datetime import datetime

from bot.db import Database, Tx, remembered_read


def notices_key(user_id: int) -> tuple[str, int]:
    """The key, in `Database.remembered`, of whether anything waits for the member (asked after every command)."""
    return ("member_notices", user_id)


async def add_notice(tx: Tx, user_id: int, text: str, now: datetime) -> None:
    """Keep `text` for the member; the same text is kept once."""
    tx.forget(notices_key(user_id))
    await tx.execute(
        "INSERT INTO member_notices (user_id, created_at, text) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (user_id, int(now.timestamp()), text),
    )


async def has_notices(db: Database | Tx, user_id: int) -> bool:
    """Say whether anything waits for the member (a cheap check on every interaction: kept once read)."""

    async def load() -> bool:
        return bool(await db.fetchval("SELECT 1 FROM member_notices WHERE user_id = ? LIMIT 1", (user_id,)))

    return await remembered_read(db, notices_key(user_id), load)


def none_waiting(db: Database, user_id: int) -> bool:
    """Say whether the member is known, without reading, to have nothing waiting (False: read `has_notices`)."""
    return db.remembered_now(notices_key(user_id)) is False


async def take_notices(tx: Tx, user_id: int) -> list[str]:
    """Return and forget what waits for the member, oldest first."""
    tx.forget(notices_key(user_id))
    rows = await tx.fetchall("SELECT text FROM member_notices WHERE user_id = ? ORDER BY id", (user_id,))
    await tx.execute("DELETE FROM member_notices WHERE user_id = ?", (user_id,))
    return [r["text"] for r in rows]
