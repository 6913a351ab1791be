"""Whether the bot lets go of what it no longer needs (for tests of what it keeps alive)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any


async def all_let_go(match: Callable[[Any], bool], within: float = 1.0) -> bool:
    """Whether every live object `match` accepts is gone within `within` seconds.

    A command goes on for a moment after it answers (discord.py's completion event, notes for the member), so
    this waits a little; use it after the bot's start-up heap is settled (`bot.started`), since frozen objects
    are not among those the collector lists.
    """
    give_up = time.monotonic() + within
    while True:
        gc.collect()
        if not any(match(o) for o in gc.get_objects()):
            return True
        if time.monotonic() > give_up:
            return False
        await asyncio.sleep(0.02)
