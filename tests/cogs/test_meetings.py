"""/meeting … through the real discord.py client and the local Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services import meetings as meetings_service
from tests.cogs.meeting_helpers import announcement, failing, make_group, make_meeting
from tests.double.payloads import MANAGE_EVENTS

TUE_19 = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)  # 19:00 in London (GMT) on Tuesday 3 November 2026


async def test_organiser_creates_a_weekly_meeting_with_announcement_and_event(running, discord_double, world):
    reply, meeting = await make_meeting(discord_double, world, running, voice_channel=world.voice, duration_minutes=90)
    assert reply.ephemeral
    assert f"<t:{int(TUE_19.timestamp())}:F>" in reply.text
    assert (meeting.start_local, meeting.timezone, meeting.repeat, meeting.duration_minutes) == (
        "2026-11-03T19:00",
        "Europe/London",
        "weekly",
        90,
    )
    post = announcement(discord_double, world)
    assert next(iter(post["components"][0]["components"]))["label"] == "Going"
    assert discord_double.messages_in(world.meetings)[-1]["components"]
    assert f"<t:{int(TUE_19.timestamp())}:R>" in post["embeds"][0]["fields"][0]["value"]
    await discord_double.wait_until(lambda: discord_double.scheduled_events)
    (event,) = discord_double.scheduled_events.values()
    assert event["entity_type"] == 2 and event["channel_id"] == str(world.voice.id)
    assert event["scheduled_start_time"].startswith("2026-11-03T19:00:00")
    assert event.get("recurrence_rule") is None


async def test_a_member_without_organiser_rights_is_refused(running, discord_double, world):
    await make_group(discord_double, world)
    reply = await discord_double.slash(
        "meeting create",
        user=world.alice,
        group="Tuesday Circle",
        title="Mine",
        start="tuesday 19:00",
        repeat="weekly",
        timezone="Europe/London",
    )
    assert reply.ephemeral and "Only this group's organisers" in reply.text
    assert await meetings_service.active_meetings(running.bot.db) == []


async def test_the_groups_organiser_role_may_schedule(running, discord_double, world):
    await make_group(discord_double, world)
    await discord_double.slash("setup organisers", user=world.maya, group="Tuesday Circle", role=world.members_role)
    world.guild.members[world.alice.id].roles.append(world.members_role.id)
    reply = await discord_double.slash(
        "meeting create",
        user=world.alice,
        group="Tuesday Circle",
        title="Peer led",
        start="wed 18:00",
        repeat="once",
        timezone="Europe/London",
    )
    assert "Scheduled **Peer led**" in reply.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": "2026-10-01 19:00"}, "already passed"),
        ({"timezone": "Mars/Base"}, "isn't a timezone I know"),
        ({"duration_minutes": 700}, "5 to 600 minutes"),
        ({"start": "2027-03-28 01:30"}, "clocks change"),
        ({"start": "whenever"}, "couldn't read"),
        ({"link": "meet.example"}, "https://"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_nothing_is_saved(running, discord_double, world, options, message):
    await make_group(discord_double, world)
    base = {"start": "tuesday 19:00", "timezone": "Europe/London"} | options
    reply = await discord_double.slash(
        "meeting create", user=world.olivia, group="Tuesday Circle", title="X", repeat="weekly", **base
    )
    assert message in reply.text
    assert await meetings_service.active_meetings(running.bot.db) == []


async def test_timezone_autocomplete_matches_cities(running, discord_double, world):
    choices = await discord_double.autocomplete(
        "meeting create",
        user=world.olivia,
        focused="timezone",
        value="lon",
        group="x",
        title="x",
        start="x",
        repeat="once",
    )
    assert choices[0]["value"] == "Europe/London"


async def test_timezone_defaults_to_the_groups_after_the_first_meeting(running, discord_double, world):
    await make_meeting(discord_double, world, running)
    reply = await discord_double.slash(
        "meeting create",
        user=world.olivia,
        group="Tuesday Circle",
        title="Second",
        start="thursday 18:00",
        repeat="once",
    )
    assert "Scheduled **Second**" in reply.text
    meetings = await meetings_service.active_meetings(running.bot.db)
    assert meetings[-1].timezone == "Europe/London"


async def test_without_manage_events_the_meeting_works_and_setup_show_says_why_no_event(running, discord_double, world):
    world.bot_role.permissions &= ~MANAGE_EVENTS
    await discord_double.update_role(world.guild, world.bot_role)
    reply, _meeting = await make_meeting(discord_double, world, running)
    assert "Scheduled **Evening circle**" in reply.text
    assert discord_double.scheduled_events == {}
    show = await discord_double.slash("setup show", user=world.maya)
    assert "Manage Events" in show.text


async def test_starting_now_post_lets_members_check_themselves_in_once(running, discord_double, world, clock):
    _, _meeting = await make_meeting(discord_double, world, running)
    clock.set(TUE_19)
    await running.bot.scheduler.idle()
    post = await discord_double.wait_until(
        lambda: next(
            (
                m
                for m in discord_double.messages_in(world.meetings)
                if "starting now" in (m["embeds"] or [{}])[0].get("title", "")
            ),
            None,
        )
    )
    here = await discord_double.click(post, "I'm here", user=world.bob)
    assert here.ephemeral and "Checked in" in here.text
    again = await discord_double.click(post, "I'm here", user=world.bob)
    assert "already checked in" in again.text
    rows = await running.bot.db.fetchall("SELECT user_id, occurrence FROM attendance")
    assert [tuple(r) for r in rows] == [(world.bob.id, int(TUE_19.timestamp()))]


async def test_attend_is_refused_outside_the_meeting_window(running, discord_double, world, clock):
    await make_meeting(discord_double, world, running)
    await discord_double.slash("group join", user=world.bob, group="Tuesday Circle")
    reply = await discord_double.slash("attend", user=world.bob)
    assert "isn't on right now" in reply.text or "No meeting of yours is on right now" in reply.text
    clock.set(TUE_19 - timedelta(minutes=10))
    reply = await discord_double.slash("attend", user=world.bob)
    assert "Checked in to **Evening circle**" in reply.text


async def test_the_event_moves_to_the_next_date_after_each_meeting(running, discord_double, world, clock):
    await make_meeting(discord_double, world, running)
    await discord_double.wait_until(lambda: discord_double.scheduled_events)
    clock.set(TUE_19 + timedelta(minutes=61))
    await running.bot.scheduler.idle()
    await discord_double.wait_until(
        lambda: any(
            e["scheduled_start_time"].startswith("2026-11-10T19:00") for e in discord_double.scheduled_events.values()
        )
    )
    assert len(discord_double.scheduled_events) == 1
    assert discord_double.deleted_events


async def test_skip_tells_members_who_said_going_and_refuses_a_non_meeting_date(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.click(announcement(discord_double, world), "Going", user=world.alice)
    await discord_double.click(announcement(discord_double, world), "Can't make it", user=world.bob)
    wrong = await discord_double.slash("meeting skip", user=world.olivia, meeting=str(meeting.id), date="2026-11-04")
    assert "doesn't meet on Wednesday 04 November 2026" in wrong.text
    reply = await discord_double.slash(
        "meeting skip", user=world.olivia, meeting=str(meeting.id), date="2026-11-03", note="Bank holiday"
    )
    assert "I let 1 member(s)" in reply.text
    (dm,) = discord_double.dms_to(world.alice)
    assert "called off" in dm["content"] and "Bank holiday" in dm["content"]
    assert discord_double.dms_to(world.bob) == []
    late = await discord_double.slash(
        "rsvp", user=world.carol, meeting=f"{meeting.id}@{int(TUE_19.timestamp())}", status="going"
    )
    assert "called off" in late.text


async def test_closed_dms_on_skip_become_a_note_at_the_next_command(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.click(announcement(discord_double, world), "Going", user=world.alice)
    discord_double.close_dms(world.alice)
    await discord_double.slash("meeting skip", user=world.olivia, meeting=str(meeting.id), date="2026-11-03")
    assert discord_double.dms_to(world.alice) == []
    assert discord_double.messages_in(world.meetings)[-1]["content"] == ""  # nothing public instead
    reply = await discord_double.slash("help", user=world.alice)
    await discord_double.wait_until(lambda: reply.followups)
    assert any("wouldn't let me" in f["content"] for f in reply.followups)
    assert all(f["flags"] & 64 for f in reply.followups)


async def test_edit_moves_the_time_keeps_rsvps_and_tells_members(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.click(announcement(discord_double, world), "Going", user=world.alice)
    reply = await discord_double.slash(
        "meeting edit", user=world.olivia, meeting=str(meeting.id), start="tuesday 18:30"
    )
    assert "Updated **Evening circle**" in reply.text
    new_key = int(datetime(2026, 11, 3, 18, 30, tzinfo=UTC).timestamp())
    statuses = await meetings_service.rsvp_statuses(running.bot.db, meeting.id, world.alice.id, [new_key])
    assert statuses[new_key] == "going"
    assert "has changed" in discord_double.dms_to(world.alice)[-1]["content"]
    await discord_double.wait_until(
        lambda: any(
            e["scheduled_start_time"].startswith("2026-11-03T18:30") for e in discord_double.scheduled_events.values()
        )
    )


async def test_cancel_ends_the_series_removes_the_event_and_tells_members(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.wait_until(lambda: discord_double.scheduled_events)
    await discord_double.slash("rsvp", user=world.alice, meeting=str(meeting.id), status="going", scope="series")
    reply = await discord_double.slash("meeting cancel", user=world.olivia, meeting=str(meeting.id))
    assert "Ended **Evening circle**" in reply.text
    assert "won't meet any more" in discord_double.dms_to(world.alice)[-1]["content"]
    await discord_double.wait_until(lambda: not discord_double.scheduled_events)
    assert announcement(discord_double, world)["embeds"][0]["title"].startswith("Ended")


async def test_handover_and_cohosts_keep_the_meeting_going(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.click(announcement(discord_double, world), "Going", user=world.alice)
    added = await discord_double.slash(
        "meeting cohost", user=world.olivia, meeting=str(meeting.id), member=world.carol, action="add"
    )
    assert "now co-hosts" in added.text
    # A co-host may skip a date even without Manage Events.
    skip = await discord_double.slash("meeting skip", user=world.carol, meeting=str(meeting.id), date="2026-11-10")
    assert "Called off" in skip.text
    reply = await discord_double.slash(
        "meeting handover", user=world.olivia, meeting=str(meeting.id), member=world.dan, note="Olivia is stepping back"
    )
    assert "now hosts" in reply.text
    dm = discord_double.dms_to(world.alice)[-1]["content"]
    assert "carries on" in dm and "Olivia is stepping back" in dm
    assert (await meetings_service.meeting_by_id(running.bot.db, meeting.id)).organiser_id == world.dan.id


async def test_when_the_organiser_leaves_a_cohost_takes_over(running, discord_double, world):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash(
        "meeting cohost", user=world.olivia, meeting=str(meeting.id), member=world.carol, action="add"
    )
    await discord_double.member_leave(world.guild, world.olivia)

    async def owner():
        return (await meetings_service.meeting_by_id(running.bot.db, meeting.id)).organiser_id

    await discord_double.until(lambda: _is(owner(), world.carol.id))
    assert await owner() == world.carol.id


async def test_when_the_organiser_leaves_without_cohost_moderators_are_alerted(running, discord_double, world):
    await discord_double.slash("setup modlog", user=world.maya, channel=world.modlog)
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.member_leave(world.guild, world.olivia)
    alert = await discord_double.wait_until(
        lambda: next(
            (m for m in discord_double.messages_in(world.modlog) if "organiser has left" in str(m["embeds"])), None
        )
    )
    assert "Evening circle" in alert["embeds"][0]["description"]
    assert (await meetings_service.meeting_by_id(running.bot.db, meeting.id)).active


async def test_stats_show_counts_and_never_names(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.click(announcement(discord_double, world), "Going", user=world.alice)
    await discord_double.click(announcement(discord_double, world), "Maybe", user=world.bob)
    clock.set(TUE_19 + timedelta(minutes=5))
    await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    await discord_double.slash("attend", user=world.alice)
    reply = await discord_double.slash("meeting stats", user=world.olivia, meeting=str(meeting.id))
    assert "1 going · 1 maybe · 1 checked in" in reply.text
    for person in (world.alice, world.bob):
        assert str(person.id) not in reply.text and person.name not in reply.text
    refused = await discord_double.slash("meeting stats", user=world.bob, meeting=str(meeting.id))
    assert "Only this group's organisers" in refused.text


async def _is(awaitable, expected):
    return await awaitable == expected


async def test_planning_exactly_at_a_meetings_end_still_schedules_the_next_start(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    await running.stop()
    clock.set(TUE_19 + timedelta(minutes=60))  # the bot comes back exactly as the first meeting ends
    await running.start()
    await discord_double.until(lambda: _has_start_job(running))
    assert running.bot.scheduler.pending()[f"meeting:{meeting.id}:start"] == TUE_19 + timedelta(days=7)


async def _has_start_job(running):
    return any(k.endswith(":start") for k in running.bot.scheduler.pending())


async def test_the_servers_time_zone_is_the_default_for_a_new_group(running, discord_double, world):
    set_zone = await discord_double.slash("setup timezone", user=world.maya, zone="America/New_York")
    assert "America/New_York" in set_zone.text
    await make_group(discord_double, world)
    reply = await discord_double.slash(
        "meeting create",
        user=world.olivia,
        group="Tuesday Circle",
        title="Circle",
        start="tuesday 19:00",
        repeat="weekly",
    )
    assert "Scheduled **Circle**" in reply.text
    (meeting,) = await meetings_service.active_meetings(running.bot.db)
    assert meeting.timezone == "America/New_York"


async def test_a_meeting_edited_while_the_bot_rebuilds_its_timers_keeps_the_new_time(
    running, discord_double, world, monkeypatch
):
    # At start every meeting is planned from one read of the database. An organiser who moves a meeting meanwhile
    # has it planned on its own; the older read must not put its 'starting now' back at the old time.
    from cogs import schedule as schedule_cog

    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1h")
    skipped_keys = schedule_cog.svc.skipped_keys
    edited = []

    async def read_then_the_organiser_acts(*args, **kwargs):
        skipped = await skipped_keys(*args, **kwargs)
        if not edited:  # once: the edit plans the meeting, which reads this too
            edited.append(True)
            await discord_double.slash(
                "meeting edit", user=world.olivia, meeting=str(meeting.id), start="tuesday 18:30"
            )
        return skipped

    monkeypatch.setattr(schedule_cog.svc, "skipped_keys", read_then_the_organiser_acts)
    await running.bot.get_cog("Schedule").rebuild()
    pending = running.bot.scheduler.pending()
    assert pending[f"meeting:{meeting.id}:start"] == datetime(2026, 11, 3, 18, 30, tzinfo=UTC)
    assert pending[f"reminders:{meeting.id}"] == datetime(
        2026, 11, 3, 17, 30, tzinfo=UTC
    )  # an hour before the new time


async def test_a_meeting_whose_own_planning_failed_during_the_rebuild_is_still_planned_by_it(
    running, discord_double, world, monkeypatch
):
    from cogs import schedule as schedule_cog

    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1h")
    for prefix in ("meeting:", "reminders:"):  # as in a new process: no timers until the rebuild
        running.bot.scheduler.cancel_prefix(prefix)
    schedule = running.bot.get_cog("Schedule")
    skipped_keys = schedule_cog.svc.skipped_keys
    tried = []

    async def read_then_a_plan_fails(*args, **kwargs):
        skipped = await skipped_keys(*args, **kwargs)
        if not tried:  # an organiser's change comes in, and planning it fails
            tried.append(True)
            with failing(monkeypatch, schedule_cog.groups_service, "get_group"), pytest.raises(RuntimeError):
                await schedule.plan(meeting.id)
        return skipped

    monkeypatch.setattr(schedule_cog.svc, "skipped_keys", read_then_a_plan_fails)
    await schedule.rebuild()
    pending = running.bot.scheduler.pending()
    assert pending[f"meeting:{meeting.id}:start"] == TUE_19
    assert pending[f"reminders:{meeting.id}"] == TUE_19 - timedelta(hours=1)


async def test_an_edit_while_the_rebuild_updates_the_discord_event_leaves_one_event_at_the_new_time(
    running, discord_double, world
):
    import asyncio

    _, meeting = await make_meeting(discord_double, world, running)
    async with running.bot.db.transaction() as tx:  # the event is out of date (say the bot was down a week)
        await tx.execute("UPDATE meetings SET event_occurrence = 1 WHERE id = ?", (meeting.id,))
    discord_double.slow_down("/guilds/*/scheduled-events*", 0.2)
    events = len(discord_double.requests_to("POST", "/guilds/*/scheduled-events"))
    rebuilding = asyncio.create_task(running.bot.get_cog("Schedule").rebuild())
    await discord_double.wait_until(lambda: discord_double.requests_to("GET", "/guilds/*/scheduled-events/*"))
    await discord_double.slash("meeting edit", user=world.olivia, meeting=str(meeting.id), start="tuesday 18:30")
    await rebuilding
    [event] = discord_double.scheduled_events.values()
    assert event["scheduled_start_time"].startswith("2026-11-03T18:30")
    assert await running.bot.db.fetchval("SELECT event_id FROM meetings") == int(event["id"])
    assert len(discord_double.requests_to("POST", "/guilds/*/scheduled-events")) == events + 2  # rebuild, then edit
