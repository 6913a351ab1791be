"""/setup …: moderators configure groups and the server (Manage Server, checked on every call)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, open_modal, reply
from bot.errors import UserError
from bot.logic import timeparse
from bot.logic.crisis import DEFAULT_RESOURCES
from bot.services import buddies as buddies_service
from bot.services import groups as groups_service
from cogs._checks import require_manage_guild
from cogs._meeting_ui import timezone_autocomplete
from cogs._setup_show import configuration_embed, role_problem
from cogs._ui import CALM, GuardedModal, any_group_autocomplete, group_autocomplete, when


class ResourcesModal(GuardedModal, title="Crisis and support resources"):
    text = discord.ui.TextInput(
        label="What members see with /resources",
        style=discord.TextStyle.paragraph,
        max_length=groups_service.RESOURCES_MAX,
        required=False,
        placeholder="Leave empty to show the international default.",
    )

    def __init__(self, cog: Setup, current: str | None) -> None:
        super().__init__()
        self.cog = cog
        self.text.default = current or ""

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.save_resources(interaction, self.text.value)


class Setup(commands.Cog):
    """Moderator configuration. Every command here needs Manage Server."""

    setup = app_commands.Group(
        name="setup",
        description="Configure peer-support groups (moderators)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        require_manage_guild(interaction)
        return True

    async def _save_settings(self, interaction: discord.Interaction, action: str, detail, **changes):
        """Save server settings and audit the change in one transaction; `detail` may read the saved settings."""
        async with self.bot.db.transaction() as tx:
            settings = await groups_service.update_settings(tx, interaction.guild_id, **changes)
            text = detail(settings) if callable(detail) else detail
            await groups_service.audit(
                tx, interaction.guild_id, action, text, self.bot.clock.now(), interaction.user.id
            )
        return settings

    @setup.command(name="group-create", description="Create a group in this server")
    @app_commands.describe(
        name="The group's name, e.g. Tuesday Circle",
        channel="Where the group's announcements go",
        description="A line about who the group is for",
        role="A role given to members when they join",
        checkin_channel="Where shared check-ins are posted",
        buddy_channel="Where buddy threads are opened",
    )
    async def group_create(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, groups_service.NAME_MAX],
        channel: discord.TextChannel,
        description: str | None = None,
        role: discord.Role | None = None,
        checkin_channel: discord.TextChannel | None = None,
        buddy_channel: discord.TextChannel | None = None,
    ) -> None:
        problem = role_problem(interaction.guild, role) if role else None
        if problem and problem.startswith("!"):
            raise UserError(problem[1:])
        async with self.bot.db.transaction() as tx:
            group = await groups_service.create_group(
                tx,
                guild_id=interaction.guild_id,
                name=name,
                channel_id=channel.id,
                now=self.bot.clock.now(),
                description=description,
                role_id=role.id if role else None,
                checkin_channel_id=checkin_channel.id if checkin_channel else None,
                buddy_channel_id=buddy_channel.id if buddy_channel else None,
            )
            await groups_service.audit(
                tx, group.guild_id, "group.create", group.name, self.bot.clock.now(), interaction.user.id
            )
        text = f"Created **{group.name}**, announcing in {channel.mention}."
        if problem:
            text += f"\n⚠️ {problem}"
        text += "\nMembers can join with `/group join`. Organisers schedule with `/meeting create`."
        await reply(interaction, text)

    @setup.command(name="group-edit", description="Change a group")
    @app_commands.autocomplete(group=any_group_autocomplete)
    @app_commands.describe(group="The group to change")
    async def group_edit(
        self,
        interaction: discord.Interaction,
        group: str,
        name: app_commands.Range[str, 1, groups_service.NAME_MAX] | None = None,
        channel: discord.TextChannel | None = None,
        description: str | None = None,
        role: discord.Role | None = None,
        checkin_channel: discord.TextChannel | None = None,
        buddy_channel: discord.TextChannel | None = None,
    ) -> None:
        changes = {
            key: value
            for key, value in {
                "name": name,
                "channel_id": channel.id if channel else None,
                "description": description,
                "role_id": role.id if role else None,
                "checkin_channel_id": checkin_channel.id if checkin_channel else None,
                "buddy_channel_id": buddy_channel.id if buddy_channel else None,
            }.items()
            if value is not None
        }
        if not changes:
            raise UserError("Tell me what to change: pick at least one field after the group.")
        problem = role_problem(interaction.guild, role) if role else None
        if problem and problem.startswith("!"):
            raise UserError(problem[1:])
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group, active=False)
            updated = await groups_service.edit_group(tx, found, **changes)
            await groups_service.audit(
                tx,
                updated.guild_id,
                "group.edit",
                f"{updated.name}: {', '.join(sorted(changes))}",
                self.bot.clock.now(),
                interaction.user.id,
            )
        text = f"Updated **{updated.name}**."
        if problem:
            text += f"\n⚠️ {problem}"
        await reply(interaction, text)

    @setup.command(name="group-archive", description="Archive a group (history kept; no more meetings)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def group_archive(self, interaction: discord.Interaction, group: str) -> None:
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group, active=False)
            archived = await groups_service.archive_group(tx, found, self.bot.clock.now())
            await groups_service.audit(
                tx,
                archived.guild_id,
                "group.archive",
                archived.name,
                self.bot.clock.now(),
                interaction.user.id,
            )
        self.bot.dispatch("group_archived", archived)
        await reply(
            interaction,
            f"Archived **{archived.name}**. Its history is kept; it has no more meetings, nudges or pairing.",
        )

    @setup.command(name="organisers", description="Which role may schedule this group's meetings")
    @app_commands.autocomplete(group=group_autocomplete)
    async def organisers(self, interaction: discord.Interaction, group: str, role: discord.Role) -> None:
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group)
            await groups_service.edit_group(tx, found, organiser_role_id=role.id)
            await groups_service.audit(
                tx,
                found.guild_id,
                "group.organisers",
                f"{found.name}: {role.name}",
                self.bot.clock.now(),
                interaction.user.id,
            )
        await reply(
            interaction,
            f"Members with {role.mention} can now schedule **{found.name}**'s meetings "
            "(as can anyone with Manage Events).",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @setup.command(name="modlog", description="Where moderator alerts and the audit log go")
    async def modlog(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        perms = channel.permissions_for(interaction.guild.me)
        if not (perms.view_channel and perms.send_messages and perms.embed_links):
            raise UserError(
                f"I can't post in {channel.mention}: I need View Channel, Send Messages and Embed Links there."
            )
        await self._save_settings(interaction, "setup.modlog", channel.name, modlog_channel_id=channel.id)
        await channel.send(
            embed=discord.Embed(
                description=f"Moderator alerts and the audit log will appear here (set by {interaction.user.mention}).",
                colour=CALM,
            ),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await reply(interaction, f"Moderator alerts and the audit log now go to {channel.mention}.")

    @setup.command(name="resources", description="The crisis and support resources /resources shows")
    @app_commands.describe(text="The text to show; leave out to edit it in a form (empty restores the default)")
    async def resources(self, interaction: discord.Interaction, text: str | None = None) -> None:
        if text is None:
            settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
            await open_modal(interaction, ResourcesModal(self, settings.resources_text))
            return
        await self.save_resources(interaction, text)

    async def save_resources(self, interaction: discord.Interaction, text: str) -> None:
        """Save the server's resources text (empty: back to the default) and show it."""
        settings = await self._save_settings(
            interaction,
            "setup.resources",
            lambda saved: "custom" if saved.resources_text else "default",
            resources_text=text,
        )
        shown = settings.resources_text or DEFAULT_RESOURCES
        which = "this server's text" if settings.resources_text else "the international default"
        await reply(interaction, f"`/resources` now shows {which}:\n\n{shown}")

    @setup.command(name="helpers", description="The on-call peer-helper role for 'ask a person to reach out'")
    async def helpers(self, interaction: discord.Interaction, role: discord.Role) -> None:
        if role.is_default():
            raise UserError("Pick a role for your peer helpers, not @everyone.")
        await self._save_settings(interaction, "setup.helpers", role.name, helper_role_id=role.id)
        await reply(
            interaction,
            f"When a member asks for a person to reach out, I'll ping {role.mention} in the mod-log.",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @setup.command(name="timezone", description="This server's default time zone for meetings")
    @app_commands.autocomplete(zone=timezone_autocomplete)
    @app_commands.describe(zone="An IANA zone, e.g. Europe/London (start typing a city)")
    async def timezone(self, interaction: discord.Interaction, zone: str) -> None:
        name = timeparse.validate_timezone(zone)
        await self._save_settings(interaction, "setup.timezone", name, timezone=name)
        await reply(interaction, f"Meetings here default to **{name}** unless a group or meeting says otherwise.")

    @setup.command(name="show", description="This server's configuration, and which permissions I'm missing")
    async def show(self, interaction: discord.Interaction) -> None:
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        groups = await groups_service.list_groups(self.bot.db, interaction.guild_id, include_archived=True)
        pairing = {}
        for group in groups:
            cadence = await buddies_service.get_cadence(self.bot.db, group.id)
            if cadence is not None and cadence.enabled:
                pairing[group.id] = f"every {cadence.every_days} days" + (
                    f", next {when(cadence.next_round_at)}" if cadence.next_round_at else ""
                )
        await reply(interaction, embed=configuration_embed(interaction.guild, settings, groups, pairing))


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Setup(bot))
