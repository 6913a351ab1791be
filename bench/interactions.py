"""Interaction overhead: PeerBot against a bare discord.py bot, through the local Discord double.

Both bots run in this process and log into the same double, which runs in a process of its own (as
Discord would). The double aims each interaction at one bot's gateway and times the round trip from just
before it writes INTERACTION_CREATE until it receives that bot's callback. The bare bot answers `/ping`
ephemerally; PeerBot answers a write (`/checkin share:private`, a journal row) and a read (`/meetings`:
a group the member is in, four weekly meetings, eight occurrences in the next 14 days). Rounds alternate
the order of the three, so the ratio is fair on a shared machine; the bare bot is the same discord.py, so
the ratio is PeerBot's own overhead on top of the library's.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._double import DEADLINE, BareBot, RemoteDouble, ms, start_bare_bot, stop_bare_bot, summary
from bench._report import table, verdict
from bench._seed import group_with_meetings
from bot.clock import FakeClock
from tests.double.harness import settings_for, start_bot, stop_bot

TITLE = "Interaction overhead"

RATIO_TARGET = 1.5
IN_FLIGHT = 50
SEQUENTIAL_BLOCKS = 5  # each round's sequential interactions per command, in this many alternating blocks
BURST = 500


@dataclass(frozen=True)
class Sizes:
    members: int
    rounds: int
    sequential: int
    concurrent: int
    in_flight: int
    burst: int
    warmup: int


FULL = Sizes(members=600, rounds=6, sequential=100, concurrent=300, in_flight=IN_FLIGHT, burst=BURST, warmup=30)
QUICK = Sizes(members=30, rounds=1, sequential=5, concurrent=10, in_flight=5, burst=20, warmup=2)


@dataclass(frozen=True)
class Target:
    bot: str
    command: str
    options: dict[str, Any]
    label: str


async def run(quick: bool) -> str:
    """Measure and return the Markdown section."""
    sizes = QUICK if quick else FULL
    double = await RemoteDouble.start(members=sizes.members)
    try:
        with tempfile.TemporaryDirectory(prefix="peerbot-bench-") as tmp:
            return await _measure(double, Path(tmp), sizes)
    finally:
        await double.stop()


async def _measure(double: RemoteDouble, data_dir: Path, sizes: Sizes) -> str:
    clock = FakeClock()
    settings = settings_for(double, data_dir)
    await group_with_meetings(
        settings.database_path,
        guild_id=double.guild_id,
        channel_id=double.channels["meetings"],
        organiser_id=double.people["olivia"],
        members=double.members,
        now=clock.now(),
    )
    bare = await start_bare_bot(double, settings)
    await double.label("bare")
    peer = None
    try:
        peer = await start_bot(double, settings, clock)
        await asyncio.wait_for(peer.started, timeout=120)  # as in use: the start-up work done, the heap settled
        await double.label("peer")
        commands = await double.commands()
        if "checkin" in commands:
            write = Target("peer", "checkin", {"mood": 3, "share": "private"}, "`/checkin share:private` (write)")
            write_note = ""
        else:
            write = Target("peer", "reminders style", {"style": "steady"}, "`/reminders style` (write)")
            write_note = "\n\n`/checkin` was not registered in this tree, so `/reminders style` stands in as the write."
        targets = [
            Target("bare", "ping", {}, "`/ping` (bare discord.py)"),
            write,
            Target("peer", "meetings", {}, "`/meetings` (read, 8 occurrences)"),
        ]
        return await _rounds(double, bare, targets, sizes) + write_note
    finally:
        if peer is not None:
            await stop_bot(peer)
        await stop_bare_bot(bare)


def _same_label(target: Target) -> str:
    return f"bare discord.py sending `/{target.command}`'s reply"


async def _rounds(double: RemoteDouble, bare_bot: BareBot, targets: list[Target], sizes: Sizes) -> str:
    offset = 0

    async def fire(target: Target, count: int, concurrency: int) -> list:
        nonlocal offset
        latencies = await double.fire(
            target.bot, target.command, options=target.options, count=count, concurrency=concurrency, offset=offset
        )
        offset += count
        return latencies

    # The bare bot learns to send each PeerBot reply as it was sent (`/same`): the cost of the message itself.
    same: dict[str, Target] = {}
    for target in targets:
        if target.bot == "peer":
            await fire(target, 1, 1)
            bare_bot.replies[target.command] = await double.last_reply()
            same[target.label] = Target("bare", "same", {"which": target.command}, _same_label(target))
    everything = targets + list(same.values())
    sequential: dict[str, list] = {t.label: [] for t in everything}
    concurrent: dict[str, list] = {t.label: [] for t in everything}
    for target in everything:  # warm-up: first-use costs (imports, caches, connections) are not overhead
        await fire(target, sizes.warmup, 1)
        await fire(target, sizes.warmup, sizes.in_flight)
    for index in range(sizes.rounds):
        order = everything if index % 2 == 0 else list(reversed(everything))
        # Sequential round trips are short (about a millisecond), so the machine's drift between blocks of 100
        # was as large as the differences measured: each round's sequential share goes in small blocks,
        # alternating the commands, so every command sees the same moments.
        for block in range(SEQUENTIAL_BLOCKS):
            for target in order if block % 2 == 0 else list(reversed(order)):
                sequential[target.label] += await fire(target, sizes.sequential // SEQUENTIAL_BLOCKS, 1)
        for target in order:
            concurrent[target.label] += await fire(target, sizes.concurrent, sizes.in_flight)
    bursts = {}
    for target in targets:
        bursts[target.label] = await fire(target, sizes.burst, sizes.burst)

    bare = targets[0].label
    rows = []
    for mode, found in (("sequential", sequential), (f"{sizes.in_flight} in flight", concurrent)):
        reference = summary(found[bare])
        for target in targets + list(same.values()):
            s = summary(found[target.label])
            if target.bot == "bare":
                ratio, check, added = f"{s['median'] / reference['median']:.2f}×", None, "–"
                if target.label == bare:
                    ratio = "1.00× (reference)"
                versus_same = "–"
            else:
                value = s["median"] / reference["median"]
                ratio, check = f"{value:.2f}×", value <= RATIO_TARGET
                added = f"+{ms(s['median'] - reference['median'])}"
                versus_same = f"{s['median'] / summary(found[same[target.label].label])['median']:.2f}×"
            p95_ratio = s["p95"] / reference["p95"] if reference["p95"] else math.nan
            rows.append(
                (
                    target.label,
                    mode,
                    f"{s['n']:,}",
                    ms(s["median"]),
                    ms(s["p95"]),
                    ms(s["max"]),
                    ratio,
                    f"≤ {RATIO_TARGET}×" if check is not None else "–",
                    verdict(check),
                    added,
                    f"{p95_ratio:.2f}×",
                    versus_same,
                )
            )
    latency_table = table(
        (
            "command",
            "load",
            "interactions",
            "median",
            "p95",
            "max",
            "median / bare",
            "target",
            "result",
            "added to the median",
            "p95 / bare",
            "median / bare sending the same reply",
        ),
        rows,
    )
    burst_rows = []
    for target in targets:
        s = summary(bursts[target.label])
        ok = s["missed"] == 0
        burst_rows.append(
            (
                target.label,
                f"{s['n']:,} at once",
                ms(s["median"]),
                ms(s["p95"]),
                ms(s["max"]),
                f"{s['n'] - s['missed']:,} of {s['n']:,}",
                f"{s['missed']:,}",
                "all within 3 s" if target.bot == "peer" else "–",
                verdict(ok) if target.bot == "peer" else ("(reference) " + verdict(ok)),
            )
        )
    burst_table = table(
        (
            "command",
            "in flight",
            "median",
            "p95",
            "max",
            f"acknowledged ≤ {DEADLINE:.0f} s",
            "missed",
            "target",
            "result",
        ),
        burst_rows,
    )
    return (
        f"Round trip = the double writing INTERACTION_CREATE → the callback's last byte arriving at the double "
        f"(before the double parses or stores it: its own work is not the bot's), timed in the double's own "
        f"process. {sizes.rounds} alternating rounds of {sizes.sequential} sequential (in "
        f"{SEQUENTIAL_BLOCKS} blocks, the commands alternating) and "
        f"{sizes.concurrent} with {sizes.in_flight} in flight per command, after a warm-up; members rotate over "
        f'{sizes.members:,} group members. The rows "bare discord.py sending …\'s reply" are the bare bot answering '
        f"with the very reply PeerBot sent (its text, embed and buttons, recorded from the double), so they show "
        f"what discord.py and the double cost for that message alone, sent discord.py's usual way (asking for the "
        f"message back, which PeerBot's answers do not); the last column compares PeerBot with them. The double's "
        f"heap is set aside from its garbage collector before each round.\n\n"
        f"{latency_table}\n\n"
        f"**Burst**: {sizes.burst} interactions of one command sent at once (the double records late callbacks "
        f"instead of refusing them, so a miss is counted, not hidden).\n\n"
        f"{burst_table}"
    )
