"""The local Discord in a process of its own, driven over a small control API (benchmarks only).

Discord is not in the bot's process, so the benchmarks do not put the double there either: the bot's CPU
time and memory are then the bot's alone, and the double has its own event loop. Run by `bench._double`:

    python -m bench._double_child --members 500

It builds the demo world (tests/double/world.py) plus `--members` extra members, serves the double on a
free 127.0.0.1 port, prints one JSON line (ports and ids), and serves the control API on another
127.0.0.1 port until its stdin closes (the parent went away) or it is told to stop.

Interaction timing: the round trip runs from just before the double writes INTERACTION_CREATE to the
gateway until the double receives the bot's callback, both on this process's monotonic clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import json
import sys
import threading
import time
from collections import Counter
from typing import Any

from aiohttp import web

from tests.double.payloads import DM
from tests.double.server import DiscordDouble
from tests.double.world import build_world

# Late callbacks are recorded with their real latency instead of being refused, so a miss is counted
# (latency over the 3 s deadline) rather than turned into an error path in the bot.
RECORDING_DEADLINE = 120.0

# When the request being handled had fully arrived (its body read), before the double parsed or checked it.
_RECEIVED: contextvars.ContextVar[float | None] = contextvars.ContextVar("received", default=None)


class TimedDouble(DiscordDouble):
    """The double, noting when each REST request is in: a callback's round trip ends when its bytes arrive.

    What the double then does with the reply (parse its JSON, check it as Discord would, store the message)
    is the double's work, not the bot's; timed after it, a bigger reply looked slower by the double's costs.
    A multipart request (a reply with files; none of the benchmarks sends one) is stamped when its headers are in.
    """

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        if request.body_exists and request.content_type != "multipart/form-data":
            await request.read()  # aiohttp keeps the bytes: the double's own read returns them
        _RECEIVED.set(time.monotonic())
        return await super()._rest(request)


class StampedEvent(asyncio.Event):
    """An Event that remembers when the callback that first set it was received (`TimedDouble`)."""

    at: float | None = None

    def set(self) -> None:
        if self.at is None:
            self.at = _RECEIVED.get() or time.monotonic()
        super().set()


class Control:
    """The control API: fire interactions at a labelled bot, read what the double saw, switch faults."""

    def __init__(self, double: DiscordDouble, members: list) -> None:
        self.double = double
        self.members = members
        self.labels: dict[str, Any] = {}
        self.stop = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/label", self.label),
            web.get("/commands", self.commands),
            web.post("/fire", self.fire),
            web.post("/faults", self.faults),
            web.get("/stats", self.stats),
            web.get("/last_reply", self.last_reply),
            web.post("/stop", self.stop_now),
        ]

    async def label(self, request: web.Request) -> web.Response:
        """Name the bot that identified last (`bare`, `peer`), so interactions can be sent to it alone."""
        name = (await request.json())["name"]
        if not self.double.gateways:
            raise web.HTTPConflict(text="no bot is connected")
        self.labels[name] = self.double.gateways[-1]
        return web.json_response({"labelled": name, "connected": len(self.double.gateways)})

    async def commands(self, request: web.Request) -> web.Response:
        names = sorted({c["name"] for commands in self.double.commands.values() for c in commands})
        return web.json_response(names)

    async def faults(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "global_rps" in body:
            self.double.faults.global_rps = body["global_rps"]
        return web.json_response({"global_rps": self.double.faults.global_rps})

    def _user(self, index: int, pool: str):
        people = self.members if pool == "members" else [self.double.users[int(u)] for u in pool.split(",")]
        return people[index % len(people)]

    async def _one(self, target, name: str, options: dict[str, Any], user, timeout: float) -> float | None:
        double = self.double
        guild, channel = double.default_guild, double.default_channel
        parts = name.split()
        command = double._find_command(parts[0], guild)
        built, resolved = double._build_options(command, parts[1:], options, guild, None)
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1, "options": built}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        record = double._interaction(2, data, user, guild, channel)
        record.answered = StampedEvent()
        started = time.monotonic()
        record.created = started
        await target.dispatch("INTERACTION_CREATE", record.payload)
        try:
            await asyncio.wait_for(record.answered.wait(), timeout)
        except TimeoutError:
            return None
        return record.answered.at - started

    async def fire(self, request: web.Request) -> web.Response:
        """Send `count` interactions of one command to one bot, at most `concurrency` in flight.

        Returns each round trip in seconds (null when no callback came within `timeout`).
        """
        spec = await request.json()
        target = self.labels[spec["target"]]
        count, concurrency = int(spec["count"]), max(1, int(spec.get("concurrency", 1)))
        timeout = float(spec.get("timeout", 30.0))
        pool, offset = spec.get("users", "members"), int(spec.get("offset", 0))
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int) -> float | None:
            async with gate:
                user = self._user(offset + index, pool)
                return await self._one(target, spec["command"], spec.get("options", {}), user, timeout)

        # What the double holds so far (every message it stored) is set aside from its garbage collector: a full
        # collection walking it all paused the double for up to 0.25 s, in the middle of whichever command's round
        # was timed then, most often `/meetings`, whose messages grow the double most. Those pauses were the
        # double's, not the bot's.
        gc.freeze()
        started = time.monotonic()
        latencies = await asyncio.gather(*(one(i) for i in range(count)))
        return web.json_response({"latencies": latencies, "wall": time.monotonic() - started})

    async def stats(self, request: web.Request) -> web.Response:
        """What the double saw since request number `since`: requests, DMs, and its own CPU time."""
        since = int(request.query.get("since", 0))
        after = int(request.query.get("messages_after", 0))  # count only DMs newer than this message id
        double = self.double
        requests = [
            (r.at, r.method, double._shape(r.path.strip("/").split("/")), r.status) for r in double.requests[since:]
        ]
        per_recipient: Counter[int] = Counter()
        nonces: Counter[tuple[int, str]] = Counter()
        for channel in double.channels.values():
            if channel.type != DM or not channel.recipients:
                continue
            for message_id in double.channel_messages.get(channel.id, []):
                if int(message_id) <= after:
                    continue
                message = double.messages.get(message_id)
                if message is None:
                    continue
                per_recipient[channel.recipients[0].id] += 1
                if message.get("nonce"):
                    nonces[(channel.id, message["nonce"])] += 1
        return web.json_response(
            {
                "cpu": time.process_time(),
                "now": time.monotonic(),
                "total_requests": len(double.requests),
                "requests": requests,
                "dm_messages": sum(per_recipient.values()),
                "dm_recipients": len(per_recipient),
                "dm_duplicates": sum(n - 1 for n in per_recipient.values() if n > 1),
                "dm_nonce_duplicates": sum(n - 1 for n in nonces.values() if n > 1),
                "unhandled": double.unhandled[:20],
                "last_message_id": max((int(m) for m in double.messages), default=0),
            }
        )

    async def last_reply(self, request: web.Request) -> web.Response:
        """The data of the last interaction callback the double accepted (what a bot answered last)."""
        for record in reversed(self.double.requests):
            if record.path.endswith("/callback") and record.status < 400 and isinstance(record.body, dict):
                return web.json_response(record.body.get("data") or {})
        raise web.HTTPNotFound(text="no interaction was answered yet")

    async def stop_now(self, request: web.Request) -> web.Response:
        self.stop.set()
        return web.json_response({"stopping": True})


async def serve(members: int) -> None:
    double = TimedDouble()
    world = build_world(double)
    extra = [double.add_user(f"member{i:05d}") for i in range(members)]
    for user in extra:
        double.add_member(world.guild, user)
    if len({u.id for u in double.users.values()}) != len(double.users):
        raise SystemExit("snowflake collision while creating members; run again")
    double.faults.interaction_deadline = RECORDING_DEADLINE
    await double.start()

    control = Control(double, extra or [world.alice, world.bob, world.carol, world.dan, world.erin])
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes(control.routes())
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    control_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    ids = {name: getattr(world, name).id for name in ("maya", "olivia", "alice", "bob", "carol", "dan", "erin")}
    channels = {name: getattr(world, name).id for name in ("general", "meetings", "checkins", "buddies", "modlog")}
    print(
        json.dumps(
            {
                "api_base": double.api_base,
                "gateway_url": double.gateway_url,
                "control": f"http://127.0.0.1:{control_port}",
                "guild_id": world.guild.id,
                "people": ids,
                "channels": channels,
                "voice_id": world.voice.id,
                "members": [u.id for u in extra],
                "cpu": time.process_time(),
            }
        ),
        flush=True,
    )

    loop = asyncio.get_running_loop()

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes the pipe or exits
        loop.call_soon_threadsafe(control.stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    await control.stop.wait()
    with contextlib.suppress(Exception):
        await double.stop()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=0, help="extra members in the demo server")
    args = parser.parse_args()
    asyncio.run(serve(args.members))


if __name__ == "__main__":
    main()
