"""Reminder fan-out: many members with a reminder due the same minute, delivered by the real path.

The reminders are written through the services (`reminders.add_reminders`) before the bot starts; the
bot rebuilds its timers at start like after any restart; then the FakeClock moves to the minute they are
due and the real delivery runs: `plan_meeting` → `deliver` → claim in the ledger → `send_dm` with
bounded concurrency. The double runs in its own process, so this process's CPU time (`time.process_time`,
every thread of it: the event loop and aiosqlite's) is the bot's alone; the double's own CPU is shown too.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import discord

from bench._double import DEADLINE, RemoteDouble, ms, start_bare_bot, stop_bare_bot, summary
from bench._report import percent, seconds, table, verdict
from bench._seed import one_meeting_with_reminders, open_database
from bot.client import throttle_bucket_pruning
from bot.clock import FakeClock
from bot.services import meetings as meetings_service
from bot.services.reminders import nonce_for
from cogs._dm import FANOUT_CONCURRENCY
from cogs._reminder_ui import reminder_embed, reminder_view
from tests.double.harness import settings_for, start_bot, stop_bot

TITLE = "Reminder fan-out"

CPU_TARGET = 0.001  # seconds of bot CPU per delivered DM
RATE_TARGET = 0.9  # achieved requests per second as a share of the limit
LIMIT_RPS = 50
LEAD = timedelta(hours=1)
HELP_EVERY = 0.5  # seconds between the /help interactions fired during the rate-limited fan-out
DM_ROUTES = {("POST", "users/@me/channels"), ("POST", "channels/{}/messages")}


@dataclass(frozen=True)
class Sizes:
    unlimited: int
    limited: int


FULL = Sizes(unlimited=5_000, limited=500)
QUICK = Sizes(unlimited=20, limited=10)


@dataclass
class Outcome:
    members: int
    bot_cpu: float
    double_cpu: float
    wall: float
    dm_messages: int
    dm_recipients: int
    duplicates: int
    ledger: dict[str, int]
    accepted: list[float]  # when the double accepted each DM-path request (its monotonic clock)
    limited: int  # 429 answers on the DM path
    last_dm_at: float
    advanced_at: float
    help_latencies: list[float | None]
    requests: int = 0  # accepted requests on the DM path (opening DM channels and sending)
    bare_cpu: float | None = None  # bare discord.py sending the same DMs (no ledger, no planning)
    first: Outcome | None = None  # the first week's fan-out, when this one is the next week's


async def run(quick: bool) -> str:
    """Measure and return the Markdown section."""
    sizes = QUICK if quick else FULL
    free = await _fan_out(sizes.unlimited, rps=None)
    limited = await _fan_out(sizes.limited, rps=LIMIT_RPS if not quick else 10)
    return _report(free, limited, LIMIT_RPS if not quick else 10)


async def _fan_out(members: int, *, rps: int | None) -> Outcome:
    double = await RemoteDouble.start(members=members)
    try:
        with tempfile.TemporaryDirectory(prefix="peerbot-bench-") as tmp:
            return await _measure(double, Path(tmp), members, rps)
    finally:
        await double.stop()


async def _measure(double: RemoteDouble, data_dir: Path, members: int, rps: int | None) -> Outcome:
    """Fan out the first week's reminders, then (without a rate limit) the next week's, and measure both."""
    clock = FakeClock()
    settings = settings_for(double, data_dir)
    start = clock.now() + timedelta(hours=2)
    meeting_id = await one_meeting_with_reminders(
        settings.database_path,
        guild_id=double.guild_id,
        channel_id=double.channels["meetings"],
        organiser_id=double.people["olivia"],
        members=double.members,
        start_utc=start,
        lead=LEAD,
        now=clock.now(),
    )
    bot = await start_bot(double, settings, clock)
    try:
        await asyncio.wait_for(bot.started, timeout=120)  # as in use: the start-up work done, the heap settled
        key = f"reminders:{meeting_id}"
        deadline = time.monotonic() + 60
        while key not in bot.scheduler.pending():  # the timers are rebuilt from the database at start
            if time.monotonic() > deadline:
                raise RuntimeError("the reminder timer was not rebuilt at start")
            await asyncio.sleep(0.01)
        await bot.scheduler.idle()
        await double.set_global_rps(rps)
        first = await _one_week(double, bot, clock, meeting_id, members, start, rps)
        if rps:
            return first
        # A week later every member has had a DM before: the bot knows their DM channels (the steady state).
        nxt = start + timedelta(days=7)
        clock.set(nxt - LEAD - timedelta(minutes=1))  # the meeting's own jobs (start, end, nudges) run first
        await bot.scheduler.idle(timeout=1800)
        steady = await _one_week(double, bot, clock, meeting_id, members, nxt, rps)
        channels = {
            r["user_id"]: r["dm_channel_id"]
            for r in await bot.db.fetchall("SELECT user_id, dm_channel_id FROM member_flags")
        }
    finally:
        await stop_bot(bot)
    first.bare_cpu = await _bare_reference(double, settings, meeting_id, start, None)
    steady.bare_cpu = await _bare_reference(double, settings, meeting_id, nxt, channels)
    steady.first = first
    return steady


async def _one_week(double, bot, clock, meeting_id: int, members: int, start, rps: int | None) -> Outcome:
    before = await double.stats()
    mark, last_message = before["total_requests"], before["last_message_id"]

    help_latencies: list[float | None] = []
    done = asyncio.Event()

    async def ask_for_help() -> None:
        # A member using the bot while it fans out: is each interaction still acknowledged in time?
        while not done.is_set():
            help_latencies.extend(await double.fire("peer", "help", count=1, users=str(double.people["alice"])))
            try:
                await asyncio.wait_for(done.wait(), HELP_EVERY)
            except TimeoutError:
                pass

    if rps:
        await double.label("peer")
    helper = asyncio.create_task(ask_for_help()) if rps else None
    cpu = time.process_time()
    wall = time.perf_counter()
    advanced_at = (await double.stats(since=10**9))["now"]  # the double's clock when the fan-out begins
    clock.set(start - LEAD)
    await bot.scheduler.idle(timeout=1800)
    bot_cpu = time.process_time() - cpu
    elapsed = time.perf_counter() - wall
    done.set()
    if helper is not None:
        await helper
    after = await double.stats(since=mark, messages_after=last_message)
    rows = await bot.db.fetchall(
        "SELECT status, COUNT(*) AS n FROM deliveries WHERE meeting_id = ? AND occurrence = ? GROUP BY status",
        (meeting_id, int(start.timestamp())),
    )
    dm_requests = [r for r in after["requests"] if (r[1], r[2]) in DM_ROUTES]
    accepted = sorted(r[0] for r in dm_requests if r[3] < 400)
    return Outcome(
        members=members,
        bot_cpu=bot_cpu,
        double_cpu=after["cpu"] - before["cpu"],
        wall=elapsed,
        dm_messages=after["dm_messages"],
        dm_recipients=after["dm_recipients"],
        duplicates=after["dm_duplicates"],
        ledger={r["status"]: r["n"] for r in rows},
        accepted=accepted,
        limited=sum(1 for r in dm_requests if r[3] == 429),
        last_dm_at=accepted[-1] if accepted else advanced_at,
        advanced_at=advanced_at,
        help_latencies=help_latencies,
        requests=sum(1 for r in dm_requests if r[3] < 400),
    )


async def _bare_reference(
    double: RemoteDouble, settings, meeting_id: int, start, channels: dict[int, int] | None
) -> float:
    """Return the CPU a bare discord.py client spends DMing every member the same reminder, as PeerBot does.

    Same embed and buttons, same concurrency, members from the gateway cache; no ledger and no planning.
    With `channels` (member → DM channel id, the steady state) it sends straight to each channel, else it
    opens each member's DM channel first. It gets the same bucket-pruning throttle as PeerBot, so
    discord.py's quadratic scan is left out of both.
    """
    db = await open_database(settings.database_path)
    try:
        meeting = await meetings_service.meeting_by_id(db, meeting_id)
    finally:
        await db.close()
    occurrence = meetings_service.Occurrence(meeting, start)
    bare = await start_bare_bot(double, settings, discord.Intents(guilds=True, members=True))
    throttle_bucket_pruning(bare.http)
    gate = asyncio.Semaphore(FANOUT_CONCURRENCY)

    async def one(user_id: int) -> None:
        async with gate:
            if channels:
                target = bare.get_partial_messageable(channels[user_id], type=discord.ChannelType.private)
            else:
                target = bare.get_user(user_id) or await bare.fetch_user(user_id)
            await target.send(
                embed=reminder_embed(occurrence, int(LEAD.total_seconds() // 60)),
                view=reminder_view(occurrence),
                nonce=nonce_for(("bare", user_id, int(start.timestamp()))),
            )

    try:
        cpu = time.process_time()
        await asyncio.gather(*(one(user_id) for user_id in double.members))
        return time.process_time() - cpu
    finally:
        await stop_bare_bot(bare)


def _achieved_rate(accepted: list[float], limit: int) -> tuple[float, float]:
    """Requests a second the double accepted, not counting the first window's free burst; and the span.

    Under a sliding one-second window of `limit`, N requests need at least (N - limit) / limit seconds
    from the first to the last, so (N - limit) / span is exactly the limit when the bot loses no time.
    """
    if len(accepted) <= limit:
        return float("nan"), 0.0
    span = accepted[-1] - accepted[0]
    return (len(accepted) - limit) / span, span


def _free_row(label: str, outcome: Outcome) -> tuple:
    per_dm = outcome.bot_cpu / max(1, outcome.dm_messages)
    bare_per_dm = (outcome.bare_cpu or 0.0) / max(1, outcome.members)
    return (
        label,
        f"{outcome.members:,}",
        f"{outcome.dm_messages:,}",
        f"{outcome.requests / max(1, outcome.dm_messages):.2f}",
        seconds(outcome.wall),
        f"{outcome.dm_messages / outcome.wall:,.0f} DMs/s",
        seconds(outcome.bot_cpu),
        f"{per_dm * 1000:.2f} ms",
        f"< {CPU_TARGET * 1000:.0f} ms",
        verdict(per_dm < CPU_TARGET),
        f"{bare_per_dm * 1000:.2f} ms ({per_dm / bare_per_dm:.2f}×)" if bare_per_dm else "–",
        f"{outcome.double_cpu / max(1, outcome.dm_messages) * 1000:.2f} ms",
        _lost_and_duplicates(outcome),
    )


def _report(free: Outcome, limited: Outcome, limit: int) -> str:
    free_rows = [_free_row("first week: DM channels opened", free.first)] if free.first else []
    free_rows.append(_free_row("every week after: DM channels known", free))
    rate, span = _achieved_rate(limited.accepted, limit)
    fraction = rate / limit
    dms_per_s = limited.dm_messages / max(1e-9, limited.last_dm_at - limited.advanced_at)
    help_summary = summary(limited.help_latencies)
    help_ok = help_summary["n"] > 0 and help_summary["missed"] == 0
    limited_rows = [
        (
            f"{limited.members:,}",
            f"{len(limited.accepted):,} requests in {seconds(span)}",
            f"{rate:.1f} req/s",
            percent(fraction),
            f"≥ {percent(RATE_TARGET, 0)}",
            verdict(fraction >= RATE_TARGET),
            f"{limited.dm_messages:,} in {seconds(limited.last_dm_at - limited.advanced_at)} ({dms_per_s:.1f}/s)",
            f"{limited.limited:,}",
            _lost_and_duplicates(limited),
            f"{help_summary['n'] - help_summary['missed']} of {help_summary['n']} "
            f"(max {ms(help_summary['max'])}): {verdict(help_ok)}",
        )
    ]
    return (
        "**(a) No rate limit**: bot CPU per delivered DM. The double runs in its own process, so "
        "`time.process_time()` around the fan-out (advance the clock → the scheduler is idle again) counts the "
        "bot only: its event loop and aiosqlite's threads, the ledger writes and discord.py's HTTP. The "
        "double's CPU per DM is shown for scale, not subtracted (it is not in the bot's process). CPU includes "
        "system time: on 127.0.0.1 the kernel's loopback work for each request is charged to the sender. As a "
        "reference in the same run, a bare discord.py client sends the same DMs (same embed and buttons, same "
        "concurrency, no ledger): what discord.py itself costs per DM on this machine.\n\n"
        "The meeting is weekly and the fan-out is measured twice. The first week is every member's first DM, "
        "so each one opens the member's DM channel (two requests); the bot stores the channel's id, and from "
        "the next week on each DM is one request. The bare reference does the same in each row (opens the "
        "channels, then sends to the known ids). The reminders here are written straight into the database; "
        "a member who sets one with `/reminders set` has their channel opened there and then, so in use the "
        "first row only happens for reminders made before that (a database from an older version).\n\n"
        + table(
            (
                "fan-out",
                "members",
                "DMs delivered",
                "requests per DM",
                "fan-out time",
                "rate",
                "bot CPU",
                "bot CPU per DM",
                "target",
                "result",
                "bare discord.py per DM (PeerBot / bare)",
                "double CPU per DM",
                "lost / duplicates",
            ),
            free_rows,
        )
        + f"\n\n**(b) The double enforcing {limit} requests/s** (global, sliding one-second window; interaction "
        f"callbacks exempt, as on Discord), with {limited.members:,} members to keep the run short. Each first DM "
        "to a member is two requests (open the DM channel, send), so the requests are what meets the limit; DMs "
        "are shown too (a first week: every DM opens its channel). The achieved rate leaves out the first "
        f"second's burst (see `_achieved_rate`). During the fan-out a member runs `/help` every {HELP_EVERY:g} s.\n\n"
        + table(
            (
                "members",
                "accepted DM requests",
                "achieved",
                "of the limit",
                "target",
                "result",
                "DMs",
                "429s answered",
                "lost / duplicates",
                f"`/help` acknowledged ≤ {DEADLINE:.0f} s",
            ),
            limited_rows,
        )
    )


def _lost_and_duplicates(outcome: Outcome) -> str:
    sent = outcome.ledger.get("sent", 0)
    lost = outcome.members - min(outcome.dm_recipients, sent)
    others = {k: v for k, v in outcome.ledger.items() if k != "sent"}
    ok = lost == 0 and outcome.duplicates == 0 and not others and outcome.dm_messages == outcome.members
    detail = f"{lost} lost, {outcome.duplicates} duplicates; ledger: {sent:,} sent"
    if others:
        detail += ", " + ", ".join(f"{v:,} {k}" for k, v in sorted(others.items()))
    return f"{detail}: {verdict(ok)}"
