"""Sending anonymous posts: out of the queue exactly once, into the channel, a thread or the mod-log.

Exactly once: a post is claimed in the database before it is sent, and every send carries a nonce made from
the post's id, which Discord uses to return the first message instead of creating a second one. A crash
mid-send leaves the post claimed; the next start sends it again with the same nonce. Nothing logged here
names a member: only post and group ids.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import discord

from bot.logic.crisis import find_crisis_language, normalise_terms
from bot.services import checkins as checkins_service
from bot.services import groups as groups_service
from bot.services import safety as safety_service
from bot.services.checkins import AnonPost
from bot.services.groups import Group
from cogs._checkin_ui import (
    NO_MENTIONS,
    ReviewButton,
    held_embed,
    moderator_mentions,
    persistent_view,
    render_post,
    render_reply,
    send_modlog,
)

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # "A thread has already been created for this message"
WEEK_MINUTES = 10080


class Undeliverable(Exception):
    """Raise when a post has nowhere to go (its channel or thread no longer exists)."""


@dataclass(frozen=True)
class Released:
    """What happened to a queued post: its new status, and when to try again after a passing failure."""

    status: str
    retry_at: datetime | None = None


def crisis_terms_in(post: AnonPost, extra_terms: str) -> list[str]:
    """Return the crisis terms in a post's note and content warning (the server's own terms included)."""
    text = "\n".join(t for t in (post.content_warning, post.note) if t)
    return find_crisis_language(text, normalise_terms(extra_terms))


async def _channel(bot: Any, channel_id: int | None) -> discord.abc.Messageable | None:
    if not channel_id:
        return None
    channel = bot.get_channel(channel_id)
    if channel is None:
        try:
            channel = await bot.fetch_channel(channel_id)
        except discord.NotFound:
            return None
    return channel  # type: ignore[return-value]


async def release(bot: Any, post_id: int) -> Released:
    """Send a queued post where it belongs now: the channel, the mod-log (vetted) or nowhere (withheld)."""
    async with bot.db.transaction() as tx:
        post = await checkins_service.claim_post(tx, post_id)
    if post is None:
        return Released("gone")
    now = bot.clock.now()
    group = await groups_service.get_group(bot.db, post.guild_id, post.group_id)
    blocked = await safety_service.blocked_until(bot.db, post.guild_id, post.author_key, now)
    if group.archived or group.anonymity == "off" or blocked:
        # The group changed, or a moderator blocked the author, while the post waited: it stays unsent.
        async with bot.db.transaction() as tx:
            await checkins_service.mark_released(tx, post.id, "withheld", now)
        log.info("Withheld anonymous post %s in group %s", post.id, group.id)
        return Released("withheld")
    try:
        if group.anonymity == "vetted":
            return Released(await hold(bot, post, group))
        await publish(bot, post, group)
        return Released("published")
    except (discord.Forbidden, discord.NotFound, Undeliverable) as exc:
        log.warning("Anonymous post %s in group %s could not be delivered: %s", post.id, group.id, type(exc).__name__)
        why = (
            "Its channel or thread no longer exists."
            if not isinstance(exc, discord.Forbidden)
            else "Discord refused it: I'm missing a permission in that channel."
        )
        await _failed(bot, post, group, why)
        return Released("failed")
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError):
        if post.attempts >= checkins_service.MAX_ATTEMPTS:
            log.warning("Giving up on anonymous post %s after %s attempts", post.id, post.attempts, exc_info=True)
            await _failed(bot, post, group, "Discord kept failing to take it.")
            return Released("failed")
        retry_at = bot.clock.now() + timedelta(seconds=checkins_service.RETRY_SECONDS)
        async with bot.db.transaction() as tx:
            await checkins_service.retry_later(tx, post.id, retry_at)
        log.info("Anonymous post %s will be retried", post.id)
        return Released("pending", retry_at)


async def _failed(bot: Any, post: AnonPost, group: Group, why: str) -> None:
    async with bot.db.transaction() as tx:
        await checkins_service.mark_released(tx, post.id, "failed", bot.clock.now())
    settings = await groups_service.get_settings(bot.db, post.guild_id)
    kind = "reply" if post.is_reply else "check-in"
    await send_modlog(
        bot,
        settings.modlog_channel_id,
        content=f"⚠️ An anonymous {kind} for **{group.name}** (as **{post.alias}**) couldn't be posted. {why} "
        "I can't tell its author, because I don't know who they are. `/setup show` lists missing permissions.",
    )


async def publish(bot: Any, post: AnonPost, group: Group) -> AnonPost:
    """Post in the group's check-in channel (a check-in, with a thread) or in its thread (a reply)."""
    parent = await checkins_service.get_post(bot.db, post.parent_id) if post.is_reply else None
    target = parent.thread_id if parent else (group.checkin_channel_id or group.channel_id)
    channel = await _channel(bot, target)
    if channel is None:
        raise Undeliverable("the channel or thread no longer exists")
    content = render_reply(post, parent) if parent else render_post(post)
    message = await channel.send(content, allowed_mentions=NO_MENTIONS, nonce=f"anon-{post.id}-p")
    thread_id = None if parent else await _open_thread(message, post)
    async with bot.db.transaction() as tx:
        published = await checkins_service.mark_published(
            tx, post.id, channel_id=message.channel.id, message_id=message.id, thread_id=thread_id, now=bot.clock.now()
        )
    log.info("Published anonymous %s %s in group %s", "reply" if parent else "post", post.id, group.id)
    settings = await groups_service.get_settings(bot.db, post.guild_id)
    crisis = crisis_terms_in(post, settings.crisis_terms)
    if crisis:
        await crisis_alert(bot, published, group, message.jump_url, crisis, settings.modlog_channel_id)
    return published


