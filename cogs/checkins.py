"""/checkin and /checkin-reply, and the queue that sends anonymous posts.

`/checkin` is a plain command because Discord cannot run a command that has subcommands; the others are
top-level `/checkin-…` commands (history and weather live in cogs/journal.py; see docs/checkins.md).
"""

from __future__ import annotations

import asyncio
import math
import secrets
from datetime import datetime, timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, defer_reply, reply
from bot.errors import UserError
from bot.logic.anonymity import author_key
from bot.logic.crisis import find_crisis_language, normalise_terms
from bot.logic.journal import average, daily_means, kind_words
from bot.logic.moods import MOODS, mood_label, sparkline
from bot.services import checkins as checkins_service
from bot.services import groups as groups_service
from bot.services import safety as safety_service
from bot.services.checkins import AnonPost, Checkin, NewCheckin
from bot.services.groups import Group, GuildSettings
from cogs._anonymous import release
from cogs._checkin_ui import (
    NO_MENTIONS,
    Draft,
    DraftView,
    answer,
    blocked_text,
    crisis_extras,
    my_groups_autocomplete,
    post_autocomplete,
    render_named,
    timezone_of,
)

TREND = timedelta(days=7)  # the trend under every check-in's answer
MOOD_CHOICES = [app_commands.Choice(name=f"{m} · {MOODS[m][1]} {MOODS[m][0]}", value=m) for m in (5, 4, 3, 2, 1)]
REPLIED = {
    "published": "Replied in the thread as **{alias}**.",
    "held": "Your reply as **{alias}** goes to the moderators first, and appears once one of them approves it.",
    "pending": "Discord is slow right now; your reply as **{alias}** will go out in a minute.",
}


