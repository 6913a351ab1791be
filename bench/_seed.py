"""Data the benchmarks start from, written through the real services on the real migrations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from bot.db import Database
from bot.services import groups as groups_service
from bot.services import meetings as meetings_service
from bot.services import reminders as reminders_service


async def open_database(path: Path) -> Database:
    """Open (creating) a database and apply the migrations."""
    db = Database(path)
    await db.connect()
    await db.migrate()
    return db


async def group_with_meetings(
    path: Path,
    *,
    guild_id: int,
    channel_id: int,
    organiser_id: int,
    members: Sequence[int],
    now: datetime,
    meetings: int = 4,
    reminder_lead: timedelta | None = None,
) -> tuple[int, list[int]]:
    """Create a group with `members`, and `meetings` weekly series on different days starting tomorrow.

    With `reminder_lead`, every member gets a reminder that long before each of the group's meetings.
    Returns the group id and the meeting ids.
    """
    db = await open_database(path)
    try:
        async with db.transaction() as tx:
            group = await groups_service.create_group(
                tx, guild_id=guild_id, name="Tuesday Circle", channel_id=channel_id, now=now
            )
            for user_id in members:
                await groups_service.join_group(tx, group, user_id, now)
            meeting_ids = []
            for index in range(meetings):
                start = (now + timedelta(days=1 + index)).replace(hour=18, minute=30, second=0, microsecond=0)
                meeting = await meetings_service.create_meeting(
                    tx,
                    guild_id=guild_id,
                    group_id=group.id,
                    title=f"Evening circle {index + 1}",
                    start_local=start.replace(tzinfo=None),
                    timezone="Europe/London",
                    repeat="weekly",
                    organiser_id=organiser_id,
                    now=now,
                    link="https://meet.example.org/circle",
                )
                meeting_ids.append(meeting.id)
            if reminder_lead is not None:
                for user_id in members:
                    await reminders_service.add_reminders(
                        tx, user_id=user_id, guild_id=guild_id, leads=[reminder_lead], now=now, group_id=group.id
                    )
    finally:
        await db.close()
    return group.id, meeting_ids


async def one_meeting_with_reminders(
    path: Path,
    *,
    guild_id: int,
    channel_id: int,
    organiser_id: int,
    members: Sequence[int],
    start_utc: datetime,
    lead: timedelta,
    now: datetime,
) -> int:
    """Create a group and one weekly meeting at `start_utc`, and give each member a reminder `lead` before it."""
    db = await open_database(path)
    try:
        async with db.transaction() as tx:
            group = await groups_service.create_group(
                tx, guild_id=guild_id, name="Big Circle", channel_id=channel_id, now=now
            )
            meeting = await meetings_service.create_meeting(
                tx,
                guild_id=guild_id,
                group_id=group.id,
                title="Big circle",
                start_local=start_utc.replace(tzinfo=None),
                timezone="UTC",
                repeat="weekly",
                organiser_id=organiser_id,
                now=now,
                link="https://meet.example.org/big",
            )
            for user_id in members:
                await groups_service.join_group(tx, group, user_id, now)
                await reminders_service.add_reminders(
                    tx, user_id=user_id, guild_id=guild_id, leads=[lead], now=now, meeting_id=meeting.id
                )
    finally:
        await db.close()
    return meeting.id
