"""/checkin-history and /checkin-weather: a member's own trend, and a group's mood without naming anyone."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import date, timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, defer_reply, reply
from bot.logic.anonymity import author_key
from bot.logic.journal import bucket_means, count_checkins, daily_means
from bot.logic.moods import MOODS, sparkline, weather_summary
from bot.services import checkins as checkins_service
from bot.services import groups as groups_service
from cogs._checkin_ui import timezone_of
from cogs._ui import CALM, group_autocomplete

# Beyond this many days the text trend shows a bar per week, so it still fits on one line.
WEEKLY_AFTER_DAYS = 60


def mood_chart(values: Sequence[float | None], first_day: date, title: str) -> bytes | None:
    """Draw the daily mood as a PNG, or return None when matplotlib (the `charts` extra) is not installed."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    days = [first_day + timedelta(days=i) for i in range(len(values))]
    figure = Figure(figsize=(8, 3.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    # NaN breaks the line on days without a check-in instead of drawing across them as if they happened.
    axes.plot(days, [v if v is not None else float("nan") for v in values], color="#4F9D9A", linewidth=2)
    shown = [(d, v) for d, v in zip(days, values, strict=True) if v is not None]
    axes.scatter([d for d, _ in shown], [v for _, v in shown], color="#4F9D9A", zorder=3)
    axes.set_ylim(0.6, 5.4)
    axes.set_yticks(list(MOODS), [MOODS[m][0] for m in MOODS])
    axes.grid(axis="y", alpha=0.25)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.set_title(title, loc="left")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class Journal(commands.Cog):
    """What a member reads back: their own history, and a group's weather."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    @app_commands.command(name="checkin-history", description="Your own check-in trend and counters (only you see it)")
    @app_commands.guild_only()
    @app_commands.describe(days="How many days to show (7 to 365, 30 by default)")
    async def history(self, interaction: discord.Interaction, days: app_commands.Range[int, 7, 365] = 30) -> None:
        await defer_reply(interaction)
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        now, tz = self.bot.clock.now(), timezone_of(settings)
        key = author_key(self.bot.anon_secret, interaction.guild_id, interaction.user.id)
        points = await checkins_service.journal_points(
            self.bot.db, guild_id=interaction.guild_id, user_id=interaction.user.id, author_key=key
        )
        if not points:
            await reply(interaction, "No check-ins here yet. `/checkin` whenever you like: there's no wrong time.")
            return
        this_month, total, day_count = count_checkins((at for at, _ in points), now=now, tz=tz)
        meetings = await checkins_service.meetings_attended(self.bot.db, interaction.guild_id, interaction.user.id)
        today = now.astimezone(tz).date()
        values = daily_means(points, today=today, days=days, tz=tz)
        lines = [
            f"**Check-ins this month:** {this_month} · **in all:** {total}",
            f"**Days you've checked in:** {day_count} · **Meetings attended:** {meetings}",
            "-# These only ever go up: a day without a check-in never takes anything away.",
        ]
        title = f"Your mood, last {days} days"
        png = await asyncio.to_thread(mood_chart, values, today - timedelta(days=days - 1), title)
        if png is not None:
            await reply(interaction, "\n".join(lines), file=discord.File(io.BytesIO(png), filename="mood.png"))
            return
        weekly = days > WEEKLY_AFTER_DAYS
        trend = sparkline(bucket_means(values, 7) if weekly else values)
        per = "a bar per week" if weekly else "a bar per day"
        lines.insert(0, f"{title} ({per}, oldest first; · is a day without one):\n`{trend}`")
        await reply(interaction, "\n".join(lines))

    @app_commands.command(name="checkin-weather", description="How a group is doing this week (5 members must share)")
    @app_commands.guild_only()
    @app_commands.autocomplete(group=group_autocomplete)
    async def weather(self, interaction: discord.Interaction, group: str) -> None:
        found = await groups_service.find_group(self.bot.db, interaction.guild_id, group)
        moods, people = await checkins_service.group_weather(
            self.bot.db, found, self.bot.anon_secret, self.bot.clock.now()
        )
        summary = weather_summary(moods, people)
        if summary is None:
            await reply(
                interaction,
                f"Fewer than 5 members shared a check-in in **{found.name}** in the last 7 days, so there's no "
                "weather to show yet: with so few, someone's mood could be guessed. Private check-ins never count.",
            )
            return
        embed = discord.Embed(title=f"{found.name} · the last 7 days", description=summary, colour=CALM)
        embed.set_footer(text="From check-ins shared in the group, anonymously or by name. Private ones never count.")
        await reply(interaction, embed=embed)


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Journal(bot))
