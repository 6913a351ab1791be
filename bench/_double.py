"""The benchmarks' side of the local Discord: start it in its own process, drive it, read it; a bare bot.

`RemoteDouble` has what `tests.double.harness.settings_for` and `start_bot` read from a double
(`api_base`, `gateway_url`, `identified`), so a real PeerBot logs into it exactly as in the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.client import apply_endpoints
from bot.settings import Settings
from tests.double.harness import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 3.0  # Discord's: an interaction not acknowledged within 3 s fails in the member's client


class RemoteDouble:
    """A DiscordDouble running in a child process (`bench._double_child`)."""

    def __init__(self, proc: asyncio.subprocess.Process, info: dict[str, Any]) -> None:
        self.proc = proc
        self.info = info
        self.api_base: str = info["api_base"]
        self.gateway_url: str = info["gateway_url"]
        self.guild_id: int = info["guild_id"]
        self.people: dict[str, int] = info["people"]
        self.channels: dict[str, int] = info["channels"]
        self.members: list[int] = info["members"]
        self.identified = asyncio.Event()  # harness.start_bot clears it
        self._session = aiohttp.ClientSession(base_url=info["control"], timeout=aiohttp.ClientTimeout(total=900))

    @classmethod
    async def start(cls, members: int = 0) -> RemoteDouble:
        """Start the double with `members` extra members in its demo server."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._double_child",
            "--members",
            str(members),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,  # the first line lists every member's id
        )
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
            info = json.loads(line)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        return cls(proc, info)

    async def stop(self) -> None:
        """Stop the child process (it also stops by itself when our end of its stdin closes)."""
        with contextlib.suppress(Exception):
            await self._post("/stop", {})
        await self._session.close()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async with self._session.post(path, json=body) as response:
            response.raise_for_status()
            return await response.json()

    async def label(self, name: str) -> None:
        """Name the bot that connected last, so interactions can be aimed at it alone."""
        await self._post("/label", {"name": name})

    async def commands(self) -> list[str]:
        """Return the names of the commands the bots synced."""
        async with self._session.get("/commands") as response:
            return await response.json()

    async def set_global_rps(self, rps: float | None) -> None:
        """Make the double enforce a global limit of `rps` requests a second (None: no limit)."""
        await self._post("/faults", {"global_rps": rps})

    async def fire(
        self,
        target: str,
        command: str,
        *,
        count: int,
        concurrency: int = 1,
        options: dict[str, Any] | None = None,
        users: str = "members",
        offset: int = 0,
        timeout: float = 30.0,
    ) -> list[float | None]:
        """Send `count` interactions to bot `target`; return each round trip in seconds (None: never answered)."""
        result = await self._post(
            "/fire",
            {
                "target": target,
                "command": command,
                "options": options or {},
                "count": count,
                "concurrency": concurrency,
                "users": users,
                "offset": offset,
                "timeout": timeout,
            },
        )
        return result["latencies"]

    async def last_reply(self) -> dict[str, Any]:
        """Return the data of the last interaction callback the double accepted."""
        async with self._session.get("/last_reply") as response:
            response.raise_for_status()
            return await response.json()

    async def stats(self, since: int = 0, messages_after: int = 0) -> dict[str, Any]:
        """Return what the double saw since request number `since` (requests; DMs newer than message
        `messages_after`; its CPU time)."""
        params = {"since": str(since), "messages_after": str(messages_after)}
        async with self._session.get("/stats", params=params) as response:
            return await response.json()


class SameReply(discord.ui.View):
    """Components given as raw payloads (what PeerBot sent), for the bare bot's `/same`."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(timeout=None)
        self.rows = rows

    def to_components(self) -> list[dict[str, Any]]:
        return self.rows

    def is_finished(self) -> bool:
        return True  # nothing to listen for, as PeerBot's own Components (cogs/_ui.py): not kept by discord.py


class BareBot(discord.Client):
    """The reference: a minimal discord.py bot answering `/ping` ephemerally.

    It also has `/same which:<name>`, which answers with a reply recorded from PeerBot (`replies[name]`: the
    content, embeds and buttons of a callback) and nothing else: what discord.py itself costs to send that
    very message, without PeerBot's work to make it.
    """

    def __init__(self, guild_id: int, intents: discord.Intents | None = None) -> None:
        # The same connector cap and guild timeout the harness gives PeerBot, so the two are compared fairly.
        super().__init__(
            intents=intents or discord.Intents(guilds=True),
            guild_ready_timeout=0.05,
            connector=aiohttp.TCPConnector(limit=20),
        )
        self.guild_id = guild_id
        self.tree = app_commands.CommandTree(self)
        self.replies: dict[str, dict[str, Any]] = {}

        @self.tree.command(name="ping", description="Answer pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Pong", ephemeral=True)

        @self.tree.command(name="same", description="Answer with a reply recorded from PeerBot")
        async def same(interaction: discord.Interaction, which: str) -> None:
            data = self.replies[which]
            kwargs: dict[str, Any] = {"ephemeral": bool(int(data.get("flags", 0)) & 64)}
            if data.get("embeds"):
                kwargs["embeds"] = [discord.Embed.from_dict(e) for e in data["embeds"]]
            if data.get("components"):
                kwargs["view"] = SameReply(data["components"])
            await interaction.response.send_message(data.get("content"), **kwargs)

    async def setup_hook(self) -> None:
        # Synced to the server, so PeerBot's global commands in the double stay as they are.
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)


async def start_bare_bot(double: RemoteDouble, settings: Settings, intents: discord.Intents | None = None) -> BareBot:
    """Log the bare bot into the double (the same endpoint mechanism PeerBot uses) and wait until ready."""
    apply_endpoints(settings)
    bot = BareBot(double.guild_id, intents)
    await bot.login(TEST_TOKEN)
    bot._bench_task = asyncio.create_task(bot.connect(reconnect=False))
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({ready, bot._bench_task}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if bot._bench_task.done():
            bot._bench_task.result()
        raise RuntimeError("the bare bot did not become ready against the double")
    return bot


async def stop_bare_bot(bot: BareBot) -> None:
    """Close the bare bot and wait for its gateway task."""
    await bot.close()
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await asyncio.wait_for(bot._bench_task, timeout=5)


# ------------------------------------------------------------------------------------------- statistics
def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0–100) by the nearest-rank method."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(latencies: Sequence[float | None], deadline: float = DEADLINE) -> dict[str, float]:
    """Median, p95 and max of the answered round trips; how many missed the deadline (or never came)."""
    answered = [x for x in latencies if x is not None]
    return {
        "n": len(latencies),
        "median": statistics.median(answered) if answered else math.nan,
        "p95": percentile(answered, 95),
        "max": max(answered) if answered else math.nan,
        "missed": sum(1 for x in latencies if x is None or x > deadline),
    }


def ms(value: float) -> str:
    """Format seconds as milliseconds for a table."""
    return "–" if math.isnan(value) else f"{value * 1000:.1f} ms"
