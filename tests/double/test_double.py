"""The local Discord's own tests: the real discord.py client logs in and round-trips through it."""

from __future__ import annotations


async def test_bot_logs_in_and_syncs_its_commands(running, discord_double, world):
    assert running.bot.user.id == discord_double.bot_user.id
    assert running.bot.get_guild(world.guild.id) is not None
    names = {c["name"] for c in discord_double.commands[None]}
    assert "help" in names


async def test_slash_command_round_trip_is_ephemeral(running, discord_double, world):
    reply = await discord_double.slash("help", user=world.alice)
    assert reply.ephemeral
    assert "How I can help" in reply.text


async def test_a_dm_is_recorded_for_its_recipient(running, discord_double, world):
    user = await running.bot.fetch_user(world.alice.id)
    await user.send("hello from the bot")
    assert [m["content"] for m in discord_double.dms_to(world.alice)] == ["hello from the bot"]
    assert discord_double.dms_to(world.bob) == []


async def test_closed_dms_answer_50007_like_discord(running, discord_double, world):
    import discord
    import pytest

    discord_double.close_dms(world.alice)
    user = await running.bot.fetch_user(world.alice.id)
    with pytest.raises(discord.Forbidden) as caught:
        await user.send("hello")
    assert caught.value.code == 50007
    assert discord_double.dms_to(world.alice) == []


async def test_a_429_is_retried_by_discord_py_after_retry_after(running, discord_double, world):
    discord_double.rate_limit("/channels/*/messages", times=1, retry_after=0.05, method="POST")
    channel = running.bot.get_channel(world.general.id)
    await channel.send("after the rate limit")
    posts = discord_double.requests_to("POST", f"/channels/{world.general.id}/messages")
    assert [r.status for r in posts] == [429, 200]
    assert discord_double.messages_in(world.general)[-1]["content"] == "after the rate limit"


async def test_missing_permissions_answer_403_50013(running, discord_double, world):
    import discord
    import pytest

    world.general.overwrites.append((world.bot_role.id, 0, 0, 1 << 11))
    with pytest.raises(discord.Forbidden) as caught:
        await running.bot.get_channel(world.general.id).send("x")
    assert caught.value.code == 50013


async def test_an_interaction_answered_too_late_is_refused_with_10062(running, discord_double, world, caplog):
    import pytest

    from tests.double.driver import CommandError

    discord_double.faults.expire_next_interaction = True
    with pytest.raises(CommandError, match="did not acknowledge"):
        await discord_double.slash("help", user=world.alice)
    assert any(r.status == 404 for r in discord_double.requests_to("POST", "/interactions/*/callback"))


async def test_an_unhandled_route_is_recorded_so_tests_can_fail_on_it(running, discord_double, world):
    import discord
    import pytest
    from discord.http import Route

    with pytest.raises(discord.NotFound):
        await running.bot.http.request(Route("GET", "/guilds/{guild_id}/bans", guild_id=world.guild.id))
    with pytest.raises(AssertionError, match="unhandled routes"):
        discord_double.assert_all_handled()
    discord_double.unhandled.clear()


async def test_a_persistent_button_works_after_the_bot_restarts(running, discord_double, world):
    await discord_double.slash("setup group-create", user=world.maya, name="Circle", channel=world.meetings)
    listing = await discord_double.slash("group list", user=world.alice)
    await running.restart()
    assert "Welcome to **Circle**" in (await discord_double.click(listing, "Join Circle", user=world.alice)).text


async def test_unknown_options_are_refused_like_the_discord_client_would(running, discord_double, world):
    import pytest

    from tests.double.driver import CommandError

    with pytest.raises(CommandError, match="no option 'colour'"):
        await discord_double.slash("help", user=world.alice, colour="blue")
    with pytest.raises(CommandError, match="no command 'nope'"):
        await discord_double.slash("nope", user=world.alice)


async def test_member_events_reach_the_bot(running, discord_double, world):
    newcomer = discord_double.add_user("newcomer")
    await discord_double.member_join(world.guild, newcomer)
    guild = running.bot.get_guild(world.guild.id)
    await discord_double.wait_until(lambda: guild.get_member(newcomer.id) is not None)
    await discord_double.member_leave(world.guild, newcomer)
    await discord_double.wait_until(lambda: guild.get_member(newcomer.id) is None)
