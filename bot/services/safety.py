"""Safety: the consent-based escalation ladder, blocks of anonymous authors, and reports of anonymous posts."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from bot.db import Database, Tx
from bot.errors import UserError

BLOCK_MAX_DAYS = 365


@dataclass(frozen=True)
class Escalation:
    """A member's request for a person to reach out, and how far up the ladder it went."""

    id: int
    guild_id: int
    user_id: int
    status: str
    created_at: int
    escalate_at: int
    escalated_at: int | None
    helper_user_id: int | None
    claimed_at: int | None
    channel_id: int | None
    message_id: int | None


_ESCALATION_COLUMNS = ", ".join(f.name for f in fields(Escalation))


def _escalation(row: Any) -> Escalation:
    return Escalation(**{f.name: row[f.name] for f in fields(Escalation)})


def _ts(at: datetime) -> int:
    return int(at.timestamp())


# ---------------------------------------------------------------------------------------------- escalations
async def get_escalation(db: Database | Tx, escalation_id: int) -> Escalation | None:
    """Return an escalation by id."""
    row = await db.fetchone(f"SELECT {_ESCALATION_COLUMNS} FROM escalations WHERE id = ?", (escalation_id,))
    return _escalation(row) if row is not None else None


async def open_escalation(
    tx: Tx, *, guild_id: int, user_id: int, now: datetime, escalate_after: timedelta
) -> tuple[Escalation, bool]:
    """Open a request for the member, or return the one still open; the flag says whether it is new."""
    row = await tx.fetchone(
        f"SELECT {_ESCALATION_COLUMNS} FROM escalations WHERE user_id = ? AND guild_id = ? AND status = 'open'",
        (user_id, guild_id),
    )
    if row is not None:
        return _escalation(row), False
    escalation_id = await tx.insert(
        "INSERT INTO escalations (guild_id, user_id, created_at, escalate_at) VALUES (?, ?, ?, ?)",
        (guild_id, user_id, _ts(now), _ts(now + escalate_after)),
    )
    return await get_escalation(tx, escalation_id), True  # type: ignore[return-value]


async def set_escalation_message(tx: Tx, escalation_id: int, channel_id: int, message_id: int) -> None:
    """Remember the mod-log message that carries the request."""
    await tx.execute(
        "UPDATE escalations SET channel_id = ?, message_id = ? WHERE id = ?", (channel_id, message_id, escalation_id)
    )


async def cancel_escalation(tx: Tx, escalation_id: int) -> bool:
    """Close an open request that could not be delivered; return whether it was open."""
    return (
        await tx.execute(
            "UPDATE escalations SET status = 'cancelled' WHERE id = ? AND status = 'open'", (escalation_id,)
        )
        > 0
    )


async def withdraw_escalation(tx: Tx, escalation_id: int, user_id: int) -> bool:
    """The member who asked takes the request back while nobody has picked it up; return whether it was open."""
    changed = await tx.execute(
        "UPDATE escalations SET status = 'cancelled' WHERE id = ? AND user_id = ? AND status = 'open'",
        (escalation_id, user_id),
    )
    return changed > 0


async def claim_escalation(tx: Tx, escalation_id: int, helper_user_id: int, now: datetime) -> Escalation:
    """Let one helper take the request; a second helper is told who already has it."""
    changed = await tx.execute(
        "UPDATE escalations SET status = 'claimed', helper_user_id = ?, claimed_at = ?"
        " WHERE id = ? AND status = 'open'",
        (helper_user_id, _ts(now), escalation_id),
    )
    escalation = await get_escalation(tx, escalation_id)
    if escalation is None:
        raise UserError("I can't find that request any more.")
    if not changed:
        if escalation.status == "claimed":
            who = "You're" if escalation.helper_user_id == helper_user_id else f"<@{escalation.helper_user_id}> is"
            raise UserError(f"{who} already on it. Thank you for looking out.")
        raise UserError("That request was closed, so there's nothing to pick up.")
    return escalation


async def escalate_if_unclaimed(tx: Tx, escalation_id: int, now: datetime) -> Escalation | None:
    """Mark an unclaimed request as escalated to the moderators, once; None when claimed or already done."""
    changed = await tx.execute(
        "UPDATE escalations SET escalated_at = ? WHERE id = ? AND status = 'open' AND escalated_at IS NULL",
        (_ts(now), escalation_id),
    )
    return await get_escalation(tx, escalation_id) if changed else None


async def waiting_escalations(db: Database | Tx) -> list[Escalation]:
    """Return open requests that have not reached the moderators yet (their timers are rebuilt at start)."""
    rows = await db.fetchall(
        f"SELECT {_ESCALATION_COLUMNS} FROM escalations WHERE status = 'open' AND escalated_at IS NULL"
        " ORDER BY escalate_at"
    )
    return [_escalation(r) for r in rows]


# ---------------------------------------------------------------------------------------------- blocks
def block_days(text: str) -> int:
    """Parse a moderator's "how many days" (0 lifts a block)."""
    cleaned = (text or "").strip()
    if not cleaned.isdigit() or int(cleaned) > BLOCK_MAX_DAYS:
        raise UserError(f"Days is a whole number from 0 (lift a block) to {BLOCK_MAX_DAYS}.")
    return int(cleaned)


async def block_author(
    tx: Tx, *, guild_id: int, author_key: str, alias: str, days: int, now: datetime
) -> datetime | None:
    """Block an anonymous author from posting for `days` (0 lifts it); return until when, or None if lifted."""
    if days == 0:
        await tx.execute("DELETE FROM anon_blocks WHERE guild_id = ? AND author_key = ?", (guild_id, author_key))
        return None
    until = now + timedelta(days=days)
    await tx.execute(
        "INSERT INTO anon_blocks (guild_id, author_key, alias, blocked_until, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (guild_id, author_key) DO UPDATE SET alias = excluded.alias,"
        " blocked_until = excluded.blocked_until, created_at = excluded.created_at",
        (guild_id, author_key, alias, _ts(until), _ts(now)),
    )
    return until


async def blocked_until(db: Database | Tx, guild_id: int, author_key: str, now: datetime) -> int | None:
    """Return until when an author is blocked from anonymous posts here (epoch seconds), or None."""
    return await db.fetchval(
        "SELECT blocked_until FROM anon_blocks WHERE guild_id = ? AND author_key = ? AND blocked_until > ?",
        (guild_id, author_key, _ts(now)),
    )


# ---------------------------------------------------------------------------------------------- reports
async def record_report(tx: Tx, post_id: int, reporter_key: str, now: datetime) -> bool:
    """Count a report of an anonymous post; False when this reporter already reported it."""
    added = await tx.execute(
        "INSERT INTO anon_reports (post_id, reporter_key, reported_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (post_id, reporter_key, _ts(now)),
    )
    if added:
        await tx.execute("UPDATE anon_posts SET reports = reports + 1 WHERE id = ?", (post_id,))
    return added > 0
