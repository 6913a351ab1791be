"""Shared steps for the check-in, safety and moderation tests: a group, sharing, reading the mod-log."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

GROUP = "Tuesday Circle"


async def circle(double, world, *, members=("alice", "bob"), anonymity: str | None = None, modlog: bool = True):
    """Create Tuesday Circle (check-ins in #check-ins), a mod-log, and join `members`."""
    await double.slash(
        "setup group-create", user=world.maya, name=GROUP, channel=world.meetings, checkin_channel=world.checkins
    )
    if modlog:
        await double.slash("setup modlog", user=world.maya, channel=world.modlog)
    for name in members:
        await double.slash("group join", user=getattr(world, name), group=GROUP)
    if anonymity:
        await double.slash("setup anonymity", user=world.maya, group=GROUP, mode=anonymity)


async def share_anonymously(double, running, user, *, mood: int = 3, **options: Any):
    """Check in anonymously and let the queue send the post; return the member's reply."""
    reply = await double.slash("checkin", user=user, mood=mood, share="anonymous", **options)
    await running.bot.scheduler.idle()
    return reply


def posts(double, world) -> list[dict[str, Any]]:
    """The messages in the check-in channel."""
    return double.messages_in(world.checkins)


def modlog(double, world) -> list[dict[str, Any]]:
    """The mod-log's messages after the 'alerts will appear here' one."""
    return double.messages_in(world.modlog)[1:]


def alias_in(reply_text: str) -> str:
    """The alias the bot told the member, e.g. 'Quiet Heron'."""
    return reply_text.split(" as **", 1)[1].split("**", 1)[0]


def with_delay(running, seconds: int) -> None:
    """Give the running bot (and the next one after a restart) an anonymous delay of `seconds`."""
    running.settings = replace(running.settings, anon_delay_min_seconds=seconds, anon_delay_max_seconds=seconds)
    running.bot.settings = running.settings


async def audit(running) -> list[tuple]:
    """The audit log as (action, detail, actor_id) rows, oldest first."""
    rows = await running.bot.db.fetchall("SELECT action, detail, actor_id FROM audit_log ORDER BY id")
    return [tuple(r) for r in rows]


async def restarted(running):
    """Restart the bot and wait until its cogs rebuilt their timers from the database."""
    bot = await running.restart()
    for name in ("Checkins", "Safety"):
        await bot.get_cog(name).rebuilt
    return bot
