"""What the bot builds as it starts is kept out of the cycle collector's walks, and let go when it closes."""

from __future__ import annotations

import asyncio
import gc
import logging

from bot.client import PeerBot


async def test_once_started_what_start_up_built_is_out_of_the_collectors_walks(running, discord_double, world):
    bot = running.bot
    await asyncio.wait_for(bot.started, timeout=10)
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(bot.cogs) and bot.get_cog("Schedule") is not None
    frozen = gc.get_freeze_count()
    reply = await discord_double.slash("resources", user=world.alice)  # the bot goes on as before
    assert reply.ephemeral
    assert gc.get_freeze_count() <= frozen  # nothing more is frozen: what came after is collected as usual
    await running.stop()
    assert gc.get_freeze_count() == 0  # a bot started next in this process leaves nothing behind


async def test_a_failed_start_up_job_is_logged_and_the_heap_still_settles(running, caplog, monkeypatch):
    await running.stop()

    async def broken(db) -> list:
        raise RuntimeError("the database said no")

    monkeypatch.setattr("bot.services.buddies.scheduled_rounds", broken)  # read by the Buddies cog's rebuild
    caplog.set_level(logging.ERROR, logger="bot.client")
    bot = await running.start()
    await asyncio.wait_for(bot.started, timeout=10)
    assert gc.get_freeze_count() > 0
    failed = [r for r in caplog.records if r.getMessage().startswith("Start-up work")]
    assert len(failed) == 1 and "Buddies.rebuild" in failed[0].getMessage()
    assert "the database said no" in str(failed[0].exc_info[1])


async def test_a_bot_closed_before_it_was_ready_freezes_nothing(discord_double, world, tmp_path, clock):
    from tests.double.harness import settings_for

    bot = PeerBot(settings_for(discord_double, tmp_path), clock=clock)
    await bot.login("double.test-token.0000000000000000")  # setup_hook runs: cogs load, start-up work waits
    assert bot.started is not None and not bot.started.done()
    await bot.close()
    await asyncio.sleep(0)
    assert bot.started.cancelled()
    assert gc.get_freeze_count() == 0