class Checkins(commands.Cog):
    """Members' check-ins: a private journal, shared by name or anonymously if they choose."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.rebuilt: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        # The database is the truth: the queue survives a restart because its timers are rebuilt from it.
        self.rebuilt = self.bot.at_start(self.rebuild())

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
        """Send a queued anonymous post at `at` (and again later if Discord could not take it)."""

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
        share="private: only your journal · anonymous: under a weekly alias · named: under your name",
        note="A few words, if you like (shared only if you choose anonymous or named)",
        group="Which group to share with (the group of this channel by default)",
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
        note = checkins_service.clean_text(note, limit=checkins_service.NOTE_MAX, what="Notes")
        group_id = (await groups_service.find_group(self.bot.db, interaction.guild_id, group)).id if group else None
        await self.submit(interaction, Draft(mood, share, note, content_warning, group_id))

    async def submit(self, interaction: discord.Interaction, draft: Draft) -> None:
        """Save a check-in and share it as the member chose, or ask what to do when it can't be shared."""
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        if draft.share == "private":
            _, points = await self._record(interaction, draft, None)
            where = "Saved to your private journal; only you can see it (`/checkin-history`)."
            await self.acknowledge(interaction, draft, settings, where, points)
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
        if group.anonymity == "vetted":
            where = (
                f"It goes to the moderators {when} as **{alias}** (your name in {group.name} this week), and "
                f"appears in <#{channel_id}> once one of them approves it."
            )
        else:
            where = f"It will appear in <#{channel_id}> {when} as **{alias}**, your name in {group.name} this week."
        where += " The wait keeps its timing from pointing at you, and nothing in my records links it to you."
        await self.acknowledge(interaction, draft, settings, where)

    async def _record(
        self, interaction: discord.Interaction, draft: Draft, group: Group | None
    ) -> tuple[Checkin, list[tuple[int, int]]]:
        """Save a journal check-in; return it with the member's last 7 days (it included), read in the same trip."""
        now = self.bot.clock.now()
        entry = NewCheckin(
            interaction.guild_id, interaction.user.id, draft.mood, "named" if group else "private", now,
            draft.note, draft.content_warning, group.id if group else None,
        )  # fmt: skip
        key = author_key(self.bot.anon_secret, interaction.guild_id, interaction.user.id)
        return await checkins_service.record_checkin_with_trend(self.bot.db, entry, author_key=key, since=now - TREND)

    async def _group_for(self, interaction: discord.Interaction, draft: Draft) -> Group | None:
        """Return the group to share with, or answer with a way to pick one and return None."""
        mine = await groups_service.member_groups(self.bot.db, interaction.guild_id, interaction.user.id)
        if draft.group_id is not None:
            for group in mine:
                if group.id == draft.group_id:
                    return group
            chosen = await groups_service.get_group(self.bot.db, interaction.guild_id, draft.group_id)
            text = f"You're not in **{chosen.name}**, so you can't share there yet (`/group join` first)."
        else:
            # A thread counts as its parent channel; a group without a check-in channel has None there.
            here = {interaction.channel_id, getattr(interaction.channel, "parent_id", None)} - {None}
            local = [g for g in mine if {g.channel_id, g.checkin_channel_id} & here]
            if len(local) == 1 or len(mine) == 1:
                return (local or mine)[0]
            text = "Which group should this go to?" if mine else "You're not in a group here yet (`/group list`)."
        view = DraftView(self, draft, interaction, groups=mine)
        await answer(interaction, f"{text}\nYour check-in isn't saved yet.", view=view)
        return None

    async def _anonymous_refusal(
        self, interaction: discord.Interaction, group: Group, settings: GuildSettings, channel_id: int
    ) -> str | None:
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

    async def _share_named(
        self, interaction: discord.Interaction, draft: Draft, settings: GuildSettings, group: Group, channel_id: int
    ) -> None:
        entry, points = await self._record(interaction, draft, group)
        channel = interaction.guild.get_channel(channel_id)
        where = "It's saved in your journal, but I couldn't post it in the group's channel (a moderator can fix that)."
        if channel is not None:
            content = render_named(interaction.user.mention, draft.mood, draft.note, draft.content_warning)
            try:
                message = await channel.send(content, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException:
                message = None
            if message is not None:
                async with self.bot.db.transaction() as tx:
                    await checkins_service.set_checkin_message(tx, entry.id, channel.id, message.id)
                where = f"Shared in {channel.mention} under your name, and saved in your journal."
        await self.acknowledge(interaction, draft, settings, where, points)

    async def acknowledge(
        self,
        interaction: discord.Interaction,
        draft: Draft,
        settings: GuildSettings,
        where: str,
        points: list[tuple[int, int]] | None = None,
    ):
        """Answer kindly with the 7-day trend (`points`, else read now), and resources if the note reads as crisis."""
        now, tz = self.bot.clock.now(), timezone_of(settings)
        if points is None:
            key = author_key(self.bot.anon_secret, interaction.guild_id, interaction.user.id)
            points = await checkins_service.journal_points(
                self.bot.db, guild_id=interaction.guild_id, user_id=interaction.user.id, author_key=key,
                since=now - TREND,
            )  # fmt: skip
        week = sparkline(daily_means(points, today=now.astimezone(tz).date(), days=7, tz=tz))
        mean, count = average(m for _, m in points) or draft.mood, max(1, len(points))
        text = "\n".join(t for t in (draft.content_warning, draft.note) if t)
        crisis = find_crisis_language(text, normalise_terms(settings.crisis_terms)) if text else []
        words = kind_words(draft.mood) if not crisis else "Thank you for telling me how it really is."
        lines = [f"{mood_label(draft.mood)} — {words}", where]
        lines.append(f"Your last 7 days: `{week}` · average **{mean:.1f}** from {count} check-in{'s' * (count != 1)}.")
        if not crisis:
            await answer(interaction, "\n".join(lines))
            return
        lines.insert(1, "What you wrote sounds really heavy, and you don't have to carry it alone.")
        embed, view = crisis_extras(settings, interaction.guild_id)
        await answer(interaction, "\n".join(lines), embed=embed, view=view)

    # ------------------------------------------------------------------------------------------ /checkin-reply
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
            alias = parent.alias
            if key != parent.author_key:  # the author keeps the post's alias; others reply under this week's
                key, alias = await checkins_service.alias_for_week(
                    tx,
                    self.bot.anon_secret,
                    guild_id=group.guild_id,
                    group_id=group.id,
                    user_id=interaction.user.id,
                    now=now,
                )
            queued = await checkins_service.enqueue_reply(
                tx, parent=parent, author_key=key, alias=alias, text=message, now=now
            )
        await defer_reply(interaction)
        released = await release(self.bot, queued.id)
        if released.retry_at is not None:
            self.schedule_post(queued.id, released.retry_at)
        text = REPLIED.get(released.status, "I couldn't post your reply, I'm sorry. Please try again later.")
        settings = await groups_service.get_settings(self.bot.db, group.guild_id)
        if not find_crisis_language(message, normalise_terms(settings.crisis_terms)):
            await reply(interaction, text.format(alias=alias))
            return
        embed, view = crisis_extras(settings, group.guild_id)
        await reply(interaction, text.format(alias=alias), embed=embed, **({"view": view} if view else {}))

    async def _find_post(self, interaction: discord.Interaction, text: str) -> AnonPost:
        """Resolve the `post` option: a choice from the list, a message link or a message id."""
        raw = text.strip().rstrip("/").rsplit("/", 1)[-1]
        found = None
        if raw.isdigit():
            found = await checkins_service.get_post(self.bot.db, int(raw))
            found = found or await checkins_service.post_for_message(self.bot.db, int(raw))
        if found is None or found.is_reply or found.status != "published" or not found.thread_id:
            raise UserError("I can't find that anonymous check-in (or it has no thread). Pick one from the list.")
        if interaction.guild_id is not None and found.guild_id != interaction.guild_id:
            raise UserError("That check-in is in another server. Reply there, or from your DMs with me.")
        return found


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Checkins(bot))
