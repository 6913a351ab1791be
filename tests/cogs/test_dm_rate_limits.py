"""A reminder DM outlasts a busy global rate limit: discord.py's five tries are not the end of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cogs.meeting_helpers import make_meeting

TUE_19 = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)


async def test_a_reminder_rate_limited_past_discord_pys_retries_still_arrives_once(
    running, discord_double, world, clock
):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1h")
    # Seven 429s in a row: discord.py retries five times and raises; send_dm waits and sends again.
    discord_double.rate_limit("/channels/*/messages", times=7, retry_after=0.01, method="POST", is_global=True)
    clock.set(TUE_19 - timedelta(minutes=60))
    await running.bot.scheduler.idle()
    assert len(discord_double.dms_to(world.alice)) == 1
    statuses = await running.bot.db.fetchall("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
    assert [tuple(r) for r in statuses] == [("sent", 1)]
    assert len([r for r in discord_double.requests_to("POST", "/channels/*/messages") if r.status == 429]) == 7


async def test_other_errors_are_not_retried(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1h")
    discord_double.deny("/channels/*/messages", method="POST")  # 403 50013: not a rate limit
    clock.set(TUE_19 - timedelta(minutes=60))
    await running.bot.scheduler.idle()
    assert discord_double.dms_to(world.alice) == []
    dm_posts = [r for r in discord_double.requests_to("POST", "/channels/*/messages") if r.status == 403]
    assert len(dm_posts) == 1
    statuses = await running.bot.db.fetchall("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
    assert [tuple(r) for r in statuses] == [("failed", 1)]
