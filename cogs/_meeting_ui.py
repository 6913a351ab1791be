"""How meetings look on Discord: embeds, persistent RSVP and I'm-here buttons, autocomplete."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import discord
from discord import app_commands

from bot.logic import timeparse
from bot.services import meetings as meetings_service
from bot.services.meetings import Meeting, Occurrence
from cogs._ui import CALM, WARM, Components, button_payload, guarded, when

REPEAT_WORDS = {"once": "One-off", "weekly": "Every week", "biweekly": "Every two weeks", "monthly": "Every month"}
RSVP_STYLES = {
    "going": discord.ButtonStyle.success,
    "maybe": discord.ButtonStyle.secondary,
    "not_going": discord.ButtonStyle.secondary,
}


def location(meeting: Meeting) -> str:
    """Where the meeting happens, as a clickable mention or link."""
    parts = []
    if meeting.voice_channel_id:
        parts.append(f"<#{meeting.voice_channel_id}>")
    if meeting.link:
        parts.append(meeting.link)
    return " · ".join(parts) or "Details from the organiser"


def meeting_embed(meeting: Meeting, occurrence: Occurrence | None, *, title_prefix: str = "") -> discord.Embed:
    """The announcement of a series: when (in each viewer's time), how long, where, who hosts."""
    embed = discord.Embed(title=f"{title_prefix}{meeting.title}", description=meeting.description or None, colour=CALM)
    if occurrence is not None:
        embed.add_field(name="Next", value=when(occurrence.start), inline=False)
    else:
        embed.add_field(name="Next", value="No upcoming meetings", inline=False)
        embed.colour = WARM
    embed.add_field(name="Repeats", value=REPEAT_WORDS[meeting.repeat], inline=True)
    embed.add_field(name="Length", value=f"{meeting.duration_minutes} minutes", inline=True)
    embed.add_field(name="Where", value=location(meeting), inline=False)
    embed.add_field(name="Host", value=f"<@{meeting.organiser_id}>", inline=True)
    embed.set_footer(text="Your RSVP is yours: organisers only ever see counts.")
    return embed


class RsvpButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"rsvp:(?P<meeting>[0-9]+):(?P<occ>n|[0-9]+):(?P<status>going|maybe|not_going)",
):
    """Going / Maybe / Can't make it: `occ` is `n` (the next date at click time), 0 (the series) or a date."""

    def __init__(self, meeting_id: int, occurrence: str, status: str, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or meetings_service.STATUS_LABELS[status],
                style=RSVP_STYLES[status],
                custom_id=f"rsvp:{meeting_id}:{occurrence}:{status}",
            )
        )
        self.meeting_id, self.occurrence, self.status = meeting_id, occurrence, status

    @staticmethod
    def payload(meeting_id: int, occurrence: str, status: str, label: str | None = None) -> dict:
        """This button as a ready-made payload (see `Components`)."""
        return button_payload(
            f"rsvp:{meeting_id}:{occurrence}:{status}",
            label or meetings_service.STATUS_LABELS[status],
            RSVP_STYLES[status],
        )

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(int(match["meeting"]), match["occ"], match["status"], item.label)

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        occurrence = None if self.occurrence == "n" else int(self.occurrence)
        await interaction.client.get_cog("Rsvp").rsvp(interaction, self.meeting_id, occurrence, self.status)


class AttendButton(discord.ui.DynamicItem[discord.ui.Button], template=r"attend:(?P<meeting>[0-9]+):(?P<occ>[0-9]+)"):
    """I'm here: a member's own check-in for one occurrence."""

    def __init__(self, meeting_id: int, occurrence: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="I'm here",
                emoji="👋",
                style=discord.ButtonStyle.success,
                custom_id=f"attend:{meeting_id}:{occurrence}",
            )
        )
        self.meeting_id, self.occurrence = meeting_id, occurrence

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(int(match["meeting"]), int(match["occ"]))

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.get_cog("Rsvp").attend(interaction, self.meeting_id, self.occurrence)


DYNAMIC_ITEMS = (RsvpButton, AttendButton)


def rsvp_view(meeting_id: int, occurrence: str = "n", *, prefix: str = "") -> discord.ui.View:
    """A row of Going / Maybe / Can't make it buttons."""
    return Components(
        [
            [
                RsvpButton.payload(meeting_id, occurrence, status, f"{prefix}{meetings_service.STATUS_LABELS[status]}")
                for status in meetings_service.STATUSES
            ]
        ]
    )


def upcoming_view(occurrences: Sequence[Occurrence]) -> discord.ui.View:
    """One row of RSVP buttons per listed date, numbered like the list."""
    return Components(_upcoming_rows(tuple((occ.meeting.id, occ.key) for occ in occurrences[:5])))


@functools.lru_cache(maxsize=1024)
def _upcoming_rows(listed: tuple[tuple[int, int], ...]) -> tuple[tuple[dict, ...], ...]:
    # Every member listing the same dates gets the same buttons (their answers are in the text, not here), so
    # the payloads are made once, and shared by the messages (Components never changes a payload it is given).
    return tuple(
        tuple(
            RsvpButton.payload(meeting_id, str(key), status, f"{number} · {meetings_service.STATUS_LABELS[status]}")
            for status in meetings_service.STATUSES
        )
        for number, (meeting_id, key) in enumerate(listed, start=1)
    )


def starting_view(meeting_id: int, occurrence: int) -> discord.ui.View:
    """The I'm here button on a 'starting now' post."""
    return Components(items=[AttendButton(meeting_id, occurrence)])


def short_local(occ: Occurrence) -> str:
    """A plain-text date for places that cannot show Discord timestamps (autocomplete, labels)."""
    local = occ.start.astimezone(ZoneInfo(occ.meeting.timezone))
    return f"{local:%a %d %b %H:%M} ({occ.meeting.timezone})"


async def meeting_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer this server's active meetings by title."""
    if interaction.guild_id is None:
        return []
    found = await meetings_service.search(interaction.client.db, interaction.guild_id, current)
    return [
        app_commands.Choice(name=f"{m.title} ({REPEAT_WORDS[m.repeat].lower()})"[:100], value=str(m.id)) for m in found
    ]


async def occurrence_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer upcoming dates (next 14 days) of matching meetings, as `id@occurrence`."""
    if interaction.guild_id is None:
        return []
    db, now = interaction.client.db, interaction.client.clock.now()
    found = await meetings_service.search(db, interaction.guild_id, current, limit=25)
    occurrences = await meetings_service.upcoming(db, found, now)
    return [
        app_commands.Choice(name=f"{o.meeting.title} · {short_local(o)}"[:100], value=f"{o.meeting.id}@{o.key}")
        for o in occurrences[:25]
    ]


async def timezone_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer IANA time zones by prefix or city."""
    return [app_commands.Choice(name=z, value=z) for z in timeparse.search_timezones(current)]
