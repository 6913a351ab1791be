"""The meeting clock and its posts: announcements, 'starting now', the mirrored Discord event, organiser continuity."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import discord
from discord.ext import commands

from bot.client import PeerBot
from bot.logic.replans import FreshPlans
from bot.services import groups as groups_service
from bot.services import meetings as svc
from bot.services.meetings import Meeting, Occurrence
from cogs._meeting_ui import location, meeting_embed, rsvp_view, starting_view
from cogs._ui import CALM

log = logging.getLogger(__name__)

# A 'starting now' post later than this after the start is not useful: it is dropped, not sent late.
START_GRACE = timedelta(minutes=10)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Hold Python's cycle collector while the rebuild makes its million short-lived objects.

    Reference counting still frees them; the collector otherwise ran about a thousand times during a start
    with 10,000 series, re-scanning the same long-lived caches (0.7 s of it, bench/startup.py).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Schedule(commands.Cog):
    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self._rebuild: asyncio.Task | None = None
        # One meeting is planned by one task at a time (its Discord event is deleted and created in steps).
        self._planning: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._fresh = FreshPlans()  # meetings planned on their own while the rebuild applies an older read

    async def cog_load(self) -> None:
        # The database is the truth: jobs are rebuilt from it, once the gateway is ready.
        self._rebuild = self.bot.at_start(self.rebuild())

    async def cog_unload(self) -> None:
        if self._rebuild is not None:
            self._rebuild.cancel()
        self.bot.scheduler.cancel_prefix("meeting:")

    async def rebuild(self) -> None:
        """Plan every active meeting and its reminders (missed 'starting now' posts are not sent late).

        Everything is read in a few queries and planned in memory: a query per meeting made a start with
        10,000 series take most of a minute (bench/startup.py).
        """
        await self.bot.wait_until_ready()
        with self._fresh.bulk() as replanned, _cyclic_gc_paused():
            meetings = await svc.active_meetings(self.bot.db)  # active, in groups not archived
            skipped = await svc.skipped_keys(self.bot.db, [m.id for m in meetings])
            now = self.bot.clock.now()
            for index, meeting in enumerate(meetings):
                await svc.breathe(index)
                async with self._planning[meeting.id]:
                    if meeting.id in replanned:
                        continue
                    try:
                        self.bot.scheduler.cancel_prefix(f"meeting:{meeting.id}:")
                        target = self._schedule_jobs(meeting, skipped[meeting.id], now)
                        await self.mirror(meeting, target)
                    except Exception:
                        log.exception("Could not plan meeting %s", meeting.id)
            nudges = self.bot.get_cog("Nudges")
            if nudges is not None:  # not those planned since (their reminders were, with them)
                await nudges.plan_meetings([m for m in meetings if m.id not in replanned], skipped)

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
        async with self._planning[meeting_id]:
            found = await self._plan(meeting_id, refresh_event)
            self._fresh.planned(meeting_id)
        if found:  # outside the lock: catching up on reminders may mean many DMs
            await self._plan_reminders(meeting_id)

    async def _plan(self, meeting_id: int, refresh_event: bool) -> bool:
        """Plan the meeting's own timers and event; say whether the meeting exists."""
        self.bot.scheduler.cancel_prefix(f"meeting:{meeting_id}:")
        meeting = await svc.meeting_by_id(self.bot.db, meeting_id)
        if meeting is None:
            return False
        active = (
            meeting.active
            and not (await groups_service.get_group(self.bot.db, meeting.guild_id, meeting.group_id)).archived
        )
        if not active:
            await self.mirror(meeting, None, refresh_event)
            return True
        skipped = (await svc.skipped_keys(self.bot.db, [meeting.id]))[meeting.id]
        target = self._schedule_jobs(meeting, skipped, self.bot.clock.now())
        await self.mirror(meeting, target, refresh_event)
        return True

    def _schedule_jobs(self, meeting: Meeting, skipped: dict[int, str], now) -> Occurrence | None:
        """Schedule an active meeting's next 'starting now' and end jobs; return the date to mirror as an event."""
        scheduler = self.bot.scheduler
        current = svc.next_unskipped(meeting, now - meeting.duration, skipped)
        if current is not None and current.start <= now < current.end:
            scheduler.schedule(f"meeting:{meeting.id}:end", current.end, lambda: self._ended(meeting.id))
            if meeting.last_started != current.key and now - current.start <= START_GRACE:
                key_now = current.key
                scheduler.schedule(f"meeting:{meeting.id}:late", now, lambda: self._started(meeting.id, key_now))
            upcoming = svc.next_unskipped(meeting, now + timedelta(seconds=1), skipped)
            target = current
        else:
            # `current` may be an occurrence ending exactly now: then the next one is still to find.
            in_future = current is not None and current.start > now
            upcoming = current if in_future else svc.next_unskipped(meeting, now + timedelta(seconds=1), skipped)
            target = upcoming
        if upcoming is not None:
            key = upcoming.key
            scheduler.schedule(f"meeting:{meeting.id}:start", upcoming.start, lambda: self._started(meeting.id, key))
        return target

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

    # ------------------------------------------------------------------ announcements
    async def announce(self, meeting: Meeting, channel_id: int, nxt: Occurrence | None) -> bool:
        """Post a new series' announcement with its RSVP buttons."""
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            return False
        try:
            message = await channel.send(embed=meeting_embed(meeting, nxt), view=rsvp_view(meeting.id))
        except discord.HTTPException:
            log.warning("Could not announce meeting %s", meeting.id)
            return False
        async with self.bot.db.transaction() as tx:
            await svc.update(tx, meeting, announcement_channel_id=channel.id, announcement_message_id=message.id)
        return True

    async def refresh_announcement(self, meeting_id: int) -> None:
        """Re-render the series announcement after a change."""
        meeting = await svc.meeting_by_id(self.bot.db, meeting_id)
        if meeting is None or not meeting.announcement_message_id:
            return
        channel = self.bot.get_channel(meeting.announcement_channel_id)
        if channel is None:
            return
        nxt = await svc.next_occurrence(self.bot.db, meeting, self.bot.clock.now())
        prefix = "" if meeting.active else "Ended: "
        view = rsvp_view(meeting.id) if meeting.active else None
        try:
            await channel.get_partial_message(meeting.announcement_message_id).edit(
                embed=meeting_embed(meeting, nxt, title_prefix=prefix), view=view
            )
        except discord.HTTPException:
            log.info("Could not refresh the announcement of meeting %s", meeting.id)

    # ------------------------------------------------------------------ continuity
    @commands.Cog.listener()
    async def on_member_remove(self, member: discord.Member) -> None:
        """Pass an organiser's meetings to a co-host; with none, alert the moderators. Never delete them."""
        hosted = await svc.hosted_by(self.bot.db, member.guild.id, member.id)
        orphaned = []
        for meeting in hosted:
            successor = next(
                (c for c in await svc.cohosts(self.bot.db, meeting.id) if member.guild.get_member(c)), None
            )
            if successor is None:
                orphaned.append(meeting)
                continue
            async with self.bot.db.transaction() as tx:
                await svc.hand_over(tx, meeting, successor)
                await groups_service.audit(
                    tx, meeting.guild_id, "meeting.handover.auto", meeting.title, self.bot.clock.now()
                )
            await self.refresh_announcement(meeting.id)
        if orphaned:
            await self.alert_moderators(
                member.guild,
                "These meetings' organiser has left the server. They still run as scheduled; please hand them "
                "over with `/meeting handover`: " + ", ".join(f"**{m.title}**" for m in orphaned),
            )

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
