"""Buddy pairing over a real database: profiles, confidential avoid lists, rounds, continuity, the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UserError
from bot.services import buddies as svc
from bot.services import groups as groups_service

GUILD = 111
ALICE, BOB, CAROL, DAN, ERIN, FRED = 1, 2, 3, 4, 5, 6


async def make_group(db, clock, name="Tuesday Circle", members=(), **kw):
    async with db.transaction() as tx:
        group = await groups_service.create_group(
            tx, guild_id=GUILD, name=name, channel_id=5, now=clock.now(), buddy_channel_id=7, **kw
        )
        for user_id in members:
            await groups_service.join_group(tx, group, user_id, clock.now())
    return group


async def opt_in(db, clock, group, *users, role="peer", about=None, timezone=None):
    results = []
    for user_id in users:
        async with db.transaction() as tx:
            results.append(
                await svc.join(tx, group, user_id, role=role, about=about, timezone=timezone, now=clock.now())
            )
    return results


async def pair_now(db, clock, group):
    async with db.transaction() as tx:
        return await svc.pair_now(tx, group, clock.now())


async def outbox(db, group):
    return [(i.kind, i.user_id) for i in await svc.pending_outbox(db, group.id)]


async def deliver_everything(db, group):
    """Pretend Discord did everything asked (the cog's delivery is tested end to end)."""
    async with db.transaction() as tx:
        for pairing in await svc.pairings_to_set_up(tx, group.id):
            await svc.record_via(tx, pairing.id, "dm")
        items = await svc.pending_outbox(tx, group.id)
        if items:
            await svc.mark_delivered(tx, [i.id for i in items])


# ---------------------------------------------------------------- profiles


async def test_joining_keeps_role_about_and_timezone_and_a_rerun_updates_them(db, clock):
    group = await make_group(db, clock, members=[ALICE])
    [first] = await opt_in(db, clock, group, ALICE, role="mentee", about="  New here,   hi  ", timezone="europe/london")
    assert first.created and not first.resumed and first.placement is None
    assert (first.profile.role, first.profile.about, first.profile.timezone) == (
        "mentee",
        "New here, hi",
        "Europe/London",
    )
    [again] = await opt_in(db, clock, group, ALICE, role="peer")
    assert not again.created
    assert (again.profile.role, again.profile.about, again.profile.timezone) == (
        "peer",
        "New here, hi",
        "Europe/London",
    )
    [cleared] = await opt_in(db, clock, group, ALICE, about="-")
    assert cleared.profile.about == ""


async def test_joining_needs_group_membership_a_short_about_and_a_real_role_and_timezone(db, clock):
    group = await make_group(db, clock, members=[ALICE])
    with pytest.raises(UserError, match="/group join"):
        await opt_in(db, clock, group, BOB)
    with pytest.raises(UserError, match="up to 200 characters"):
        await opt_in(db, clock, group, ALICE, about="x" * 201)
    with pytest.raises(UserError, match="role"):
        await opt_in(db, clock, group, ALICE, role="boss")
    with pytest.raises(UserError, match="timezone"):
        await opt_in(db, clock, group, ALICE, timezone="Mars/Olympus")
    assert await svc.get_profile(db, group.id, ALICE) is None


async def test_a_paused_member_is_not_paired_until_the_day_they_chose_or_until_they_rejoin(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL])
    await opt_in(db, clock, group, ALICE, BOB, CAROL)
    until = svc.parse_pause_until("2 weeks", "UTC", clock.now())
    async with db.transaction() as tx:
        await svc.pause(tx, group, CAROL, until, clock.now())
    assert (await pair_now(db, clock, group)).groups == ((ALICE, BOB),)
    assert await svc.count_active(db, group.id, clock.now() + timedelta(days=14)) == 3
    async with db.transaction() as tx:
        await svc.pause(tx, group, CAROL, None, clock.now())
    assert await svc.count_active(db, group.id, clock.now() + timedelta(days=400)) == 2
    [back] = await opt_in(db, clock, group, CAROL)
    assert back.resumed


