from datetime import UTC, date, datetime, timedelta

import pytest

from bot.errors import UserError
from bot.services import groups as groups_service
from bot.services import meetings as svc

GUILD = 1


async def make(db, clock, start="2026-11-03T19:00", repeat="weekly", tz="America/New_York", **kw):
    async with db.transaction() as tx:
        group = await groups_service.create_group(tx, guild_id=GUILD, name="G", channel_id=2, now=clock.now())
        return await svc.create_meeting(
            tx,
            guild_id=GUILD,
            group_id=group.id,
            title="Circle",
            start_local=datetime.fromisoformat(start),
            timezone=tz,
            repeat=repeat,
            organiser_id=9,
            now=clock.now(),
            **kw,
        )


async def test_weekly_meeting_keeps_local_time_across_dst(db, clock):
    meeting = await make(db, clock, start="2026-10-27T19:00")
    occurrences = await svc.upcoming(db, [meeting], datetime(2026, 10, 26, tzinfo=UTC), days=14)
    # 19:00 EDT is 23:00 UTC; after the November change 19:00 EST is 00:00 UTC.
    assert [o.start for o in occurrences] == [
        datetime(2026, 10, 27, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 4, 0, 0, tzinfo=UTC),
    ]


async def test_a_start_on_the_dst_change_night_is_refused(db, clock):
    with pytest.raises(UserError, match="clocks change"):
        await make(db, clock, start="2026-11-01T01:30")


async def test_skipped_dates_vanish_from_upcoming_and_next(db, clock):
    meeting = await make(db, clock)
    async with db.transaction() as tx:
        skipped = await svc.skip(tx, meeting, date(2026, 11, 3), "holiday", clock.now())
    assert skipped.skipped
    nxt = await svc.next_occurrence(db, meeting, clock.now())
    assert nxt.start.date() == date(2026, 11, 11)  # 10th 19:00 EST = 11th 00:00 UTC
    with pytest.raises(UserError, match="already called off"):
        async with db.transaction() as tx:
            await svc.skip(tx, meeting, date(2026, 11, 3), None, clock.now())
    with pytest.raises(UserError, match="doesn't meet"):
        async with db.transaction() as tx:
            await svc.skip(tx, meeting, date(2026, 11, 4), None, clock.now())


async def test_upcoming_kept_for_the_day_lists_what_a_fresh_expansion_lists_at_every_moment(db, clock):
    # Two weekly series, one long enough to still be on when the next UTC day begins, and a skip that
    # arrives on the day its date is listed: at every moment over ten days (each 37 minutes, crossing
    # midnights and the DST change) the kept answer must equal working it out afresh.
    weekly = await make(db, clock, start="2026-10-30T23:30", duration_minutes=120)
    async with db.transaction() as tx:
        late = await svc.create_meeting(
            tx, guild_id=GUILD, group_id=weekly.group_id, title="Late", start_local=datetime(2026, 10, 31, 22, 0),
            timezone="Europe/London", repeat="weekly", organiser_id=9, now=clock.now(),
        )  # fmt: skip
    meetings = [weekly, late]
    moment = datetime(2026, 10, 29, 0, 5, tzinfo=UTC)
    for step in range(10 * 24 * 60 // 37):
        now = moment + timedelta(minutes=37 * step)
        if step == 60:  # Friday 13:05 UTC: that evening's meeting (listed since Monday) is called off
            async with db.transaction() as tx:
                await svc.skip(tx, weekly, date(2026, 10, 30), None, now)
        kept = await svc.upcoming(db, meetings, now, days=7)
        fresh = svc.upcoming_with(meetings, now, await svc.skipped_keys(db, [m.id for m in meetings]), days=7)
        assert [(o.meeting.id, o.start) for o in kept] == [(o.meeting.id, o.start) for o in fresh], now
        assert all(o.end > now and o.start < now + timedelta(days=7) for o in kept)


async def test_a_changed_meeting_is_listed_with_its_change_at_once(db, clock):
    meeting = await make(db, clock)
    now = clock.now()
    before = await svc.upcoming(db, [meeting], now)
    async with db.transaction() as tx:
        moved = await svc.update(tx, meeting, start_local="2026-11-03T20:00")
    after = await svc.upcoming(db, [moved], now)
    assert [o.start - timedelta(hours=1) for o in after] == [o.start for o in before]


async def test_an_occurrence_rsvp_overrides_the_series_answer(db, clock):
    meeting = await make(db, clock)
    first, second = [o.key for o in await svc.upcoming(db, [meeting], clock.now(), days=14)]
    async with db.transaction() as tx:
        await svc.set_rsvp(tx, meeting, 5, svc.SERIES, "going", clock.now())
        await svc.set_rsvp(tx, meeting, 5, second, "not_going", clock.now())
    assert await svc.rsvp_statuses(db, meeting.id, 5, [first, second]) == {first: "going", second: "not_going"}
    assert await svc.rsvp_audience(db, meeting, [second]) == set()
    assert await svc.rsvp_audience(db, meeting, [first]) == {5}
    async with db.transaction() as tx:  # answering for the series again clears the exceptions
        await svc.set_rsvp(tx, meeting, 5, svc.SERIES, "maybe", clock.now())
    assert await svc.rsvp_statuses(db, meeting.id, 5, [second]) == {second: "maybe"}


async def test_rsvp_statuses_of_answers_for_several_meetings_at_once_like_one_at_a_time(db, clock):
    meeting = await make(db, clock)
    async with db.transaction() as tx:
        other = await svc.create_meeting(
            tx,
            guild_id=GUILD,
            group_id=meeting.group_id,
            title="Second circle",
            start_local=datetime(2026, 11, 5, 18, 0),
            timezone="UTC",
            repeat="weekly",
            organiser_id=9,
            now=clock.now(),
        )
    shown = await svc.upcoming(db, [meeting, other], clock.now(), days=14)
    mine = [o for o in shown if o.meeting.id == meeting.id]
    async with db.transaction() as tx:
        await svc.set_rsvp(tx, meeting, 5, svc.SERIES, "going", clock.now())
        await svc.set_rsvp(tx, meeting, 5, mine[1].key, "not_going", clock.now())
        await svc.set_rsvp(tx, other, 6, svc.SERIES, "maybe", clock.now())  # someone else's answer
    together = await svc.rsvp_statuses_of(db, 5, shown)
    for occ in shown:
        alone = await svc.rsvp_statuses(db, occ.meeting.id, 5, [occ.key])
        assert together[(occ.meeting.id, occ.key)] == alone[occ.key]
    assert together[(meeting.id, mine[1].key)] == "not_going"
    assert {together[(o.meeting.id, o.key)] for o in shown if o.meeting.id == other.id} == {None}
    assert await svc.rsvp_statuses_of(db, 5, []) == {}


async def test_attendance_is_recorded_once_and_only_inside_the_window(db, clock):
    meeting = await make(db, clock, tz="UTC")
    start = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)
    assert await svc.occurrence_now(db, meeting, start - timedelta(minutes=16)) is None
    assert (await svc.occurrence_now(db, meeting, start - timedelta(minutes=15))).start == start
    assert await svc.occurrence_now(db, meeting, start + timedelta(minutes=60)) is None
    async with db.transaction() as tx:
        assert await svc.record_attendance(tx, meeting, 5, int(start.timestamp()), start) is True
        assert await svc.record_attendance(tx, meeting, 5, int(start.timestamp()), start) is False


