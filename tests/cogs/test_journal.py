"""/checkin-history and /checkin-weather end to end."""

from __future__ import annotations

import sys

import pytest

from tests.cogs.checkin_helpers import GROUP, circle, share_anonymously

MEMBERS = ("alice", "bob", "carol", "dan", "erin")


@pytest.fixture
def no_matplotlib(running, monkeypatch):
    # discord.py loads extensions into sys.modules without setting them on the `cogs` package.
    monkeypatch.setattr(sys.modules["cogs.journal"], "mood_chart", lambda *args: None)


async def test_history_without_matplotlib_is_a_text_trend_with_counters_that_include_everything(
    running, discord_double, world, no_matplotlib
):
    await circle(discord_double, world)
    await discord_double.slash("checkin", user=world.alice, mood=2, share="private")
    running.clock.advance(days=2)
    await share_anonymously(discord_double, running, world.alice, mood=4)  # found by key, not by id
    await discord_double.slash("checkin", user=world.alice, mood=5, share="named")
    await _attended(running, world, times=3)
    reply = await discord_double.slash("checkin-history", user=world.alice, days=7)
    assert reply.ephemeral and reply.files == []
    assert "`····▃·▇`" in reply.text  # the 2 two days ago, then the mean of 4 and 5 today
    assert "**Check-ins this month:** 3 · **in all:** 3" in reply.text
    assert "**Days you've checked in:** 2 · **Meetings attended:** 3" in reply.text
    assert "only ever go up" in reply.text


async def test_history_counters_never_drop_after_a_long_gap(running, discord_double, world, no_matplotlib):
    await discord_double.slash("checkin", user=world.alice, mood=3, share="private")
    running.clock.advance(days=90)
    reply = await discord_double.slash("checkin-history", user=world.alice)
    assert "**in all:** 1" in reply.text and "**Days you've checked in:** 1" in reply.text
    assert "Check-ins this month:** 0" in reply.text
    assert "streak" not in reply.text.lower()


async def test_a_long_history_shows_a_bar_per_week(running, discord_double, world, no_matplotlib):
    await discord_double.slash("checkin", user=world.alice, mood=3, share="private")
    reply = await discord_double.slash("checkin-history", user=world.alice, days=365)
    assert "a bar per week" in reply.text


async def test_history_with_no_checkins_is_a_kind_invitation(running, discord_double, world):
    reply = await discord_double.slash("checkin-history", user=world.bob)
    assert reply.ephemeral and "no wrong time" in reply.text


async def test_history_is_only_the_members_own(running, discord_double, world, no_matplotlib):
    await discord_double.slash("checkin", user=world.alice, mood=1, share="private")
    reply = await discord_double.slash("checkin", user=world.bob, mood=5, share="private")
    assert "from 1 check-in" in reply.text
    history = await discord_double.slash("checkin-history", user=world.bob)
    assert "**in all:** 1" in history.text


async def test_history_is_a_png_chart_when_matplotlib_is_installed(running, discord_double, world):
    pytest.importorskip("matplotlib")
    await discord_double.slash("checkin", user=world.alice, mood=3, share="private")
    reply = await discord_double.slash("checkin-history", user=world.alice)
    [png] = reply.files
    assert png.startswith(b"\x89PNG") and "**in all:** 1" in reply.text


async def test_weather_is_withheld_below_five_members_and_says_why(running, discord_double, world):
    await circle(discord_double, world, members=MEMBERS)
    for name in MEMBERS[:4]:
        await share_anonymously(discord_double, running, getattr(world, name), mood=3)
    for name in MEMBERS:  # private check-ins never count
        await discord_double.slash("checkin", user=getattr(world, name), mood=1, share="private")
    reply = await discord_double.slash("checkin-weather", user=world.erin, group=GROUP)
    assert (
        reply.ephemeral
        and "Fewer than 5 members shared" in reply.text
        and "someone's mood could be guessed" in reply.text
    )
    assert "%" not in reply.text


async def test_weather_is_shown_from_five_members_without_names_or_counts(running, discord_double, world):
    await circle(discord_double, world, members=MEMBERS)
    for mood, name in zip((1, 3, 3, 5, 5), MEMBERS, strict=True):
        if name == "alice":
            await discord_double.slash("checkin", user=world.alice, mood=mood, share="named")
        else:
            await share_anonymously(discord_double, running, getattr(world, name), mood=mood)
    reply = await discord_double.slash("checkin-weather", user=world.maya, group=GROUP)
    assert "☀️ Great ████████ 40%" in reply.text
    assert "⛅ Getting by ████████ 40%" in reply.text
    assert "🌧️ Really struggling ████ 20%" in reply.text
    assert all(getattr(world, n).name not in reply.text.lower() for n in MEMBERS)


async def test_weather_counts_one_person_sharing_twice_once(running, discord_double, world):
    await circle(discord_double, world, members=MEMBERS)
    for name in MEMBERS[:4]:
        await share_anonymously(discord_double, running, getattr(world, name))
    await discord_double.slash("checkin", user=world.alice, mood=3, share="named")
    reply = await discord_double.slash("checkin-weather", user=world.alice, group=GROUP)
    assert "Fewer than 5 members" in reply.text


async def _attended(running, world, *, times: int) -> None:
    group_id = await running.bot.db.fetchval("SELECT id FROM groups")
    async with running.bot.db.transaction() as tx:
        meeting_id = await tx.insert(
            "INSERT INTO meetings (guild_id, group_id, title, start_local, timezone, repeat, organiser_id, created_at)"
            " VALUES (?, ?, 'Circle', '2026-11-01T19:00', 'UTC', 'weekly', ?, 0)",
            (world.guild.id, group_id, world.olivia.id),
        )
        for n in range(times):
            await tx.execute(
                "INSERT INTO attendance (meeting_id, user_id, occurrence, at) VALUES (?, ?, ?, 0)",
                (meeting_id, world.alice.id, n),
            )