async def test_pausing_or_leaving_when_not_in_pairing_is_explained(db, clock):
    group = await make_group(db, clock, members=[ALICE])
    with pytest.raises(UserError, match="nothing to pause"):
        async with db.transaction() as tx:
            await svc.pause(tx, group, ALICE, None, clock.now())
    async with db.transaction() as tx:
        assert await svc.leave(tx, group, ALICE, clock.now()) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2 weeks", datetime(2026, 11, 16, tzinfo=UTC)),
        ("in 10 days", datetime(2026, 11, 12, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 11, 3, tzinfo=UTC)),
        ("monday", datetime(2026, 11, 9, tzinfo=UTC)),  # today is a Monday: the next one
        ("fri", datetime(2026, 11, 6, tzinfo=UTC)),
    ],
)
def test_pause_dates_are_read_as_the_start_of_that_local_day(typed, expected):
    assert svc.parse_pause_until(typed, "UTC", datetime(2026, 11, 2, 12, tzinfo=UTC)) == expected


def test_a_pause_date_in_a_timezone_starts_at_local_midnight():
    until = svc.parse_pause_until("2026-12-01", "America/New_York", datetime(2026, 11, 2, 12, tzinfo=UTC))
    assert until == datetime(2026, 12, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("soon", "couldn't read `soon` as a date"),
        ("2026-02-30", "isn't a real date"),
        ("2026-11-01", "isn't after today"),
        ("3 years", "couldn't read"),
        ("400 days", "up to a year"),
    ],
)
def test_unreadable_or_impossible_pause_dates_say_what_to_type(typed, message):
    with pytest.raises(UserError, match=message):
        svc.parse_pause_until(typed, "UTC", datetime(2026, 11, 2, 12, tzinfo=UTC))


# ---------------------------------------------------------------- avoid lists


async def test_an_avoid_list_is_shown_to_its_setter_only_and_honoured_by_rounds(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL, DAN])
    await opt_in(db, clock, group, ALICE, BOB, CAROL, DAN)
    async with db.transaction() as tx:
        assert await svc.avoid(tx, GUILD, ALICE, BOB, clock.now()) is True
        assert await svc.avoid(tx, GUILD, ALICE, BOB, clock.now()) is False
        with pytest.raises(UserError, match="That's you"):
            await svc.avoid(tx, GUILD, ALICE, ALICE, clock.now())
    assert await svc.avoided_by(db, GUILD, ALICE) == [BOB]
    assert await svc.avoided_by(db, GUILD, BOB) == []
    assert await svc.avoided_by(db, 999, ALICE) == []
    for _ in range(4):
        outcome = await pair_now(db, clock, group)
        assert not any({ALICE, BOB} <= set(g) for g in outcome.groups)
        await deliver_everything(db, group)
        clock.advance(minutes=11)
    async with db.transaction() as tx:
        assert await svc.unavoid(tx, GUILD, ALICE, BOB) is True
    assert await svc.avoided_by(db, GUILD, ALICE) == []


async def test_the_avoided_member_is_not_stored_under_a_user_id_column(db):
    # The privacy feature walks user_id columns: the avoided member must neither see nor erase this row.
    columns = [r["name"] for r in await db.fetchall("PRAGMA table_info(buddy_avoids)")]
    assert "avoided_id" in columns and columns.count("user_id") == 1


# ---------------------------------------------------------------- rounds


async def test_an_odd_round_makes_one_trio_and_tells_nobody_they_are_left_out(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL, DAN, ERIN])
    await opt_in(db, clock, group, ALICE, BOB, CAROL, DAN, ERIN)
    outcome = await pair_now(db, clock, group)
    assert sorted(len(g) for g in outcome.groups) == [2, 3]
    assert sorted(u for g in outcome.groups for u in g) == [ALICE, BOB, CAROL, DAN, ERIN]
    assert outcome.unplaced == ()
    assert sorted(await outbox(db, group)) == [("opener", u) for u in (ALICE, BOB, CAROL, DAN, ERIN)]
    for user_id in (ALICE, ERIN):
        current = await svc.current_pairing(db, group.id, user_id)
        assert user_id in current.members and current.via == "pending"


