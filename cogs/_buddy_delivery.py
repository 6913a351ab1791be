"""Introducing buddies on Discord, resumably: each step is recorded before and after its Discord call.

A restart re-runs whatever is still pending. A thread that was asked for but never recorded is looked up by
its name before a new one is made; a message that was attempted but never recorded is looked up by the
"ref" in its footer before it is sent again. So a round is announced once, whatever happens in between.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import discord

from bot.services import buddies as svc
from bot.services import groups as groups_service
from bot.services import notices as notices_service
from bot.services.buddies import OutboxItem, Pairing
from bot.services.groups import Group
from cogs import _buddy_ui as ui
from cogs._dm import send_dm

log = logging.getLogger(__name__)

# A week, so a quiet pair's thread stays in the list between rounds.
THREAD_ARCHIVE_MINUTES = 10080
# How far back a restart looks for a message it may already have sent.
LOOKBACK = 25


def _batch_key(item: OutboxItem) -> tuple:
    # One thread post per pairing and piece of news; a DM per recipient (see `deliver`).
    if item.kind == "unplaced":
        return (item.kind, item.id)
    return (item.kind, item.pairing_id, item.next_pairing_id, item.newcomer_id)


def _nonce(ref: int) -> str:
    return f"peerbot-buddy-{ref}"[:25]


class BuddyDelivery:
    """Set up pairings' threads and deliver the buddy outbox, one group at a time."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = {}

    @property
    def now(self) -> datetime:
        return self.bot.clock.now()

    async def run(self, group_id: int) -> bool:
        """Do what is pending for a group; return True when something failed and is worth retrying."""
        async with self._locks.setdefault(group_id, asyncio.Lock()):
            guild_id = await self.bot.db.fetchval("SELECT guild_id FROM groups WHERE id = ?", (group_id,))
            guild = self.bot.get_guild(guild_id) if guild_id else None
            if guild is None:
                return False  # the bot is not in that server (any more): nothing can be delivered there
            group = await groups_service.get_group(self.bot.db, guild_id, group_id)
            retry = False
            for pairing in await svc.pairings_to_set_up(self.bot.db, group_id):
                try:
                    await self._set_up(group, guild, pairing)
                except discord.HTTPException:
                    log.warning("Setting up buddy pairing %s failed; will retry", pairing.id, exc_info=True)
                    retry = True
            batches: dict[tuple, list[OutboxItem]] = {}
            for item in await svc.pending_outbox(self.bot.db, group_id):
                batches.setdefault(_batch_key(item), []).append(item)
            for batch in batches.values():
                try:
                    retry |= await self._deliver(group, guild, batch)
                except discord.HTTPException:
                    log.warning("Delivering buddy message %s failed; will retry", batch[0].id, exc_info=True)
                    retry = True
            return retry

    # ---------------------------------------------------------------- threads

    async def _set_up(self, group: Group, guild: discord.Guild, pairing: Pairing) -> None:
        """Open the pairing's private thread (or settle for DMs) and add whoever is not in it yet."""
        if pairing.via == "pending":
            channel = self._buddy_channel(group, guild)
            thread = await self._thread_for(channel, pairing) if channel is not None else None
        else:
            thread = await self._fetch_thread(guild, pairing.thread_id)
        if thread is None:
            await self._record_via(pairing.id, "dm")
            return
        for user_id in await svc.members_outside_thread(self.bot.db, pairing.id):
            try:
                await thread.add_user(discord.Object(user_id))
            except discord.NotFound:
                log.info("A buddy left the server before joining their thread")
            except discord.Forbidden:
                await self._record_via(pairing.id, "dm")
                return
            async with self.bot.db.transaction() as tx:
                await svc.record_in_thread(tx, pairing.id, user_id, self.now)
        if pairing.via == "pending":
            await self._record_via(pairing.id, "thread")

    def _buddy_channel(self, group: Group, guild: discord.Guild) -> discord.TextChannel | None:
        """Return the group's buddy channel when the bot can open private threads there."""
        channel = guild.get_channel(group.buddy_channel_id) if group.buddy_channel_id else None
        if not isinstance(channel, discord.TextChannel):
            return None
        perms = channel.permissions_for(guild.me)
        if not (perms.view_channel and perms.create_private_threads and perms.send_messages_in_threads):
            return None
        return channel

    async def _thread_for(self, channel: discord.TextChannel, pairing: Pairing) -> discord.Thread | None:
        """Find or create the pairing's thread; None when Discord refuses (then it's DMs)."""
        if pairing.thread_id is not None:
            found = await self._fetch_thread(channel.guild, pairing.thread_id)
            if found is not None:
                return found
        elif pairing.thread_requested_at is not None:
            # Asked for before a restart: Discord may have made it even though we never heard back.
            name = ui.thread_name(pairing.id)
            found = next((t for t in channel.threads if t.name == name and t.owner_id == self.bot.user.id), None)
            if found is not None:
                async with self.bot.db.transaction() as tx:
                    await svc.record_thread(tx, pairing.id, found.id)
                return found
        async with self.bot.db.transaction() as tx:
            await svc.mark_thread_requested(tx, pairing.id, self.now)
        try:
            thread = await channel.create_thread(
                name=ui.thread_name(pairing.id),
                type=discord.ChannelType.private_thread,
                invitable=False,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                reason="Buddy pairing",
            )
        except discord.Forbidden:
            log.info("No permission for private threads in a buddy channel; introducing buddies by DM")
            return None
        async with self.bot.db.transaction() as tx:
            await svc.record_thread(tx, pairing.id, thread.id)
        return thread

    async def _fetch_thread(self, guild: discord.Guild, thread_id: int | None) -> discord.Thread | None:
        """Return a usable thread (unarchived if needed), or None when it is gone."""
        if thread_id is None:
            return None
        thread = guild.get_thread(thread_id)
        if thread is None:
            try:
                fetched = await self.bot.fetch_channel(thread_id)
            except (discord.NotFound, discord.Forbidden):
                return None
            thread = fetched if isinstance(fetched, discord.Thread) else None
        if thread is not None and thread.archived:
            try:
                thread = await thread.edit(archived=False)
            except discord.HTTPException:
                return None
        return thread

    async def _record_via(self, pairing_id: int, via: str) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.record_via(tx, pairing_id, via)

    # ---------------------------------------------------------------- messages

    async def _deliver(self, group: Group, guild: discord.Guild, batch: Sequence[OutboxItem]) -> bool:
        """Post one batch in its thread, or DM each recipient; return True when it must wait for a retry."""
        first = batch[0]
        db = self.bot.db
        target = await svc.get_pairing(db, first.pairing_id) if first.pairing_id else None
        moved_to = await svc.get_pairing(db, first.next_pairing_id) if first.next_pairing_id else None
        if (first.kind in ("opener", "welcome") and target is not None and target.via == "pending") or (
            moved_to is not None and moved_to.via == "pending"
        ):
            return True  # its pairing is not set up yet (that failed and will be retried)
        cadence = await svc.get_cadence(db, group.id)
        next_round_at = cadence.next_round_at if cadence and cadence.enabled and not group.archived else None
        thread = None
        if target is not None and target.via == "thread":
            thread = await self._fetch_thread(guild, target.thread_id)
        if thread is not None:
            message = await self._render(group, guild, batch, target, moved_to, next_round_at, recipient=None)
            try:
                await self._post_once(thread, batch, message)
                return False
            except (discord.Forbidden, discord.NotFound):
                log.info("Could not post in a buddy thread; delivering by DM instead")
        for item in batch:
            message = await self._render(group, guild, [item], target, moved_to, next_round_at, recipient=item.user_id)
            await self._dm_once(group, item, message)
        return False

    async def _render(
        self,
        group: Group,
        guild: discord.Guild,
        batch: Sequence[OutboxItem],
        target: Pairing | None,
        moved_to: Pairing | None,
        next_round_at: datetime | None,
        *,
        recipient: int | None,
    ) -> dict | None:
        """Build the message for a batch (in a thread when `recipient` is None); None when it is moot."""
        first = batch[0]
        ref = first.id
        if first.kind == "unplaced":
            return ui.unplaced_by_dm(group, next_round_at, ref)
        if target is None:
            return None
        profiles = await svc.pairing_profiles(self.bot.db, target)
        if first.kind == "opener":
            if recipient is None:
                return ui.opener_in_thread(group, profiles, target.id, next_round_at, ref)
            return ui.opener_by_dm(group, recipient, profiles, target.id, next_round_at, ref)
        if first.kind == "welcome":
            newcomer = next((p for p in profiles if p.user_id == first.newcomer_id), None)
            if newcomer is None:
                return None
            others = [p for p in profiles if p.user_id != newcomer.user_id]
            if recipient is None:
                return ui.welcome_in_thread(group, newcomer, others, ref)
            return ui.welcome_by_dm(group, recipient, newcomer, others, ref)
        recipients = [item.user_id for item in batch] if recipient is None else [recipient]
        still_together = moved_to is None and target.ended_at is None and len(target.members) >= 2
        text = ui.departed_text(
            recipients, still_together, moved_to, next_round_at, lambda u: ui.display_name(guild, self.bot, u)
        )
        return ui.departed_message(group, recipients, text, ref, in_thread=recipient is None)

    async def _post_once(self, channel: discord.abc.Messageable, batch: Sequence[OutboxItem], message) -> None:
        ids = [item.id for item in batch]
        if message is None or (any(i.attempted_at for i in batch) and await self._already_sent(channel, ids[0])):
            await self._delivered(ids)
            return
        async with self.bot.db.transaction() as tx:
            if not await svc.mark_attempted(tx, ids, self.now):
                return  # superseded (a new round, or they left) while we were busy
        # The nonce makes Discord itself drop a resend within its window; the ref in the footer covers the rest.
        await channel.send(**message, nonce=_nonce(ids[0]))
        await self._delivered(ids)

    async def _dm_once(self, group: Group, item: OutboxItem, message: dict | None) -> None:
        if message is None:
            await self._delivered([item.id])
            return
        if item.attempted_at is not None:
            channel = await self._dm_channel(item.user_id)
            if channel is not None and await self._already_sent(channel, item.id):
                await self._delivered([item.id])
                return
        async with self.bot.db.transaction() as tx:
            if not await svc.mark_attempted(tx, [item.id], self.now):
                return
        sent = await send_dm(self.bot, item.user_id, **message, nonce=_nonce(item.id))
        async with self.bot.db.transaction() as tx:
            if sent is None:
                # DMs closed: never a public fallback; they hear at their next command.
                await notices_service.add_notice(tx, item.user_id, ui.undelivered_notice(group), self.now)
            await svc.mark_delivered(tx, [item.id])

    async def _delivered(self, ids: Sequence[int]) -> None:
        async with self.bot.db.transaction() as tx:
            await svc.mark_delivered(tx, ids)

    async def _dm_channel(self, user_id: int) -> discord.DMChannel | None:
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            return user.dm_channel or await user.create_dm()
        except discord.NotFound:
            return None

    async def _already_sent(self, channel: discord.abc.Messageable, ref: int) -> bool:
        """Look for our message signed with `ref` among the channel's latest."""
        try:
            async for message in channel.history(limit=LOOKBACK):
                if message.author.id == self.bot.user.id and ui.carries_ref(message, ref):
                    return True
        except discord.Forbidden:
            return False
        return False
