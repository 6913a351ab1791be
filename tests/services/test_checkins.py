"""The check-in service on a real database: journal, anonymous queue, aliases, history and weather."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import UserError
from bot.logic.anonymity import author_key, week_index
from bot.services import checkins as svc
from bot.services import groups as groups_svc

GUILD = 111
SECRET = bytes(range(32))
ALICE, BOB = 1001, 1002


async def make_group(db, clock, name="Tuesday Circle", members=(ALICE, BOB)):
    async with db.transaction() as tx:
        group = await groups_svc.create_group(tx, guild_id=GUILD, name=name, channel_id=5, now=clock.now())
        for member in members:
            await groups_svc.join_group(tx, group, member, clock.now())
    return group


async def post_as(db, clock, group, user_id, mood=3, note="a note", delay=60):
    async with db.transaction() as tx:
        key, alias = await svc.alias_for_week(
            tx, SECRET, guild_id=GUILD, group_id=group.id, user_id=user_id, now=clock.now()
        )
        return await svc.enqueue_post(
            tx,
            guild_id=GUILD,
            group_id=group.id,
            author_key=key,
            alias=alias,
            mood=mood,
            note=note,
            due_at=clock.now() + timedelta(seconds=delay),
        )


async def publish(db, clock, post, message_id=900):
    async with db.transaction() as tx:
        assert await svc.claim_post(tx, post.id) is not None
        return await svc.mark_published(
            tx, post.id, channel_id=7, message_id=message_id, thread_id=message_id, now=clock.now()
        )


async def test_a_private_checkin_is_saved_with_its_note_and_no_group(db, clock):
    async with db.transaction() as tx:
        entry = await svc.record_checkin(
            tx, guild_id=GUILD, user_id=ALICE, mood=2, share="private", now=clock.now(), note="  rough day  "
        )
    assert (entry.mood, entry.note, entry.share, entry.group_id) == (2, "rough day", "private", None)
    assert entry.created_at == int(clock.now().timestamp())


async def test_anonymous_checkins_can_never_be_journal_rows_with_a_user_id(db, clock):
    async with db.transaction() as tx:
        with pytest.raises(ValueError, match="anonymous"):
            await svc.record_checkin(tx, guild_id=GUILD, user_id=ALICE, mood=2, share="anonymous", now=clock.now())


async def test_notes_over_a_thousand_characters_get_a_clear_message(db, clock):
    with pytest.raises(UserError, match="up to 1,000 characters; yours has 1,001"):
        async with db.transaction() as tx:
            await svc.record_checkin(
                tx, guild_id=GUILD, user_id=ALICE, mood=3, share="private", now=clock.now(), note="x" * 1001
            )


@pytest.mark.parametrize("mood", [0, 6, True])
async def test_moods_outside_one_to_five_are_refused(db, clock, mood):
    with pytest.raises(UserError, match="1"):
        async with db.transaction() as tx:
            await svc.record_checkin(tx, guild_id=GUILD, user_id=ALICE, mood=mood, share="private", now=clock.now())


async def test_alias_is_stable_in_a_week_and_rotates_on_monday(db, clock):
    group = await make_group(db, clock)
    async with db.transaction() as tx:
        first = await svc.alias_for_week(tx, SECRET, guild_id=GUILD, group_id=group.id, user_id=ALICE, now=clock.now())
    clock.advance(days=2)
    async with db.transaction() as tx:
        again = await svc.alias_for_week(tx, SECRET, guild_id=GUILD, group_id=group.id, user_id=ALICE, now=clock.now())
    monday = clock.now() + timedelta(days=7 - clock.now().weekday())
    clock.set(monday.replace(hour=0, minute=0, second=0))
    async with db.transaction() as tx:
        later = await svc.alias_for_week(tx, SECRET, guild_id=GUILD, group_id=group.id, user_id=ALICE, now=clock.now())
    assert first == again
    assert first[0] == later[0] == author_key(SECRET, GUILD, ALICE)
    assert later[1] != first[1]
    weeks = await db.fetchall("SELECT week FROM anon_aliases ORDER BY week")
    assert [r["week"] for r in weeks] == [week_index(monday) - 1, week_index(monday)]


async def test_two_authors_never_share_an_alias_in_a_group_and_week(db, clock):
    group = await make_group(db, clock)
    week = week_index(clock.now())
    async with db.transaction() as tx:
        # Another author already holds the alias alice would get this week.
        _, mine = await svc.alias_for_week(
            tx, SECRET, guild_id=GUILD, group_id=group.id, user_id=ALICE, now=clock.now()
        )
        await tx.execute("DELETE FROM anon_aliases")
        await tx.execute(
            "INSERT INTO anon_aliases (group_id, week, author_key, alias) VALUES (?, ?, 'someone', ?)",
            (group.id, week, mine),
        )
        _, taken = await svc.alias_for_week(
            tx, SECRET, guild_id=GUILD, group_id=group.id, user_id=ALICE, now=clock.now()
        )
    assert taken != mine and taken.startswith(mine + " ")


async def test_a_queued_post_holds_no_user_id_and_keeps_only_its_publish_time(db, clock):
    group = await make_group(db, clock)
    post = await post_as(db, clock, group, ALICE, delay=300)
    assert post.status == "pending" and post.due_at == int(clock.now().timestamp()) + 300
    clock.advance(seconds=300)
    published = await publish(db, clock, post)
    row = dict(await db.fetchone("SELECT * FROM anon_posts WHERE id = ?", (post.id,)))
    assert row["due_at"] is None
    assert row["published_at"] == row["released_at"] == int(clock.now().timestamp())
    assert ALICE not in row.values() and str(ALICE) not in map(str, row.values())
    assert published.author_key == author_key(SECRET, GUILD, ALICE)
    assert await svc.post_for_message(db, 900) == published


async def test_a_post_is_claimed_for_sending_once(db, clock):
    group = await make_group(db, clock)
    post = await post_as(db, clock, group, ALICE)
    await publish(db, clock, post)
    async with db.transaction() as tx:
        assert await svc.claim_post(tx, post.id) is None


async def test_a_post_cut_off_mid_send_is_queued_again_after_a_restart(db, clock):
    group = await make_group(db, clock)
    post = await post_as(db, clock, group, ALICE)
    async with db.transaction() as tx:
        await svc.claim_post(tx, post.id)
    assert [p.id for p in await svc.queued_posts(db)] == [post.id]
    async with db.transaction() as tx:
        again = await svc.claim_post(tx, post.id)
    assert again.attempts == 2


async def test_an_interrupted_approval_goes_back_to_the_moderators(db, clock):
    group = await make_group(db, clock)
    post = await post_as(db, clock, group, ALICE)
    async with db.transaction() as tx:
        await svc.claim_post(tx, post.id)
        await svc.mark_held(tx, post.id, channel_id=3, message_id=4, now=clock.now())
        assert await svc.move_post(tx, post.id, ("held",), "approving") is not None
        assert await svc.move_post(tx, post.id, ("held",), "approving") is None
        assert await svc.reset_interrupted_approvals(tx) == 1
    assert (await svc.get_post(db, post.id)).status == "held"


async def test_history_finds_anonymous_checkins_by_key_alongside_the_journal(db, clock):
    group = await make_group(db, clock)
    async with db.transaction() as tx:
        await svc.record_checkin(tx, guild_id=GUILD, user_id=ALICE, mood=2, share="private", now=clock.now())
    await publish(db, clock, await post_as(db, clock, group, ALICE, mood=4))
    await post_as(db, clock, group, BOB, mood=1)
    points = await svc.journal_points(db, guild_id=GUILD, user_id=ALICE, author_key=author_key(SECRET, GUILD, ALICE))
    assert sorted(m for _, m in points) == [2, 4]


async def test_weather_counts_only_shared_checkins_and_each_person_once(db, clock):
    members = list(range(2000, 2006))
    group = await make_group(db, clock, members=members)
    async with db.transaction() as tx:
        # Private check-ins never count, however many.
        for member in members:
            await svc.record_checkin(tx, guild_id=GUILD, user_id=member, mood=1, share="private", now=clock.now())
        # Two members share both by name and anonymously: they are two people, not four.
        for member in members[:2]:
            await svc.record_checkin(
                tx, guild_id=GUILD, user_id=member, mood=4, share="named", now=clock.now(), group_id=group.id
            )
    for n, member in enumerate(members[:2]):
        await publish(db, clock, await post_as(db, clock, group, member, mood=5), message_id=800 + n)
    moods, people = await svc.group_weather(db, group, SECRET, clock.now())
    assert people == 2
    assert moods == {1: 0, 2: 0, 3: 0, 4: 2, 5: 2}


async def test_weather_counts_someone_who_left_the_group_once(db, clock):
    group = await make_group(db, clock, members=[ALICE])
    async with db.transaction() as tx:
        await svc.record_checkin(
            tx, guild_id=GUILD, user_id=ALICE, mood=3, share="named", now=clock.now(), group_id=group.id
        )
    await publish(db, clock, await post_as(db, clock, group, ALICE))
    async with db.transaction() as tx:
        await groups_svc.leave_group(tx, group, ALICE)
    assert (await svc.group_weather(db, group, SECRET, clock.now()))[1] == 1


async def test_weather_forgets_checkins_older_than_seven_days(db, clock):
    group = await make_group(db, clock)
    async with db.transaction() as tx:
        await svc.record_checkin(
            tx, guild_id=GUILD, user_id=ALICE, mood=3, share="named", now=clock.now(), group_id=group.id
        )
    clock.advance(days=8)
    assert await svc.group_weather(db, group, SECRET, clock.now()) == ({1: 0, 2: 0, 3: 0, 4: 0, 5: 0}, 0)


async def test_recent_posts_are_published_checkins_of_the_given_groups_newest_first(db, clock):
    group = await make_group(db, clock)
    other = await make_group(db, clock, name="Family Room")
    first = await publish(db, clock, await post_as(db, clock, group, ALICE), message_id=1)
    clock.advance(minutes=5)
    second = await publish(db, clock, await post_as(db, clock, group, BOB), message_id=2)
    await publish(db, clock, await post_as(db, clock, other, BOB), message_id=3)
    await post_as(db, clock, group, ALICE)  # still queued
    found = await svc.recent_posts(db, [group.id], clock.now() - timedelta(days=1))
    assert [p.id for p in found] == [second.id, first.id]
    assert await svc.member_group_ids(db, BOB) == [group.id, other.id]


async def test_replies_are_anonymous_posts_under_their_parent(db, clock):
    group = await make_group(db, clock)
    parent = await publish(db, clock, await post_as(db, clock, group, ALICE))
    async with db.transaction() as tx:
        key, alias = await svc.alias_for_week(
            tx, SECRET, guild_id=GUILD, group_id=group.id, user_id=BOB, now=clock.now()
        )
        reply = await svc.enqueue_reply(
            tx, parent=parent, author_key=key, alias=alias, text=" hang in there ", now=clock.now()
        )
        with pytest.raises(UserError, match="empty"):
            await svc.enqueue_reply(tx, parent=parent, author_key=key, alias=alias, text="   ", now=clock.now())
    assert (reply.parent_id, reply.note, reply.mood, reply.is_reply) == (parent.id, "hang in there", None, True)


async def test_a_check_in_whose_trend_could_not_be_read_with_it_is_saved_and_its_trend_read_after(db, clock):
    await svc.record_checkin(db, guild_id=1, user_id=5, mood=2, share="private", now=clock.now() - timedelta(days=1))
    real = db.write_then_read

    async def write_without_read(*args):
        rows, _ = await real(*args)
        return rows, None  # as when the read in the same transaction failed

    db.write_then_read = write_without_read
    entry = svc.NewCheckin(1, 5, 4, "private", clock.now(), None, None, None)
    week_ago = clock.now() - timedelta(days=7)
    saved, points = await svc.record_checkin_with_trend(db, entry, author_key="k", since=week_ago)
    assert saved.mood == 4
    assert [mood for _, mood in points] == [2, 4]
    assert await db.fetchval("SELECT COUNT(*) FROM checkins WHERE user_id = 5") == 2