async def test_rounds_do_not_repeat_recent_pairs_when_they_can_avoid_it(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL, DAN])
    await opt_in(db, clock, group, ALICE, BOB, CAROL, DAN)
    seen = set()
    for _ in range(3):
        outcome = await pair_now(db, clock, group)
        pairs = {frozenset(g) for g in outcome.groups}
        assert not pairs & seen
        seen |= pairs
        await deliver_everything(db, group)
        clock.advance(minutes=11)
    assert len(seen) == 6  # every possible pair once


async def test_a_new_round_ends_the_last_one_and_supersedes_what_it_had_left_to_say(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB])
    await opt_in(db, clock, group, ALICE, BOB)
    first = await pair_now(db, clock, group)
    with pytest.raises(UserError, match="still introducing"):
        await pair_now(db, clock, group)
    clock.advance(minutes=11)
    second = await pair_now(db, clock, group)
    assert second.round_index == first.round_index + 1
    assert len(await outbox(db, group)) == 2
    ended = await db.fetchval("SELECT COUNT(*) FROM buddy_pairings WHERE ended_at IS NOT NULL")
    assert ended == 1


async def test_pair_now_with_fewer_than_two_members_taking_part_says_so(db, clock):
    group = await make_group(db, clock, members=[ALICE])
    with pytest.raises(UserError, match="Nobody is"):
        await pair_now(db, clock, group)
    await opt_in(db, clock, group, ALICE)
    with pytest.raises(UserError, match="Only one member"):
        await pair_now(db, clock, group)


async def test_members_who_avoid_everyone_else_wait_and_are_told_kindly(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB])
    await opt_in(db, clock, group, ALICE, BOB)
    async with db.transaction() as tx:
        await svc.avoid(tx, GUILD, ALICE, BOB, clock.now())
    outcome = await pair_now(db, clock, group)
    assert outcome.groups == () and sorted(outcome.unplaced) == [ALICE, BOB]
    assert sorted(await outbox(db, group)) == [("unplaced", ALICE), ("unplaced", BOB)]


async def test_members_absent_from_the_server_are_not_paired(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL])
    await opt_in(db, clock, group, ALICE, BOB, CAROL)
    async with db.transaction() as tx:
        outcome = await svc.pair_now(tx, group, clock.now(), present={ALICE, BOB})
    assert outcome.groups == ((ALICE, BOB),)


# ---------------------------------------------------------------- the cadence


async def test_the_first_round_falls_on_the_weekday_at_ten_local_and_then_every_n_days(db, clock):
    group = await make_group(db, clock)
    async with db.transaction() as tx:
        group = await groups_service.edit_group(tx, group, timezone="Europe/London")
        cadence = await svc.configure(tx, group, every_days=14, weekday=3, enabled=True, now=clock.now())
    assert cadence.next_round_at == datetime(2026, 11, 5, 10, tzinfo=UTC)  # Thursday, 10:00 GMT
    later = svc.following_round_at(cadence.next_round_at, 14, 3, "Europe/London", cadence.next_round_at)
    assert later == datetime(2026, 11, 19, 10, tzinfo=UTC)


def test_rounds_keep_ten_oclock_local_across_dst():
    last = datetime(2026, 3, 26, 10, tzinfo=UTC)  # Thursday 10:00 GMT
    assert svc.following_round_at(last, 7, 3, "Europe/London", last) == datetime(2026, 4, 2, 9, tzinfo=UTC)


def test_a_bot_away_for_whole_cycles_runs_the_next_round_on_the_cadence_not_a_backlog():
    last = datetime(2026, 1, 1, 10, tzinfo=UTC)
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    after = svc.following_round_at(last, 14, None, "UTC", now)
    assert now < after <= now + timedelta(days=14) and (after - last).days % 14 == 0


