"""/meeting …: organisers schedule a group's meetings and hand them over."""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, defer_reply, reply
from bot.errors import NotPermitted, UserError
from bot.logic import recurrence, timeparse
from bot.services import groups as groups_service
from bot.services import meetings as svc
from bot.services.meetings import Meeting
from cogs._dm import fan_out
from cogs._meeting_ui import meeting_autocomplete, timezone_autocomplete
from cogs._ui import group_autocomplete, when

log = logging.getLogger(__name__)
NOTIFY_DAYS = 60


class Meetings(commands.Cog):
    meeting = app_commands.Group(
        name="meeting", description="Schedule your group's meetings (organisers)", guild_only=True
    )

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    # ------------------------------------------------------------------ who may organise
    async def _require_organiser(
        self, interaction: discord.Interaction, group_id: int, meeting: Meeting | None = None
    ) -> None:
        member = interaction.user
        perms = interaction.permissions
        if perms.manage_events or perms.administrator:
            return
        if meeting is not None and (
            meeting.organiser_id == member.id or member.id in await svc.cohosts(self.bot.db, meeting.id)
        ):
            return
        group = await groups_service.get_group(self.bot.db, interaction.guild_id, group_id)
        if group.organiser_role_id and isinstance(member, discord.Member) and member.get_role(group.organiser_role_id):
            return
        raise NotPermitted(
            "Only this group's organisers can do that: people with Manage Events, the group's organiser role"
            + (", or this meeting's hosts." if meeting else ".")
        )

    async def _meeting(self, interaction: discord.Interaction, text: str) -> Meeting:
        meeting = await svc.find_meeting(self.bot.db, interaction.guild_id, text)
        await self._require_organiser(interaction, meeting.group_id, meeting)
        return meeting

    async def _tell_rsvps(self, meeting: Meeting, keys: list[int], text: str) -> int:
        """DM members who said going or maybe to any of these dates; closed DMs get a note instead."""
        audience = await svc.rsvp_audience(self.bot.db, meeting, keys)
        return await fan_out(self.bot, audience, content=text) if audience else 0

    @property
    def _schedule(self):
        return self.bot.get_cog("Schedule")

    async def _replan(self, meeting_id: int) -> None:
        """Re-plan the meeting's timers and its Discord event now, before answering the organiser."""
        await self._schedule.plan(meeting_id, refresh_event=True)

    async def _upcoming_keys(self, meeting: Meeting) -> list[int]:
        now = self.bot.clock.now()
        return [o.key for o in await svc.upcoming(self.bot.db, [meeting], now, days=NOTIFY_DAYS)]

    # ------------------------------------------------------------------ commands
    @meeting.command(name="create", description="Schedule a meeting series for a group")
    @app_commands.autocomplete(group=group_autocomplete, timezone=timezone_autocomplete)
    @app_commands.describe(
        start="Date and time, e.g. 2026-12-01 19:00, tuesday 19:00, tue 7pm",
        timezone="The meeting's time zone (start typing a city); defaults to the group's",
        repeat="How often it meets",
        monthly_by="For monthly meetings: the same weekday (2nd Tuesday) or the same date",
        duration_minutes="How long it lasts (5–600 minutes, default 60)",
        voice_channel="Where it happens on this server",
        link="Or a link to an online room",
    )
    async def create(
        self,
        interaction: discord.Interaction,
        group: str,
        title: app_commands.Range[str, 1, svc.TITLE_MAX],
        start: str,
        repeat: Literal["once", "weekly", "biweekly", "monthly"],
        timezone: str | None = None,
        duration_minutes: int = 60,
        voice_channel: discord.VoiceChannel | discord.StageChannel | None = None,
        link: str | None = None,
        description: str | None = None,
        monthly_by: Literal["weekday", "date"] = "weekday",
    ) -> None:
        found = await groups_service.find_group(self.bot.db, interaction.guild_id, group)
        await self._require_organiser(interaction, found.id)
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        zone_text = timezone or found.timezone or settings.timezone
        if not zone_text:
            raise UserError("Which time zone is this in? Add `timezone:` (start typing a city, e.g. Europe/London).")
        zone = timeparse.validate_timezone(zone_text)
        duration = timeparse.parse_duration_minutes(duration_minutes)
        now = self.bot.clock.now()
        start_local = timeparse.parse_start(start, zone, now)
        async with self.bot.db.transaction() as tx:
            meeting = await svc.create_meeting(
                tx,
                guild_id=interaction.guild_id,
                group_id=found.id,
                title=title,
                start_local=start_local,
                timezone=zone,
                repeat=repeat,
                monthly_by=monthly_by,
                organiser_id=interaction.user.id,
                now=now,
                duration_minutes=duration,
                voice_channel_id=voice_channel.id if voice_channel else None,
                link=link,
                description=description,
            )
            if not found.timezone:
                await groups_service.edit_group(tx, found, timezone=zone)
            await groups_service.audit(tx, meeting.guild_id, "meeting.create", meeting.title, now, interaction.user.id)
        await defer_reply(interaction)
        nxt = await svc.next_occurrence(self.bot.db, meeting, now)
        posted = await self._schedule.announce(meeting, found.channel_id, nxt)
        await self._replan(meeting.id)
        text = (
            f"Scheduled **{meeting.title}**, first on {when(nxt.start)}." if nxt else f"Scheduled **{meeting.title}**."
        )
        if not posted:
            text += f"\n⚠️ I couldn't post the announcement in <#{found.channel_id}>; `/setup show` says what's missing."
        await reply(interaction, text)

    @meeting.command(name="edit", description="Change a series from its next meeting on")
    @app_commands.autocomplete(meeting=meeting_autocomplete, timezone=timezone_autocomplete)
    async def edit(
        self,
        interaction: discord.Interaction,
        meeting: str,
        title: app_commands.Range[str, 1, svc.TITLE_MAX] | None = None,
        start: str | None = None,
        timezone: str | None = None,
        repeat: Literal["once", "weekly", "biweekly", "monthly"] | None = None,
        duration_minutes: int | None = None,
        voice_channel: discord.VoiceChannel | discord.StageChannel | None = None,
        link: str | None = None,
        description: str | None = None,
    ) -> None:
        found = await self._meeting(interaction, meeting)
        now = self.bot.clock.now()
        changes: dict = {
            k: v
            for k, v in {"title": title, "repeat": repeat, "link": link, "description": description}.items()
            if v is not None
        }
        if timezone:
            changes["timezone"] = timeparse.validate_timezone(timezone)
        if duration_minutes is not None:
            changes["duration_minutes"] = timeparse.parse_duration_minutes(duration_minutes)
        if voice_channel is not None:
            changes["voice_channel_id"] = voice_channel.id
        if start:
            changes["start_local"] = timeparse.parse_start(start, changes.get("timezone", found.timezone), now)
        elif "timezone" in changes or "repeat" in changes:
            # Keep the wall-clock time; the series now counts from its next date.
            nxt = await svc.next_occurrence(self.bot.db, found, now)
            if nxt is not None:
                local = recurrence.to_local(nxt.start, found.timezone)
                changes["start_local"] = local
        if not changes:
            raise UserError("Tell me what to change: pick at least one field after the meeting.")
        old_keys = await self._upcoming_keys(found)
        async with self.bot.db.transaction() as tx:
            updated = await svc.update(tx, found, **changes)
            new_keys = [o.key for o in await svc.upcoming(tx, [updated], now, days=NOTIFY_DAYS)]
            await svc.move_rsvps(tx, updated, old_keys, new_keys)
            await groups_service.audit(
                tx,
                updated.guild_id,
                "meeting.edit",
                f"{updated.title}: {', '.join(sorted(changes))}",
                now,
                interaction.user.id,
            )
        await defer_reply(interaction)
        nxt = await svc.next_occurrence(self.bot.db, updated, now)
        told = await self._tell_rsvps(
            updated,
            new_keys,
            f"**{updated.title}** has changed."
            + (f" Next: {when(nxt.start)}." if nxt else "")
            + " Your RSVP carries over; `/meetings` shows the details.",
        )
        await self._replan(updated.id)
        await self._schedule.refresh_announcement(updated.id)
        await reply(interaction, f"Updated **{updated.title}**. I let {told} member(s) who RSVP'd know.")

    @meeting.command(name="skip", description="Call off one date of a series")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    @app_commands.describe(date="The date to call off, e.g. 2026-12-01", note="A line for members, e.g. holiday")
    async def skip(self, interaction: discord.Interaction, meeting: str, date: str, note: str | None = None) -> None:
        found = await self._meeting(interaction, meeting)
        day = _parse_day(date)
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            occurrence = await svc.skip(tx, found, day, note, now)
            await groups_service.audit(
                tx, found.guild_id, "meeting.skip", f"{found.title}: {day.isoformat()}", now, interaction.user.id
            )
        await defer_reply(interaction)
        text = f"The **{found.title}** meeting on {when(occurrence.start)} is called off." + (
            f"\n> {note}" if note else ""
        )
        told = await self._tell_rsvps(found, [occurrence.key], text)
        await self._replan(found.id)
        await self._schedule.refresh_announcement(found.id)
        await reply(interaction, f"Called off {when(occurrence.start)}. I let {told} member(s) who RSVP'd know.")

    @meeting.command(name="cancel", description="End a meeting series (its history stays)")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def cancel(self, interaction: discord.Interaction, meeting: str) -> None:
        found = await self._meeting(interaction, meeting)
        keys = await self._upcoming_keys(found)
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            ended = await svc.cancel(tx, found, now)
            await groups_service.audit(tx, found.guild_id, "meeting.cancel", found.title, now, interaction.user.id)
        await defer_reply(interaction)
        told = await self._tell_rsvps(
            ended,
            keys,
            f"**{found.title}** won't meet any more: the series has ended. "
            "`/meetings` shows your group's other meetings.",
        )
        await self._replan(found.id)
        await self._schedule.refresh_announcement(found.id)
        await reply(interaction, f"Ended **{found.title}**. I let {told} member(s) who RSVP'd know.")

    @meeting.command(name="cohost", description="Add or remove a co-host")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def cohost(
        self, interaction: discord.Interaction, meeting: str, member: discord.Member, action: Literal["add", "remove"]
    ) -> None:
        found = await self._meeting(interaction, meeting)
        if member.bot:
            raise UserError("A bot can't co-host a meeting.")
        async with self.bot.db.transaction() as tx:
            if action == "add":
                changed = await svc.add_cohost(tx, found, member.id, self.bot.clock.now())
            else:
                changed = await svc.remove_cohost(tx, found, member.id)
            await groups_service.audit(
                tx, found.guild_id, f"meeting.cohost.{action}", found.title, self.bot.clock.now(), interaction.user.id
            )
        if action == "add":
            text = (
                f"{member.mention} now co-hosts **{found.title}**."
                if changed
                else f"{member.mention} already co-hosts it."
            )
        else:
            text = (
                f"{member.mention} no longer co-hosts **{found.title}**."
                if changed
                else f"{member.mention} wasn't a co-host."
            )
        await reply(interaction, text, allowed_mentions=discord.AllowedMentions.none())

    @meeting.command(name="handover", description="Hand a meeting over to someone else; it carries on")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def handover(
        self, interaction: discord.Interaction, meeting: str, member: discord.Member, note: str | None = None
    ) -> None:
        found = await self._meeting(interaction, meeting)
        if member.bot or member.id == found.organiser_id:
            raise UserError("Pick the person who will host it from now on.")
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            updated = await svc.hand_over(tx, found, member.id)
            await groups_service.audit(tx, found.guild_id, "meeting.handover", found.title, now, interaction.user.id)
        await defer_reply(interaction)
        text = f"**{found.title}** carries on, now hosted by {member.mention}. Same time, same place."
        if note:
            text += f"\n> {note[:500]}"
        told = await self._tell_rsvps(updated, await self._upcoming_keys(updated), text)
        await self._schedule.refresh_announcement(updated.id)
        await reply(
            interaction,
            f"{member.mention} now hosts **{found.title}**. I told {told} member(s) who RSVP'd.",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @meeting.command(name="stats", description="Counts per meeting: RSVPs and self check-ins (never names)")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def stats(self, interaction: discord.Interaction, meeting: str) -> None:
        found = await self._meeting(interaction, meeting)
        now = self.bot.clock.now()
        past = await self.bot.db.fetchall(
            "SELECT DISTINCT occurrence FROM (SELECT occurrence FROM attendance WHERE meeting_id = ?"
            " UNION SELECT occurrence FROM rsvps WHERE meeting_id = ? AND occurrence > 0) WHERE occurrence < ?"
            " ORDER BY occurrence DESC LIMIT 6",
            (found.id, found.id, int(now.timestamp())),
        )
        keys = sorted(r[0] for r in past) + [o.key for o in (await svc.upcoming(self.bot.db, [found], now))[:4]]
        rows = await svc.stats(self.bot.db, found, keys)
        lines = [f"{when(svc.from_key(k))}: {g} going · {m} maybe · {c} checked in" for k, g, m, c in rows]
        embed = discord.Embed(title=f"{found.title}: numbers", description="\n".join(lines) or "Nothing yet.")
        embed.set_footer(text="Counts only. Who comes is each member's own business.")
        await reply(interaction, embed=embed)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"I couldn't read {text!r} as a date. Use the form 2026-12-01.") from None


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Meetings(bot))
