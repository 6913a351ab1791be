"""/reminders …: reminders a member sets for themself, and only they can change."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, reply
from bot.errors import UserError
from bot.logic.timeparse import format_lead_time, format_lead_times
from bot.services import groups as groups_service
from bot.services import meetings as meetings_service
from bot.services import members as members_service
from bot.services import reminders as svc
from cogs._dm import open_dm_channel_ahead, send_dm
from cogs._meeting_ui import REPEAT_WORDS, timezone_autocomplete
from cogs._reminder_ui import DYNAMIC_ITEMS, NudgeSettingButton, suggestion_view
from cogs._ui import Components

STYLE_WORDS = {
    "steady": "Steady: every reminder you set, every time.",
    "fading": "Fading: after you've made it 3 times in a row, I'll offer to step back, and come back if you miss one.",
    "off": "Off: no reminders and no notes from me at all. Your reminder settings are kept for when you want them.",
}


async def reminder_target_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Offer meetings, and 'all meetings of <group>' for the groups the member is in."""
    if interaction.guild_id is None:
        return []
    db = interaction.client.db
    choices = [
        app_commands.Choice(name=f"{m.title} ({REPEAT_WORDS[m.repeat].lower()})"[:100], value=str(m.id))
        for m in await meetings_service.search(db, interaction.guild_id, current, limit=20)
    ]
    for group in await groups_service.member_groups(db, interaction.guild_id, interaction.user.id):
        if current.casefold() in f"all {group.name}".casefold():
            choices.append(app_commands.Choice(name=f"All meetings of {group.name}"[:100], value=f"all:{group.id}"))
    return choices[:25]


