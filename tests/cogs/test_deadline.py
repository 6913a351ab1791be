"""Discord's 3-second deadline: whatever has not answered in time is acknowledged for it, and answered after.

Each test shortens the bot's safeguard (2 s in production) and, where it matters, the double's deadline (3 s,
as Discord's), then makes something slow the way it happens for real: another process holding the database's
write lock, a slow read before a form opens, a slow Discord.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from contextlib import asynccontextmanager

import discord

from bot.client import MODAL_TOO_LATE, NOTHING_ANSWERS
from tests.cogs.checkin_helpers import circle
from tests.cogs.meeting_helpers import announcement, make_meeting
from tests.memory import all_let_go

SAFEGUARD = 0.2  # the bot acknowledges what has not answered after this long
DEADLINE = 1.0  # and the double forgets an interaction not acknowledged after this long
LOCKED_FOR = 1.5  # longer than the deadline: without the safeguard, the member would see "did not respond"


@asynccontextmanager
async def database_locked_by_another_process(running, seconds: float = LOCKED_FOR):
    """Hold SQLite's write lock from another connection (say a backup script) for `seconds`."""
    other = sqlite3.connect(running.bot.db.path, isolation_level=None, check_same_thread=False)
    await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")

    async def release_later() -> None:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(other.execute, "COMMIT")
        other.close()

    releasing = asyncio.create_task(release_later())
    try:
        yield
    finally:
        await releasing


def callbacks(double) -> list:
    return double.requests_to("POST", "/interactions/*/callback")


def shorten_deadlines(running, double) -> None:
    running.bot.acknowledge_after = SAFEGUARD
    double.faults.interaction_deadline = DEADLINE


async def test_a_checkin_held_up_by_the_database_is_acknowledged_in_time_and_answered_once_saved(
    running, discord_double, world, caplog
):
    shorten_deadlines(running, discord_double)
    caplog.set_level(logging.DEBUG)
    async with database_locked_by_another_process(running):
        reply = await discord_double.slash(
            "checkin", user=world.alice, mood=2, share="private", note="a secret kind of week"
        )
    assert reply.deferred and reply.ephemeral  # "thinking…", seen by the member alone, became the answer
    assert "private journal" in reply.content and "average **2.0** from 1 check-in" in reply.content
    assert reply.followups == []
    assert [r.status for r in callbacks(discord_double)] == [200]  # acknowledged once, in time: no 10062
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM checkins WHERE user_id = ?", (world.alice.id,)) == 1
    warned = [r.getMessage() for r in caplog.records if "had no answer" in r.getMessage()]
    assert len(warned) == 1 and "checkin" in warned[0]
    assert "secret kind of week" not in caplog.text


async def test_an_interaction_that_reached_the_bot_late_is_acknowledged_sooner(running, discord_double, world):
    # The event loop was busy (here: blocked) when the interaction came in. Discord's clock started when it
    # created the interaction, so the safeguard counts from then (but waits at least half its time).
    running.bot.acknowledge_after = 0.8  # so at least 0.4 s after it arrives
    discord_double.faults.interaction_deadline = 2.2
    parsers = running.bot._connection.parsers
    parse = parsers["INTERACTION_CREATE"]

    def busy_then_parse(data):
        time.sleep(1.6)  # a loop stalled before it read the event (what this test is about)
        parse(data)

    parsers["INTERACTION_CREATE"] = busy_then_parse
    async with database_locked_by_another_process(running, seconds=2.6):
        reply = await discord_double.slash("checkin", user=world.alice, mood=3, share="private")
    # Acknowledged about 2.0 s after it was created; counting from its arrival would have been 2.4 s: too late.
    assert reply.deferred and "private journal" in reply.text
    assert [r.status for r in callbacks(discord_double)] == [200]


