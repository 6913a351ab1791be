import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.db import Database
from bot.errors import UserError
from bot.services import groups as groups_service
from bot.services import meetings as meetings_service
from bot.services import members as members_service
from bot.services import reminders as svc

START = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)


@pytest.fixture
async def meeting(db, clock):
    async with db.transaction() as tx:
        group = await groups_service.create_group(tx, guild_id=1, name="G", channel_id=2, now=clock.now())
        return await meetings_service.create_meeting(
            tx,
            guild_id=1,
            group_id=group.id,
            title="Circle",
            start_local=datetime(2026, 11, 3, 19, 0),
            timezone="UTC",
            repeat="weekly",
            organiser_id=9,
            now=clock.now(),
        )


async def remind(db, clock, meeting, user, *minutes, group=False):
    async with db.transaction() as tx:
        ids = {"group_id": meeting.group_id} if group else {"meeting_id": meeting.id}
        await svc.add_reminders(
            tx, user_id=user, guild_id=1, leads=[timedelta(minutes=m) for m in minutes], now=clock.now(), **ids
        )


async def test_a_reminder_falls_due_at_start_minus_lead_and_not_before(db, clock, meeting):
    await remind(db, clock, meeting, 5, 60)
    due, next_fire = await svc.plan_meeting(db, meeting, START - timedelta(minutes=61))
    assert due == [] and next_fire == START - timedelta(minutes=60)
    due, _ = await svc.plan_meeting(db, meeting, START - timedelta(minutes=60))
    assert [(d.user_id, d.occurrence.start, d.lead_minutes) for d in due] == [(5, START, 60)]


async def test_group_and_meeting_reminders_with_the_same_lead_send_once(db, clock, meeting):
    await remind(db, clock, meeting, 5, 60)
    await remind(db, clock, meeting, 5, 60, group=True)
    due, _ = await svc.plan_meeting(db, meeting, START - timedelta(minutes=30))
    assert len(due) == 1


async def test_not_going_and_paused_dms_are_not_reminded(db, clock, meeting):
    await remind(db, clock, meeting, 5, 60)
    await remind(db, clock, meeting, 6, 60)
    async with db.transaction() as tx:
        await meetings_service.set_rsvp(tx, meeting, 5, int(START.timestamp()), "not_going", clock.now())
        await members_service.mark_dms_closed(tx, 6, clock.now())
    due, _ = await svc.plan_meeting(db, meeting, START - timedelta(minutes=30))
    assert due == []


async def test_fewer_keeps_only_the_reminder_closest_to_the_meeting(db, clock, meeting):
    await remind(db, clock, meeting, 5, 60, 1440)
    async with db.transaction() as tx:
        await svc.save_prefs(tx, 5, style="fading", level="fewer")
    due, _ = await svc.plan_meeting(db, meeting, START - timedelta(minutes=1))
    assert [d.lead_minutes for d in due] == [60]


async def test_quiet_hours_postpone_or_drop(db, clock, meeting):
    await remind(db, clock, meeting, 5, 60)
    async with db.transaction() as tx:
        await svc.set_quiet_hours(tx, 5, "17:30", "18:30", "UTC")
    due, next_fire = await svc.plan_meeting(db, meeting, START - timedelta(minutes=61))
    assert next_fire == START - timedelta(minutes=30)
    async with db.transaction() as tx:
        await svc.set_quiet_hours(tx, 5, "17:30", "20:00", "UTC")
    due, next_fire = await svc.plan_meeting(db, meeting, START - timedelta(minutes=61))
    assert due == [] and (next_fire is None or next_fire > START)


async def test_claiming_is_exactly_once_even_across_two_connections(db, clock, meeting, tmp_path):
    await remind(db, clock, meeting, 5, 60)
    due, _ = await svc.plan_meeting(db, meeting, START - timedelta(minutes=30))
    other = Database(db.path)
    await other.connect()
    try:

        async def claim_with(database):
            async with database.transaction() as tx:
                return await svc.claim(tx, [d.key for d in due], clock.now())

        first, second = await asyncio.gather(claim_with(db), claim_with(other))
        assert sorted([len(first), len(second)]) == [0, 1]
    finally:
        await other.close()
    again, _ = await svc.plan_meeting(db, meeting, START - timedelta(minutes=29))
    assert again == []


async def test_unfinished_claims_are_found_for_recovery(db, clock, meeting):
    async with db.transaction() as tx:
        await svc.claim(tx, [(5, meeting.id, int(START.timestamp()), "remind:60")], clock.now())
    assert await svc.unfinished_claims(db) == [(5, meeting.id, int(START.timestamp()), "remind:60")]
    async with db.transaction() as tx:
        await svc.mark(tx, await svc.unfinished_claims(db), "sent")
    assert await svc.unfinished_claims(db) == []


async def test_nonces_are_stable_and_short(meeting):
    key = (5, meeting.id, 123, "remind:60")
    assert svc.nonce_for(key) == svc.nonce_for(key) and len(svc.nonce_for(key)) <= 25
    assert svc.nonce_for(key) != svc.nonce_for((6, meeting.id, 123, "remind:60"))


async def test_history_reads_rsvps_and_own_check_ins(db, clock, meeting):
    await remind(db, clock, meeting, 5, 60)
    key = int(START.timestamp())
    async with db.transaction() as tx:
        await meetings_service.set_rsvp(tx, meeting, 5, key, "going", clock.now())
        await meetings_service.record_attendance(tx, meeting, 5, key, START)
    outcomes = await svc.history(db, 1, 5, START + timedelta(days=8))
    assert [(o.start, o.rsvp, o.attended) for o in outcomes] == [
        (START, "going", True),
        (START + timedelta(days=7), None, False),
    ]


def test_an_empty_lead_is_refused_kindly():
    with pytest.raises(UserError, match="how long before"):
        svc.require_leads("  ")


async def test_claiming_many_at_once_owns_only_the_unclaimed_in_the_order_given(db, clock, meeting):
    occurrence = int(START.timestamp())
    keys = [(user_id, meeting.id, occurrence, "remind:60") for user_id in range(1000, 1000 + 2 * svc.CLAIM_CHUNK + 7)]
    taken = keys[5::3]
    async with db.transaction() as tx:
        assert await svc.claim(tx, taken, clock.now()) == taken
    async with db.transaction() as tx:
        owned = await svc.claim(tx, [*reversed(keys), keys[0]], clock.now())
    assert owned == [key for key in reversed(keys) if key not in taken]
    assert len(await svc.unfinished_claims(db)) == len(keys)
