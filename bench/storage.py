"""Storage: check-ins per second through the service layer, next to raw aiosqlite and raw sqlite3 inserts.

The service path is what `/checkin share:private` does: `checkins.record_checkin` on the Database, one
statement through `Database.write`. When the writer is free, the writes asked for in one turn of the event
loop are committed together on the loop's own sqlite3 connection; when a transaction holds the writer, they
go to aiosqlite's thread and are committed together there (group commit). It runs one writer after another
and with 50 writers at once (members checking in together). The references use raw connections with the
same pragmas on the same table: aiosqlite with the same one-row transaction without the layers (the ceiling
the issue names), aiosqlite with one `executemany` transaction for the whole batch, and plain sqlite3 on
the event loop with one-row transactions (the ceiling of the path lone writes now take). The table starts
with 50,000 check-ins, so the indexes are not empty; "sustained" is the slowest whole second of the run.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from bench._report import table, verdict
from bench._seed import open_database
from bot.clock import FakeClock

TITLE = "Storage"

RATE_TARGET = 2_000  # check-ins per second, sustained
GUILD = 1
INSERT = (
    "INSERT INTO checkins (guild_id, user_id, group_id, mood, note, content_warning, share, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Sizes:
    preload: int
    rows: int
    writers: int
    warmup: int


FULL = Sizes(preload=50_000, rows=30_000, writers=50, warmup=1_000)
QUICK = Sizes(preload=500, rows=300, writers=5, warmup=20)


@dataclass
class Result:
    name: str
    rows: int
    elapsed: float
    slowest_second: float | None  # rows/s in the slowest whole second, when the run lasted one

    @property
    def rate(self) -> float:
        return self.rows / self.elapsed


def _row(rng: random.Random, index: int, now: int) -> tuple:
    note = "A short note about today." if index % 3 == 0 else None
    return (GUILD, rng.randint(1, 20_000), None, rng.randint(1, 5), note, None, "private", now - index % 86_400)


async def run(quick: bool) -> str:
    """Measure and return the Markdown section."""
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="peerbot-bench-") as tmp:
        path = Path(tmp) / "peerbot.sqlite3"
        db = await open_database(path)
        try:
            has_service = await _has_checkins(db)
            if not has_service:
                return "The check-ins table is not in this tree yet: nothing to measure."
            rng = random.Random(5)
            now = FakeClock().now()
            async with db.transaction() as tx:
                await tx.executemany(INSERT, [_row(rng, i, int(now.timestamp())) for i in range(sizes.preload)])
            service = await _service(db, sizes, now)
        finally:
            await db.close()
        raw = await _raw(path, sizes, int(now.timestamp()))
    return _report(sizes, service, raw)


async def _has_checkins(db) -> bool:
    return bool(await db.fetchval("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'checkins'"))


async def _timed(name: str, rows: int, writers: int, write: Callable[[int], Awaitable[None]]) -> Result:
    """Run `write(i)` for every row with `writers` at a time; note when each finished."""
    done: list[float] = []
    queue = iter(range(rows))

    async def writer() -> None:
        for index in queue:
            await write(index)
            done.append(time.perf_counter())

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed = time.perf_counter() - started
    return Result(name, rows, elapsed, _slowest_second(started, done))


def _slowest_second(started: float, finished: list[float]) -> float | None:
    whole = int(finished[-1] - started) if finished else 0
    if whole < 1:
        return None
    counts = [0] * whole
    for at in finished:
        second = int(at - started)
        if second < whole:
            counts[second] += 1
    return float(min(counts))


async def _service(db, sizes: Sizes, now) -> list[Result]:
    from bot.services import checkins as checkins_service

    rng = random.Random(7)

    async def one(index: int) -> None:
        await checkins_service.record_checkin(
            db,
            guild_id=GUILD,
            user_id=rng.randint(1, 20_000),
            mood=rng.randint(1, 5),
            share="private",
            now=now,
            note="A short note about today." if index % 3 == 0 else None,
        )

    await _timed("warm-up", sizes.warmup, 1, one)  # first-use costs (statement cache, pages) are not the rate
    return [
        await _timed("service layer, one writer at a time", sizes.rows, 1, one),
        await _timed(f"service layer, {sizes.writers} writers at once", sizes.rows, sizes.writers, one),
    ]


async def _raw(path: Path, sizes: Sizes, now: int) -> list[Result]:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in ("PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"):
            await conn.execute(pragma)
        rng = random.Random(11)

        async def one(index: int) -> None:
            await conn.execute("BEGIN IMMEDIATE")
            await conn.execute(INSERT, _row(rng, index, now))
            await conn.execute("COMMIT")

        await _timed("warm-up", sizes.warmup, 1, one)
        per_row = await _timed("raw aiosqlite, a transaction per row", sizes.rows, 1, one)
        rows = [_row(rng, i, now) for i in range(sizes.rows)]
        started = time.perf_counter()
        await conn.execute("BEGIN IMMEDIATE")
        await conn.executemany(INSERT, rows)
        await conn.execute("COMMIT")
        batch = Result("raw aiosqlite, one executemany transaction", sizes.rows, time.perf_counter() - started, None)
    finally:
        await conn.close()
    here = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("PRAGMA busy_timeout=0", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"):
            here.execute(pragma)

        async def one_here(index: int) -> None:
            here.execute("BEGIN IMMEDIATE")
            here.execute(INSERT, _row(rng, index, now))
            here.execute("COMMIT")

        await _timed("warm-up", sizes.warmup, 1, one_here)
        on_loop = await _timed("raw sqlite3 on the event loop, a transaction per row", sizes.rows, 1, one_here)
    finally:
        here.close()
    return [per_row, batch, on_loop]


def _report(sizes: Sizes, service: list[Result], raw: list[Result]) -> str:
    ceiling = raw[0].rate
    rows = []
    for result in service + raw:
        is_service = result in service
        sustained = result.slowest_second
        check = None
        if is_service:
            check = (sustained if sustained is not None else result.rate) >= RATE_TARGET
        rows.append(
            (
                result.name,
                f"{result.rows:,}",
                f"{result.elapsed:.2f} s",
                f"{result.rate:,.0f}/s",
                f"{sustained:,.0f}/s" if sustained is not None else "–",
                f"{result.rate / ceiling:.0%}",
                f"≥ {RATE_TARGET:,}/s" if is_service else "–",
                verdict(check),
            )
        )
    return (
        f"Private check-ins into a table of {sizes.preload:,}, on a file in a temporary directory (WAL, "
        f"synchronous=NORMAL, as the bot opens it). The verdict uses the slowest whole second (or the whole run "
        f"when shorter than a second).\n\n"
        + table(
            (
                "path",
                "check-ins",
                "time",
                "rate",
                "slowest second",
                "of raw aiosqlite one-row transactions",
                "target",
                "result",
            ),
            rows,
        )
        + f"\n\nMedian service-layer rate: {statistics.median(r.rate for r in service):,.0f}/s."
    )
