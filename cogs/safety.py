"""/resources, the consent-based escalation ladder, and /setup crisis-terms.

The ladder: a member presses "Ask a person to reach out" (their consent); the helper role is pinged in the
mod-log; a helper presses "I'm on it" and the member is told who is coming; if nobody does within
ESCALATION_MINUTES, the moderators are pinged. Every step is in the audit log, and the timer is rebuilt
from the database at start, so a restart never drops a request.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PeerBot, defer_reply, edit_reply, open_modal, reply
from bot.errors import UserError
from bot.logic.crisis import normalise_terms
from bot.services import groups as groups_service
from bot.services import notices as notices_service
from bot.services import safety as safety_service
from bot.services.safety import Escalation
from cogs._checkin_ui import (
    NO_MENTIONS,
    ClaimButton,
    ReachOutButton,
    WithdrawButton,
    moderator_mentions,
    modlog_channel,
    persistent_view,
    resources_embed,
    send_modlog,
)
from cogs._checks import attach_setup_commands, detach_setup_commands, is_moderator, moderator_only
from cogs._dm import send_dm
from cogs._ui import GuardedModal

log = logging.getLogger(__name__)

MAX_SERVER_BUTTONS = 5


class CrisisTermsModal(GuardedModal, title="Extra crisis words and phrases"):
    terms = discord.ui.TextInput(
        label="One per line (or separated by commas)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=4000,
        placeholder="Leave empty to use only the built-in list.",
    )

    def __init__(self, cog: Safety, current: str) -> None:
        super().__init__()
        self.cog = cog
        self.terms.default = current

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.save_crisis_terms(interaction, self.terms.value)


class Safety(commands.Cog):
    """Crisis resources, and connecting a member with a person when they ask for it."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.rebuilt: asyncio.Task[None] | None = None
        self.crisis_terms_command = app_commands.Command(
            name="crisis-terms",
            description="Extra words and phrases that show a member the crisis resources",
            callback=self.crisis_terms,
        )

    async def cog_load(self) -> None:
        attach_setup_commands(self.bot, self.crisis_terms_command)
        self.rebuilt = self.bot.at_start(self.rebuild())

    async def cog_unload(self) -> None:
        if self.rebuilt is not None:
            self.rebuilt.cancel()
        detach_setup_commands(self.bot, self.crisis_terms_command)
        self.bot.scheduler.cancel_prefix("escalation:")

    async def rebuild(self) -> None:
        """Re-arm the timer of every request that has not reached the moderators yet (it survives a restart)."""
        await self.bot.wait_until_ready()
        now = self.bot.clock.now()
        for escalation in await safety_service.waiting_escalations(self.bot.db):
            self.schedule_escalation(
                escalation.id, max(now, datetime.fromtimestamp(escalation.escalate_at, now.tzinfo))
            )

    # ------------------------------------------------------------------------------------------ /resources
    @app_commands.command(name="resources", description="Crisis and support resources, any time (works in DMs too)")
    async def resources(self, interaction: discord.Interaction) -> None:
        text, buttons = None, []
        try:
            if interaction.guild_id is not None:
                settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
                text = settings.resources_text
                if settings.modlog_channel_id:
                    buttons.append(ReachOutButton(interaction.guild_id))
            else:
                for guild in interaction.user.mutual_guilds:
                    if len(buttons) < MAX_SERVER_BUTTONS:
                        settings = await groups_service.get_settings(self.bot.db, guild.id)
                        if settings.modlog_channel_id:
                            buttons.append(ReachOutButton(guild.id, f"Ask someone in {guild.name}"))
        except Exception:  # the resources must show even when the database fails
            log.exception("Could not read resources settings; showing the default")
        embed = resources_embed(text, title="Crisis and support resources")
        if buttons:
            embed.set_footer(text="Want someone to reach out? Press the button and a peer helper will contact you. "
                                  "Nothing is sent to anyone unless you press it.")  # fmt: skip
            await reply(interaction, embed=embed, view=persistent_view(*buttons))
            return
        await reply(interaction, embed=embed)

    # ------------------------------------------------------------------------------------------ the ladder
    async def reach_out(self, interaction: discord.Interaction, guild_id: int) -> None:
        """The member asked for a person: ping the helpers in the mod-log, and start the timer."""
        await defer_reply(interaction)
        guild = self.bot.get_guild(guild_id)
        member = guild.get_member(interaction.user.id) if guild else None
        if member is None:
            raise UserError(
                "You're not in that server any more, so I can't ask its helpers. "
                "The resources are there for you any time."
            )
        settings = await groups_service.get_settings(self.bot.db, guild_id)
        if modlog_channel(self.bot, settings.modlog_channel_id) is None:
            raise UserError(
                "I can't reach this server's helpers right now. Please message one of its moderators directly, "
                "and the resources are there for you any time."
            )
        now, minutes = self.bot.clock.now(), self.bot.settings.escalation_minutes
        async with self.bot.db.transaction() as tx:
            escalation, new = await safety_service.open_escalation(
                tx, guild_id=guild_id, user_id=member.id, now=now, escalate_after=timedelta(minutes=minutes)
            )
        if not new:
            await reply(
                interaction,
                "You've already asked, and the helpers know. I'll message you as soon as someone picks it up. 💚",
            )
            return
        helpers = guild.get_role(settings.helper_role_id) if settings.helper_role_id else None
        if helpers is not None:
            ping, allowed = helpers.mention, discord.AllowedMentions(everyone=False, users=False, roles=[helpers])
            later = f" If nobody has by <t:{escalation.escalate_at}:t>, I'll ping the moderators."
        else:
            ping, allowed = moderator_mentions(guild)
            later = " (No peer-helper role is set, so I've pinged the moderators straight away: `/setup helpers`.)"
        message = await send_modlog(
            self.bot,
            settings.modlog_channel_id,
            content=f"{ping} 🤝 {member.mention} (**{member.display_name}**) asked for someone to reach out to them, "
            f"and agreed to be contacted. If you can, press **I'm on it**, then message them.{later}",
            view=persistent_view(ClaimButton(escalation.id)),
            allowed_mentions=allowed,
        )
        async with self.bot.db.transaction() as tx:
            if message is None:
                await safety_service.cancel_escalation(tx, escalation.id)
            else:
                await safety_service.set_escalation_message(tx, escalation.id, message.channel.id, message.id)
                await groups_service.audit(
                    tx, guild_id, "escalation.request", "asked for someone to reach out", now, member.id
                )
                if helpers is None:
                    await safety_service.escalate_if_unclaimed(tx, escalation.id, now)
                    await groups_service.audit(
                        tx, guild_id, "escalation.escalate", f"for <@{member.id}>: no helper role, at once", now
                    )
        if message is None:
            raise UserError(
                "I couldn't reach the helpers just now. Please message a moderator directly; "
                "the resources are there any time."
            )
        if helpers is not None:
            self.schedule_escalation(escalation.id, datetime.fromtimestamp(escalation.escalate_at, now.tzinfo))
        await reply(
            interaction,
            f"I've let the peer helpers in **{guild.name}** know you'd like someone to reach out. As soon as someone "
            "picks it up, I'll message you their name. If you're in danger right now, please call your local "
            "emergency number; the resources are there too. 💚\n"
            "If you feel OK again before anyone picks it up, you can take the request back; that's fine too.",
            view=persistent_view(WithdrawButton(escalation.id)),
        )

    async def withdraw(self, interaction: discord.Interaction, escalation_id: int) -> None:
        """The member takes their request back: no more pings, and the helpers see that they said they're OK."""
        escalation = await safety_service.get_escalation(self.bot.db, escalation_id)
        if escalation is None or escalation.user_id != interaction.user.id:
            raise UserError("I can't find that request.")
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            withdrawn = await safety_service.withdraw_escalation(tx, escalation_id, interaction.user.id)
            if withdrawn:
                await groups_service.audit(
                    tx, escalation.guild_id, "escalation.withdraw", "took back their request", now, escalation.user_id
                )
            else:
                escalation = await safety_service.get_escalation(tx, escalation_id)
        if not withdrawn:
            if escalation is not None and escalation.status == "claimed":
                helper = self.bot.get_user(escalation.helper_user_id)
                who = f"**{helper.display_name}**" if helper else "A helper"
                raise UserError(
                    f"{who} has already picked this up and will reach out soon. It's completely fine to tell them "
                    "you're OK now when they do. 💚"
                )
            raise UserError("You've already taken this request back. You can ask again whenever you like. 💚")
        self.bot.scheduler.cancel(f"escalation:{escalation_id}")
        if escalation.channel_id and escalation.message_id:
            unix = int(now.timestamp())
            try:
                request = self.bot.get_partial_messageable(escalation.channel_id).get_partial_message(
                    escalation.message_id
                )
                original = await request.fetch()
                await request.edit(
                    content=f"{original.content}\n↩️ <@{escalation.user_id}> said they're OK for now and took the "
                    f"request back (<t:{unix}:R>).",
                    view=persistent_view(ClaimButton(escalation_id, disabled=True)),
                    allowed_mentions=NO_MENTIONS,
                )
            except discord.HTTPException:
                log.warning("Could not mark escalation %s as withdrawn in the mod-log", escalation_id)
        await edit_reply(
            interaction,
            content="Done: I've let the helpers know you're OK for now, and nobody will be pinged. The resources "
            "are there any time, and you can ask again whenever you like. 💚",
            view=persistent_view(WithdrawButton(escalation_id, disabled=True)),
        )

    async def claim(self, interaction: discord.Interaction, escalation_id: int) -> None:
        """A helper takes the request: the mod-log shows it, and the member is told who is coming."""
        escalation = await safety_service.get_escalation(self.bot.db, escalation_id)
        if escalation is None or interaction.guild_id != escalation.guild_id:
            raise UserError("I can't find that request.")
        settings = await groups_service.get_settings(self.bot.db, escalation.guild_id)
        helper = interaction.user
        if not (is_moderator(helper) or (settings.helper_role_id and helper.get_role(settings.helper_role_id))):
            raise UserError("Only peer helpers or moderators can pick this up. Thank you for caring, though.")
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            escalation = await safety_service.claim_escalation(tx, escalation_id, helper.id, now)
            await groups_service.audit(
                tx, escalation.guild_id, "escalation.claim", f"for <@{escalation.user_id}>", now, helper.id
            )
        self.bot.scheduler.cancel(f"escalation:{escalation_id}")
        unix = int(now.timestamp())
        await edit_reply(
            interaction,
            content=f"{interaction.message.content}\n✅ {helper.mention} is on it (<t:{unix}:R>).",
            view=persistent_view(ClaimButton(escalation_id, disabled=True)),
            allowed_mentions=NO_MENTIONS,
        )
        text = (
            f"💚 **{helper.display_name}** from **{interaction.guild.name}** is on their way: they'll reach out to "
            "you soon. Asking was the right thing to do."
        )
        try:
            sent = await send_dm(self.bot, escalation.user_id, content=text)
        except discord.HTTPException:
            sent = None
        if sent is None:
            async with self.bot.db.transaction() as tx:
                await notices_service.add_notice(tx, escalation.user_id, text, now)
            note = "I couldn't DM them, so they'll see who's coming the next time they use me. Reach out in the server."
        else:
            note = "Thank you. I've told them you're coming."
        await interaction.followup.send(note, ephemeral=True)

    def schedule_escalation(self, escalation_id: int, at: datetime) -> None:
        """Ping the moderators at `at` if nobody has picked the request up by then."""

        async def job() -> None:
            await self.bot.wait_until_ready()
            await self.escalate(escalation_id)

        self.bot.scheduler.schedule(f"escalation:{escalation_id}", at, job)

    async def escalate(self, escalation_id: int) -> None:
        """The second rung: nobody took the request in time, so the moderators are pinged."""
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            escalation: Escalation | None = await safety_service.escalate_if_unclaimed(tx, escalation_id, now)
            if escalation is not None:
                await groups_service.audit(
                    tx, escalation.guild_id, "escalation.escalate", f"for <@{escalation.user_id}>", now
                )
        guild = self.bot.get_guild(escalation.guild_id) if escalation else None
        if escalation is None or guild is None:
            return
        settings = await groups_service.get_settings(self.bot.db, guild.id)
        mentions, allowed = moderator_mentions(guild)
        reference = discord.MessageReference(
            message_id=escalation.message_id, channel_id=escalation.channel_id, fail_if_not_exists=False
        )
        await send_modlog(
            self.bot,
            settings.modlog_channel_id,
            content=f"{mentions} ⏰ Nobody has picked up <@{escalation.user_id}>'s request for someone to reach out "
            f"after {self.bot.settings.escalation_minutes} minutes. Could one of you reach out, and press "
            "**I'm on it**?",
            allowed_mentions=allowed,
            reference=reference,
        )
        log.info("Escalation %s reached the moderators", escalation_id)

    # ------------------------------------------------------------------------------------------ /setup crisis-terms
    @moderator_only()
    @app_commands.describe(terms="Words or phrases separated by commas; leave out to edit them in a form")
    async def crisis_terms(self, interaction: discord.Interaction, terms: str | None = None) -> None:
        if terms is None:
            settings = await groups_service.get_settings(self.bot.db, interaction.guild_id)
            await open_modal(interaction, CrisisTermsModal(self, settings.crisis_terms))
            return
        await self.save_crisis_terms(interaction, terms)

    async def save_crisis_terms(self, interaction: discord.Interaction, text: str) -> None:
        """Save the server's extra crisis terms (on top of the built-in list)."""
        terms = normalise_terms(text)
        async with self.bot.db.transaction() as tx:
            await groups_service.update_settings(tx, interaction.guild_id, crisis_terms="\n".join(terms))
            await groups_service.audit(
                tx,
                interaction.guild_id,
                "setup.crisis_terms",
                f"{len(terms)} extra terms",
                self.bot.clock.now(),
                interaction.user.id,
            )
        if not terms:
            await reply(interaction, "I'll use only the built-in list of crisis phrases.")
            return
        await reply(
            interaction,
            f"On top of the built-in list, I'll also notice: {', '.join(terms)}.\nA match only ever shows the member "
            "the resources privately, with a button to ask for a person.",
        )


async def setup(bot: PeerBot) -> None:
    bot.add_dynamic_items(ReachOutButton, ClaimButton, WithdrawButton)
    await bot.add_cog(Safety(bot))


async def teardown(bot: PeerBot) -> None:
    bot.remove_dynamic_items(ReachOutButton, ClaimButton, WithdrawButton)