async def test_a_scheduled_slot_is_paired_once_even_if_the_job_runs_twice(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB])
    await opt_in(db, clock, group, ALICE, BOB)
    async with db.transaction() as tx:
        cadence = await svc.configure(tx, group, every_days=7, weekday=None, enabled=True, now=clock.now())
    due = cadence.next_round_at
    clock.set(due)
    async with db.transaction() as tx:
        outcome, after = await svc.run_scheduled_round(tx, group.id, due, clock.now())
    assert outcome.groups == ((ALICE, BOB),) and after.next_round_at == due + timedelta(days=7)
    async with db.transaction() as tx:
        again, _ = await svc.run_scheduled_round(tx, group.id, due, clock.now())
    assert again is None
    assert await db.fetchval("SELECT COUNT(*) FROM buddy_rounds") == 1
    assert await svc.scheduled_rounds(db) == [(group.id, due + timedelta(days=7))]


async def test_switching_pairing_off_or_archiving_the_group_stops_rounds(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB])
    async with db.transaction() as tx:
        cadence = await svc.configure(tx, group, every_days=7, weekday=None, enabled=True, now=clock.now())
        off = await svc.configure(tx, group, every_days=7, weekday=None, enabled=False, now=clock.now())
    assert off.next_round_at is None and await svc.scheduled_rounds(db) == []
    async with db.transaction() as tx:
        await svc.configure(tx, group, every_days=7, weekday=None, enabled=True, now=clock.now())
        await groups_service.archive_group(tx, group, clock.now())
        outcome, _ = await svc.run_scheduled_round(tx, group.id, cadence.next_round_at, clock.now())
    assert outcome is None and await svc.scheduled_rounds(db) == []


# ---------------------------------------------------------------- continuity


async def introduced_round(db, clock, group, *users):
    await opt_in(db, clock, group, *users)
    outcome = await pair_now(db, clock, group)
    await deliver_everything(db, group)
    return outcome


async def test_a_member_whose_buddy_leaves_is_paired_with_someone_waiting(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL])
    await introduced_round(db, clock, group, ALICE, BOB)
    [late] = await opt_in(db, clock, group, CAROL)
    assert late.placement is None  # nobody was waiting: Carol waits for the next round
    async with db.transaction() as tx:
        departure = await svc.leave(tx, group, BOB, clock.now())
    assert departure.told == (ALICE,) and not departure.placement.joined_existing
    assert (await svc.current_pairing(db, group.id, ALICE)).members == (ALICE, CAROL)
    assert await svc.get_profile(db, group.id, BOB) is None
    items = await svc.pending_outbox(db, group.id)
    assert [(i.kind, i.user_id) for i in items] == [("opener", ALICE), ("opener", CAROL), ("departed", ALICE)]
    assert items[-1].next_pairing_id == departure.placement.pairing_id


async def test_with_nobody_waiting_a_member_left_alone_joins_a_pair_as_a_third(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL, DAN])
    outcome = await introduced_round(db, clock, group, ALICE, BOB, CAROL, DAN)
    leaver = outcome.groups[0][0]
    orphan = outcome.groups[0][1]
    async with db.transaction() as tx:
        departure = await svc.pause(tx, group, leaver, None, clock.now())
    assert departure.placement.joined_existing
    trio = await svc.current_pairing(db, group.id, orphan)
    assert set(trio.members) == set(outcome.groups[1]) | {orphan}
    kinds = sorted(await outbox(db, group))
    assert kinds == sorted([("welcome", u) for u in trio.members] + [("departed", orphan)])


async def test_a_member_left_alone_with_nowhere_to_go_waits_and_is_paired_with_the_next_to_join(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL])
    await introduced_round(db, clock, group, ALICE, BOB)
    async with db.transaction() as tx:
        departure = await svc.leave(tx, group, BOB, clock.now())
    assert departure.told == (ALICE,) and departure.placement is None
    assert await svc.current_pairing(db, group.id, ALICE) is None
    [carol] = await opt_in(db, clock, group, CAROL)
    assert carol.placement is not None
    assert (await svc.current_pairing(db, group.id, CAROL)).members == (ALICE, CAROL)


