"""Shared steps for meeting tests: a group, and a weekly meeting in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.services import meetings as meetings_service


async def make_group(double, world, **extra):
    await double.slash("setup group-create", user=world.maya, name="Tuesday Circle", channel=world.meetings, **extra)


async def make_meeting(double, world, running, *, start="tuesday 19:00", repeat="weekly", **extra):
    """Group + weekly meeting at Tuesday 19:00 London (the fake clock starts Monday 2 Nov 2026, 12:00 UTC)."""
    await make_group(double, world)
    extra.setdefault("timezone", "Europe/London")
    reply = await double.slash(
        "meeting create",
        user=world.olivia,
        group="Tuesday Circle",
        title="Evening circle",
        start=start,
        repeat=repeat,
        **extra,
    )
    meetings = await meetings_service.active_meetings(running.bot.db, guild_id=world.guild.id)
    return reply, (meetings[0] if meetings else None)


def announcement(double, world):
    return next(
        m for m in double.messages_in(world.meetings) if m["embeds"] and "Evening circle" in m["embeds"][0]["title"]
    )


@contextmanager
def failing(monkeypatch, module: Any, name: str) -> Iterator[None]:
    """While inside, `module.name` (an async function) raises, as when the database falls over."""
    original = getattr(module, name)

    async def broken(*args, **kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(module, name, broken)
    try:
        yield
    finally:
        monkeypatch.setattr(module, name, original)