async def test_stats_count_effective_answers_and_check_ins(db, clock):
    meeting = await make(db, clock, tz="UTC")
    key = int(datetime(2026, 11, 3, 19, 0, tzinfo=UTC).timestamp())
    async with db.transaction() as tx:
        await svc.set_rsvp(tx, meeting, 1, svc.SERIES, "going", clock.now())
        await svc.set_rsvp(tx, meeting, 2, key, "maybe", clock.now())
        await svc.set_rsvp(tx, meeting, 3, key, "not_going", clock.now())
        await svc.record_attendance(tx, meeting, 1, key, clock.now())
    assert await svc.stats(db, meeting, [key]) == [(key, 1, 1, 1)]


async def test_moving_a_series_carries_answers_to_the_new_dates(db, clock):
    meeting = await make(db, clock, tz="UTC")
    old = [o.key for o in await svc.upcoming(db, [meeting], clock.now(), days=14)]
    async with db.transaction() as tx:
        await svc.set_rsvp(tx, meeting, 5, old[1], "going", clock.now())
        moved = await svc.update(tx, meeting, start_local=datetime(2026, 11, 3, 18, 0))
        new = [o.key for o in await svc.upcoming(tx, [moved], clock.now(), days=14)]
        await svc.move_rsvps(tx, moved, old, new)
    assert await svc.rsvp_statuses(db, meeting.id, 5, [new[1]]) == {new[1]: "going"}


async def test_monthly_by_weekday_keeps_the_nth_weekday(db, clock):
    meeting = await make(db, clock, start="2026-11-10T19:00", repeat="monthly", tz="UTC")  # 2nd Tuesday
    occurrences = await svc.upcoming(db, [meeting], clock.now(), days=75)
    assert [o.start.date() for o in occurrences] == [date(2026, 11, 10), date(2026, 12, 8), date(2027, 1, 12)]


async def test_cancelled_series_has_no_occurrences_and_cannot_be_found(db, clock):
    meeting = await make(db, clock)
    async with db.transaction() as tx:
        ended = await svc.cancel(tx, meeting, clock.now())
    assert await svc.upcoming(db, [ended], clock.now()) == []
    with pytest.raises(UserError, match="has ended"):
        await svc.find_meeting(db, GUILD, str(meeting.id))


async def test_cohosts_and_handover(db, clock):
    meeting = await make(db, clock)
    async with db.transaction() as tx:
        assert await svc.add_cohost(tx, meeting, 7, clock.now())
        assert not await svc.add_cohost(tx, meeting, 7, clock.now())
        with pytest.raises(UserError):
            await svc.add_cohost(tx, meeting, meeting.organiser_id, clock.now())
        handed = await svc.hand_over(tx, meeting, 7)
    assert handed.organiser_id == 7
    assert await svc.cohosts(db, meeting.id) == []
