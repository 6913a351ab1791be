"""A member's DM channel is opened once, remembered across restarts, and opened again if it stops working."""

from __future__ import annotations

from bot.services import members as members_service
from cogs._dm import send_dm
from tests.cogs.checkin_helpers import circle


def channel_opens(discord_double):
    return discord_double.requests_to("POST", "/users/@me/channels")


async def test_the_dm_channel_is_opened_once_and_remembered_across_a_restart(running, discord_double, world):
    await circle(discord_double, world, members=("alice",))
    await send_dm(running.bot, world.alice.id, content="first")
    await send_dm(running.bot, world.alice.id, content="second")
    assert len(channel_opens(discord_double)) == 1
    stored = await running.bot.db.fetchval(
        "SELECT dm_channel_id FROM member_flags WHERE user_id = ?", (world.alice.id,)
    )
    assert stored == discord_double.dm_channel(world.alice).id

    await running.restart()  # a new process: discord.py's own cache of DM channels is empty
    await send_dm(running.bot, world.alice.id, content="third")
    assert len(channel_opens(discord_double)) == 1  # the stored id was enough: one request for the DM
    assert [m["content"] for m in discord_double.dms_to(world.alice)] == ["first", "second", "third"]


async def test_a_stored_channel_that_no_longer_works_is_opened_again(running, discord_double, world):
    await circle(discord_double, world, members=("bob",))
    await members_service.remember_dm_channel(running.bot.db, world.bob.id, 4242)  # a channel Discord doesn't know
    sent = await send_dm(running.bot, world.bob.id, content="still reaches you")
    assert sent is not None
    assert [m["content"] for m in discord_double.dms_to(world.bob)] == ["still reaches you"]
    stored = await running.bot.db.fetchval("SELECT dm_channel_id FROM member_flags WHERE user_id = ?", (world.bob.id,))
    assert stored == discord_double.dm_channel(world.bob).id


async def test_erasing_a_member_forgets_their_dm_channel(running, discord_double, world):
    await circle(discord_double, world, members=("carol",))
    await send_dm(running.bot, world.carol.id, content="hello")
    assert await members_service.dm_channel_id(running.bot.db, world.carol.id) is not None
    from bot.services import privacy

    async with running.bot.db.transaction() as tx:
        await privacy.erase(tx, world.carol.id, running.bot.anon_secret)
    assert await members_service.dm_channel_id(running.bot.db, world.carol.id) is None
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM member_flags WHERE user_id = ?", (world.carol.id,)) == 0


async def test_nothing_is_stored_about_someone_the_bot_holds_nothing_about(running, discord_double, world):
    # Say a DM still in flight when the member erased everything: it must not leave a row about them.
    assert await send_dm(running.bot, world.dan.id, content="hello") is not None
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM member_flags WHERE user_id = ?", (world.dan.id,)) == 0
    assert await members_service.dm_channel_id(running.bot.db, world.dan.id) is None


async def test_setting_a_reminder_opens_the_dm_channel_ahead_so_the_reminder_is_one_request(
    running, discord_double, world, clock
):
    from datetime import UTC, datetime

    from tests.cogs.meeting_helpers import make_meeting

    _, meeting = await make_meeting(discord_double, world, running)
    reply = await discord_double.slash("reminders set", user=world.erin, meeting=str(meeting.id), before="1h")
    assert "Done" in reply.text
    await discord_double.wait_until(lambda: channel_opens(discord_double))
    assert discord_double.dms_to(world.erin) == []  # opened, nothing sent
    opened = len(channel_opens(discord_double))
    clock.set(datetime(2026, 11, 3, 18, 0, tzinfo=UTC))  # an hour before Tuesday 19:00 in London
    await running.bot.scheduler.idle()
    assert len(discord_double.dms_to(world.erin)) == 1
    assert len(channel_opens(discord_double)) == opened  # the reminder itself was a single request
