"""First responses that do not ask Discord for the message back (`bot.client._respond`), and those that must.

Discord sends the message a response made only when asked (`with_response`); discord.py always asks, then builds a
Message of it that PeerBot never reads. PeerBot's answers and button edits go without asking, unless they carry
files or a view that listens (discord.py keeps that by the message's id): those go through discord.py as before.
"""

from __future__ import annotations

import discord
import pytest

from bot.client import reply
from tests.cogs.checkin_helpers import GROUP, circle
from tests.cogs.meeting_helpers import make_meeting
from tests.double.driver import CommandError


def callbacks(double) -> list:
    return double.requests_to("POST", "/interactions/*/callback")


def asked_back(request) -> bool:
    return request.query.get("with_response") in ("1", "true")


async def test_a_reply_with_buttons_goes_without_asking_for_the_message_back(running, discord_double, world):
    await make_meeting(discord_double, world, running)
    before = len(callbacks(discord_double))
    shown = await discord_double.slash("meetings", user=world.carol)
    (callback,) = callbacks(discord_double)[before:]
    assert not asked_back(callback) and callback.status == 204  # Discord's answer when not asked
    assert shown.ephemeral and "Evening circle" in shown.text and "1 · Going" in shown.buttons

    going = await discord_double.click(shown, "1 · Going", user=world.carol)  # answered with a message of its own
    (answer,) = callbacks(discord_double)[before + 1 :]
    assert answer.body["type"] == 4 and not asked_back(answer) and answer.status == 204
    assert going.ephemeral and "You're going to **Evening circle**" in going.text
    # The bot's default allowed mentions (never @everyone) still go with every answer sent this way.
    assert callback.body["data"]["allowed_mentions"] == running.bot.allowed_mentions.to_dict()


async def test_a_click_that_replaces_its_message_goes_without_asking_for_it_back(running, discord_double, world):
    await circle(discord_double, world, members=())
    ask = await discord_double.slash("checkin", user=world.carol, mood=2, share="anonymous", note="first time")
    before = len(callbacks(discord_double))
    views = running.bot._connection._view_store._synced_message_views
    assert ask.record.message_id in views  # the draft's view listens, kept by its message's id
    kept = await discord_double.click(ask, "Keep it private", user=world.carol)
    assert ask.record.message_id not in views  # as discord.py's edit_message: the old view no longer updates it
    (edit,) = callbacks(discord_double)[before:]
    assert edit.body["type"] == 7 and not asked_back(edit) and edit.status == 204
    assert kept.record.message_id == ask.record.message_id and "private journal" in kept.text
    assert kept.buttons == [] and ask.message["components"] == []  # the draft's buttons are gone with it


async def test_a_reply_whose_view_listens_still_goes_through_discord_py_and_its_menu_works(
    running, discord_double, world
):
    await circle(discord_double, world)
    await discord_double.slash("setup group-create", user=world.maya, name="Family Room", channel=world.general)
    await discord_double.slash("group join", user=world.alice, group="Family Room")
    before = len(callbacks(discord_double))
    ask = await discord_double.slash("checkin", user=world.alice, mood=3, share="named", in_channel=world.voice)
    (callback,) = callbacks(discord_double)[before:]
    assert asked_back(callback) and callback.status == 200  # discord.py keeps the draft's view by the message's id
    circle_id = next(
        o["value"] for c in ask.message["components"][0]["components"] for o in c["options"] if o["label"] == GROUP
    )
    done = await discord_double.select(ask, [circle_id], user=world.alice)
    assert "Shared in" in done.text


async def test_a_reply_with_a_file_still_goes_through_discord_py(running, discord_double, world):
    await discord_double.slash("checkin", user=world.alice, mood=3, share="private")
    before = len(callbacks(discord_double))
    exported = await discord_double.slash("mydata export", user=world.alice)
    (callback,) = callbacks(discord_double)[before:]
    assert asked_back(callback) and exported.ephemeral and len(exported.files) == 1


async def test_a_rate_limited_reply_is_sent_again_and_arrives_once(running, discord_double, world):
    discord_double.rate_limit("/interactions/*/callback", retry_after=0.05)
    shown = await discord_double.slash("help", user=world.alice)
    assert [r.status for r in callbacks(discord_double)] == [429, 204]
    assert shown.ephemeral and "/meetings" in shown.text


async def test_a_refused_reply_raises_as_discord_py_would_and_counts_as_not_given(running, discord_double, world):
    seen: list[BaseException] = []

    async def answer(interaction: discord.Interaction) -> None:
        discord_double.deny("/interactions/*/callback")
        try:
            await reply(interaction, "hello")
        except discord.Forbidden as exc:
            seen.append(exc)
            assert not interaction.response.is_done()  # so the error handler may still answer through it
            raise

    running.bot.tree.command(name="lean-probe", description="probe")(answer)
    await running.bot.tree.sync()
    with pytest.raises(CommandError, match="did not acknowledge"):
        await discord_double.slash("lean-probe", user=world.alice)
    assert len(seen) == 1 and seen[0].code == 50013
    # The error handler then tried the response again, with its kind message, and the safeguard after it (both
    # refused too, here): neither would have, had the failed answer been marked as given.
    statuses = [r.status for r in callbacks(discord_double)]
    assert len(statuses) >= 2 and set(statuses) == {403}
