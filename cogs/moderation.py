"""Moderating anonymous posts without unmasking anyone: report, remove, block, vetted mode, /setup anonymity.

Every action names the alias, never a member, in the audit table and in the mod-log: the bot itself does
not know who wrote a post without recomputing keys from the secret, and moderators never need it to.
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, defer_update, open_modal, reply
from bot.errors import UserError
from bot.logic.anonymity import report_key
from bot.services import checkins as checkins_service
from bot.services import groups as groups_service
from bot.services import safety as safety_service
from bot.services.checkins import AnonPost
from bot.services.groups import Group
from cogs._anonymous import Undeliverable, publish
from cogs._checkin_ui import ReviewButton, jump_url, send_modlog
from cogs._checks import attach_setup_commands, detach_setup_commands, is_moderator, moderator_only
from cogs._ui import CALM, GuardedModal, any_group_autocomplete

MODES = {
    "off": "no anonymous check-ins (private and named still work)",
    "open": "anonymous check-ins go out after a short random delay",
    "vetted": "anonymous check-ins wait in the mod-log until a moderator approves them",
}


class BlockModal(GuardedModal, title="Block an anonymous author"):
    days = discord.ui.TextInput(label="For how many days? (0 lifts a block)", default="7", max_length=3)
    reason = discord.ui.TextInput(
        label="A note for the audit log (optional)", style=discord.TextStyle.paragraph, required=False, max_length=200
    )

    def __init__(self, cog: Moderation, post_id: int) -> None:
        super().__init__()
        self.cog, self.post_id = cog, post_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.apply_block(interaction, self.post_id, self.days.value, self.reason.value)


class Moderation(commands.Cog):
    """Context menus and Approve / Reject for anonymous posts; all by alias."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.menus = [
            app_commands.ContextMenu(name="Report anonymous post", callback=self.report),
            app_commands.ContextMenu(name="Remove anonymous post", callback=self.remove),
            app_commands.ContextMenu(name="Block anonymous author", callback=self.block),
        ]
        self.anonymity_command = app_commands.Command(
            name="anonymity", description="Anonymous check-ins in a group: off, open or vetted", callback=self.anonymity
        )

    async def cog_load(self) -> None:
        for menu in self.menus:
            self.bot.tree.add_command(menu)
        attach_setup_commands(self.bot, self.anonymity_command)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)
        detach_setup_commands(self.bot, self.anonymity_command)

    async def _post_and_group(self, interaction: discord.Interaction, message_id: int) -> tuple[AnonPost, Group]:
        post = await checkins_service.post_for_message(self.bot.db, message_id)
        if post is None or post.guild_id != interaction.guild_id or post.message_id != message_id:
            raise UserError("That isn't an anonymous check-in or reply, so there's nothing to do here.")
        return post, await groups_service.get_group(self.bot.db, post.guild_id, post.group_id)

    async def _record(self, interaction: discord.Interaction, action: str, detail: str, modlog_text: str) -> None:
        """Write a moderator action to the audit table and the mod-log, by alias."""
        async with self.bot.db.transaction() as tx:
            await groups_service.audit(
                tx, interaction.guild_id, action, detail, self.bot.clock.now(), interaction.user.id
            )
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        await send_modlog(self.bot, settings.modlog_channel_id, content=f"{interaction.user.mention} {modlog_text}")

    # ------------------------------------------------------------------------------------------ context menus
    @app_commands.guild_only()
    async def report(self, interaction: discord.Interaction, message: discord.Message) -> None:
        post, group = await self._post_and_group(interaction, message.id)
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        if not settings.modlog_channel_id:
            raise UserError(
                "This server has no mod-log set up, so I can't pass reports on. Please tell a moderator directly."
            )
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            added = await safety_service.record_report(
                tx, post.id, report_key(self.bot.anon_secret, post.id, interaction.user.id), now
            )
            if added:  # the reporter is not recorded: reports are about the post
                await groups_service.audit(
                    tx, post.guild_id, "anon.report", f"{post.alias} in {group.name} (post {post.id})", now
                )
        if not added:
            await reply(interaction, "You've already reported this one, and the moderators have it. Thank you.")
            return
        count = (await checkins_service.get_post(self.bot.db, post.id)).reports
        kind = "reply" if post.is_reply else "check-in"
        await send_modlog(
            self.bot,
            settings.modlog_channel_id,
            content=f"🚩 A member reported an anonymous {kind} by **{post.alias}** in **{group.name}** "
            f"({count} report{'s' * (count != 1)}): {jump_url(post.guild_id, post.channel_id, post.message_id)}",
        )
        await reply(interaction, "Thank you. I've passed it to the moderators: they see the post, not who reported it.")

    @moderator_only()
    async def remove(self, interaction: discord.Interaction, message: discord.Message) -> None:
        post, group = await self._post_and_group(interaction, message.id)
        async with self.bot.db.transaction() as tx:
            removed = await checkins_service.move_post(tx, post.id, ("published",), "removed")
        if removed is None:
            raise UserError(f"That post was already {post.status}.")
        try:
            await message.delete()
        except discord.NotFound:
            pass
        kind = "reply" if post.is_reply else "check-in"
        await self._record(
            interaction,
            "anon.remove",
            f"{post.alias} in {group.name} (post {post.id})",
            f"removed an anonymous {kind} by **{post.alias}** in **{group.name}**.",
        )
        await reply(
            interaction, f"Removed **{post.alias}**'s {kind}. Replies in its thread stay. Its author isn't told."
        )

    @moderator_only()
    async def block(self, interaction: discord.Interaction, message: discord.Message) -> None:
        post, _ = await self._post_and_group(interaction, message.id)
        await open_modal(interaction, BlockModal(self, post.id))

    async def apply_block(self, interaction: discord.Interaction, post_id: int, days_text: str, reason: str) -> None:
        """Block the author of a post from anonymous posting for some days, by their key."""
        days = safety_service.block_days(days_text)
        post = await checkins_service.get_post(self.bot.db, post_id)
        group = await groups_service.get_group(self.bot.db, post.guild_id, post.group_id)
        async with self.bot.db.transaction() as tx:
            until = await safety_service.block_author(
                tx,
                guild_id=post.guild_id,
                author_key=post.author_key,
                alias=post.alias,
                days=days,
                now=self.bot.clock.now(),
            )
        note = f" Note: {reason.strip()}" if reason and reason.strip() else ""
        if until is None:
            await self._record(interaction, "anon.unblock", f"{post.alias} in {group.name}{note}",
                               f"lifted the block on the author of **{post.alias}** ({group.name}).{note}")  # fmt: skip
            await reply(interaction, f"The author of **{post.alias}** can post anonymously again.")
            return
        unix = int(until.timestamp())
        await self._record(
            interaction,
            "anon.block",
            f"{post.alias} in {group.name}: {days} days{note}",
            f"blocked the author of **{post.alias}** ({group.name}) from anonymous posts until <t:{unix}:F>.{note}",
        )
        await reply(
            interaction,
            f"The author of **{post.alias}** can't post anonymously in this server until <t:{unix}:F>. They'll be "
            "told kindly the next time they try; I can't tell them now, because I don't know who they are.",
        )

    # ------------------------------------------------------------------------------------------ vetted mode
    async def review(self, interaction: discord.Interaction, post_id: int, verdict: str) -> None:
        """Approve (publish) or reject a post held in the mod-log."""
        if not is_moderator(interaction.user):
            raise UserError("Only moderators can approve or reject anonymous posts.")
        post = await checkins_service.get_post(self.bot.db, post_id)
        if post is None or post.guild_id != interaction.guild_id:
            raise UserError("I can't find that post any more.")
        group = await groups_service.get_group(self.bot.db, post.guild_id, post.group_id)
        target = "approving" if verdict == "approve" else "rejected"
        async with self.bot.db.transaction() as tx:
            moved = await checkins_service.move_post(tx, post.id, ("held",), target)
        if moved is None:
            raise UserError(f"That post was already {post.status} by another moderator.")
        await defer_update(interaction)
        if verdict == "approve":
            try:
                moved = await publish(self.bot, moved, group)
            except (discord.HTTPException, Undeliverable):
                async with self.bot.db.transaction() as tx:
                    await checkins_service.move_post(tx, post.id, ("approving",), "held")
                raise UserError(
                    "I couldn't post it in the group's channel. Check `/setup show`, then try again."
                ) from None
        kind = "reply" if post.is_reply else "check-in"
        verb = "approved" if verdict == "approve" else "rejected"
        await self._record(interaction, f"anon.{verdict}", f"{post.alias} in {group.name} (post {post.id})",
                           f"{verb} an anonymous {kind} by **{post.alias}** in **{group.name}**.")  # fmt: skip
        embed = interaction.message.embeds[0] if interaction.message and interaction.message.embeds else discord.Embed()
        embed.colour = CALM
        embed.add_field(name=verb.capitalize(), value=f"by {interaction.user.mention}", inline=False)
        if moved.status == "published":
            embed.add_field(
                name="Posted", value=jump_url(moved.guild_id, moved.channel_id, moved.message_id), inline=False
            )
        await interaction.edit_original_response(embed=embed, view=None)

    # ------------------------------------------------------------------------------------------ /setup anonymity
    @moderator_only()
    @app_commands.autocomplete(group=any_group_autocomplete)
    @app_commands.describe(group="The group", mode="off, open, or vetted (held for a moderator's approval)")
    async def anonymity(
        self, interaction: discord.Interaction, group: str, mode: Literal["off", "open", "vetted"]
    ) -> None:
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group, active=False)
            await groups_service.edit_group(tx, found, anonymity=mode)
            await groups_service.audit(
                tx,
                found.guild_id,
                "group.anonymity",
                f"{found.name}: {mode}",
                self.bot.clock.now(),
                interaction.user.id,
            )
        text = f"**{found.name}**: {MODES[mode]}."
        settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
        if mode == "vetted" and not settings.modlog_channel_id:
            text += "\n⚠️ There's no mod-log yet, so anonymous check-ins can't be held. Set one with `/setup modlog`."
        await reply(interaction, text)


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(ReviewButton)
    await bot.add_cog(Moderation(bot))


async def teardown(bot: PeerBot) -> None:
    bot.remove_dynamic_items(ReviewButton)
