"""The meeting clock: 'starting now' posts and the mirrored Discord event, rebuilt from the database at start."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import discord
from discord.ext import commands

from bot.client import PeerBot
from bot.services import groups as groups_service
from bot.services import meetings as svc
from bot.services.meetings import Meeting, Occurrence
from cogs._meeting_ui import location, starting_view
from cogs._ui import CALM

log = logging.getLogger(__name__)

# A 'starting now' post later than this after the start is not useful: it is dropped, not sent late.
START_GRACE = timedelta(minutes=10)


class Schedule(commands.Cog):
    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self._rebuild: asyncio.Task | None = None

    async def cog_load(self) -> None:
        # The database is the truth: jobs are rebuilt from it, once the gateway is ready.
        self._rebuild = asyncio.create_task(self.rebuild())

    async def cog_unload(self) -> None:
        if self._rebuild is not None:
            self._rebuild.cancel()
        self.bot.scheduler.cancel_prefix("meeting:")

    async def rebuild(self) -> None:
        """Plan every active meeting (missed 'starting now' posts are not sent late)."""
        await self.bot.wait_until_ready()
        for meeting in await svc.active_meetings(self.bot.db):
            try:
                await self.plan(meeting.id)
            except Exception:
                log.exception("Could not plan meeting %s", meeting.id)

    @commands.Cog.listener()
    async def on_group_archived(self, group) -> None:
        for meeting in await self.bot.db.fetchall(
            "SELECT id FROM meetings WHERE group_id = ? AND cancelled_at IS NULL", (group.id,)
        ):
            await self.plan(meeting["id"])

    async def plan(self, meeting_id: int, *, refresh_event: bool = False) -> None:
        """Schedule the next 'starting now' and end-of-meeting jobs, and mirror the next date as an event.

        Called after every change; `refresh_event` re-creates the event so it shows what the organiser changed.
        """
        scheduler = self.bot.scheduler
        scheduler.cancel_prefix(f"meeting:{meeting_id}:")
        meeting = await svc.meeting_by_id(self.bot.db, meeting_id)
        active = (
            meeting is not None
            and meeting.active
            and bool(await svc.active_meetings(self.bot.db, group_ids=[meeting.group_id]))
        )
        if not active:
            if meeting is not None:
                await self.mirror(meeting, None, refresh_event)
                await self._plan_reminders(meeting.id)
            return
        now = self.bot.clock.now()
        current = await svc.next_occurrence(self.bot.db, meeting, now - meeting.duration)
        if current is not None and current.start <= now < current.end:
            scheduler.schedule(f"meeting:{meeting.id}:end", current.end, lambda: self._ended(meeting.id))
            if meeting.last_started != current.key and now - current.start <= START_GRACE:
                key_now = current.key
                scheduler.schedule(f"meeting:{meeting.id}:late", now, lambda: self._started(meeting.id, key_now))
            upcoming = await svc.next_occurrence(self.bot.db, meeting, now + timedelta(seconds=1))
            target = current
        else:
            upcoming = current if current is not None and current.start > now else None
            target = upcoming
        if upcoming is not None:
            key = upcoming.key
            scheduler.schedule(f"meeting:{meeting.id}:start", upcoming.start, lambda: self._started(meeting.id, key))
        await self.mirror(meeting, target, refresh_event)
        await self._plan_reminders(meeting.id)

    async def _plan_reminders(self, meeting_id: int) -> None:
        nudges = self.bot.get_cog("Nudges")
        if nudges is not None:
            await nudges.plan_meeting(meeting_id)

    async def _started(self, meeting_id: int, key: int) -> None:
        await self.bot.wait_until_ready()
        meeting = await svc.meeting_by_id(self.bot.db, meeting_id)
        now = self.bot.clock.now()
        if meeting is None or not meeting.active or meeting.last_started == key:
            return
        occurrence = await svc.occurrence_now(self.bot.db, meeting, now)
        if occurrence is not None and occurrence.key == key and now - occurrence.start <= START_GRACE:
            async with self.bot.db.transaction() as tx:
                # Claimed before sending: a restart or a second process never posts it twice.
                claimed = await tx.execute(
                    "UPDATE meetings SET last_started = ? WHERE id = ? AND (last_started IS NULL OR last_started <> ?)",
                    (key, meeting.id, key),
                )
            if claimed:
                await self._post_starting(meeting, occurrence)
        self.bot.dispatch("occurrence_started", meeting.id, key)
        await self.plan(meeting.id)

    async def _ended(self, meeting_id: int) -> None:
        await self.bot.wait_until_ready()
        self.bot.dispatch("occurrence_ended", meeting_id)
        await self.plan(meeting_id)

    async def _post_starting(self, meeting: Meeting, occurrence: Occurrence) -> None:
        group = await groups_service.get_group(self.bot.db, meeting.guild_id, meeting.group_id)
        channel = self.bot.get_channel(group.channel_id)
        if channel is None:
            return
        embed = discord.Embed(
            title=f"{meeting.title} is starting now",
            description=f"Join here: {location(meeting)}\nPress **I'm here** to check yourself in: only you see it.",
            colour=CALM,
        )
        try:
            await channel.send(embed=embed, view=starting_view(meeting.id, occurrence.key))
        except discord.HTTPException:
            log.warning("Could not post 'starting now' for meeting %s", meeting.id)

    async def mirror(self, meeting: Meeting, target: Occurrence | None, refresh: bool = False) -> None:
        """Keep one Discord scheduled event for the meeting's next date (never Discord's own recurrence)."""
        guild = self.bot.get_guild(meeting.guild_id)
        if guild is None:
            return
        wanted = target.key if target is not None else None
        if meeting.event_occurrence == wanted and (meeting.event_id or wanted is None) and not refresh:
            return
        if meeting.event_id:
            try:
                event = await guild.fetch_scheduled_event(meeting.event_id)
                await event.delete()
            except discord.NotFound:
                pass
            except discord.HTTPException:
                log.info("Could not delete the event of meeting %s", meeting.id)
        event_id = None
        if target is not None:
            event_id = await self._create_event(guild, meeting, target)
        async with self.bot.db.transaction() as tx:
            await svc.update(tx, meeting, event_id=event_id, event_occurrence=wanted if event_id else None)

    async def _create_event(self, guild: discord.Guild, meeting: Meeting, occ: Occurrence) -> int | None:
        common = {
            "name": meeting.title[:100],
            "start_time": occ.start,
            "end_time": occ.end,
            "description": (meeting.description or "")[:1000],
            "privacy_level": discord.PrivacyLevel.guild_only,
        }
        channel = guild.get_channel(meeting.voice_channel_id) if meeting.voice_channel_id else None
        try:
            if isinstance(channel, discord.VoiceChannel | discord.StageChannel):
                kind = (
                    discord.EntityType.voice
                    if isinstance(channel, discord.VoiceChannel)
                    else discord.EntityType.stage_instance
                )
                event = await guild.create_scheduled_event(channel=channel, entity_type=kind, **common)
            else:
                place = meeting.link or "On this server (see the group's channel)"
                event = await guild.create_scheduled_event(
                    entity_type=discord.EntityType.external, location=place[:100], **common
                )
        except discord.Forbidden:
            log.info("No permission to create events in guild %s", guild.id)
            return None
        except discord.HTTPException:
            log.warning("Could not create the event of meeting %s", meeting.id, exc_info=True)
            return None
        return event.id

    async def alert_moderators(self, guild: discord.Guild, text: str) -> bool:
        """Post an alert in the server's mod-log, if one is set and reachable."""
        settings = await groups_service.get_settings(self.bot.db, guild.id)
        channel = guild.get_channel(settings.modlog_channel_id) if settings.modlog_channel_id else None
        if channel is None:
            log.info("No mod-log to alert in guild %s", guild.id)
            return False
        try:
            await channel.send(embed=discord.Embed(description=text, colour=discord.Colour.orange()))
        except discord.HTTPException:
            return False
        return True


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Schedule(bot))
