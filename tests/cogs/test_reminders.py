"""/reminders and the reminder DMs, end to end through the local Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services import reminders as reminders_service
from tests.cogs.meeting_helpers import announcement, failing, make_meeting

TUE_19 = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)
KEY = int(TUE_19.timestamp())


async def setup_reminder(discord_double, world, running, before="1h", user=None):
    _, meeting = await make_meeting(discord_double, world, running)
    reply = await discord_double.slash(
        "reminders set", user=user or world.alice, meeting=str(meeting.id), before=before
    )
    return meeting, reply


async def advance(running, clock, to):
    clock.set(to)
    await running.bot.scheduler.idle()


async def test_set_list_and_clear_are_the_members_own(running, discord_double, world):
    meeting, reply = await setup_reminder(discord_double, world, running, before="1d, 1h")
    assert reply.ephemeral and "1 day and 1 hour before **Evening circle**" in reply.text
    listing = await discord_double.slash("reminders list", user=world.alice)
    assert "Evening circle: 1 day and 1 hour before" in listing.text
    assert "None" in (await discord_double.slash("reminders list", user=world.bob)).text
    cleared = await discord_double.slash("reminders clear", user=world.alice, meeting=str(meeting.id))
    assert "Cleared" in cleared.text
    assert await reminders_service.list_reminders(running.bot.db, world.alice.id) == []


@pytest.mark.parametrize("before", ["0m", "45d", "soon"])
async def test_bad_lead_times_get_a_clear_error_and_nothing_is_saved(running, discord_double, world, before):
    _, reply = await setup_reminder(discord_double, world, running, before=before)
    assert reply.ephemeral and (
        "5 minutes" in reply.text or "14 days" in reply.text or "couldn't" in reply.text.lower()
    )
    assert await reminders_service.list_reminders(running.bot.db, world.alice.id) == []


async def test_no_command_lets_anyone_set_reminders_for_someone_else(running, discord_double):
    reminders = next(c for c in discord_double.commands[None] if c["name"] == "reminders")
    for sub in reminders["options"]:
        assert all(o["type"] not in (6, 9) for o in sub.get("options", [])), sub["name"]


async def test_the_reminder_dm_arrives_on_time_with_rsvp_and_stop_buttons(running, discord_double, world, clock):
    await setup_reminder(discord_double, world, running)
    await advance(running, clock, TUE_19 - timedelta(minutes=61))
    assert discord_double.dms_to(world.alice) == []
    await advance(running, clock, TUE_19 - timedelta(minutes=60))
    (dm,) = await discord_double.wait_until(lambda: discord_double.dms_to(world.alice))
    embed = dm["embeds"][0]
    assert embed["title"] == "Reminder: Evening circle"
    assert f"<t:{KEY}:F>" in embed["fields"][0]["value"] and f"<t:{KEY}:R>" in embed["fields"][0]["value"]
    assert "You asked me to remind you 1 hour before" in embed["footer"]["text"]
    from tests.double.driver import button_labels

    assert button_labels(dm) == ["Going", "Maybe", "Can't make it", "Stop these"]
    going = await discord_double.click(dm, "Going", user=world.alice)
    assert "You're going to **Evening circle**" in going.text
    stop = await discord_double.click(dm, "Stop these", user=world.alice)
    assert "Stopped your reminders" in stop.text
    assert discord_double.dms_to(world.bob) == []  # nobody who did not ask gets anything


async def test_no_reminder_for_a_date_the_member_cannot_make_or_that_was_skipped(running, discord_double, world, clock):
    meeting, _ = await setup_reminder(discord_double, world, running)
    await discord_double.slash("reminders set", user=world.bob, meeting=str(meeting.id), before="1h")
    await discord_double.click(announcement(discord_double, world), "Can't make it", user=world.alice)
    await discord_double.slash("meeting skip", user=world.olivia, meeting=str(meeting.id), date="2026-11-10")
    await advance(running, clock, TUE_19 - timedelta(minutes=59))
    assert discord_double.dms_to(world.alice) == []
    assert len(discord_double.dms_to(world.bob)) == 1
    await advance(running, clock, TUE_19 + timedelta(days=7) - timedelta(minutes=59))
    assert [d["embeds"][0]["title"] for d in discord_double.dms_to(world.bob)][-1] == "Reminder: Evening circle"
    assert len(discord_double.dms_to(world.bob)) == 1  # the 10th was skipped


async def test_quiet_hours_hold_a_reminder_until_they_end_or_drop_it(running, discord_double, world, clock):
    meeting, _ = await setup_reminder(discord_double, world, running, before="1d")
    await discord_double.slash("reminders set", user=world.bob, meeting=str(meeting.id), before="1h")
    # alice: due Mon 19:00 UTC, quiet 18:00-21:00 London -> sent at 21:00, before the meeting
    quiet = await discord_double.slash(
        "reminders quiet", user=world.alice, start="18:00", end="21:00", timezone="Europe/London"
    )
    assert "No DMs from 18:00 to 21:00" in quiet.text
    # bob: due Tue 18:00 UTC, quiet 17:00-23:00 -> would wait past the start -> dropped
    await discord_double.slash("reminders quiet", user=world.bob, start="17:00", end="23:00", timezone="Europe/London")
    await advance(running, clock, datetime(2026, 11, 2, 19, 30, tzinfo=UTC))
    assert discord_double.dms_to(world.alice) == []
    await advance(running, clock, datetime(2026, 11, 2, 21, 0, tzinfo=UTC))
    assert len(await discord_double.wait_until(lambda: discord_double.dms_to(world.alice))) == 1
    await advance(running, clock, TUE_19 + timedelta(hours=2))
    assert discord_double.dms_to(world.bob) == []


async def test_closed_dms_pause_reminders_without_any_public_post(running, discord_double, world, clock):
    await setup_reminder(discord_double, world, running)
    discord_double.close_dms(world.alice)
    before = {c: len(discord_double.messages_in(c)) for c in world.guild.channels}
    await advance(running, clock, TUE_19 - timedelta(minutes=60))
    await discord_double.wait_until(lambda: running.bot.db and True)
    assert discord_double.dms_to(world.alice) == []
    assert {c: len(discord_double.messages_in(c)) for c in world.guild.channels} == before
    status = await running.bot.db.fetchval("SELECT status FROM deliveries WHERE user_id = ?", (world.alice.id,))
    assert status == "dropped"
    listing = await discord_double.slash("reminders list", user=world.alice)
    await discord_double.wait_until(lambda: listing.followups)
    assert "wouldn't let me" in listing.followups[0]["content"] and listing.followups[0]["flags"] & 64
    assert "DMs paused" in listing.text
    discord_double.open_dms(world.alice)
    reopened = await discord_double.click(listing, "I've opened my DMs", user=world.alice)
    assert "reminders are back on" in reopened.text
    assert (
        await running.bot.db.fetchval("SELECT dms_closed_at FROM member_flags WHERE user_id = ?", (world.alice.id,))
        is None
    )


async def test_a_reminder_missed_while_down_is_sent_at_start_only_if_still_useful(
    running, discord_double, world, clock
):
    await setup_reminder(discord_double, world, running)
    await discord_double.slash("reminders set", user=world.bob, meeting="1", before="2h")
    await running.stop()
    clock.set(TUE_19 - timedelta(minutes=30))  # alice's 1h and bob's 2h were both missed
    await running.start()
    await discord_double.wait_until(lambda: discord_double.dms_to(world.alice) and discord_double.dms_to(world.bob))
    await running.stop()
    clock.set(TUE_19 + timedelta(days=7, minutes=5))  # the next one has begun: too late for both
    await running.start()
    await running.bot.scheduler.idle()
    await discord_double.settle(0.2)
    assert len(discord_double.dms_to(world.alice)) == 1 and len(discord_double.dms_to(world.bob)) == 1


async def test_a_restart_in_the_middle_of_a_fan_out_neither_duplicates_nor_loses(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    people = [discord_double.add_user(f"member{i}") for i in range(24)]
    for person in people:
        discord_double.add_member(world.guild, person)
    await running.restart()  # the bot learns the new members
    for person in people:
        await discord_double.slash("reminders set", user=person, meeting=str(meeting.id), before="1h")
    discord_double.faults.global_rps = 15  # slow enough to stop the bot half-way
    clock.set(TUE_19 - timedelta(minutes=60))
    await discord_double.wait_until(lambda: sum(bool(discord_double.dms_to(p)) for p in people) >= 3, timeout=10)
    await running.stop()
    sent_before = sum(bool(discord_double.dms_to(p)) for p in people)
    assert sent_before < len(people), "the fan-out finished before the restart; slow the double down"
    await running.start()
    await discord_double.wait_until(lambda: all(discord_double.dms_to(p) for p in people), timeout=20)
    assert [len(discord_double.dms_to(p)) for p in people] == [1] * len(people)
    for _ in range(100):
        statuses = await running.bot.db.fetchall("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
        if [tuple(r) for r in statuses] == [("sent", len(people))]:
            break
        await discord_double.settle(0.05)
    assert [tuple(r) for r in statuses] == [("sent", len(people))]


async def test_two_bot_processes_on_one_database_send_each_reminder_once(running, discord_double, world, clock):
    from tests.double.harness import start_bot, stop_bot

    await setup_reminder(discord_double, world, running)
    second = await start_bot(discord_double, running.settings, clock)
    try:
        await advance(running, clock, TUE_19 - timedelta(minutes=60))
        await second.scheduler.idle()
        await discord_double.wait_until(lambda: discord_double.dms_to(world.alice))
        await discord_double.settle(0.3)
        assert len(discord_double.dms_to(world.alice)) == 1
    finally:
        await stop_bot(second)


async def test_suggestion_after_joining_sets_a_reminder_or_is_never_asked_again(running, discord_double, world):
    await make_meeting(discord_double, world, running)
    joined = await discord_double.slash("group join", user=world.carol, group="Tuesday Circle")
    chosen = await discord_double.click(joined, "Remind me 1 hour before", user=world.carol)
    assert "1 hour before every Tuesday Circle meeting" in chosen.text
    (reminder,) = await reminders_service.list_reminders(running.bot.db, world.carol.id)
    assert reminder.group_id is not None and reminder.lead_minutes == 60

    joined = await discord_double.slash("group join", user=world.dan, group="Tuesday Circle")
    declined = await discord_double.click(joined, "No thanks", user=world.dan)
    assert "won't ask again" in declined.text
    going = await discord_double.click(announcement(discord_double, world), "Going", user=world.dan)
    assert "remind you" not in going.text.lower()


async def test_going_without_reminders_gets_one_suggestion_only(running, discord_double, world):
    await make_meeting(discord_double, world, running)
    first = await discord_double.click(announcement(discord_double, world), "Going", user=world.erin)
    assert "Want me to remind you before it?" in first.text
    assert "1 day before" in first.buttons
    again = await discord_double.click(announcement(discord_double, world), "Going", user=world.erin)
    assert "Want me to remind you" not in again.text


async def test_style_off_means_nothing_is_sent(running, discord_double, world, clock):
    await setup_reminder(discord_double, world, running)
    reply = await discord_double.slash("reminders style", user=world.alice, style="off")
    assert "no reminders and no notes" in reply.text
    await advance(running, clock, TUE_19 + timedelta(minutes=5))
    assert discord_double.dms_to(world.alice) == []


async def test_buddy_alert_is_off_by_default_and_consent_is_explicit(running, discord_double, world):
    assert (await reminders_service.get_prefs(running.bot.db, world.alice.id)).buddy_alert == 0
    reply = await discord_double.slash("reminders buddy-alert", user=world.alice, setting="on")
    assert "Nothing else is shared" in reply.text
    assert (await reminders_service.get_prefs(running.bot.db, world.alice.id)).buddy_alert == 1


async def test_a_reminder_planned_just_before_the_member_erased_everything_is_never_sent(
    running, discord_double, world, clock
):
    from bot.services import meetings as meetings_service
    from bot.services import privacy

    meeting, _ = await setup_reminder(discord_double, world, running)
    await setup_reminder(discord_double, world, running, user=world.bob)
    await advance(running, clock, TUE_19 - timedelta(minutes=61))  # the bot's own timer stays a minute away
    fresh = await meetings_service.meeting_by_id(running.bot.db, meeting.id)
    at = TUE_19 - timedelta(minutes=60)
    due, _ = await reminders_service.plan_meeting(running.bot.db, fresh, at)  # the plan is read first…
    assert {d.user_id for d in due} == {world.alice.id, world.bob.id}
    async with running.bot.db.transaction() as tx:  # …then Alice erases everything before the claim
        await privacy.erase(tx, world.alice.id, running.bot.anon_secret)
    await running.bot.get_cog("Nudges").deliver(due)
    assert discord_double.dms_to(world.alice) == []
    assert len(discord_double.dms_to(world.bob)) == 1
    rows = await running.bot.db.fetchall("SELECT user_id FROM deliveries")
    assert [r["user_id"] for r in rows] == [world.bob.id]  # no ledger row about someone who erased


async def test_a_reminder_set_while_the_plans_are_rebuilt_at_start_keeps_its_timer(
    running, discord_double, world, monkeypatch
):
    # At start every meeting's reminders are planned from one read of the database. A member who sets a reminder
    # meanwhile has it planned on its own; the older plan must not put the timer back where it was.
    from bot.services import meetings as meetings_service
    from cogs import nudges as nudges_cog

    meeting, _ = await setup_reminder(discord_double, world, running, before="1h")
    plan_all = nudges_cog.svc.plan_meetings

    async def read_then_the_member_acts(*args, **kwargs):
        plans = await plan_all(*args, **kwargs)
        await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1d")
        return plans

    monkeypatch.setattr(nudges_cog.svc, "plan_meetings", read_then_the_member_acts)
    skipped = await meetings_service.skipped_keys(running.bot.db, [meeting.id])
    await running.bot.get_cog("Nudges").plan_meetings([meeting], skipped)
    assert running.bot.scheduler.pending()[f"reminders:{meeting.id}"] == TUE_19 - timedelta(days=1)


async def test_a_meeting_whose_own_reminder_planning_failed_meanwhile_is_still_planned_at_start(
    running, discord_double, world, monkeypatch
):
    from bot.services import meetings as meetings_service
    from cogs import nudges as nudges_cog

    meeting, _ = await setup_reminder(discord_double, world, running, before="1h")
    running.bot.scheduler.cancel_prefix("reminders:")  # as in a new process: no timers until the plans
    nudges = running.bot.get_cog("Nudges")
    plan_all = nudges_cog.svc.plan_meetings

    async def read_then_a_plan_fails(*args, **kwargs):
        plans = await plan_all(*args, **kwargs)
        with failing(monkeypatch, nudges_cog.svc, "plan_meeting"), pytest.raises(RuntimeError):
            await nudges.plan_meeting(meeting.id)
        return plans

    monkeypatch.setattr(nudges_cog.svc, "plan_meetings", read_then_a_plan_fails)
    skipped = await meetings_service.skipped_keys(running.bot.db, [meeting.id])
    await nudges.plan_meetings([meeting], skipped)
    assert running.bot.scheduler.pending()[f"reminders:{meeting.id}"] == TUE_19 - timedelta(hours=1)


async def test_changing_not_going_back_to_going_brings_that_dates_reminder_back_on_time(
    running, discord_double, world, clock
):
    meeting, _ = await setup_reminder(discord_double, world, running, before="1h")
    on_tuesday = f"{meeting.id}@{KEY}"
    await discord_double.slash("rsvp", user=world.alice, meeting=on_tuesday, status="not_going")
    await running.restart()  # planned afresh (a restart, or anyone's change): Tuesday's reminder is not wanted
    await running.bot.get_cog("Schedule")._rebuild
    assert running.bot.scheduler.pending()[f"reminders:{meeting.id}"] == TUE_19 + timedelta(days=7, hours=-1)
    await discord_double.slash("rsvp", user=world.alice, meeting=on_tuesday, status="going")
    await advance(running, clock, TUE_19 - timedelta(minutes=60))
    (dm,) = await discord_double.wait_until(lambda: discord_double.dms_to(world.alice))
    assert "Evening circle" in dm["embeds"][0]["title"]
