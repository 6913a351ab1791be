"""Buddy pairing end to end: the real discord.py client, the local Discord, a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services import buddies as buddies_service
from bot.services import groups as groups_service
from tests.double.payloads import CREATE_PRIVATE_THREADS, PRIVATE_THREAD
from tests.double.world import World

THU_10_GMT = datetime(2026, 11, 5, 10, tzinfo=UTC)


async def circle(discord_double, world: World, *people, role="peer", buddy_channel=True):
    """A group with a buddy channel, and these people in it and opted in to pairing."""
    options = {"buddy_channel": world.buddies} if buddy_channel else {}
    await discord_double.slash("setup group-create", user=world.maya, name="Circle", channel=world.meetings, **options)
    for person in people:
        await join(discord_double, person, role=role)


async def join(discord_double, person, role="peer"):
    await discord_double.slash("group join", user=person, group="Circle")
    reply = await discord_double.slash(
        "buddy join", user=person, group="Circle", role=role, about=f"Hi, I'm {person.name.title()}"
    )
    assert reply.ephemeral, reply.text
    return reply


async def restart(running):
    """Restart the bot and let it rebuild its plan from the database."""
    await running.restart()
    await running.bot.get_cog("Buddies").rebuilt
    await running.bot.scheduler.idle()


async def the_group(running):
    return (await groups_service.list_groups(running.bot.db, running.double.default_guild.id, include_archived=True))[0]


async def pair(running, discord_double, world):
    reply = await discord_double.slash("buddy pair-now", user=world.maya, group="Circle")
    await running.bot.scheduler.idle()
    return reply


def members_of(discord_double, thread) -> set[int]:
    return thread.members - {discord_double.bot_user.id}


def thread_of(discord_double, world, person):
    return next(t for t in discord_double.threads_in(world.buddies) if person.id in t.members)


def buddy_dms(discord_double, person) -> list[dict]:
    return [m for m in discord_double.dms_to(person) if "buddy pairing" in str(m.get("embeds"))]


# ---------------------------------------------------------------- opting in, status, pause, avoid


async def test_joining_shows_what_the_buddy_will_see_and_status_shows_when_the_next_round_is(
    running, discord_double, world
):
    await circle(discord_double, world)
    await discord_double.slash("setup pairing", user=world.maya, group="Circle", every_days=14, weekday=3, enabled=True)
    await discord_double.slash("group join", user=world.alice, group="Circle")
    joined = await discord_double.slash(
        "buddy join", user=world.alice, group="Circle", role="mentee", about="New here, I like walks"
    )
    assert joined.ephemeral
    assert "as a **mentee**" in joined.text and "Your buddy will see: “New here, I like walks”" in joined.text
    assert f"<t:{int(THU_10_GMT.timestamp())}:F>" in joined.text
    status = await discord_double.slash("buddy status", user=world.alice)
    assert status.ephemeral
    assert "Circle" in status.text and "mentee" in status.text and "No buddy right now" in status.text
    assert f"<t:{int(THU_10_GMT.timestamp())}:F>" in status.text


async def test_buddy_join_needs_the_group_first_and_offers_timezones(running, discord_double, world):
    await circle(discord_double, world)
    refused = await discord_double.slash("buddy join", user=world.alice, group="Circle", role="peer")
    assert "Join it with `/group join` first" in refused.text
    choices = await discord_double.autocomplete(
        "buddy join", user=world.alice, focused="timezone", value="lond", group="Circle", role="peer"
    )
    assert "Europe/London" in [c["value"] for c in choices]
    await discord_double.slash("group join", user=world.alice, group="Circle")
    wrong = await discord_double.slash("buddy join", user=world.alice, group="Circle", role="peer", timezone="Atlantis")
    assert "isn't a timezone I know" in wrong.text


async def test_pause_reads_dates_kindly_and_status_shows_it(running, discord_double, world):
    await circle(discord_double, world, world.alice)
    bad = await discord_double.slash("buddy pause", user=world.alice, group="Circle", until="someday")
    assert bad.ephemeral and "couldn't read `someday` as a date" in bad.text and "2 weeks" in bad.text
    paused = await discord_double.slash("buddy pause", user=world.alice, group="Circle", until="2026-12-01")
    until = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    assert f"until <t:{until}:D>" in paused.text and "Take the time you need" in paused.text
    status = await discord_double.slash("buddy status", user=world.alice)
    assert f"Paused until <t:{until}:D>" in status.text
    back = await discord_double.slash("buddy join", user=world.alice, group="Circle", role="peer")
    assert "Welcome back" in back.text


async def test_an_avoid_list_is_confidential_and_honoured(running, discord_double, world):
    await circle(discord_double, world, world.alice, world.bob)
    reply = await discord_double.slash("buddy avoid", user=world.alice, member=world.bob)
    assert (
        reply.ephemeral and "never pair you with **Bob**" in reply.text and "Only you can see this list" in reply.text
    )
    mine = await discord_double.slash("buddy status", user=world.alice)
    assert "Only you can see this" in mine.text and f"<@{world.bob.id}>" in mine.text
    theirs = await discord_double.slash("buddy status", user=world.bob)
    assert f"<@{world.alice.id}>" not in theirs.text and "Only you can see this" not in theirs.text
    await pair(running, discord_double, world)
    assert discord_double.threads_in(world.buddies) == []
    # Both are told, the same neutral way, that this round had no pairing for them: nothing hints at why.
    for person in (world.alice, world.bob):
        (dm,) = buddy_dms(discord_double, person)
        assert "couldn't make a pairing for you" in str(dm["embeds"])
        assert "avoid" not in str(dm["embeds"]).lower()
    undo = await discord_double.slash("buddy avoid", user=world.alice, member=world.bob, undo=True)
    assert "Taken **Bob** off your list" in undo.text


async def test_avoiding_your_current_buddy_explains_how_to_step_back_without_them_knowing(
    running, discord_double, world
):
    await circle(discord_double, world, world.alice, world.bob)
    await pair(running, discord_double, world)
    reply = await discord_double.slash("buddy avoid", user=world.alice, member=world.bob)
    assert "Bob is your buddy in **Circle** this round" in reply.text and "/buddy pause" in reply.text
    assert len(discord_double.messages_in(thread_of(discord_double, world, world.alice))) == 1  # nothing posted


# ---------------------------------------------------------------- rounds, threads and the DM fallback


async def test_an_odd_round_opens_a_private_thread_per_pair_and_one_trio_with_an_opener(running, discord_double, world):
    people = [world.alice, world.bob, world.carol, world.dan, world.erin]
    await circle(discord_double, world, *people)
    reply = await pair(running, discord_double, world)
    assert reply.ephemeral and "5 members in 1 pair and a trio" in reply.text
    threads = discord_double.threads_in(world.buddies)
    assert sorted(len(members_of(discord_double, t)) for t in threads) == [2, 3]
    assert all(t.type == PRIVATE_THREAD for t in threads)
    assert set().union(*(members_of(discord_double, t) for t in threads)) == {p.id for p in people}
    for thread in threads:
        (opener,) = discord_double.messages_in(thread)
        text = str(opener)
        assert (
            "Say hello" in text and "To start, if you like" in text and "only you and the server's moderators" in text
        )
        for person in people:
            if person.id in thread.members:
                assert f"<@{person.id}>" in opener["content"] and f"Hi, I'm {person.name.title()}" in text
    for person in people:
        assert buddy_dms(discord_double, person) == []
    status = await discord_double.slash("buddy status", user=world.alice)
    assert f"<#{thread_of(discord_double, world, world.alice).id}>" in status.text and "Hi, I'm" in status.text


@pytest.mark.parametrize("how", ["overwrite", "refused"])
async def test_without_thread_permission_each_buddy_gets_a_dm_and_closed_dms_get_a_note(
    running, discord_double, world, how
):
    await circle(discord_double, world, world.alice, world.bob, world.carol)
    if how == "overwrite":  # the bot can see it is missing the permission
        world.buddies.overwrites.append((world.bot_role.id, 0, 0, CREATE_PRIVATE_THREADS))
        await discord_double.update_channel(world.buddies)
    else:  # Discord refuses with 403 though the bot thought it could
        discord_double.deny("/channels/*/threads", method="POST")
    discord_double.close_dms(world.carol)
    await pair(running, discord_double, world)
    assert discord_double.threads_in(world.buddies) == []
    for person, others in ((world.alice, (world.bob, world.carol)), (world.bob, (world.alice, world.carol))):
        (dm,) = buddy_dms(discord_double, person)
        assert "Your buddy in Circle" in str(dm) and "couldn't open a private thread" in str(dm)
        assert all(f"<@{o.id}>" in str(dm) for o in others)
    assert discord_double.dms_to(world.carol) == []
    assert discord_double.messages_in(world.buddies) == []  # never a public fallback
    later = await discord_double.slash("buddy status", user=world.carol)
    await discord_double.wait_until(lambda: later.followups)
    assert "couldn't DM you" in later.text and "/buddy status" in later.text
    assert f"<@{world.alice.id}>" in later.text  # status shows her buddies anyway


async def test_pair_now_and_setup_pairing_are_for_moderators_only(running, discord_double, world):
    await circle(discord_double, world, world.alice, world.bob)
    refused = await discord_double.slash("buddy pair-now", user=world.alice, group="Circle")
    assert refused.ephemeral and "Manage Server" in refused.text
    setup = await discord_double.slash("setup pairing", user=world.alice, group="Circle", every_days=7, enabled=True)
    assert "Manage Server" in setup.text
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM buddy_rounds") == 0
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM buddy_settings") == 0


# ---------------------------------------------------------------- continuity


async def test_a_member_leaving_the_server_mid_cycle_their_buddy_is_told_and_joins_a_pair(
    running, discord_double, world
):
    people = [world.alice, world.bob, world.carol, world.dan]
    await circle(discord_double, world, *people)
    await pair(running, discord_double, world)
    group = await the_group(running)
    old = await buddies_service.current_pairing(running.bot.db, group.id, world.alice.id)
    leaver = next(p for p in people if p.id in old.members and p is not world.alice)
    old_thread = thread_of(discord_double, world, world.alice)
    other_thread = next(t for t in discord_double.threads_in(world.buddies) if t is not old_thread)
    await discord_double.member_leave(world.guild, leaver)
    await discord_double.wait_until(lambda: len(discord_double.messages_in(old_thread)) == 2)
    await running.bot.scheduler.idle()
    news = discord_double.messages_in(old_thread)[-1]
    assert f"<@{world.alice.id}>" in news["content"]
    assert "Your buddy has stepped away" in str(news) and "isn't a reflection on you" in str(news)
    assert f"say hello in <#{other_thread.id}>" in str(news)
    assert world.alice.id in other_thread.members and len(members_of(discord_double, other_thread)) == 3
    welcome = discord_double.messages_in(other_thread)[-1]
    assert "Please welcome" in str(welcome) and "Hi, I'm Alice" in str(welcome)
    assert len(discord_double.threads_in(world.buddies)) == 2  # no new thread for a trio
    assert await buddies_service.get_profile(running.bot.db, group.id, leaver.id) is None


async def test_a_member_left_alone_is_paired_with_someone_waiting_in_a_new_thread(running, discord_double, world):
    await circle(discord_double, world, world.alice, world.bob)
    await pair(running, discord_double, world)
    late = await join(discord_double, world.carol)
    assert "next round" in late.text or "aren't scheduled" in late.text
    left = await discord_double.slash("buddy leave", user=world.bob, group="Circle")
    assert "told kindly" in left.text and "never why" in left.text
    await running.bot.scheduler.idle()
    threads = discord_double.threads_in(world.buddies)
    assert len(threads) == 2
    new = next(t for t in threads if world.carol.id in t.members)
    assert members_of(discord_double, new) == {world.alice.id, world.carol.id}
    old = next(t for t in threads if t is not new)
    assert f"<#{new.id}>" in str(discord_double.messages_in(old)[-1]) and "**Carol**" in str(
        discord_double.messages_in(old)[-1]
    )


async def test_leaving_the_group_leaves_pairing_too_and_a_buddy_with_nobody_free_waits_kindly(
    running, discord_double, world
):
    await circle(discord_double, world, world.alice, world.bob)
    await discord_double.slash("setup pairing", user=world.maya, group="Circle", every_days=7, enabled=True)
    await pair(running, discord_double, world)
    thread = thread_of(discord_double, world, world.alice)
    await discord_double.slash("group leave", user=world.bob, group="Circle")
    await discord_double.wait_until(lambda: len(discord_double.messages_in(thread)) == 2)
    news = str(discord_double.messages_in(thread)[-1])
    assert "Nobody else is free right now" in news and "at the latest at the next round" in news
    assert f"<@{world.bob.id}>" not in discord_double.messages_in(thread)[-1]["content"]
    status = await discord_double.slash("buddy status", user=world.alice)
    assert "No buddy right now" in status.text
    assert await running.bot.get_cog("Buddies").current_buddies(world.guild.id, world.alice.id) == []


async def test_pausing_tells_the_trio_the_other_two_carry_on(running, discord_double, world):
    await circle(discord_double, world, world.alice, world.bob, world.carol)
    await pair(running, discord_double, world)
    (thread,) = discord_double.threads_in(world.buddies)
    paused = await discord_double.slash("buddy pause", user=world.carol, group="Circle")
    assert "until you come back with `/buddy join`" in paused.text
    await discord_double.wait_until(lambda: len(discord_double.messages_in(thread)) == 2)
    assert "You two carry on together" in str(discord_double.messages_in(thread)[-1])
    assert await running.bot.get_cog("Buddies").current_buddies(world.guild.id, world.alice.id) == [world.bob.id]


# ---------------------------------------------------------------- the cadence and restarts


async def test_rounds_run_on_the_cadence_once_even_across_restarts(running, discord_double, world, clock):
    await circle(discord_double, world, world.alice, world.bob, world.carol)
    reply = await discord_double.slash(
        "setup pairing", user=world.maya, group="Circle", every_days=7, weekday=3, enabled=True
    )
    assert "every 7 days on Thursdays" in reply.text and "3 members taking part" in reply.text
    group = await the_group(running)
    await restart(running)  # the plan is rebuilt from the database
    assert running.bot.scheduler.pending()[f"buddies:round:{group.id}"] == THU_10_GMT
    clock.set(THU_10_GMT)
    await running.bot.scheduler.idle()
    assert len(discord_double.threads_in(world.buddies)) == 1
    await restart(running)
    assert len(discord_double.threads_in(world.buddies)) == 1
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM buddy_rounds") == 1
    assert running.bot.scheduler.pending()[f"buddies:round:{group.id}"] == THU_10_GMT + timedelta(days=7)


async def test_a_round_due_while_the_bot_was_down_runs_once_at_start(running, discord_double, world, clock):
    await circle(discord_double, world, world.alice, world.bob)
    await discord_double.slash("setup pairing", user=world.maya, group="Circle", every_days=7, weekday=3, enabled=True)
    await running.stop()
    clock.set(THU_10_GMT + timedelta(days=1))
    running.clock._listeners.clear()
    await running.start()
    await running.bot.get_cog("Buddies").rebuilt
    await running.bot.scheduler.idle()
    assert len(discord_double.threads_in(world.buddies)) == 1
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM buddy_rounds") == 1


async def test_archived_groups_stop_pairing(running, discord_double, world, clock):
    await circle(discord_double, world, world.alice, world.bob)
    await discord_double.slash("setup pairing", user=world.maya, group="Circle", every_days=7, weekday=3, enabled=True)
    await discord_double.slash("setup group-archive", user=world.maya, group="Circle")
    group = await the_group(running)
    await discord_double.wait_until(lambda: f"buddies:round:{group.id}" not in running.bot.scheduler.pending())
    assert (await buddies_service.get_cadence(running.bot.db, group.id)).next_round_at is None
    clock.set(THU_10_GMT + timedelta(hours=1))
    await running.bot.scheduler.idle()
    assert discord_double.threads_in(world.buddies) == []


async def test_a_round_interrupted_by_a_restart_completes_once_without_a_second_thread(
    running, discord_double, world, monkeypatch
):
    people = [world.alice, world.bob, world.carol, world.dan, world.erin]
    await circle(discord_double, world, *people)
    real = buddies_service.record_thread
    calls = []

    async def dies_after_discord_made_the_second_thread(tx, pairing_id, thread_id):
        calls.append(pairing_id)
        if len(calls) == 2:
            raise RuntimeError("the process died here")
        await real(tx, pairing_id, thread_id)

    monkeypatch.setattr(buddies_service, "record_thread", dies_after_discord_made_the_second_thread)
    await pair(running, discord_double, world)
    assert len(discord_double.threads_in(world.buddies)) == 2  # Discord has both; we recorded one
    assert all(discord_double.messages_in(t) == [] for t in discord_double.threads_in(world.buddies))
    monkeypatch.setattr(buddies_service, "record_thread", real)
    await restart(running)
    threads = discord_double.threads_in(world.buddies)
    assert len(threads) == 2
    assert sorted(len(members_of(discord_double, t)) for t in threads) == [2, 3]
    assert all(len(discord_double.messages_in(t)) == 1 for t in threads)
    assert len(discord_double.requests_to("POST", f"/channels/{world.buddies.id}/threads")) == 2
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM buddy_rounds") == 1
    assert await buddies_service.groups_with_pending_work(running.bot.db) == []


async def test_an_opener_sent_just_before_a_restart_is_not_sent_again(running, discord_double, world, monkeypatch):
    await circle(discord_double, world, world.alice, world.bob)
    real = buddies_service.mark_delivered

    async def dies_before_recording(tx, item_ids):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(buddies_service, "mark_delivered", dies_before_recording)
    await pair(running, discord_double, world)
    (thread,) = discord_double.threads_in(world.buddies)
    assert len(discord_double.messages_in(thread)) == 1
    monkeypatch.setattr(buddies_service, "mark_delivered", real)
    await restart(running)
    assert len(discord_double.messages_in(thread)) == 1
    assert len(discord_double.requests_to("POST", f"/channels/{thread.id}/messages")) == 1  # found, not re-sent
    assert await buddies_service.groups_with_pending_work(running.bot.db) == []
