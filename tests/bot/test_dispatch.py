"""The bot skips dispatching events nothing listens for, and every way of listening still hears them."""

from __future__ import annotations

import asyncio

import discord


async def test_wait_for_cog_listeners_and_bot_events_still_hear_what_the_bot_skips_otherwise(
    running, discord_double, world
):
    bot = running.bot
    assert not bot._heard("interaction") and not bot._heard("app_command_completion")
    heard: list[str] = []

    async def on_interaction(interaction: discord.Interaction) -> None:  # a cog's listener
        heard.append(f"listener:{interaction.command.name if interaction.command else '?'}")

    bot.add_listener(on_interaction)
    completed = asyncio.ensure_future(bot.wait_for("app_command_completion", timeout=5))
    await asyncio.sleep(0)
    reply = await discord_double.slash("resources", user=world.alice)
    interaction, command = await completed
    assert reply.ephemeral and command.name == "resources" and interaction.user.id == world.alice.id
    await discord_double.wait_until(lambda: heard)
    assert heard == ["listener:resources"]
    bot.remove_listener(on_interaction)
    assert not bot._heard("interaction")

    @bot.event
    async def on_app_command_completion(interaction: discord.Interaction, command) -> None:
        heard.append(f"event:{command.name}")

    await discord_double.slash("resources", user=world.bob)
    await discord_double.wait_until(lambda: len(heard) == 2)
    assert heard[-1] == "event:resources"
