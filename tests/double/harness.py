"""Start a real PeerBot against the double, and stop it (restart tests start another on the same files)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path

import aiohttp

from bot.client import PeerBot
from bot.clock import Clock
from bot.settings import Settings
from tests.double.server import DiscordDouble

TEST_TOKEN = "double.test-token.0000000000000000"


def settings_for(double: DiscordDouble, data_dir: Path, **overrides) -> Settings:
    """Settings that point the bot at the double and keep its files in `data_dir`."""
    base = Settings(
        discord_token=TEST_TOKEN,
        database_path=data_dir / "peerbot.sqlite3",
        anon_secret_path=data_dir / "anon.key",
        discord_api_base=double.api_base,
        discord_gateway_url=double.gateway_url,
        anon_delay_min_seconds=0,
        anon_delay_max_seconds=0,
    )
    return replace(base, **overrides)


async def start_bot(double: DiscordDouble, settings: Settings, clock: Clock) -> PeerBot:
    """Log a PeerBot into the double and wait until it is ready."""
    double.identified.clear()
    bot = PeerBot(
        settings,
        clock=clock,
        guild_ready_timeout=0.05,
        connector=aiohttp.TCPConnector(limit=20),
    )
    await bot.login(settings.discord_token)
    bot._double_task = asyncio.create_task(bot.connect(reconnect=False))
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({ready, bot._double_task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if bot._double_task.done():
            bot._double_task.result()  # raise what killed the client
        raise RuntimeError("the bot did not become ready against the double")
    return bot


async def stop_bot(bot: PeerBot) -> None:
    """Close the bot and wait for its gateway task."""
    await bot.close()
    task = getattr(bot, "_double_task", None)
    if task is not None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
