"""Members' side of meetings: RSVP buttons, /rsvp, /meetings, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services import meetings as meetings_service
from tests.cogs.meeting_helpers import announcement, make_meeting

TUE_19 = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)
KEY = int(TUE_19.timestamp())


async def test_the_going_button_records_the_next_date_and_offers_the_whole_series(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    reply = await discord_double.click(announcement(discord_double, world), "Going", user=world.alice)
    assert reply.ephemeral and "You're going to **Evening circle**" in reply.text
    assert await meetings_service.rsvp_statuses(running.bot.db, meeting.id, world.alice.id, [KEY]) == {KEY: "going"}
    series = await discord_double.click(reply, "Every time: Going", user=world.alice)
    assert "every time" in series.text
    later = KEY + 7 * 86400
    assert (await meetings_service.rsvp_statuses(running.bot.db, meeting.id, world.alice.id, [later]))[later] == "going"


async def test_changing_ones_mind_replaces_the_answer(running, discord_double, world):
    _, _meeting = await make_meeting(discord_double, world, running)
    await discord_double.click(announcement(discord_double, world), "Going", user=world.alice)
    reply = await discord_double.click(announcement(discord_double, world), "Can't make it", user=world.alice)
    assert "You can't make **Evening circle**" in reply.text
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM rsvps") == 1


async def test_rsvp_command_for_a_date_and_for_the_series(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    choices = await discord_double.autocomplete("rsvp", user=world.bob, focused="meeting", value="even", status="going")
    assert choices[0]["value"] == f"{meeting.id}@{KEY}"
    reply = await discord_double.slash("rsvp", user=world.bob, meeting=choices[1]["value"], status="maybe")
    assert "You might come to **Evening circle**" in reply.text
    reply = await discord_double.slash("rsvp", user=world.bob, meeting=str(meeting.id), status="going", scope="series")
    assert "every time" in reply.text


async def test_rsvp_to_a_past_meeting_is_refused_kindly(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    clock.set(TUE_19 + timedelta(hours=2))
    reply = await discord_double.slash("rsvp", user=world.bob, meeting=f"{meeting.id}@{KEY}", status="going")
    assert "already happened" in reply.text
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM rsvps") == 0


async def test_meetings_lists_the_next_two_weeks_with_my_answer_and_working_buttons(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("group join", user=world.carol, group="Tuesday Circle")
    await discord_double.click(announcement(discord_double, world), "Maybe", user=world.carol)
    reply = await discord_double.slash("meetings", user=world.carol)
    assert reply.ephemeral
    assert reply.text.count("Evening circle") == 2  # 3 and 10 November
    assert "you: **Maybe**" in reply.text
    clicked = await discord_double.click(reply, "2 · Going", user=world.carol)
    later = KEY + 7 * 86400
    assert f"<t:{later}:F>" in clicked.text
    assert (await meetings_service.rsvp_statuses(running.bot.db, meeting.id, world.carol.id, [later]))[later] == "going"


async def test_rsvp_buttons_keep_working_after_a_restart(running, discord_double, world):
    _, _meeting = await make_meeting(discord_double, world, running)
    post = announcement(discord_double, world)
    await running.restart()
    reply = await discord_double.click(post, "Going", user=world.dan)
    assert "You're going to **Evening circle**" in reply.text


async def test_a_start_missed_while_the_bot_was_down_is_not_announced_late(running, discord_double, world, clock):
    await make_meeting(discord_double, world, running)
    await running.stop()
    clock.set(TUE_19 + timedelta(minutes=30))
    await running.start()
    await running.bot.scheduler.idle()
    await discord_double.settle(0.2)
    assert not any("starting now" in str(m["embeds"]) for m in discord_double.messages_in(world.meetings))
    assert "meeting:1:start" in running.bot.scheduler.pending()


async def test_group_list_shows_each_groups_next_meetings(running, discord_double, world):
    await make_meeting(discord_double, world, running)
    listing = await discord_double.slash("group list", user=world.erin)
    assert f"Evening circle: <t:{KEY}:F>" in listing.text
