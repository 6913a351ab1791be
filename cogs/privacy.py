"""/mydata export|delete, /setup retention, and the daily privacy work (retention, departures, removed servers)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime, time, timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, reply
from bot.services import buddies as buddies_service
from bot.services import groups as groups_service
from bot.services import privacy as svc
from cogs._checks import attach_setup_commands, detach_setup_commands, moderator_only
from cogs._ui import ChoiceButton, Components

log = logging.getLogger(__name__)
DAILY_AT = time(3, 30)  # UTC: a quiet hour for most servers
PRIVACY_DOC = "docs/privacy.md"


class EraseButton(
    ChoiceButton, discord.ui.DynamicItem[discord.ui.Button], template=r"mydata:(?P<value>erase|erase-posts|cancel)"
):
    """The confirm buttons of /mydata delete."""

    PREFIX, COG, METHOD = "mydata", "Privacy", "confirm"
    LABELS = {"erase": "Erase my data", "erase-posts": "Erase, and remove my anonymous posts", "cancel": "Cancel"}

    def style_for(self, value: str) -> discord.ButtonStyle:
        return discord.ButtonStyle.secondary if value == "cancel" else discord.ButtonStyle.danger


class Privacy(commands.Cog):
    mydata = app_commands.Group(name="mydata", description="Everything the bot holds about you: export or erase it")

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self._startup: asyncio.Task | None = None

    async def cog_load(self) -> None:
        attach_setup_commands(self.bot, setup_retention)
        self._startup = self.bot.at_start(self._plan_daily())

    async def cog_unload(self) -> None:
        detach_setup_commands(self.bot, setup_retention)
        if self._startup is not None:
            self._startup.cancel()
        self.bot.scheduler.cancel("privacy:daily")

    # ------------------------------------------------------------------ export and erase
    @mydata.command(name="export", description="Get everything the bot holds about you, as a file")
    async def export(self, interaction: discord.Interaction) -> None:
        data = await svc.export(self.bot.db, interaction.user.id, self.bot.anon_secret, self.bot.clock.now())
        blob = json.dumps(data, indent=2, ensure_ascii=False).encode()
        name = f"peerbot-my-data-{self.bot.clock.now():%Y-%m-%d}.json"
        sections = ", ".join(data["data"]) or "nothing yet"
        await reply(
            interaction,
            f"Here is everything I hold about you ({sections}). The format is described in {PRIVACY_DOC}.",
            file=discord.File(io.BytesIO(blob), filename=name),
        )

    @mydata.command(name="delete", description="Erase everything the bot holds about you (asks to confirm)")
    async def delete(self, interaction: discord.Interaction) -> None:
        view = Components(items=[EraseButton(action) for action in ("erase", "erase-posts", "cancel")])
        await reply(
            interaction,
            "This erases everything I hold about you in every server: groups, journal, RSVPs, your own check-ins "
            "to meetings, reminders, buddy profile and history, and requests for help. Your buddy is told kindly "
            "and re-paired. Meetings you host pass to a co-host. It can't be undone.\n"
            "Your anonymous posts can stay in the channels (nobody can tell they were yours) or be removed too.",
            view=view,
        )

    async def confirm(self, interaction: discord.Interaction, action: str) -> None:
        if action == "cancel":
            await reply(interaction, "Nothing was erased.")
            return
        erasure = await self.erase_member(interaction.user.id, remove_posts=action == "erase-posts")
        if not erasure.total and not erasure.anonymous_messages:
            await reply(interaction, "There was nothing left to erase. I hold nothing about you now.")
            return
        lines = [f"• {label}: {count}" for label, count in erasure.counts.items()]
        removed = len(erasure.anonymous_messages) if action == "erase-posts" else 0
        if removed:
            lines.append(f"• anonymous posts removed from channels: {removed}")
        await reply(interaction, "Erased. Here is what went:\n" + "\n".join(lines))

    async def erase_member(self, user_id: int, *, remove_posts: bool = False, guild_id: int | None = None):
        """Erase a member (everywhere, or in one server): buddies re-paired first, then every row."""
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            guilds = [guild_id] if guild_id is not None else await svc.known_guilds(tx)
            departures = []
            for gid in guilds:
                departures += await buddies_service.leave_everywhere(tx, gid, user_id, now)
            erasure = await svc.erase(tx, user_id, self.bot.anon_secret, guild_id=guild_id)
            await groups_service.audit(tx, guild_id or 0, "privacy.erase", "a member's data was erased", now)
        buddies = self.bot.get_cog("Buddies")
        if buddies is not None:
            buddies.after_departures(departures)
        if remove_posts:
            for channel_id, message_id in erasure.anonymous_messages:
                channel = self.bot.get_channel(channel_id)
                if channel is not None:
                    try:
                        await channel.get_partial_message(message_id).delete()
                    except discord.HTTPException:
                        log.info("Could not remove an anonymous post during erasure")
        for meeting_id in erasure.meetings_without_host:
            await self._tell_no_host(meeting_id)
        return erasure

    async def _tell_no_host(self, meeting_id: int) -> None:
        row = await self.bot.db.fetchone("SELECT guild_id, title FROM meetings WHERE id = ?", (meeting_id,))
        schedule = self.bot.get_cog("Schedule")
        guild = self.bot.get_guild(row["guild_id"]) if row else None
        if schedule is not None and guild is not None:
            await schedule.alert_moderators(
                guild,
                f"**{row['title']}** has no host any more (its host erased their data). It still runs; "
                "please give it one with `/meeting handover`.",
            )

    # ------------------------------------------------------------------ departures and the daily job
    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.record_departure(tx, payload.guild_id, payload.user.id, self.bot.clock.now())

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.cancel_departure(tx, member.guild.id, member.id)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.set_bot_removed(tx, guild.id, self.bot.clock.now())

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.set_bot_removed(tx, guild.id, None)

    async def _plan_daily(self) -> None:
        await self.bot.wait_until_ready()
        now = self.bot.clock.now()
        at = datetime.combine(now.date(), DAILY_AT, UTC)
        if at <= now:
            at += timedelta(days=1)
        self.bot.scheduler.schedule("privacy:daily", at, self.daily)

    async def daily(self) -> None:
        """Purge old notes, erase members past their grace period, forget servers that removed the bot."""
        await self.bot.wait_until_ready()
        now = self.bot.clock.now()
        grace = timedelta(days=self.bot.settings.erase_after_days)
        async with self.bot.db.transaction() as tx:
            purged = await svc.purge_notes(tx, now)
        for guild_id, user_id in await svc.departures_due(self.bot.db, now, grace):
            await self.erase_member(user_id, guild_id=guild_id)
        for guild_id in await svc.guilds_to_forget(self.bot.db, now, grace):
            async with self.bot.db.transaction() as tx:
                await svc.forget_guild(tx, guild_id)
        log.info("Daily privacy work done (%d notes purged)", purged)
        self.bot.scheduler.schedule("privacy:daily", now + timedelta(days=1), self.daily)


@app_commands.command(name="retention", description="How long check-in notes are kept (moods stay unless deleted)")
@moderator_only()
@app_commands.describe(days="Days to keep check-in notes (7–3650)")
async def setup_retention(interaction: discord.Interaction, days: app_commands.Range[int, 7, 3650]) -> None:
    bot = interaction.client
    async with bot.db.transaction() as tx:
        await groups_service.update_settings(tx, interaction.guild_id, retention_days=days)
        await groups_service.audit(
            tx, interaction.guild_id, "setup.retention", f"{days} days", bot.clock.now(), interaction.user.id
        )
    await reply(
        interaction,
        f"Check-in notes older than {days} days are now erased each night. Moods are kept "
        "(members can delete theirs with `/mydata delete`).",
    )


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(EraseButton)
    await bot.add_cog(Privacy(bot))


async def teardown(bot: PeerBot) -> None:
    bot.remove_dynamic_items(EraseButton)
