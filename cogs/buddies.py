"""/buddy join|leave|pause|status|avoid|pair-now and /setup pairing: opt-in buddy pairing, on the group's cadence."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import PERMISSION_NAMES, PeerBot, defer_reply, reply
from bot.errors import UserError
from bot.services import buddies as svc
from bot.services import groups as groups_service
from bot.services.buddies import Departure
from bot.services.groups import Group
from cogs import _buddy_ui as ui
from cogs._buddy_delivery import BuddyDelivery
from cogs._checks import attach_setup_commands, detach_setup_commands, moderator_only
from cogs._setup_show import CHANNEL_NEEDS
from cogs._ui import group_autocomplete

log = logging.getLogger(__name__)

# After a delivery step failed for a passing reason (Discord 5xx, a timeout), try again this much later.
RETRY_AFTER = timedelta(minutes=10)


class Buddies(commands.Cog):
    """Buddy pairing. The database is the truth: rounds and deliveries are rebuilt from it at start."""

    buddy = app_commands.Group(
        name="buddy", description="Buddy pairing: a peer or mentor to walk with", guild_only=True
    )

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.delivery = BuddyDelivery(bot)
        self.rebuilt: asyncio.Task | None = None

    async def cog_load(self) -> None:
        attach_setup_commands(self.bot, setup_pairing)
        self.rebuilt = self.bot.at_start(self.rebuild())

    async def cog_unload(self) -> None:
        if self.rebuilt is not None:
            self.rebuilt.cancel()
        detach_setup_commands(self.bot, setup_pairing)
        self.bot.scheduler.cancel_prefix("buddies:")

    async def rebuild(self) -> None:
        """Plan every group's next round and finish introductions a restart interrupted (never start them again)."""
        await self.bot.wait_until_ready()
        for group_id, due_at in await svc.scheduled_rounds(self.bot.db):
            self.plan_round(group_id, due_at)
        for group_id in await svc.groups_with_pending_work(self.bot.db):
            self.deliver_soon(group_id)

    async def current_buddies(self, guild_id: int, user_id: int) -> list[int]:
        """Return who a member is paired with now in this server (the reminders' buddy alert asks this)."""
        return await svc.current_buddies(self.bot.db, guild_id, user_id)

    # ---------------------------------------------------------------- jobs

    def plan_round(self, group_id: int, due_at: datetime, at: datetime | None = None) -> None:
        """Schedule the group's round due at `due_at` (to run at `at`, when retrying)."""
        job = lambda: self._round(group_id, due_at)  # noqa: E731
        self.bot.scheduler.schedule(f"buddies:round:{group_id}", at or due_at, job)

    def deliver_soon(self, group_id: int, delay: timedelta = timedelta(0)) -> None:
        """Set up threads and send what a group's pairing changes decided (after the transaction closed)."""
        at = self.bot.clock.now() + delay
        self.bot.scheduler.schedule(f"buddies:deliver:{group_id}", at, lambda: self._deliver(group_id))

    async def _round(self, group_id: int, due_at: datetime) -> None:
        await self.bot.wait_until_ready()
        guild_id = await self.bot.db.fetchval("SELECT guild_id FROM groups WHERE id = ?", (group_id,))
        try:
            async with self.bot.db.transaction() as tx:
                outcome, cadence = await svc.run_scheduled_round(
                    tx, group_id, due_at, self.bot.clock.now(), self._present(guild_id)
                )
        except Exception:
            # Nothing was saved; the slot is still due, so try it again rather than lose the cadence.
            log.exception("Buddy round for group %d failed; retrying later", group_id)
            self.plan_round(group_id, due_at, self.bot.clock.now() + RETRY_AFTER)
            return
        if cadence is not None and cadence.enabled and cadence.next_round_at is not None:
            self.plan_round(group_id, cadence.next_round_at)
        if outcome is not None:
            log.info("Buddy round %d for group %d: %d groups", outcome.round_index, group_id, len(outcome.groups))
            self.deliver_soon(group_id)

    async def _deliver(self, group_id: int) -> None:
        await self.bot.wait_until_ready()
        retry = await self.delivery.run(group_id)
        # A pass asked for meanwhile (a new pairing) is already planned and will see the same work.
        if retry and f"buddies:deliver:{group_id}" not in self.bot.scheduler.pending():
            self.deliver_soon(group_id, RETRY_AFTER)

    def _present(self, guild_id: int | None) -> set[int] | None:
        """Return who is in the server, when the bot knows everyone (then absent members are not paired)."""
        guild = self.bot.get_guild(guild_id) if guild_id else None
        if guild is None or not guild.chunked:
            return None
        return {m.id for m in guild.members}

    # ---------------------------------------------------------------- members

    @buddy.command(name="join", description="Opt into buddy pairing in a group (run again to update or come back)")
    @app_commands.describe(
        group="The group to be paired in",
        role="How you'd like to take part",
        about="A line your buddy will see (up to 200 characters; - clears it)",
        timezone="Your timezone, so you're paired with people awake when you are (default: the group's)",
    )
    @app_commands.choices(role=ui.ROLE_CHOICES)
    @app_commands.autocomplete(group=group_autocomplete, timezone=ui.timezone_autocomplete)
    async def join(
        self,
        interaction: discord.Interaction,
        group: str,
        role: app_commands.Choice[str],
        about: app_commands.Range[str, 1, svc.ABOUT_MAX] | None = None,
        timezone: str | None = None,
    ) -> None:
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group)
            result = await svc.join(
                tx,
                found,
                interaction.user.id,
                role=role.value,
                about=about,
                timezone=timezone,
                now=self.bot.clock.now(),
            )
            cadence = await svc.get_cadence(tx, found.id)
            paired = await svc.current_pairing(tx, found.id, interaction.user.id) is not None
        if result.placement is not None:
            self.deliver_soon(found.id)
        await reply(interaction, ui.joined_text(found, result, cadence, paired))

    @buddy.command(name="leave", description="Stop buddy pairing in a group (your buddy is told kindly)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def leave(self, interaction: discord.Interaction, group: str) -> None:
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group, active=False)
            departure = await svc.leave(tx, found, interaction.user.id, self.bot.clock.now())
        if departure is None:
            await reply(interaction, f"You're not in buddy pairing for **{found.name}**, so there's nothing to leave.")
            return
        self.deliver_soon(found.id)
        await reply(interaction, ui.left_text(found, departure))

    @buddy.command(name="pause", description="Take a break from buddy pairing (your buddy is told kindly)")
    @app_commands.describe(
        group="The group to pause in",
        until="The day you'll be back, e.g. 2026-12-01 or 2 weeks (leave out: until you /buddy join again)",
    )
    @app_commands.autocomplete(group=group_autocomplete)
    async def pause(self, interaction: discord.Interaction, group: str, until: str | None = None) -> None:
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group)
            profile = await svc.get_profile(tx, found.id, interaction.user.id)
            zone = (profile.timezone if profile else None) or found.timezone or "UTC"
            back_at = svc.parse_pause_until(until, zone, now) if until else None
            departure = await svc.pause(tx, found, interaction.user.id, back_at, now)
        self.deliver_soon(found.id)
        await reply(interaction, ui.paused_text(found, back_at, departure))

    @buddy.command(name="status", description="Your buddy, what they shared, and when the next round is")
    async def status(self, interaction: discord.Interaction) -> None:
        statuses = await svc.buddy_statuses(self.bot.db, interaction.guild_id, interaction.user.id)
        avoided = await svc.avoided_by(self.bot.db, interaction.guild_id, interaction.user.id)
        await reply(interaction, embed=ui.status_embed(statuses, avoided, self.bot.clock.now()))

    @buddy.command(name="avoid", description="Confidential: never pair me with this person (only you see this list)")
    @app_commands.describe(member="Who you'd rather not be paired with", undo="Take them off your list")
    async def avoid(self, interaction: discord.Interaction, member: discord.User, undo: bool = False) -> None:
        if member.bot:
            raise UserError("Bots are never paired, so there's no need.")
        async with self.bot.db.transaction() as tx:
            if undo:
                changed = await svc.unavoid(tx, interaction.guild_id, interaction.user.id, member.id)
            else:
                changed = await svc.avoid(
                    tx, interaction.guild_id, interaction.user.id, member.id, self.bot.clock.now()
                )
            paired_in = await self._paired_with(tx, interaction, member.id) if not undo else []
        name = ui.display_name(interaction.guild, self.bot, member.id)
        await reply(interaction, ui.avoid_text(name, undo=undo, changed=changed, paired_in=paired_in))

    async def _paired_with(self, tx, interaction: discord.Interaction, other_id: int) -> list[Group]:
        groups = []
        for group in await groups_service.member_groups(tx, interaction.guild_id, interaction.user.id):
            current = await svc.current_pairing(tx, group.id, interaction.user.id)
            if current is not None and other_id in current.members:
                groups.append(group)
        return groups

    # ---------------------------------------------------------------- moderators

    @buddy.command(name="pair-now", description="Run a pairing round for a group now (moderators)")
    @moderator_only()
    @app_commands.autocomplete(group=group_autocomplete)
    async def pair_now(self, interaction: discord.Interaction, group: str) -> None:
        await defer_reply(interaction)
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group)
            outcome = await svc.pair_now(tx, found, now, self._present(interaction.guild_id))
            detail = f"{found.name}: round {outcome.round_index + 1}, {len(outcome.groups)} pairings"
            await groups_service.audit(tx, found.guild_id, "buddy.pair_now", detail, now, interaction.user.id)
        if outcome.next_round_at is not None:
            self.plan_round(found.id, outcome.next_round_at)
        self.deliver_soon(found.id)
        await reply(interaction, ui.round_text(found, outcome))

    async def configure(
        self, interaction: discord.Interaction, group: str, every_days: int, weekday: int | None, enabled: bool
    ) -> None:
        """Save a group's cadence (/setup pairing) and plan its next round."""
        now = self.bot.clock.now()
        async with self.bot.db.transaction() as tx:
            found = await groups_service.find_group(tx, interaction.guild_id, group)
            cadence = await svc.configure(tx, found, every_days=every_days, weekday=weekday, enabled=enabled, now=now)
            active = await svc.count_active(tx, found.id, now)
            detail = f"{found.name}: every {every_days} days" if enabled else f"{found.name}: off"
            await groups_service.audit(tx, found.guild_id, "setup.pairing", detail, now, interaction.user.id)
        if cadence.enabled and cadence.next_round_at is not None:
            self.plan_round(found.id, cadence.next_round_at)
        else:
            self.bot.scheduler.cancel(f"buddies:round:{found.id}")
        await reply(interaction, ui.cadence_text(found, cadence, active, self._channel_warning(interaction, found)))

    def _channel_warning(self, interaction: discord.Interaction, group: Group) -> str | None:
        if group.buddy_channel_id is None:
            return (
                "This group has no buddy channel, so buddies are introduced by DM. For private threads, set one "
                "with `/setup group-edit buddy_channel:`."
            )
        channel = interaction.guild.get_channel(group.buddy_channel_id)
        if channel is None:
            return "This group's buddy channel no longer exists, so buddies are introduced by DM."
        perms = channel.permissions_for(interaction.guild.me)
        missing = [PERMISSION_NAMES.get(p, p) for p in CHANNEL_NEEDS["buddies"] if not getattr(perms, p)]
        if missing:
            return (
                f"In {channel.mention} I'm missing **{', '.join(missing)}**; until then buddies are introduced by DM."
            )
        return None

    # ---------------------------------------------------------------- continuity

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        async with self.bot.db.transaction() as tx:
            departures = await svc.leave_everywhere(tx, payload.guild_id, payload.user.id, self.bot.clock.now())
        self.after_departures(departures)

    @commands.Cog.listener()
    async def on_group_left(self, guild_id: int, group: Group, user_id: int) -> None:
        async with self.bot.db.transaction() as tx:
            departure = await svc.leave(tx, group, user_id, self.bot.clock.now())
        self.after_departures([departure] if departure else [])

    @commands.Cog.listener()
    async def on_group_archived(self, group: Group) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.stop_rounds(tx, group.id)
        self.bot.scheduler.cancel(f"buddies:round:{group.id}")

    def after_departures(self, departures: list[Departure]) -> None:
        """Deliver the notes and re-pairings that departures decided (continuity: nobody silently dropped)."""
        for departure in departures:
            self.deliver_soon(departure.group_id)


@app_commands.command(name="pairing", description="Buddy pairing rounds for a group: how often, which day, on or off")
@moderator_only()
@app_commands.describe(
    group="The group",
    every_days="Days between rounds",
    weekday="The day rounds run (at 10:00 in the group's timezone)",
    enabled="Run rounds on this cadence",
)
@app_commands.choices(weekday=ui.WEEKDAY_CHOICES)
@app_commands.autocomplete(group=group_autocomplete)
async def setup_pairing(
    interaction: discord.Interaction,
    group: str,
    every_days: Literal[7, 14, 28],
    enabled: bool,
    weekday: app_commands.Choice[int] | None = None,
) -> None:
    cog: Buddies = interaction.client.get_cog("Buddies")
    await cog.configure(interaction, group, every_days, weekday.value if weekday else None, enabled)


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Buddies(bot))