async def test_a_clock_ahead_of_discords_does_not_make_quick_answers_wait_or_forms_fail(
    running, discord_double, world, monkeypatch
):
    from bot import client

    running.bot.acknowledge_after = SAFEGUARD * 2
    age = client._age
    monkeypatch.setattr(client, "_age", lambda interaction: age(interaction) + 30)  # 30 s ahead
    form = await discord_double.slash("setup resources", user=world.maya)
    quick = await discord_double.slash("checkin", user=world.alice, mood=4, share="private")
    await asyncio.sleep(SAFEGUARD * 2)
    assert form.modal is not None and not quick.deferred and "private journal" in quick.content
    assert len(callbacks(discord_double)) == 2


async def test_a_click_held_up_by_the_database_still_turns_its_message_into_the_answer(running, discord_double, world):
    await circle(discord_double, world, members=())
    ask = await discord_double.slash("checkin", user=world.carol, mood=2, share="anonymous", note="first time")
    assert "not in a group here yet" in ask.text
    shorten_deadlines(running, discord_double)
    async with database_locked_by_another_process(running):
        kept = await discord_double.click(ask, "Keep it private", user=world.carol)
    assert kept.record.callback_type == 6  # acknowledged as a click, the message left as it was for the moment
    assert kept.message["id"] == ask.message["id"]
    assert "private journal" in kept.content and kept.buttons == []  # then edited into the answer
    assert kept.followups == []
    assert (
        await running.bot.db.fetchval("SELECT note FROM checkins WHERE user_id = ?", (world.carol.id,)) == "first time"
    )


async def test_clicking_again_while_the_first_click_is_saved_does_nothing_twice(running, discord_double, world):
    await circle(discord_double, world, members=())
    ask = await discord_double.slash("checkin", user=world.carol, mood=2, share="anonymous", note="first time")
    shorten_deadlines(running, discord_double)
    async with database_locked_by_another_process(running):
        first = asyncio.create_task(discord_double.click(ask, "Keep it private", user=world.carol))
        await asyncio.sleep(SAFEGUARD)  # nothing seems to happen, so the member clicks again
        again = await discord_double.click(ask, "Keep it private", user=world.carol, settle=False)
        kept = await first
    assert again.record.callback_type == 6 and again.followups == []  # acknowledged, and that's all
    assert "private journal" in kept.content and NOTHING_ANSWERS not in discord_double_texts(discord_double)
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM checkins WHERE user_id = ?", (world.carol.id,)) == 1


def discord_double_texts(double) -> str:
    return "\n".join(str(m.get("content")) for m in double.messages.values())


async def test_a_form_that_could_not_open_in_time_says_so_and_changes_nothing(
    running, discord_double, world, monkeypatch
):
    from cogs import setup as setup_cog

    shorten_deadlines(running, discord_double)
    get_settings = setup_cog.groups_service.get_settings

    async def slow_settings(*args, **kwargs):
        await asyncio.sleep(SAFEGUARD * 3)
        return await get_settings(*args, **kwargs)

    monkeypatch.setattr(setup_cog.groups_service, "get_settings", slow_settings)
    reply = await discord_double.slash("setup resources", user=world.maya)
    assert reply.modal is None and reply.deferred and reply.ephemeral
    assert MODAL_TOO_LATE in reply.text
    monkeypatch.setattr(setup_cog.groups_service, "get_settings", get_settings)
    assert (await discord_double.slash("setup resources", user=world.maya)).modal is not None  # quick again: it opens


async def test_an_answer_already_on_its_way_is_not_acknowledged_a_second_time(running, discord_double, world):
    running.bot.acknowledge_after = SAFEGUARD
    discord_double.slow_down("/interactions/*/callback", SAFEGUARD * 3)  # Discord takes its time to take the answer
    reply = await discord_double.slash("help", user=world.alice)
    await asyncio.sleep(SAFEGUARD * 2)
    assert not reply.deferred and reply.ephemeral and reply.text
    assert [r.status for r in callbacks(discord_double)] == [204]  # one callback, so no 40060