async def _open_thread(message: discord.Message, post: AnonPost) -> int | None:
    try:
        thread = await message.create_thread(name=f"Replies to {post.alias}"[:100], auto_archive_duration=WEEK_MINUTES)
    except discord.HTTPException as exc:
        if exc.code == THREAD_EXISTS:  # sent before a crash: the thread shares the message's id
            return message.id
        log.warning("Could not open a thread for anonymous post %s", post.id)
        return None
    return thread.id


async def hold(bot: Any, post: AnonPost, group: Group) -> str:
    """Hold a post in the mod-log with Approve / Reject (vetted mode); 'failed' when there is no mod-log."""
    settings = await groups_service.get_settings(bot.db, post.guild_id)
    crisis = crisis_terms_in(post, settings.crisis_terms)
    guild = bot.get_guild(post.guild_id)
    mentions, allowed = moderator_mentions(guild) if crisis and guild else ("", NO_MENTIONS)
    message = await send_modlog(
        bot,
        settings.modlog_channel_id,
        content=mentions or None,
        embed=held_embed(post, group, crisis),
        view=persistent_view(ReviewButton("approve", post.id), ReviewButton("reject", post.id)),
        allowed_mentions=allowed,
        nonce=f"anon-{post.id}-h",
    )
    if message is None:
        async with bot.db.transaction() as tx:
            await checkins_service.mark_released(tx, post.id, "failed", bot.clock.now())
        log.warning("Anonymous post %s could not be held: no usable mod-log", post.id)
        return "failed"
    async with bot.db.transaction() as tx:
        await checkins_service.mark_held(
            tx, post.id, channel_id=message.channel.id, message_id=message.id, now=bot.clock.now()
        )
    log.info("Holding anonymous post %s of group %s for a moderator", post.id, group.id)
    return "held"


async def crisis_alert(
    bot: Any, post: AnonPost, group: Group, url: str, crisis: list[str], modlog_channel_id: int | None
) -> None:
    """Tell the moderators an anonymous post may be a cry for help: a link and the alias, never the author."""
    guild = bot.get_guild(post.guild_id)
    mentions, allowed = moderator_mentions(guild) if guild else ("", NO_MENTIONS)
    kind = "reply" if post.is_reply else "check-in"
    sent = await send_modlog(
        bot,
        modlog_channel_id,
        content=f"{mentions} ⚠️ An anonymous {kind} by **{post.alias}** in **{group.name}** may contain crisis "
        f"language ({', '.join(crisis)}). Its author was shown the crisis resources privately, with a button to "
        f"ask for a person. A kind reply in its thread, with the resources, can help: {url}",
        allowed_mentions=allowed,
    )
    async with bot.db.transaction() as tx:
        await groups_service.audit(
            tx, post.guild_id, "anon.crisis_alert", f"{post.alias} in {group.name} (post {post.id})", bot.clock.now()
        )
    if sent is None:
        log.warning("No mod-log for the crisis alert of anonymous post %s", post.id)
