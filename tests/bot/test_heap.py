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
    walked = {id(o) for o in gc.get_objects()}  # what the collector still walks: not what start-up built
    assert id(bot.get_cog("Schedule").__dict__) not in walked
    reply = await discord_double.slash("resources", user=world.alice)  # the bot goes on as before
    assert reply.ephemeral
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


async def test_start_up_work_begun_after_the_start_is_still_logged_when_it_fails(running, caplog):
    # A cog reloaded later: its work is not the start's to wait for, but its failure is not lost.
    bot = running.bot
    await asyncio.wait_for(bot.started, timeout=10)
    caplog.set_level(logging.ERROR, logger="bot.client")

    async def later() -> None:
        raise RuntimeError("no such table")

    task = bot.at_start(later())
    await asyncio.wait([task])
    await asyncio.sleep(0)  # done callbacks run on the next turn
    failed = [r for r in caplog.records if r.getMessage().startswith("Start-up work")]
    assert len(failed) == 1 and "later" in failed[0].getMessage()