class Reminders(commands.Cog):
    reminders = app_commands.Group(name="reminders", description="Your own meeting reminders, by DM", guild_only=True)

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    async def _replan_member(self, user_id: int) -> None:
        """A change may make a reminder fall due earlier: re-plan the member's meetings now."""
        nudges = self.bot.get_cog("Nudges")
        if nudges is not None:
            await nudges.replan_member(user_id)

    async def _targets(self, interaction: discord.Interaction, value: str) -> list[tuple[int | None, int | None, str]]:
        """Resolve a `meeting` value to (meeting_id, group_id, name) targets."""
        kind, group_id = svc.parse_target(value)
        db, guild_id = self.bot.db, interaction.guild_id
        if kind == "all":
            groups = await groups_service.member_groups(db, guild_id, interaction.user.id)
            if not groups:
                raise UserError("You're not in any group yet, so there's no `all`. `/group join` first.")
            return [(None, g.id, f"all {g.name} meetings") for g in groups]
        if kind == "group":
            group = await groups_service.get_group(db, guild_id, group_id)
            return [(None, group.id, f"all {group.name} meetings")]
        meeting = await meetings_service.find_meeting(db, guild_id, value)
        return [(meeting.id, None, f"**{meeting.title}**")]

    @reminders.command(name="set", description="Remind me before a meeting (or all of a group's meetings)")
    @app_commands.autocomplete(meeting=reminder_target_autocomplete)
    @app_commands.describe(
        meeting="A meeting, or 'All meetings of …'", before="How long before, e.g. 1h, 1d, or 30m, 1d"
    )
    async def set_(self, interaction: discord.Interaction, meeting: str, before: str) -> None:
        leads = svc.require_leads(before)
        targets = await self._targets(interaction, meeting)
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            for meeting_id, group_id, _ in targets:
                await svc.add_reminders(
                    tx,
                    user_id=interaction.user.id,
                    guild_id=interaction.guild_id,
                    leads=leads,
                    now=now,
                    meeting_id=meeting_id,
                    group_id=group_id,
                )
            prefs = await svc.get_prefs(tx, interaction.user.id)
        await self._replan_member(interaction.user.id)
        names = ", ".join(name for *_, name in targets)
        text = f"Done: I'll DM you {format_lead_times(leads)} before {names}. You can change or stop this any time."
        if prefs.style == "off":
            text += "\nYour reminder style is **off**, so nothing will be sent until you pick `/reminders style`."
        if await members_service.dms_closed(self.bot.db, interaction.user.id):
            text += (
                "\n⚠️ Your DMs are closed to me at the moment: open them, then press the button in `/reminders list`."
            )
        await reply(interaction, text)
        await open_dm_channel_ahead(self.bot, interaction.user.id)

    @reminders.command(name="list", description="Your reminders and settings")
    async def list_(self, interaction: discord.Interaction) -> None:
        db, user_id = self.bot.db, interaction.user.id
        items = await svc.list_reminders(db, user_id, interaction.guild_id)
        prefs = await svc.get_prefs(db, user_id)
        grouped: dict[tuple, list[int]] = {}
        for item in items:
            grouped.setdefault((item.meeting_id, item.group_id), []).append(item.lead_minutes)
        lines = []
        for (meeting_id, group_id), minutes in grouped.items():
            name = await self._target_name(meeting_id, group_id)
            lines.append(f"• {name}: {format_lead_times([timedelta(minutes=m) for m in minutes])} before")
        embed = discord.Embed(
            title="Your reminders", description="\n".join(lines) or "None. `/reminders set` adds one."
        )
        quiet = prefs.quiet
        embed.add_field(name="Style", value=STYLE_WORDS[prefs.style], inline=False)
        if prefs.style == "fading" and prefs.level != "full":
            embed.add_field(name="Stepped back", value="Right now I send fewer reminders, as agreed.", inline=False)
        embed.add_field(
            name="Quiet hours",
            value=f"{quiet[0]:%H:%M}–{quiet[1]:%H:%M} ({quiet[2]})" if quiet else "None",
            inline=True,
        )
        embed.add_field(name="Buddy alert", value="On" if prefs.buddy_alert else "Off", inline=True)
        view = None
        if await members_service.dms_closed(db, user_id):
            embed.add_field(
                name="⚠️ DMs paused",
                value="Discord refused my last DM. Open your DMs, then press the button.",
                inline=False,
            )
            view = Components(items=[NudgeSettingButton("dms-open")])
        await reply(interaction, embed=embed, **({"view": view} if view else {}))

    async def _target_name(self, meeting_id: int | None, group_id: int | None) -> str:
        if meeting_id is not None:
            meeting = await meetings_service.meeting_by_id(self.bot.db, meeting_id)
            return meeting.title if meeting else "a meeting that ended"
        row = await self.bot.db.fetchone("SELECT name FROM groups WHERE id = ?", (group_id,))
        return f"All meetings of {row['name']}" if row else "a group"

    @reminders.command(name="clear", description="Stop reminders for one meeting, or all of them")
    @app_commands.autocomplete(meeting=reminder_target_autocomplete)
    async def clear(self, interaction: discord.Interaction, meeting: str | None = None) -> None:
        async with self.bot.db.transaction() as tx:
            if meeting is None:
                removed = await svc.clear_reminders(tx, interaction.user.id, guild_id=interaction.guild_id)
                what = "all your reminders here"
            else:
                removed = 0
                for meeting_id, group_id, _name in await self._targets(interaction, meeting):
                    removed += await svc.clear_reminders(
                        tx, interaction.user.id, meeting_id=meeting_id, group_id=group_id
                    )
                what = "those reminders"
        await reply(interaction, f"Cleared {what}." if removed else "There were no reminders to clear.")

    @reminders.command(name="style", description="Steady, fading (steps back as you settle in), or off")
    async def style(self, interaction: discord.Interaction, style: Literal["steady", "fading", "off"]) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.set_style(tx, interaction.user.id, style)
        await self._replan_member(interaction.user.id)
        await reply(interaction, STYLE_WORDS[style])

    @reminders.command(name="quiet", description="Hours with no DMs from me (start = end turns them off)")
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    @app_commands.describe(start="e.g. 22:00", end="e.g. 08:00", timezone="Your time zone, e.g. Europe/London")
    async def quiet(self, interaction: discord.Interaction, start: str, end: str, timezone: str) -> None:
        async with self.bot.db.transaction() as tx:
            prefs = await svc.set_quiet_hours(tx, interaction.user.id, start, end, timezone)
        await self._replan_member(interaction.user.id)
        quiet = prefs.quiet
        if quiet is None:
            await reply(interaction, "Quiet hours are off.")
            return
        await reply(
            interaction,
            f"No DMs from {quiet[0]:%H:%M} to {quiet[1]:%H:%M} ({quiet[2]}). A reminder due then waits until "
            "they end, or is dropped if the meeting has already begun.",
        )

    @reminders.command(name="buddy-alert", description="Tell my buddy if I miss two meetings in a row I said I'd go to")
    async def buddy_alert(self, interaction: discord.Interaction, setting: Literal["on", "off"]) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.save_prefs(tx, interaction.user.id, buddy_alert=int(setting == "on"))
        if setting == "on":
            text = (
                "On. If you miss two meetings in a row that you said you'd go to, I'll suggest to your buddy that "
                "they say hi. Nothing else is shared. Turn it off any time."
            )
        else:
            text = "Off. Your buddy won't hear anything from me about your attendance."
        await reply(interaction, text)

    # ------------------------------------------------------------------ suggestions and DM buttons
    async def suggestion_view(self, user_id: int, *, meeting_id: int | None = None, group_id: int | None = None):
        """Return the one 'want me to remind you?' view, unless declined, shown before, or already covered."""
        target = f"m{meeting_id}" if meeting_id is not None else f"g{group_id}"
        db = self.bot.db
        prefs = await svc.get_prefs(db, user_id)
        if prefs.suggestions_off or prefs.style == "off":
            return None
        if meeting_id is not None:
            meeting = await meetings_service.meeting_by_id(db, meeting_id)
            covered = await svc.has_reminders_for(db, user_id, meeting_id, meeting.group_id if meeting else -1)
        else:
            covered = await db.fetchval(
                "SELECT 1 FROM reminders WHERE user_id = ? AND group_id = ?", (user_id, group_id)
            )
        if covered:
            return None
        async with db.transaction() as tx:
            shown = await tx.execute(
                "INSERT INTO reminder_suggestions (user_id, target, shown_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, target, int(self.bot.clock.now().timestamp())),
            )
        return suggestion_view(target) if shown else None

    async def answer_suggestion(self, interaction: discord.Interaction, target: str, minutes: str) -> None:
        if minutes == "no":
            async with self.bot.db.transaction() as tx:
                await svc.save_prefs(tx, interaction.user.id, suggestions_off=1)
            await reply(
                interaction, "No reminders, and I won't ask again. `/reminders set` is there if you change your mind."
            )
            return
        target_id = int(target[1:])
        if target[0] == "m":
            meeting = await meetings_service.meeting_by_id(self.bot.db, target_id)
            if meeting is None:
                raise UserError("That meeting no longer exists.")
            guild_id, ids, name = meeting.guild_id, {"meeting_id": target_id}, f"**{meeting.title}**"
        else:
            row = await self.bot.db.fetchone("SELECT guild_id, name FROM groups WHERE id = ?", (target_id,))
            if row is None:
                raise UserError("That group no longer exists.")
            guild_id, ids, name = row["guild_id"], {"group_id": target_id}, f"every {row['name']} meeting"
        lead = timedelta(minutes=int(minutes))
        async with self.bot.db.transaction() as tx:
            await svc.add_reminders(
                tx, user_id=interaction.user.id, guild_id=guild_id, leads=[lead], now=self.bot.clock.now(), **ids
            )
        await self._replan_member(interaction.user.id)
        await reply(interaction, f"Done: I'll DM you {format_lead_time(lead)} before {name}. `/reminders` changes it.")
        await open_dm_channel_ahead(self.bot, interaction.user.id)

    async def stop_for_meeting(self, interaction: discord.Interaction, meeting_id: int) -> None:
        meeting = await meetings_service.meeting_by_id(self.bot.db, meeting_id)
        async with self.bot.db.transaction() as tx:
            removed = await svc.clear_reminders(tx, interaction.user.id, meeting_id=meeting_id)
            if meeting is not None:
                removed += await svc.clear_reminders(tx, interaction.user.id, group_id=meeting.group_id)
        title = meeting.title if meeting else "that meeting"
        await reply(
            interaction, f"Stopped your reminders for {title}." if removed else "Those reminders were already off."
        )

    async def nudge_setting(self, interaction: discord.Interaction, action: str) -> None:
        user_id = interaction.user.id
        if action == "welcome-off":
            async with self.bot.db.transaction() as tx:
                await svc.save_prefs(tx, user_id, welcome_back=0)
            await reply(interaction, "Understood: no more notes like that one.")
        elif action == "all-back":
            async with self.bot.db.transaction() as tx:
                await svc.set_style(tx, user_id, "steady")
            await self._replan_member(user_id)
            await reply(interaction, "All your reminders are back (style: steady).")
        else:
            await self._dms_reopened(interaction)

    async def _dms_reopened(self, interaction: discord.Interaction) -> None:
        sent = await send_dm(
            self.bot,
            interaction.user.id,
            check_paused=False,
            content="Testing, testing: your DMs are open again, so reminders will reach you. 💚",
        )
        if sent is None:
            raise UserError(
                "Discord still won't let me DM you. Check Privacy Settings → Direct Messages for this server."
            )
        async with self.bot.db.transaction() as tx:
            await members_service.clear_dms_closed(tx, interaction.user.id)
        await self._replan_member(interaction.user.id)
        await reply(interaction, "Thanks! I could DM you, so reminders are back on.")


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(Reminders(bot))


async def teardown(bot: PeerBot) -> None:
    bot.remove_dynamic_items(*DYNAMIC_ITEMS)
