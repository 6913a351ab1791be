"""One PeerBot start in a fresh process, for bench/startup.py: ready, then every startup job rebuilt.

    python -m bench._startup_child SPEC_JSON

SPEC_JSON names the database, the key file, the double's endpoints and the fake clock's instant. It prints
one JSON line: monotonic times (system-wide on Linux, so the parent can subtract its own spawn time) when
`main` began (after the interpreter and imports), when the bot was ready, and when every task the cogs
started at load had finished; the longest the event loop was busy without a break in between; how long a
full collection of Python's cycle collector then takes (the loop stops for it); the scheduler's pending jobs by
kind; and the peak RSS of this process.
"""

from __future__ import annotations

import time

IMPORTS_STARTED = time.monotonic()

import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from bot.clock import FakeClock  # noqa: E402
from tests.double.harness import settings_for, start_bot, stop_bot  # noqa: E402


def peak_rss_kb() -> int:
    """This process's peak resident memory since it started this program, in KiB.

    Linux's ru_maxrss survives exec: a child forked from a large parent (the benchmark runner after the
    pairing benchmark) would report the parent's size. VmHWM belongs to the new program's memory only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class StallProbe:
    """The longest the event loop went without running a 5 ms timer, counted from `count()` on.

    An interaction arriving during such a stretch waits for it to end before the bot even reads it.
    """

    TICK = 0.005

    def __init__(self) -> None:
        self.longest = 0.0
        self.counting = False
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.TICK)
            now = time.monotonic()
            if self.counting:
                self.longest = max(self.longest, now - last - self.TICK)
            last = now

    def count(self) -> None:
        self.counting = True

    def stop(self) -> float:
        self.task.cancel()
        return self.longest


async def main(spec: dict) -> dict:
    began = time.monotonic()
    probe = StallProbe()
    double = SimpleNamespace(api_base=spec["api_base"], gateway_url=spec["gateway_url"], identified=asyncio.Event())
    settings = settings_for(double, Path(spec["data_dir"]))
    clock = FakeClock(datetime.fromisoformat(spec["now"]))
    bot = await start_bot(double, settings, clock)
    ready = time.monotonic()
    probe.count()  # from here on, members' interactions can arrive
    try:
        # Everything a cog started at load (rebuilding timers from the database) has to finish, and the heap
        # it leaves be settled (bot/client.py, settle_heap). `bot.started` waits for the same work but only logs
        # a failure; gathering the cogs' tasks here makes a failed rebuild fail the benchmark instead.
        tasks = [v for cog in bot.cogs.values() for v in vars(cog).values() if isinstance(v, asyncio.Task)]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=600)
        await asyncio.wait_for(bot.started, timeout=600)
        rebuilt = time.monotonic()
        stall = probe.stop()
        # The pause of Python's next full collection: the event loop stops for it, whoever is waiting.
        collecting = time.perf_counter()
        gc.collect()
        full_collection = time.perf_counter() - collecting
        kinds = Counter(key.split(":")[0] + (":" + key.split(":")[-1] if key.startswith("meeting:") else "")
                        for key in bot.scheduler.pending())  # fmt: skip
    finally:
        await stop_bot(bot)
    return {
        "imports_started": IMPORTS_STARTED,
        "main_began": began,
        "ready": ready,
        "rebuilt": rebuilt,
        "longest_stall": stall,
        "full_collection": full_collection,
        "jobs": dict(kinds),
        "tasks": len(tasks),
        "maxrss_kb": peak_rss_kb(),
    }


if __name__ == "__main__":
    import os

    profile_to = os.environ.get("PEERBOT_BENCH_PROFILE")  # a path: profile this start with pyinstrument there
    if profile_to:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    result = asyncio.run(main(json.loads(sys.argv[1])))
    if profile_to:
        profiler.stop()
        Path(profile_to).write_text(profiler.output_text(unicode=False))
    print(json.dumps(result), flush=True)
