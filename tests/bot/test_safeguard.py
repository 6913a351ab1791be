"""The deadline safeguard's one timer: who it acknowledges, when, and that it stops when nothing waits.

End to end (a slow database, a late interaction, forms) it is tested in tests/cogs/test_deadline.py.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import discord

from bot import client
from bot.client import Safeguard, _answered

AFTER = 0.4


def interaction(number: int, *, kind=discord.InteractionType.application_command, age: float = 0.0):
    created_ms = int((time.time() - age) * 1000) - discord.utils.DISCORD_EPOCH
    return SimpleNamespace(id=(created_ms << 22) + number, type=kind, extras={})


async def test_only_what_is_still_unanswered_is_acknowledged_and_then_the_timer_stops(monkeypatch):
    acknowledged = []
    monkeypatch.setattr(client, "_acknowledge_if_silent", lambda i: acknowledged.append(i.id))
    safeguard = Safeguard()
    slow, quick = interaction(1), interaction(2)
    safeguard.watch(slow, AFTER)
    safeguard.watch(quick, AFTER)
    autocomplete = interaction(3, kind=discord.InteractionType.autocomplete)
    safeguard.watch(autocomplete, AFTER)  # cannot be deferred: not watched
    assert safeguard.ticking
    _answered(quick)
    await asyncio.sleep(AFTER * 0.5)
    assert acknowledged == []  # not before its time
    await asyncio.sleep(AFTER * 0.7)
    assert acknowledged == [slow.id]
    assert not safeguard.ticking and slow.extras == {} and quick.extras == {}


async def test_one_that_reached_the_bot_late_is_acknowledged_sooner_but_not_before_half_the_time(monkeypatch):
    acknowledged = []
    monkeypatch.setattr(client, "_acknowledge_if_silent", lambda i: acknowledged.append(i.id))
    safeguard = Safeguard()
    late = interaction(1, age=10.0)  # created 10 s ago by Discord's clock (or ours runs ahead)
    safeguard.watch(late, AFTER)
    await asyncio.sleep(AFTER * 0.25)
    assert acknowledged == []
    await asyncio.sleep(AFTER * 0.5)
    assert acknowledged == [late.id]


async def test_a_failing_acknowledgement_does_not_stop_the_others(monkeypatch, caplog):
    acknowledged = []

    def acknowledge(i):
        if i.id == first.id:
            raise RuntimeError("boom")
        acknowledged.append(i.id)

    monkeypatch.setattr(client, "_acknowledge_if_silent", acknowledge)
    safeguard = Safeguard()
    first, second = interaction(1), interaction(2)
    safeguard.watch(first, AFTER)
    await asyncio.sleep(AFTER * 0.3)
    safeguard.watch(second, AFTER)
    await asyncio.sleep(AFTER * 1.3)
    assert acknowledged == [second.id]
    assert "Could not acknowledge" in caplog.text
    assert not safeguard.ticking


async def test_stopping_forgets_everything_for_good(monkeypatch):
    acknowledged = []
    monkeypatch.setattr(client, "_acknowledge_if_silent", lambda i: acknowledged.append(i.id))
    safeguard = Safeguard()
    safeguard.watch(interaction(1), AFTER)
    safeguard.stop()
    safeguard.watch(interaction(2), AFTER)  # one arriving while the bot closes: not watched any more
    await asyncio.sleep(AFTER * 1.3)
    assert acknowledged == [] and not safeguard.ticking
