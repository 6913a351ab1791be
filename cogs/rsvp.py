"""/meetings, /rsvp, /attend and their buttons: members record their own intentions and attendance."""

from __future__ import annotations

import functools
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, reply
from bot.errors import UserError
from bot.services import groups as groups_service
from bot.services import meetings as svc
from bot.services import reminders as reminders_service
from bot.services.meetings import SERIES, STATUS_LABELS
from cogs._meeting_ui import DYNAMIC_ITEMS, location, occurrence_autocomplete, rsvp_view, upcoming_view
from cogs._ui import CALM, Components, group_autocomplete, when

log = logging.getLogger(__name__)

STATUS_SENTENCES = {
    "going": "You're going to",
    "maybe": "You might come to",
    "not_going": "You can't make",
}


@functools.lru_cache(maxsize=4096)
def _listed(number: int, occurrence: svc.Occurrence, group_name: str) -> str:
    """A date as /meetings lists it, but for the member's own answer (the same for everyone who lists it)."""
    meeting = occurrence.meeting
    return (
        f"**{number}. {meeting.title}** ({group_name})\n"
        f"{when(occurrence.start)} · {meeting.duration_minutes} min · {location(meeting)}"
    )


class Rsvp(commands.Cog):
    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    @app_commands.command(name="meetings", description="Upcoming meetings (next 14 days) with your RSVP")
    @app_commands.guild_only()
    @app_commands.autocomplete(group=group_autocomplete)
    async def meetings(self, interaction: discord.Interaction, group: str | None = None) -> None:
        db, now = self.bot.db, self.bot.clock.now()
        if group:
            groups = [await groups_service.find_group(db, interaction.guild_id, group)]
        else:
            groups = await groups_service.member_groups(db, interaction.guild_id, interaction.user.id)
            if not groups:
                groups = await groups_service.list_groups(db, interaction.guild_id)
        found = await svc.active_meetings(db, guild_id=interaction.guild_id, group_ids=[g.id for g in groups])
        occurrences = await svc.upcoming(db, found, now)
        if not occurrences:
            await reply(interaction, "Nothing is scheduled in the next 14 days. `/group list` shows the groups here.")
            return
        names = {g.id: g.name for g in groups}
        lines = []
        shown = occurrences[:10]
        statuses = await svc.rsvp_statuses_of(db, interaction.user.id, shown)
        for number, occ in enumerate(shown, start=1):
            status = statuses[(occ.meeting.id, occ.key)]
            mine = f" · you: **{STATUS_LABELS[status]}**" if status else ""
            lines.append(_listed(number, occ, names.get(occ.meeting.group_id, "")) + mine)
        embed = discord.Embed(title="Coming up", description="\n\n".join(lines), colour=CALM)
        embed.set_footer(text="The buttons answer for the numbered meetings. Only you see your answers.")
        await reply(interaction, embed=embed, view=upcoming_view(occurrences))

    @app_commands.command(name="rsvp", description="Say whether you're coming to a meeting")
    @app_commands.guild_only()
    @app_commands.autocomplete(meeting=occurrence_autocomplete)
    @app_commands.describe(scope="Just this date, or every date of the series")
    async def rsvp_command(
        self,
        interaction: discord.Interaction,
        meeting: str,
        status: Literal["going", "maybe", "not_going"],
        scope: Literal["this", "series"] = "this",
    ) -> None:
        found = await svc.find_meeting(self.bot.db, interaction.guild_id, meeting)
        occurrence = SERIES if scope == "series" else svc.occurrence_from_value(meeting)
        await self.rsvp(interaction, found.id, occurrence, status)

    async def rsvp(
        self, interaction: discord.Interaction, meeting_id: int, occurrence: int | None, status: str
    ) -> None:
        """Record an RSVP: `occurrence` None = the next date, SERIES = every date, else that date."""
        now = self.bot.clock.now()
        meeting = await svc.meeting_by_id(self.bot.db, meeting_id)
        if meeting is None or not meeting.active:
            raise UserError("That meeting series has ended. `/meetings` shows what's coming up.")
        if occurrence is None:
            nxt = await svc.next_occurrence(self.bot.db, meeting, now - meeting.duration)
            if nxt is None or nxt.end <= now:
                raise UserError(f"**{meeting.title}** has no upcoming dates.")
            occurrence = nxt.key
        if occurrence != SERIES:
            await svc.require_future_occurrence(self.bot.db, meeting, occurrence, now)
        async with self.bot.db.transaction() as tx:
            await svc.set_rsvp(tx, meeting, interaction.user.id, occurrence, status, now)
        if occurrence == SERIES:
            text = f"{STATUS_SENTENCES[status]} **{meeting.title}**, every time. Change it any time."
            view = None
        else:
            text = f"{STATUS_SENTENCES[status]} **{meeting.title}** on {when(svc.from_key(occurrence))}."
            if status == "going" and meeting.repeat != "once":
                text += "\nComing every time? Answer for the whole series:"
                view = rsvp_view(meeting.id, str(SERIES), prefix="Every time: ")
            else:
                view = None
        if status == "going":
            reminders = self.bot.get_cog("Reminders")
            offer = await reminders.suggestion_view(interaction.user.id, meeting_id=meeting.id) if reminders else None
            if offer is not None:
                text += "\nWant me to remind you before it? Only if you'd like:"
                view = view or Components()
                for item in offer.children:
                    view.add_item(item)
        await reply(interaction, text, **({"view": view} if view else {}))
        nudges = self.bot.get_cog("Nudges")
        if status != "not_going" and nudges is not None:  # a reminder skipped for "not going" may be due soon
            try:
                if await reminders_service.has_reminders_for(
                    self.bot.db, interaction.user.id, meeting.id, meeting.group_id
                ):
                    await nudges.plan_meeting(meeting.id)
            except Exception:  # the answer stands and was given; the next timer plans again
                log.exception("Could not re-plan the reminders of meeting %s", meeting.id)

    @app_commands.command(name="attend", description="Check yourself in to a meeting that's on now")
    @app_commands.guild_only()
    @app_commands.autocomplete(meeting=occurrence_autocomplete)
    async def attend_command(self, interaction: discord.Interaction, meeting: str | None = None) -> None:
        db, now = self.bot.db, self.bot.clock.now()
        if meeting:
            candidates = [await svc.find_meeting(db, interaction.guild_id, meeting)]
        else:
            groups = await groups_service.member_groups(db, interaction.guild_id, interaction.user.id)
            candidates = await svc.active_meetings(db, guild_id=interaction.guild_id, group_ids=[g.id for g in groups])
        on_now = [occ for m in candidates if (occ := await svc.occurrence_now(db, m, now))]
        if not on_now:
            raise UserError(
                "No meeting of yours is on right now (check-in opens 15 minutes before). `/meetings` shows what's next."
            )
        if len(on_now) > 1:
            raise UserError("More than one meeting is on now: pick one with `meeting:`.")
        await self.attend(interaction, on_now[0].meeting.id, on_now[0].key)

    async def attend(self, interaction: discord.Interaction, meeting_id: int, occurrence: int) -> None:
        """Record the member's own check-in, only during that occurrence's window."""
        now = self.bot.clock.now()
        meeting = await svc.meeting_by_id(self.bot.db, meeting_id)
        current = await svc.occurrence_now(self.bot.db, meeting, now) if meeting else None
        if current is None or current.key != occurrence:
            raise UserError(
                "Check-in for that meeting isn't open: it opens 15 minutes before the start and closes at the end."
            )
        async with self.bot.db.transaction() as tx:
            new = await svc.record_attendance(tx, meeting, interaction.user.id, occurrence, now)
        if not new:
            await reply(interaction, "You're already checked in. Glad you're here. 💚")
            return
        self.bot.dispatch("attendance_recorded", meeting, interaction.user.id, occurrence)
        await reply(interaction, f"Checked in to **{meeting.title}**. Glad you're here. 💚 Only you can see this.")


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Rsvp(bot))


async def teardown(bot: PeerBot) -> None:
    bot.remove_dynamic_items(*DYNAMIC_ITEMS)
