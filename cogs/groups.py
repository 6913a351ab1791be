"""/group list|join|leave: members find and join groups."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, reply
from bot.errors import UserError
from bot.services import groups as groups_service
from bot.services import meetings as meetings_service
from bot.services.groups import Group
from cogs._ui import CALM, Components, group_autocomplete, guarded, when

log = logging.getLogger(__name__)


class JoinGroupButton(discord.ui.DynamicItem[discord.ui.Button], template=r"group:join:(?P<id>[0-9]+)"):
    """A Join button that keeps working after a restart."""

    def __init__(self, group_id: int, label: str = "Join") -> None:
        super().__init__(
            discord.ui.Button(label=label[:80], style=discord.ButtonStyle.success, custom_id=f"group:join:{group_id}")
        )
        self.group_id = group_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(int(match["id"]), item.label or "Join")

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.get_cog("Groups").join(interaction, str(self.group_id))


class Groups(commands.Cog):
    group = app_commands.Group(name="group", description="Find and join this server's groups", guild_only=True)

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    @group.command(name="list", description="The groups here, with a Join button")
    async def list_(self, interaction: discord.Interaction) -> None:
        groups = await groups_service.list_groups(self.bot.db, interaction.guild_id)
        if not groups:
            await reply(
                interaction,
                "There are no groups here yet. A moderator can create one with `/setup group-create`.",
            )
            return
        mine = {
            g.id for g in await groups_service.member_groups(self.bot.db, interaction.guild_id, interaction.user.id)
        }
        counts = await groups_service.member_counts(self.bot.db, [g.id for g in groups])
        meetings = await meetings_service.active_meetings(self.bot.db, guild_id=interaction.guild_id)
        occurrences = await meetings_service.upcoming(self.bot.db, meetings, self.bot.clock.now())
        next_by_group: dict[int, list] = {}
        for occ in occurrences:
            next_by_group.setdefault(occ.meeting.group_id, [])
            if occ.meeting.id not in {o.meeting.id for o in next_by_group[occ.meeting.group_id]}:
                next_by_group[occ.meeting.group_id].append(occ)
        embed = discord.Embed(title="Groups", colour=CALM)
        view = Components()  # Join buttons, answered by their template
        for g in groups[:25]:
            lines = [g.description] if g.description else []
            lines.append(f"<#{g.channel_id}> · {counts.get(g.id, 0)} members")
            for occ in next_by_group.get(g.id, [])[:3]:
                lines.append(f"🗓️ {occ.meeting.title}: {when(occ.start)}")
            if g.id in mine:
                lines.append("✅ You're in this group")
            embed.add_field(name=g.name, value="\n".join(lines)[:1024], inline=False)
            if g.id not in mine:
                view.add_item(JoinGroupButton(g.id, f"Join {g.name}"))
        await reply(interaction, embed=embed, view=view)

    @group.command(name="join", description="Join a group")
    @app_commands.autocomplete(group=group_autocomplete)
    async def join_command(self, interaction: discord.Interaction, group: str) -> None:
        await self.join(interaction, group)

    async def join(self, interaction: discord.Interaction, group_text: str) -> None:
        """Join a group (from the command or a Join button) and grant its role."""
        if interaction.guild is None:
            raise UserError("Groups live in a server: use this there.")
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            group = await groups_service.find_group(tx, interaction.guild_id, group_text)
            joined = await groups_service.join_group(tx, group, interaction.user.id, now)
        if not joined:
            await reply(interaction, f"You're already in **{group.name}**. 💚")
            return
        lines = [f"Welcome to **{group.name}**! 💚 Its announcements are in <#{group.channel_id}>."]
        role_note = await self._set_role(interaction, group, add=True)
        if role_note:
            lines.append(role_note)
        lines.append(
            "If reminders would help, you set them yourself: `/reminders set` picks which meetings and how long "
            "before. Nobody else can set them for you, and you can change or stop them any time."
        )
        self.bot.dispatch("group_joined", interaction, group)
        reminders = self.bot.get_cog("Reminders")
        view = await reminders.suggestion_view(interaction.user.id, group_id=group.id) if reminders else None
        if view is not None:
            lines[-1] = (
                "Want me to remind you before this group's meetings? Only if you'd like: pick below, or use "
                "`/reminders set` any time. Nobody else can set them for you."
            )
        await reply(interaction, "\n".join(lines), **({"view": view} if view else {}))

    @group.command(name="leave", description="Leave a group")
    @app_commands.autocomplete(group=group_autocomplete)
    async def leave(self, interaction: discord.Interaction, group: str) -> None:
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group, active=False)
            left = await groups_service.leave_group(tx, found, interaction.user.id)
        if not left:
            await reply(interaction, f"You're not in **{found.name}**, so there's nothing to leave.")
            return
        self.bot.dispatch("group_left", interaction.guild_id, found, interaction.user.id)
        note = await self._set_role(interaction, found, add=False)
        text = f"You've left **{found.name}**. You're welcome back any time."
        await reply(interaction, text + (f"\n{note}" if note else ""))

    async def _set_role(self, interaction: discord.Interaction, group: Group, *, add: bool) -> str | None:
        """Grant or remove the group's role; return a kind note when Discord would not let us."""
        if not group.role_id or not isinstance(interaction.user, discord.Member):
            return None
        role = interaction.guild.get_role(group.role_id)
        if role is None:
            return None
        try:
            if add:
                await interaction.user.add_roles(role, reason=f"Joined {group.name}")
            else:
                await interaction.user.remove_roles(role, reason=f"Left {group.name}")
        except discord.Forbidden:
            log.warning(
                "Missing permission to %s group role in guild %s",
                "grant" if add else "remove",
                group.guild_id,
            )
            verb = "give you" if add else "take away"
            return (
                f"I couldn't {verb} the **{role.name}** role: I'm missing a permission. "
                "A moderator can fix it; `/setup show` says what's missing."
            )
        return f"You now have the **{role.name}** role." if add else None


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(JoinGroupButton)
    await bot.add_cog(Groups(bot))


async def teardown(bot: PeerBot) -> None:
    bot.remove_dynamic_items(JoinGroupButton)
