"""Direct messages that respect closed DMs: never a public fallback, and bounded fan-out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import discord

from bot.services import members as members_service

log = logging.getLogger(__name__)

# Concurrent DMs in a fan-out: enough to keep up with Discord's limits, few enough not to stall commands.
FANOUT_CONCURRENCY = 8
CANNOT_DM = 50007
# discord.py gives up on a request after five 429s in a row. Under a busy global limit the fan-out's
# concurrent sends all wake when one slot frees and most get 429 again, so an unlucky DM ran out of tries
# and was lost (bench/fanout.py at 50 requests/s). A 429 means Discord did nothing, so sending again is safe.
RATE_LIMITED_RETRIES = 5


def _retry_after(error: discord.HTTPException) -> float:
    try:
        return min(60.0, max(0.05, float(error.response.headers.get("Retry-After", 1.0))))
    except (AttributeError, TypeError, ValueError):
        return 1.0


async def send_dm(bot: Any, user_id: int, *, check_paused: bool = True, **message: Any) -> discord.Message | None:
    """DM a member; on 50007 pause DMs to them and keep a note for their next interaction. Return the message."""
    if check_paused and await members_service.dms_closed(bot.db, user_id):
        return None
    for attempt in range(RATE_LIMITED_RETRIES + 1):
        try:
            return await _send_once(bot, user_id, message)
        except discord.HTTPException as exc:
            # A file is closed by discord.py after a send, so a DM with one is not sent again.
            if exc.status != 429 or attempt == RATE_LIMITED_RETRIES or "file" in message or "files" in message:
                raise
            await asyncio.sleep(_retry_after(exc))
    return None  # unreachable: the last attempt returns or raises


async def _send_once(bot: Any, user_id: int, message: dict[str, Any]) -> discord.Message | None:
    try:
        sent = await _send_to_dm_channel(bot, user_id, message)
    except discord.Forbidden as exc:
        if exc.code != CANNOT_DM:
            raise
        log.info("DMs closed for a member; pausing DMs to them")
        async with bot.db.transaction() as tx:
            await members_service.mark_dms_closed(tx, user_id, bot.clock.now())
        return None
    except discord.NotFound:
        log.info("A member to DM no longer exists")
        return None
    return sent


async def _send_to_dm_channel(bot: Any, user_id: int, message: dict[str, Any]) -> discord.Message:
    """Send through the member's stored DM channel (one request), or open it first and store its id (two)."""
    # A file is spent by a failed send, so a DM with one is never tried on a channel that may be gone.
    has_file = "file" in message or "files" in message
    channel_id = None if has_file else await members_service.dm_channel_id(bot.db, user_id)
    if channel_id is not None:
        try:
            return await bot.get_partial_messageable(channel_id, type=discord.ChannelType.private).send(**message)
        except discord.NotFound:
            # The stored channel is gone (or the member's account is): open it again below, or learn they left.
            log.info("A stored DM channel no longer works; opening it again")
            await _remember(bot, user_id, None)
    channel = await _open_dm_channel(bot, user_id)
    return await channel.send(**message)


async def _open_dm_channel(bot: Any, user_id: int) -> discord.DMChannel:
    """Open (or find in discord.py's cache) the member's DM channel, and store its id."""
    user = bot.get_user(user_id) or await bot.fetch_user(user_id)
    channel = await user.create_dm()
    await _remember(bot, user_id, channel.id)
    return channel


async def open_dm_channel_ahead(bot: Any, user_id: int) -> None:
    """Open the member's DM channel now (nothing is sent) and store its id, when they set up reminders.

    Their first reminder then goes out at the busy minute as one request, not two: opening the channel is
    done at a calm moment instead, once per member.
    """
    if await members_service.dm_channel_id(bot.db, user_id) is not None:
        return
    try:
        await _open_dm_channel(bot, user_id)
    except discord.HTTPException:
        log.info("Could not open a DM channel ahead; the first reminder will open it")


async def _remember(bot: Any, user_id: int, channel_id: int | None) -> None:
    # Only a shortcut for later DMs: failing to store it must not cost this DM.
    try:
        await members_service.remember_dm_channel(bot.db, user_id, channel_id)
    except Exception:
        log.warning("Could not store a DM channel id; the next DM opens the channel again", exc_info=True)


async def fan_out(bot: Any, user_ids: Iterable[int], **message: Any) -> int:
    """DM the same message to many members with bounded concurrency; return how many were delivered."""
    semaphore = asyncio.Semaphore(FANOUT_CONCURRENCY)

    async def one(user_id: int) -> bool:
        async with semaphore:
            try:
                return await send_dm(bot, user_id, **message) is not None
            except discord.HTTPException:
                log.warning("A DM in a fan-out failed", exc_info=True)
                return False

    results = await asyncio.gather(*(one(u) for u in set(user_ids)))
    return sum(results)
