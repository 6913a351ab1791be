"""/checkin, /checkin-history, /checkin-reply, /checkin-weather, and the queue of anonymous posts.

`/checkin` is a plain command because Discord cannot run a command that has subcommands, so the others
are top-level `/checkin-…` commands (see docs/checkins.md).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, reply
from bot.errors import UserError
from bot.logic.anonymity import author_key
from bot.logic.crisis import find_crisis_language, normalise_terms
from bot.logic.journal import Counters, average, bucket_means, count_checkins, daily_means, kind_words
from bot.logic.moods import MOODS, mood_label, sparkline, weather_summary
from bot.services import checkins as checkins_service
from bot.services import groups as groups_service
from bot.services import safety as safety_service
from bot.services.groups import GuildSettings
from cogs._anonymous import release
from cogs._checkin_ui import (
    NO_MENTIONS,
    Draft,
    DraftView,
    ReachOutButton,
    answer,
    mood_chart,
    persistent_view,
    render_named,
    resources_embed,
)
from cogs._ui import CALM, group_autocomplete

log = logging.getLogger(__name__)

MOOD_CHOICES = [
    app_commands.Choice(name=f"{m} · {MOODS[m][1]} {MOODS[m][0]}", value=m) for m in sorted(MOODS, reverse=True)
]


def timezone_of(settings: GuildSettings) -> ZoneInfo:
    """Return the server's time zone for counting days (UTC when unset or unknown)."""
    try:
        return ZoneInfo(settings.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def blocked_text(until: int) -> str:
    """Tell a blocked author, kindly, what happened and what still works."""
    return (
        f"A moderator has paused anonymous sharing for you in this server until <t:{until}:F> (<t:{until}:R>). "
        "You can still check in privately or share under your name, and `/resources` is always here."
    )


async def my_groups_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer the member's own groups in this server."""
    groups = await groups_service.member_groups(interaction.client.db, interaction.guild_id, interaction.user.id)
    return [
        app_commands.Choice(name=g.name, value=str(g.id)) for g in groups if current.casefold() in g.name.casefold()
    ][:25]


async def post_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer recent anonymous check-ins in the member's groups (the thread it is typed in first)."""
    db, now = interaction.client.db, interaction.client.clock.now()
    group_ids = [
        r["group_id"]
        for r in await db.fetchall("SELECT group_id FROM memberships WHERE user_id = ?", (interaction.user.id,))
    ]
    posts = await checkins_service.recent_posts(db, group_ids, now - timedelta(days=14))
    posts.sort(key=lambda p: p.thread_id != interaction.channel_id)
    choices = []
    for post in posts:
        hours = max(0, int((now.timestamp() - (post.published_at or 0)) // 3600))
        name = f"{post.alias} · {mood_label(post.mood)} · {f'{hours}h ago' if hours < 48 else f'{hours // 24}d ago'}"
        if current.casefold() in name.casefold():
            choices.append(app_commands.Choice(name=name[:100], value=str(post.id)))
    return choices[:25]


class Checkins(commands.Cog):
    """Members' check-ins: a private journal, sharing by name or anonymously, history and weather."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.rebuilt: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        # The database is the truth: the queue survives a restart because its timers are rebuilt from it.
        self.rebuilt = asyncio.create_task(self.rebuild())

    async def cog_unload(self) -> None:
        if self.rebuilt is not None:
            self.rebuilt.cancel()
        self.bot.scheduler.cancel_prefix("anon-post:")

    async def rebuild(self) -> None:
        """Re-arm the timer of every queued anonymous post, including one a crash cut off mid-send."""
        await self.bot.wait_until_ready()
        async with self.bot.db.transaction() as tx:
            await checkins_service.reset_interrupted_approvals(tx)
        now = self.bot.clock.now()
        for post in await checkins_service.queued_posts(self.bot.db):
            due = datetime.fromtimestamp(post.due_at, now.tzinfo) if post.due_at else now
            self.schedule_post(post.id, max(due, now))

    def schedule_post(self, post_id: int, at: datetime) -> None:
        """Send a queued anonymous post at `at` (again later if Discord could not take it)."""

        async def job() -> None:
            await self.bot.wait_until_ready()
            released = await release(self.bot, post_id)
            if released.retry_at is not None:
                self.schedule_post(post_id, released.retry_at)

        self.bot.scheduler.schedule(f"anon-post:{post_id}", at, job)

    # ------------------------------------------------------------------------------------------ /checkin
    @app_commands.command(name="checkin", description="Check in with how you're doing (private unless you share it)")
    @app_commands.guild_only()
    @app_commands.describe(
        mood="How are you, from 1 (really struggling) to 5 (great)?",
        share="private: only your journal · anonymous: posted under a weekly alias · named: posted under your name",
        note="A few words, if you like (only shared if you choose anonymous or named)",
        group="Which group to share with (defaults to this channel's group)",
        content_warning="Hide the note behind a warning, e.g. 'relapse'",
    )
    @app_commands.choices(mood=MOOD_CHOICES)
    @app_commands.autocomplete(group=my_groups_autocomplete)
    async def checkin(
        self,
        interaction: discord.Interaction,
        mood: int,
        share: Literal["private", "anonymous", "named"],
        note: app_commands.Range[str, 1, checkins_service.NOTE_MAX] | None = None,
        group: str | None = None,
        content_warning: app_commands.Range[str, 1, checkins_service.WARNING_MAX] | None = None,
    ) -> None:
        checkins_service.clean_text(note, limit=checkins_service.NOTE_MAX, what="Notes")
        group_id = (await groups_service.find_group(self.bot.db, interaction.guild_id, group)).id if group else None
        await self.submit(interaction, Draft(mood, share, note, content_warning, group_id))

    async def submit(self, interaction: discord.Interaction, draft: Draft) -> None:
        """Save a check-in and share it as the member chose, or ask them what to do when it can't be shared."""
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        if draft.share == "private":
            async with self.bot.db.transaction() as tx:
                await checkins_service.record_checkin(
                    tx, guild_id=interaction.guild_id, user_id=interaction.user.id, mood=draft.mood, share="private",
                    now=self.bot.clock.now(), note=draft.note, content_warning=draft.content_warning,
                )  # fmt: skip
            where = "Saved to your private journal; only you can see it (`/checkin-history`)."
            await self.acknowledge(interaction, draft, settings, where)
            return
        group = await self._group_for(interaction, draft)
        if group is None:
            return
        channel_id = group.checkin_channel_id or group.channel_id
        if draft.share == "named":
            await self._share_named(interaction, draft, settings, group, channel_id)
            return
        refusal = await self._anonymous_refusal(interaction, group, settings, channel_id)
        if refusal:
            view = DraftView(self, draft, interaction, named=True)
            await answer(
                interaction, f"{refusal}\nYour check-in isn't saved yet: what would you like to do?", view=view
            )
            return
        now = self.bot.clock.now()
        low, high = self.bot.settings.anon_delay_min_seconds, self.bot.settings.anon_delay_max_seconds
        due = now + timedelta(seconds=low + secrets.randbelow(high - low + 1))
        async with self.bot.db.transaction() as tx:
            key, alias = await checkins_service.alias_for_week(
                tx,
                self.bot.anon_secret,
                guild_id=group.guild_id,
                group_id=group.id,
                user_id=interaction.user.id,
                now=now,
            )
            post = await checkins_service.enqueue_post(
                tx, guild_id=group.guild_id, group_id=group.id, author_key=key, alias=alias, mood=draft.mood,
                due_at=due, note=draft.note, content_warning=draft.content_warning,
            )  # fmt: skip
        self.schedule_post(post.id, due)
        minutes = math.ceil(high / 60)
        when = f"within about {minutes} minute{'s' * (minutes != 1)}" if minutes else "in a moment"
        where = (
            f"It will go to the moderators {when} as **{alias}** (your name in {group.name} this week), and "
            f"appears in <#{channel_id}> once one of them approves it."
            if group.anonymity == "vetted"
            else f"It will appear in <#{channel_id}> {when} as **{alias}**, your name in {group.name} this week."
        )
        where += " The wait keeps its timing from pointing at you, and nothing in my records links it to you."
        await self.acknowledge(interaction, draft, settings, where)

    async def _group_for(self, interaction: discord.Interaction, draft: Draft):
        """Return the group to share with, or answer with a way to pick one and return None."""
        mine = await groups_service.member_groups(self.bot.db, interaction.guild_id, interaction.user.id)
        if draft.group_id is not None:
            for group in mine:
                if group.id == draft.group_id:
                    return group
            chosen = await groups_service.get_group(self.bot.db, interaction.guild_id, draft.group_id)
            text = f"You're not in **{chosen.name}**, so you can't share there yet (`/group join` first)."
        else:
            channel = interaction.channel
            here = {interaction.channel_id, getattr(channel, "parent_id", None)}
            local = [g for g in mine if {g.channel_id, g.checkin_channel_id} & here]
            if len(local) == 1 or len(mine) == 1:
                return (local or mine)[0]
            text = (
                "Which group should this go to?"
                if mine
                else "You're not in a group here yet, so there's nowhere to share it (`/group list` shows them)."
            )
        view = DraftView(self, draft, interaction, groups=mine)
        await answer(interaction, f"{text}\nYour check-in isn't saved yet.", view=view)
        return None

    async def _anonymous_refusal(self, interaction, group, settings: GuildSettings, channel_id: int) -> str | None:
        """Return why this anonymous check-in can't be shared, or None when it can."""
        if group.anonymity == "off":
            return f"**{group.name}** doesn't take anonymous check-ins (its moderators chose that)."
        if group.anonymity == "vetted" and not settings.modlog_channel_id:
            return f"**{group.name}** holds anonymous check-ins for moderators, but there's no mod-log set up yet."
        channel = interaction.guild.get_channel(channel_id)
        if channel is None or not channel.permissions_for(interaction.guild.me).send_messages:
            return f"I can't post in **{group.name}**'s check-in channel right now (a moderator can fix that)."
        key = author_key(self.bot.anon_secret, group.guild_id, interaction.user.id)
        until = await safety_service.blocked_until(self.bot.db, group.guild_id, key, self.bot.clock.now())
        return blocked_text(until) if until else None

    async def _share_named(self, interaction, draft: Draft, settings: GuildSettings, group, channel_id: int) -> None:
        async with self.bot.db.transaction() as tx:
            entry = await checkins_service.record_checkin(
                tx, guild_id=group.guild_id, user_id=interaction.user.id, mood=draft.mood, share="named",
                now=self.bot.clock.now(), note=draft.note, content_warning=draft.content_warning, group_id=group.id,
            )  # fmt: skip
        channel = interaction.guild.get_channel(channel_id)
        try:
            if channel is None:
                raise discord.NotFound
            content = render_named(interaction.user.mention, draft.mood, draft.note, draft.content_warning)
            message = await channel.send(content, allowed_mentions=NO_MENTIONS)
        except (discord.HTTPException, TypeError):
            where = (
                "It's saved in your journal, but I couldn't post it in the group's channel (a moderator can fix that)."
            )
        else:
            async with self.bot.db.transaction() as tx:
                await checkins_service.set_checkin_message(tx, entry.id, channel.id, message.id)
            where = f"Shared in {channel.mention} under your name, and saved in your journal."
        await self.acknowledge(interaction, draft, settings, where)

    async def acknowledge(self, interaction, draft: Draft, settings: GuildSettings, where: str) -> None:
        """Answer kindly with the 7-day trend, and the resources when the note reads like a crisis."""
        now, tz = self.bot.clock.now(), timezone_of(settings)
        key = author_key(self.bot.anon_secret, interaction.guild_id, interaction.user.id)
        points = await checkins_service.journal_points(
            self.bot.db, guild_id=interaction.guild_id, user_id=interaction.user.id, author_key=key,
            since=now - timedelta(days=7),
        )  # fmt: skip
        week = daily_means(points, today=now.astimezone(tz).date(), days=7, tz=tz)
        mean = average(m for _, m in points) or draft.mood
        lines = [f"{mood_label(draft.mood)} — {kind_words(draft.mood)}", where]
        lines.append(
            f"Your last 7 days: `{sparkline(week)}` · average **{mean:.1f}** from {len(points)} check-in{'s' * (len(points) != 1)}."
        )
        text = "\n".join(t for t in (draft.content_warning, draft.note) if t)
        crisis = find_crisis_language(text, normalise_terms(settings.crisis_terms))
        if not crisis:
            await answer(interaction, "\n".join(lines))
            return
        lines.insert(
            1,
            "What you wrote sounds really heavy. You don't have to carry it alone: the people below are there right now.",
        )
        view = persistent_view(ReachOutButton(interaction.guild_id)) if settings.modlog_channel_id else None
        embed = resources_embed(settings.resources_text)
        if view is not None:
            embed.set_footer(text="Press the button and one of this server's peer helpers will reach out to you. "
                                  "Nothing is sent to anyone unless you press it.")  # fmt: skip
        await answer(interaction, "\n".join(lines), embed=embed, view=view)

    # ------------------------------------------------------------------------------------------ history
    @app_commands.command(name="checkin-history", description="Your own check-in trend and counters (only you see it)")
    @app_commands.guild_only()
    @app_commands.describe(days="How many days to show (7 to 365, 30 by default)")
    async def history(self, interaction: discord.Interaction, days: app_commands.Range[int, 7, 365] = 30) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        now, tz = self.bot.clock.now(), timezone_of(settings)
        key = author_key(self.bot.anon_secret, interaction.guild_id, interaction.user.id)
        points = await checkins_service.journal_points(
            self.bot.db, guild_id=interaction.guild_id, user_id=interaction.user.id, author_key=key
        )
        month, total, day_count = count_checkins((at for at, _ in points), now=now, tz=tz)
        counters = Counters(
            month,
            total,
            day_count,
            await checkins_service.meetings_attended(self.bot.db, interaction.guild_id, interaction.user.id),
        )
        if not points:
            await reply(interaction, "No check-ins here yet. `/checkin` whenever you like: there's no wrong time.")
            return
        today = now.astimezone(tz).date()
        values = daily_means(points, today=today, days=days, tz=tz)
        lines = [
            f"**Check-ins this month:** {counters.this_month} · **in all:** {counters.total}",
            f"**Days you've checked in:** {counters.days} · **Meetings attended:** {counters.meetings_attended}",
            "-# These only ever go up: a day without a check-in never takes anything away.",
        ]
        png = await asyncio.to_thread(
            mood_chart, values, today - timedelta(days=days - 1), f"Your mood, last {days} days"
        )
        if png is None:
            weekly = days > 60
            line = sparkline(bucket_means(values, 7) if weekly else values)
            lines.insert(
                0,
                f"Your mood, last {days} days ({'a bar per week' if weekly else 'a bar per day'}, · = no check-in):\n`{line}`",
            )
            await reply(interaction, "\n".join(lines))
            return
        await reply(interaction, "\n".join(lines), file=discord.File(fp=_bytes(png), filename="mood.png"))

    # ------------------------------------------------------------------------------------------ reply
    @app_commands.command(name="checkin-reply", description="Reply under your alias in an anonymous check-in's thread")
    @app_commands.describe(post="The anonymous check-in (pick from the list)", message="Your reply")
    @app_commands.autocomplete(post=post_autocomplete)
    async def reply_to_post(
        self,
        interaction: discord.Interaction,
        post: str,
        message: app_commands.Range[str, 1, checkins_service.REPLY_MAX],
    ) -> None:
        parent = await self._find_post(interaction, post)
        group = await groups_service.get_group(self.bot.db, parent.guild_id, parent.group_id)
        if not await groups_service.is_member(self.bot.db, group.id, interaction.user.id):
            raise UserError(f"Only members of **{group.name}** can reply there anonymously.")
        if group.anonymity == "off":
            raise UserError(
                f"**{group.name}** doesn't take anonymous posts any more, so anonymous replies are off too."
            )
        now = self.bot.clock.now()
        key = author_key(self.bot.anon_secret, group.guild_id, interaction.user.id)
        until = await safety_service.blocked_until(self.bot.db, group.guild_id, key, now)
        if until:
            raise UserError(blocked_text(until))
        async with self.bot.db.transaction() as tx:
            if key != parent.author_key:
                key, alias = await checkins_service.alias_for_week(
                    tx,
                    self.bot.anon_secret,
                    guild_id=group.guild_id,
                    group_id=group.id,
                    user_id=interaction.user.id,
                    now=now,
                )
            else:
                alias = parent.alias
            queued = await checkins_service.enqueue_reply(
                tx, parent=parent, author_key=key, alias=alias, text=message, now=now
            )
        released = await release(self.bot, queued.id)
        if released.retry_at is not None:
            self.schedule_post(queued.id, released.retry_at)
        text = {
            "published": f"Replied in the thread as **{alias}**.",
            "held": f"Your reply as **{alias}** goes to the moderators first, and appears once one approves it.",
            "pending": "Discord is slow right now; your reply will go out in a minute.",
        }.get(released.status, "I couldn't post your reply. I'm sorry: please try again later.")
        settings = await groups_service.get_settings(self.bot.db, group.guild_id)
        if find_crisis_language(message, normalise_terms(settings.crisis_terms)):
            view = persistent_view(ReachOutButton(group.guild_id)) if settings.modlog_channel_id else None
            await reply(
                interaction, text, embed=resources_embed(settings.resources_text), **({"view": view} if view else {})
            )
            return
        await reply(interaction, text)

    async def _find_post(self, interaction: discord.Interaction, text: str):
        """Resolve the `post` option: a choice, a message link or a message id."""
        raw = text.strip().rstrip("/").rsplit("/", 1)[-1]
        found = None
        if raw.isdigit():
            found = await checkins_service.get_post(self.bot.db, int(raw)) or await checkins_service.post_for_message(
                self.bot.db, int(raw)
            )
        if found is None or found.is_reply or found.status != "published" or not found.thread_id:
            raise UserError(
                "I can't find that anonymous check-in, or it has no thread. Pick one from the list as you type."
            )
        if interaction.guild_id is not None and found.guild_id != interaction.guild_id:
            raise UserError("That check-in is in another server. Use this there, or from your DMs with me.")
        return found

    # ------------------------------------------------------------------------------------------ weather
    @app_commands.command(
        name="checkin-weather", description="How a group is doing this week (needs 5 members sharing)"
    )
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
                f"Fewer than 5 members shared a check-in in **{found.name}** in the last 7 days, so there's no weather "
                "to show yet: with so few, someone's mood could be guessed. Private check-ins never count.",
            )
            return
        embed = discord.Embed(title=f"{found.name} · the last 7 days", description=summary, colour=CALM)
        embed.set_footer(
            text="From check-ins shared in the group, anonymously or by name. Private check-ins never count."
        )
        await reply(interaction, embed=embed)


def _bytes(data: bytes):
    import io

    return io.BytesIO(data)


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Checkins(bot))
