"""What reminders and nudges look like: the reminder DM, suggestion buttons, fading and welcome-back notes."""

from __future__ import annotations

import re
from datetime import timedelta

import discord

from bot.logic.timeparse import format_lead_time
from bot.services.meetings import STATUS_LABELS, STATUSES, Occurrence
from cogs._meeting_ui import RsvpButton, location
from cogs._ui import CALM, ChoiceButton, Components, button_payload, guarded, when


def reminder_embed(occurrence: Occurrence, lead_minutes: int) -> discord.Embed:
    """The reminder DM: which meeting, when, where, and that the member asked for it."""
    meeting = occurrence.meeting
    embed = discord.Embed(title=f"Reminder: {meeting.title}", colour=CALM)
    embed.add_field(name="When", value=when(occurrence.start), inline=False)
    embed.add_field(name="Where", value=location(meeting), inline=False)
    embed.set_footer(
        text=f"You asked me to remind you {format_lead_time(timedelta(minutes=lead_minutes))} before. "
        "Change or stop this with /reminders."
    )
    return embed


def reminder_view(occurrence: Occurrence) -> discord.ui.View:
    """Going / Maybe / Can't make it for this date, and a way to stop these reminders."""
    meeting_id = occurrence.meeting.id
    row = [RsvpButton.payload(meeting_id, str(occurrence.key), status, STATUS_LABELS[status]) for status in STATUSES]
    return Components([[*row, StopButton.payload(meeting_id)]])


class SuggestButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"remind:(?P<target>[mg][0-9]+):(?P<minutes>[0-9]+|no)"
):
    """'Want me to remind you?' 1 hour / 1 day / No thanks, after joining or RSVPing."""

    def __init__(self, target: str, minutes: str, label: str) -> None:
        style = discord.ButtonStyle.secondary if minutes == "no" else discord.ButtonStyle.primary
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"remind:{target}:{minutes}"))
        self.target, self.minutes = target, minutes

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["target"], match["minutes"], item.label or "")

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.get_cog("Reminders").answer_suggestion(interaction, self.target, self.minutes)


class StopButton(discord.ui.DynamicItem[discord.ui.Button], template=r"remind:stop:(?P<meeting>[0-9]+)"):
    """Stop these: removes the member's reminders for this meeting (and its group's)."""

    def __init__(self, meeting_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Stop these", style=discord.ButtonStyle.danger, custom_id=f"remind:stop:{meeting_id}"
            )
        )
        self.meeting_id = meeting_id

    @staticmethod
    def payload(meeting_id: int) -> dict:
        """This button as a ready-made payload (see `Components`)."""
        return button_payload(f"remind:stop:{meeting_id}", "Stop these", discord.ButtonStyle.danger)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(int(match["meeting"]))

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.get_cog("Reminders").stop_for_meeting(interaction, self.meeting_id)


class FadingButton(
    ChoiceButton, discord.ui.DynamicItem[discord.ui.Button], template=r"fade:(?P<value>keep|fewer|none)"
):
    """The member's answer to 'keep reminders, fewer, or none?'."""

    PREFIX, COG, METHOD = "fade", "Nudges", "answer_fading"
    LABELS = {"keep": "Keep them", "fewer": "Fewer", "none": "None for now"}


class NudgeSettingButton(
    ChoiceButton,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"nudge:(?P<value>welcome-off|all-back|dms-open)",
):
    """One-click settings offered inside nudges: no more welcome-back notes, all reminders back, DMs reopened."""

    PREFIX, COG, METHOD = "nudge", "Reminders", "nudge_setting"
    LABELS = {
        "welcome-off": "Don't send notes like this",
        "all-back": "Bring all my reminders back",
        "dms-open": "I've opened my DMs",
    }


DYNAMIC_ITEMS = (SuggestButton, StopButton, FadingButton, NudgeSettingButton)


def suggestion_view(target: str) -> discord.ui.View:
    """1 hour / 1 day / No thanks for a meeting ('m12') or a group's meetings ('g3')."""
    return Components(
        items=[
            SuggestButton(target, "60", "Remind me 1 hour before"),
            SuggestButton(target, "1440", "1 day before"),
            SuggestButton(target, "no", "No thanks"),
        ]
    )


def fading_view() -> discord.ui.View:
    return Components(items=[FadingButton(answer) for answer in ("keep", "fewer", "none")])