async def test_when_one_of_a_trio_leaves_the_other_two_carry_on_and_are_told(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL])
    await introduced_round(db, clock, group, ALICE, BOB, CAROL)
    async with db.transaction() as tx:
        departure = await svc.leave(tx, group, CAROL, clock.now())
    assert departure.told == (ALICE, BOB) and departure.placement is None
    assert (await svc.current_pairing(db, group.id, ALICE)).members == (ALICE, BOB)
    assert sorted(await outbox(db, group)) == [("departed", ALICE), ("departed", BOB)]


async def test_a_buddy_who_was_never_introduced_is_simply_replaced_without_news(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL, DAN])
    await opt_in(db, clock, group, ALICE, BOB, CAROL, DAN)
    outcome = await pair_now(db, clock, group)  # nothing delivered yet
    leaver, orphan = outcome.groups[0]
    async with db.transaction() as tx:
        departure = await svc.leave(tx, group, leaver, clock.now())
    assert departure.told == ()
    assert ("departed", orphan) not in await outbox(db, group)
    assert leaver not in {u for _, u in await outbox(db, group)}


async def test_leaving_the_server_takes_a_member_out_of_every_group_of_that_server(db, clock):
    one = await make_group(db, clock, "One", members=[ALICE, BOB])
    two = await make_group(db, clock, "Two", members=[ALICE, CAROL])
    await introduced_round(db, clock, one, ALICE, BOB)
    await introduced_round(db, clock, two, ALICE, CAROL)
    assert await svc.current_buddies(db, GUILD, ALICE) == [BOB, CAROL]
    async with db.transaction() as tx:
        departures = await svc.leave_everywhere(tx, GUILD, ALICE, clock.now())
    assert sorted(d.group_id for d in departures) == [one.id, two.id]
    assert await svc.current_buddies(db, GUILD, BOB) == []
    assert await svc.buddy_statuses(db, GUILD, ALICE) == []


async def test_archived_groups_do_not_re_pair_anyone(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB, CAROL])
    await introduced_round(db, clock, group, ALICE, BOB)
    await opt_in(db, clock, group, CAROL)
    async with db.transaction() as tx:
        group = await groups_service.archive_group(tx, group, clock.now())
        departure = await svc.leave(tx, group, BOB, clock.now())
    assert departure.placement is None


# ---------------------------------------------------------------- the ledger


async def test_the_ledger_records_thread_progress_and_forgets_delivered_messages(db, clock):
    group = await make_group(db, clock, members=[ALICE, BOB])
    await opt_in(db, clock, group, ALICE, BOB)
    await pair_now(db, clock, group)
    [pairing] = await svc.pairings_to_set_up(db, group.id)
    assert await svc.groups_with_pending_work(db) == [group.id]
    async with db.transaction() as tx:
        await svc.mark_thread_requested(tx, pairing.id, clock.now())
        await svc.record_thread(tx, pairing.id, 4242)
        await svc.record_in_thread(tx, pairing.id, ALICE, clock.now())
        await svc.record_via(tx, pairing.id, "thread")
    [again] = await svc.pairings_to_set_up(db, group.id)  # Bob is not in the thread yet
    assert again.thread_id == 4242 and await svc.members_outside_thread(db, pairing.id) == [BOB]
    items = await svc.pending_outbox(db, group.id)
    async with db.transaction() as tx:
        assert await svc.mark_attempted(tx, [i.id for i in items], clock.now()) == 2
        await svc.mark_delivered(tx, [i.id for i in items])
        assert await svc.mark_attempted(tx, [i.id for i in items], clock.now()) == 0


async def test_every_foreign_key_of_the_buddy_tables_has_an_index(db):
    tables = [r["name"] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE name LIKE 'buddy_%'")]
    for table in tables:
        # An index serves a foreign key when the key is its first column; INTEGER PRIMARY KEY is the rowid.
        leading = {r["name"] for r in await db.fetchall(f"PRAGMA table_info({table})") if r["pk"] == 1}
        for index in await db.fetchall(f"PRAGMA index_list({table})"):
            leading.add((await db.fetchall(f"PRAGMA index_info({index['name']})"))[0]["name"])
        for fk in await db.fetchall(f"PRAGMA foreign_key_list({table})"):
            assert fk["from"] in leading, f"{table}.{fk['from']} has no index"
