"""Start-up: a big database, a fresh process, and the time until every job is rebuilt from it.

The database is built on the real migrations with `executemany` (fast, and the same rows the services
write): 10,000 meeting series in 1,000 groups (weekly, biweekly, monthly and one-off, in five time zones,
begun up to a year ago), 100,000 reminders (per meeting and per group) for 20,000 members, and 50,000
check-ins. Each series' Discord event is recorded as already mirrored for its next date, as a bot that
has been running leaves it. The 20,000 members are in the double's server too, so discord.py caches them
at start like it would on Discord.

Each start is a new process (`bench._startup_child`) against the double in another process; its time runs
from just before the process is spawned (interpreter and imports included) to the bot being ready with
every task its cogs start at load finished, which is when every timer is back in the scheduler. Peak memory
is that process's VmHWM (its own peak RSS; `ru_maxrss` would carry over the runner's size through exec when
the runner is large, as after the pairing benchmark). A first start (not timed) syncs the commands and leaves
the database as a running bot would; the timed starts are restarts.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench._double import ROOT, RemoteDouble
from bench._report import seconds, table, verdict
from bench._seed import open_database
from bot.clock import FakeClock
from bot.logic import recurrence
from bot.logic.recurrence import Series

TITLE = "Start-up"

TIME_TARGET = 3.0
MEMORY_TARGET_MB = 300
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC")
REPEATS = (("weekly", 70), ("biweekly", 15), ("monthly", 10), ("once", 5))
LEADS = (30, 60, 120, 1440)


@dataclass(frozen=True)
class Sizes:
    series: int
    groups: int
    reminders: int
    checkins: int
    members: int
    starts: int


FULL = Sizes(series=10_000, groups=1_000, reminders=100_000, checkins=50_000, members=20_000, starts=3)
QUICK = Sizes(series=40, groups=8, reminders=400, checkins=200, members=50, starts=1)


async def run(quick: bool) -> str:
    """Measure and return the Markdown section."""
    sizes = QUICK if quick else FULL
    double = await RemoteDouble.start(members=sizes.members)
    try:
        with tempfile.TemporaryDirectory(prefix="peerbot-bench-") as tmp:
            data_dir = Path(tmp)
            now = FakeClock().now()
            built_in, has_checkins, counts = await build_database(data_dir / "peerbot.sqlite3", double, sizes, now)
            spec = {
                "api_base": double.api_base,
                "gateway_url": double.gateway_url,
                "data_dir": str(data_dir),
                "now": now.isoformat(),
            }
            await _start(spec)  # the first start after the build: syncs commands, like the first run ever
            mark = (await double.stats(since=10**9))["total_requests"]
            results = [await _start(spec) for _ in range(sizes.starts)]
            requests = (await double.stats(since=mark))["requests"]
    finally:
        await double.stop()
    return _report(sizes, results, counts, has_checkins, built_in, len(requests) / max(1, len(results)))


async def _start(spec: dict[str, Any]) -> dict[str, Any]:
    spawned = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench._startup_child",
        json.dumps(spec),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"the start-up child failed (exit {proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["spawned"] = spawned
    return result


async def build_database(path: Path, double: RemoteDouble, sizes: Sizes, now: datetime) -> tuple[float, bool, dict]:
    """Create the database on the real migrations and fill it with `executemany`; return time, check-ins?, counts."""
    started = time.perf_counter()
    db = await open_database(path)
    await db.close()
    rng = random.Random(9)
    members = double.members
    stamp = int(now.timestamp())
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.execute("BEGIN")
        channels = list(double.channels.values())
        conn.executemany(
            "INSERT INTO groups (id, guild_id, name, name_key, channel_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (g, double.guild_id, f"Group {g}", f"group {g}", channels[g % len(channels)], stamp - 400 * 86400)
                for g in range(1, sizes.groups + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO memberships (group_id, user_id, joined_at) VALUES (?, ?, ?)",
            [(1 + i % sizes.groups, user_id, stamp - 86400) for i, user_id in enumerate(members)],
        )
        meetings = []
        repeats, weights = zip(*REPEATS, strict=True)
        for meeting_id in range(1, sizes.series + 1):
            repeat = rng.choices(repeats, weights)[0]
            zone = ZONES[meeting_id % len(ZONES)]
            if repeat == "once":
                start = now.replace(tzinfo=None) + timedelta(days=rng.randint(1, 60))
            else:
                start = now.replace(tzinfo=None) - timedelta(days=rng.randint(0, 365))
            start = start.replace(hour=rng.randint(9, 20), minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
            duration = rng.choice((60, 90))
            series = Series(start, zone, repeat, "weekday")
            # The Discord event already mirrors the next date, as a running bot leaves it (Schedule.plan).
            current = recurrence.next_occurrence(series, now - timedelta(minutes=duration))
            event = (900_000_000_000_000_000 + meeting_id, int(current.timestamp())) if current else (None, None)
            meetings.append(
                (
                    meeting_id,
                    double.guild_id,
                    1 + meeting_id % sizes.groups,
                    f"Meeting {meeting_id}",
                    start.isoformat(timespec="minutes"),
                    zone,
                    repeat,
                    duration,
                    "https://meet.example.org/m",
                    double.people["olivia"],
                    stamp - 400 * 86400,
                    *event,
                )
            )
        conn.executemany(
            "INSERT INTO meetings (id, guild_id, group_id, title, start_local, timezone, repeat, duration_minutes,"
            " link, organiser_id, created_at, event_id, event_occurrence)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            meetings,
        )
        reminders: set[tuple[int, int | None, int | None, int]] = set()
        while len(reminders) < sizes.reminders:
            user_id = rng.choice(members)
            lead = rng.choice(LEADS)
            if rng.random() < 0.8:
                reminders.add((user_id, rng.randint(1, sizes.series), None, lead))
            else:
                reminders.add((user_id, None, rng.randint(1, sizes.groups), lead))
        conn.executemany(
            "INSERT INTO reminders (user_id, guild_id, meeting_id, group_id, lead_minutes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(u, double.guild_id, m, g, lead, stamp - 86400) for u, m, g, lead in sorted(reminders, key=str)],
        )
        has_checkins = "checkins" in tables
        if has_checkins:
            conn.executemany(
                "INSERT INTO checkins (guild_id, user_id, group_id, mood, note, share, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        double.guild_id,
                        rng.choice(members),
                        None,
                        rng.randint(1, 5),
                        "A short note about the day." if i % 3 == 0 else None,
                        "private",
                        stamp - rng.randint(0, 365 * 86400),
                    )
                    for i in range(sizes.checkins)
                ],
            )
        conn.execute("COMMIT")
        counts = {
            name: conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
            for name in ("meetings", "groups", "reminders", "memberships", *(("checkins",) if has_checkins else ()))
        }
    finally:
        conn.close()
    return time.perf_counter() - started, has_checkins, counts


def _report(
    sizes: Sizes, results: list[dict], counts: dict, has_checkins: bool, built_in: float, requests: float
) -> str:
    total = [r["rebuilt"] - r["spawned"] for r in results]
    ready = [r["ready"] - r["spawned"] for r in results]
    imports = [r["main_began"] - r["spawned"] for r in results]
    rebuild = [r["rebuilt"] - r["ready"] for r in results]
    peak_mb = max(r["maxrss_kb"] for r in results) / 1024
    stall = max(r["longest_stall"] for r in results)
    collection = max(r["full_collection"] for r in results)
    median_total = statistics.median(total)
    jobs = results[-1]["jobs"]
    job_text = ", ".join(f"{n:,} {kind}" for kind, n in sorted(jobs.items()))
    made = ", ".join(f"{n:,} {name}" for name, n in counts.items())
    rows = [
        (
            f"{counts['meetings']:,} series, {counts['reminders']:,} reminders"
            + (f", {counts['checkins']:,} check-ins" if has_checkins else ""),
            seconds(statistics.median(imports)),
            seconds(statistics.median(ready)),
            seconds(statistics.median(rebuild)),
            seconds(stall),
            seconds(collection),
            seconds(median_total),
            f"< {TIME_TARGET:.0f} s",
            verdict(median_total < TIME_TARGET),
            f"{peak_mb:,.0f} MB",
            f"< {MEMORY_TARGET_MB} MB",
            verdict(peak_mb < MEMORY_TARGET_MB),
        )
    ]
    note = "" if has_checkins else "\n\nThe check-ins table does not exist in this tree, so the database has none."
    return (
        f"Database built in {seconds(built_in)}: {made}. Median of {len(results)} restarts, each a new process "
        f"(times from just before the spawn; `guild_ready_timeout` 0.05 s as in the tests). Jobs pending after "
        f"start: {job_text}. Discord requests per start: {requests:.0f}. The longest loop stall (the worst of the "
        "restarts) is the longest the event loop ran without a break between ready and the last job: a member's "
        "command arriving then waits that long before the bot reads it, and Discord allows 3 s in all. The full "
        "collection is how long Python's cycle collector then stops the loop each time it walks the whole heap "
        "(the worst of the restarts); the bot keeps what it built at start out of those walks (`settle_heap`).\n\n"
        + table(
            (
                "database",
                "interpreter + imports",
                "→ ready",
                "ready → every job scheduled",
                "longest loop stall after ready",
                "a full collection after start",
                "total",
                "target",
                "result",
                "peak memory (VmHWM)",
                "target",
                "result",
            ),
            rows,
        )
        + note
    )