async def test_a_quick_answer_is_never_deferred(running, discord_double, world):
    running.bot.acknowledge_after = SAFEGUARD
    reply = await discord_double.slash("checkin", user=world.alice, mood=4, share="private")
    await asyncio.sleep(SAFEGUARD * 2)
    assert not reply.deferred and "private journal" in reply.content
    assert len(callbacks(discord_double)) == 1


async def test_a_button_nothing_answers_any_more_says_so_instead_of_failing(running, discord_double, world):
    # The choice offered with a check-in lives only while the bot runs; after a restart nothing answers it.
    await circle(discord_double, world, members=())
    ask = await discord_double.slash("checkin", user=world.carol, mood=2, share="anonymous", note="first time")
    await running.restart()
    running.bot.acknowledge_after = SAFEGUARD
    stale = await discord_double.click(ask, "Keep it private", user=world.carol)
    assert stale.ephemeral and stale.content == NOTHING_ANSWERS
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM checkins") == 0


async def test_a_form_held_up_by_the_database_shows_thinking_then_its_answer(running, discord_double, world):
    form = await discord_double.slash("setup resources", user=world.maya)
    field = form.modal["components"][0]
    custom_id = (field.get("component") or field["components"][0])["custom_id"]
    shorten_deadlines(running, discord_double)
    async with database_locked_by_another_process(running):
        saved = await discord_double.submit_modal(form, {custom_id: "Call Sam on 555-0100"}, user=world.maya)
    assert saved.deferred and saved.ephemeral and saved.followups == []
    assert "this server's text" in saved.content and "555-0100" in saved.content
    assert "555-0100" in (await discord_double.slash("resources", user=world.alice)).text


async def test_a_persistent_button_held_up_by_the_database_is_answered_not_called_stale(running, discord_double, world):
    await make_meeting(discord_double, world, running)
    shorten_deadlines(running, discord_double)
    async with database_locked_by_another_process(running):
        going = await discord_double.click(announcement(discord_double, world), "Going", user=world.alice)
    assert going.record.callback_type == 6  # acknowledged quietly, then answered
    assert "You're going to **Evening circle**" in going.text and NOTHING_ANSWERS not in going.text
    assert all(f["flags"] & 64 for f in going.followups)
    assert await running.bot.db.fetchval("SELECT status FROM rsvps WHERE user_id = ?", (world.alice.id,)) == "going"


async def test_an_answered_interaction_is_let_go_at_once(running, discord_double, world):
    # The safeguard's timer held each interaction (its member, options, data) for its full 2 seconds, answered
    # or not: at a few hundred a second, a thousand of them lived long enough for the garbage collector to walk.
    assert running.bot.acknowledge_after == 2.0
    await asyncio.wait_for(running.bot.started, timeout=10)  # after start-up's heap is frozen, where gc sees all
    reply = await discord_double.slash("resources", user=world.alice)
    assert reply.ephemeral and not reply.deferred
    mine = reply.record.id
    # Within a second: well before the safeguard's timer would have let go of it anyway.
    assert await all_let_go(lambda o: isinstance(o, discord.Interaction) and o.id == mine, within=1.0)


async def test_the_safeguard_ticks_only_while_an_interaction_waits_for_its_answer(running, discord_double, world):
    running.bot.acknowledge_after = SAFEGUARD
    reply = await discord_double.slash("checkin", user=world.alice, mood=4, share="private")
    assert not reply.deferred
    await asyncio.sleep(SAFEGUARD)  # a tick or two: nothing waits, so the timer stops (an idle bot is not woken)
    assert not running.bot.safeguard.ticking
    async with database_locked_by_another_process(running, seconds=SAFEGUARD * 3):
        slow = await discord_double.slash("checkin", user=world.alice, mood=2, share="private")
    assert slow.deferred and "private journal" in slow.text
    await asyncio.sleep(SAFEGUARD)
    assert not running.bot.safeguard.ticking
