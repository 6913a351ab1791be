"""Shared fixtures: the local Discord, a demo server, and a real PeerBot logged into it."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from tests.double.harness import settings_for, start_bot, stop_bot
from tests.double.server import DiscordDouble
from tests.double.world import World, build_world


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def discord_double():
    double = DiscordDouble()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
def world(discord_double: DiscordDouble) -> World:
    return build_world(discord_double)


class Running:
    """The bot under test, restartable on the same database and key."""

    def __init__(self, double: DiscordDouble, settings, clock: FakeClock) -> None:
        self.double, self.settings, self.clock = double, settings, clock
        self.bot = None

    async def start(self):
        self.bot = await start_bot(self.double, self.settings, self.clock)
        return self.bot

    async def stop(self) -> None:
        if self.bot is not None:
            await stop_bot(self.bot)
            self.bot = None

    async def restart(self):
        """Stop the bot and start a new one on the same database (a process restart)."""
        await self.stop()
        # A new process has a new clock listener list: keep the same time, drop the old scheduler's hook.
        self.clock._listeners.clear()
        return await self.start()


@pytest.fixture
async def running(discord_double: DiscordDouble, world: World, clock: FakeClock, tmp_path):
    run = Running(discord_double, settings_for(discord_double, tmp_path), clock)
    await run.start()
    yield run
    await run.stop()
    discord_double.assert_all_handled()


@pytest.fixture
def bot(running: Running):
    return running.bot
