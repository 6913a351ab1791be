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
