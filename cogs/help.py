"""/help: what the bot does and how to use it."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, reply

HELP_TEXT = (
    "I help this server's peer-support groups meet, check in and look out for each other. "
    "Everything about you is yours: you choose your reminders, what you share, and you can "
    "export or delete it at any time.\n"
)

SECTIONS = (
    ("Groups", "`/group list` to see groups, `/group join` and `/group leave`."),
    (
        "Meetings",
        "`/meetings` for what's coming up, `/rsvp` to say if you're going, `/attend` to check "
        "yourself in while a meeting is on.",
    ),
    (
        "Your reminders",
        "`/reminders set` — only the reminders you ask for, by DM. `/reminders style fading` "
        "steps back as you find your own rhythm. `/reminders quiet` sets hours with no DMs.",
    ),
    (
        "Check-ins",
        "`/checkin` with a mood from 1 to 5: private to your journal, or shared anonymously or "
        "by name. `/checkin-history` shows your own trend.",
    ),
    ("Buddies", "`/buddy join` to be paired with a peer or mentor; `/buddy status` to see your buddy."),
    ("Need support now?", "`/resources` shows crisis and support lines, anywhere, any time."),
    ("Your data", "`/mydata export` and `/mydata delete`. How your data is kept: {privacy}"),
)


class Help(commands.Cog):
    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What this bot does and how to use it")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="How I can help", description=HELP_TEXT, colour=discord.Colour.teal())
        privacy = self.bot.settings.privacy_url or "the privacy page (docs/privacy.md) that comes with the bot"
        for name, value in SECTIONS:
            embed.add_field(name=name, value=value.format(privacy=privacy), inline=False)
        embed.set_footer(text="Moderators: /setup show lists this server's configuration.")
        await reply(interaction, embed=embed)


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Help(bot))
