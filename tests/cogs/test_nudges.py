"""Fading reminders and welcome-back notes over weeks of simulated meetings (fake clock, real client)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services import reminders as reminders_service
from tests.cogs.meeting_helpers import make_meeting

TUE_19 = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


async def meeting_week(running, discord_double, clock, week, attendees=()):
    """Live through one weekly occurrence: the listed members check themselves in, then it ends."""
    start = TUE_19 + week * WEEK
    for before in (timedelta(days=1), timedelta(hours=1)):  # let reminders fall due on time
        if clock.now() < start - before:
            clock.set(start - before)
            await running.bot.scheduler.idle()
    clock.set(start + timedelta(minutes=5))
    await running.bot.scheduler.idle()
    for person in attendees:
        reply = await discord_double.slash("attend", user=person)
        assert "Checked in" in reply.text
    clock.set(start + timedelta(minutes=61))
    await running.bot.scheduler.idle()
    await discord_double.settle(0.1)


def texts(discord_double, user):
    return [m["content"] for m in discord_double.dms_to(user) if m["content"]]


async def test_fading_offers_to_step_back_after_three_on_your_own_then_steps_back_after_a_week(
    running, discord_double, world, clock
):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1d, 1h")
    await discord_double.slash("reminders style", user=world.alice, style="fading")
    for week in range(2):
        await meeting_week(running, discord_double, clock, week, [world.alice])
    assert not any("made it to your last 3" in t for t in texts(discord_double, world.alice))
    await meeting_week(running, discord_double, clock, 2, [world.alice])
    offers = [m for m in discord_double.dms_to(world.alice) if "made it to your last 3" in m["content"]]
    assert len(offers) == 1
    from tests.double.driver import button_labels

    assert button_labels(offers[0]) == ["Keep them", "Fewer", "None for now"]
    # a week with no answer: one reminder only, and she is told
    clock.set(clock.now() + timedelta(days=7, minutes=1))
    await running.bot.scheduler.idle()
    await discord_double.wait_until(
        lambda: any("stepped back to one reminder" in t for t in texts(discord_double, world.alice))
    )
    prefs = await reminders_service.get_prefs(running.bot.db, world.alice.id)
    assert prefs.level == "fewer"
    reminders_before = len([m for m in discord_double.dms_to(world.alice) if m["embeds"]])
    await meeting_week(running, discord_double, clock, 4, [world.alice])
    reminders_after = len([m for m in discord_double.dms_to(world.alice) if m["embeds"]])
    assert reminders_after - reminders_before == 1  # the 1h one, not the 1d one
    # a miss she had RSVP'd to brings her own setting back
    week5 = int((TUE_19 + 5 * WEEK).timestamp())
    await discord_double.slash("rsvp", user=world.alice, meeting=f"{meeting.id}@{week5}", status="going")
    await meeting_week(running, discord_double, clock, 5, [])
    assert (await reminders_service.get_prefs(running.bot.db, world.alice.id)).level == "full"


async def test_answering_the_offer_is_respected(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1h")
    await discord_double.slash("reminders style", user=world.alice, style="fading")
    for week in range(3):
        await meeting_week(running, discord_double, clock, week, [world.alice])
    offer = next(m for m in discord_double.dms_to(world.alice) if "made it to your last 3" in m["content"])
    answer = await discord_double.click(offer, "Keep them", user=world.alice)
    assert "Keeping all your reminders" in answer.text
    clock.set(clock.now() + timedelta(days=8))
    await running.bot.scheduler.idle()
    assert (await reminders_service.get_prefs(running.bot.db, world.alice.id)).level == "full"
    assert not any("stepped back" in t for t in texts(discord_double, world.alice))


async def test_welcome_back_after_two_missed_meetings_once_and_without_counts(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("group join", user=world.bob, group="Tuesday Circle")
    await discord_double.slash("rsvp", user=world.bob, meeting=str(meeting.id), status="going", scope="series")
    for week in range(3):
        await meeting_week(running, discord_double, clock, week, [world.bob])
    await meeting_week(running, discord_double, clock, 3, [])
    assert texts(discord_double, world.bob) == []
    await meeting_week(running, discord_double, clock, 4, [])
    notes = texts(discord_double, world.bob)
    assert len(notes) == 1 and "still here whenever you want it" in notes[0]
    assert not any(ch.isdigit() for ch in notes[0])  # no counts, no guilt
    await meeting_week(running, discord_double, clock, 5, [])
    await meeting_week(running, discord_double, clock, 6, [])
    assert len(texts(discord_double, world.bob)) == 1


async def test_no_welcome_back_when_style_is_off(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("rsvp", user=world.bob, meeting=str(meeting.id), status="going", scope="series")
    await discord_double.slash("group join", user=world.bob, group="Tuesday Circle")
    await discord_double.slash("reminders style", user=world.bob, style="off")
    for week in range(3):
        await meeting_week(running, discord_double, clock, week, [world.bob])
    for week in (3, 4):
        await meeting_week(running, discord_double, clock, week, [])
    assert discord_double.dms_to(world.bob) == []


async def test_buddy_alert_with_consent_tells_the_buddy_after_two_missed_meetings(
    running, discord_double, world, clock
):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("setup group-edit", user=world.maya, group="Tuesday Circle", buddy_channel=world.buddies)
    for person in (world.alice, world.bob):
        await discord_double.slash("group join", user=person, group="Tuesday Circle")
        await discord_double.slash("buddy join", user=person, group="Tuesday Circle", role="peer")
    await discord_double.slash("buddy pair-now", user=world.maya, group="Tuesday Circle")
    await running.bot.scheduler.idle()
    await discord_double.slash("reminders buddy-alert", user=world.alice, setting="on")
    await discord_double.slash("rsvp", user=world.alice, meeting=str(meeting.id), status="going", scope="series")
    await meeting_week(running, discord_double, clock, 0, [])
    assert not any("asked me to let you know" in t for t in texts(discord_double, world.bob))
    await meeting_week(running, discord_double, clock, 1, [])
    alerts = [t for t in texts(discord_double, world.bob) if "asked me to let you know" in t]
    assert len(alerts) == 1 and f"<@{world.alice.id}>" in alerts[0]
    await meeting_week(running, discord_double, clock, 2, [])
    assert len([t for t in texts(discord_double, world.bob) if "asked me to let you know" in t]) == 1


async def test_without_consent_the_buddy_hears_nothing(running, discord_double, world, clock):
    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("setup group-edit", user=world.maya, group="Tuesday Circle", buddy_channel=world.buddies)
    for person in (world.alice, world.bob):
        await discord_double.slash("group join", user=person, group="Tuesday Circle")
        await discord_double.slash("buddy join", user=person, group="Tuesday Circle", role="peer")
    await discord_double.slash("buddy pair-now", user=world.maya, group="Tuesday Circle")
    await discord_double.slash("rsvp", user=world.alice, meeting=str(meeting.id), status="going", scope="series")
    for week in range(3):
        await meeting_week(running, discord_double, clock, week, [])
    assert not any("asked me to let you know" in t for t in texts(discord_double, world.bob))


async def test_a_nudge_decided_for_a_member_who_then_erased_everything_sends_and_keeps_nothing(
    running, discord_double, world, clock
):
    from bot.services import privacy

    _, meeting = await make_meeting(discord_double, world, running)
    await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1h")
    await discord_double.slash("reminders style", user=world.alice, style="fading")
    async with running.bot.db.transaction() as tx:
        await privacy.erase(tx, world.alice.id, running.bot.anon_secret)
    before = len(discord_double.dms_to(world.alice))
    await running.bot.get_cog("Nudges").evaluate(world.guild.id, world.alice.id)  # as if decided a moment earlier
    assert len(discord_double.dms_to(world.alice)) == before
    for table in ("reminder_prefs", "deliveries"):
        count = await running.bot.db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (world.alice.id,))
        assert count == 0, table


async def test_a_miss_brings_back_the_reminders_of_the_members_other_meetings_too(
    running, discord_double, world, clock
):
    from bot.logic.nudging import NudgeState
    from bot.services import meetings as meetings_service

    _, tuesday = await make_meeting(discord_double, world, running)
    await discord_double.slash(
        "meeting create", user=world.olivia, group="Tuesday Circle", title="Thursday check-in",
        start="thursday 19:00", timezone="Europe/London", repeat="weekly",
    )  # fmt: skip
    [thursday] = [m for m in await meetings_service.active_meetings(running.bot.db) if m.title == "Thursday check-in"]
    await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    for meeting in (tuesday, thursday):
        await discord_double.slash("reminders set", user=world.alice, meeting=str(meeting.id), before="1h")
    async with running.bot.db.transaction() as tx:  # she had said "none for now"
        await reminders_service.save_state(tx, world.alice.id, NudgeState(style="fading", level="none"))
    await running.bot.get_cog("Nudges").replan_member(world.alice.id)
    assert f"reminders:{thursday.id}" not in running.bot.scheduler.pending()
    key = int(TUE_19.timestamp())
    await discord_double.slash("rsvp", user=world.alice, meeting=f"{tuesday.id}@{key}", status="going")
    await meeting_week(running, discord_double, clock, 0, [])  # she misses Tuesday's
    assert (await reminders_service.get_prefs(running.bot.db, world.alice.id)).level == "full"
    thursday_18 = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)  # an hour before Thursday's, as she asked
    assert running.bot.scheduler.pending()[f"reminders:{thursday.id}"] == thursday_18
