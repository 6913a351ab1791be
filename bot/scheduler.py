"""Timers on APScheduler 3 (in-memory store), keyed, replaceable, logged, and driven by our Clock."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock, FakeClock

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]

# Jobs due within NEAR are APScheduler's; later ones wait in a heap here and are handed over in batches, at
# most every NEAR / 2. At start the bot plans every meeting: 20,000 timers, most of them days away, and
# APScheduler's add_job was a third of the start-up (bench/startup.py); a heap push is a hundredth of it.
NEAR = timedelta(hours=6)
PROMOTE_KEY = "scheduler:promote"


@dataclass
class _Entry:
    at: datetime
    job: Job
    parked: bool = False  # waiting in the heap, not yet in APScheduler
    token: int = 0  # which scheduling of the key this is: a run meant for a replaced one does nothing


class Scheduler:
    """Run `job` at `at` (clock time); a key names a job, and scheduling a key again replaces it.

    The database is the truth: jobs live in memory only and are rebuilt from the database at start.
    Under a FakeClock, every move of the clock re-times the pending jobs, so the same APScheduler path
    runs them in tests and in the playground.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        # misfire_grace_time=None: a job late because the loop was busy still runs; each job asks the
        # database whether its work is still useful, so lateness is decided there, not by a 1 s default.
        # max_instances: APScheduler counts running instances per key, and a job often schedules its own key
        # again (the next reminder of a meeting) while it still runs (a long fan-out); with a limit of one,
        # APScheduler skipped the new one when it fell due and dropped it. `_run` runs each scheduling once.
        self._aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1_000_000},
        )
        self._entries: dict[str, _Entry] = {}
        # The keys, sorted, so cancel_prefix finds a prefix's keys without scanning them all: every meeting is
        # planned at start and each plan cancels that meeting's keys first, which scanning made quadratic.
        self._keys: list[str] = []
        self._parked: list[tuple[datetime, str]] = []  # heap; an item is stale when its entry moved or went
        self._promote_at: datetime | None = None
        self._running = 0
        self._tokens = 0
        if isinstance(clock, FakeClock):
            clock.on_change(self._retime_all)

    def start(self) -> None:
        """Start running jobs on the current event loop."""
        self._aps.start()

    def shutdown(self) -> None:
        """Drop every pending job and stop."""
        self._entries.clear()
        self._keys.clear()
        self._parked.clear()
        self._promote_at = None
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def _hold_wakeups(self) -> None:
        """Let APScheduler look at its jobs once after this turn of the loop, not after each change in it.

        APScheduler queues a wake-up on the loop for every job added or moved; rebuilding 20,000 timers at
        start queued 20,000 of them (bench/startup.py). Paused, it takes jobs without waking; it resumes
        (and looks once) on the next turn of the loop, so no job waits longer than that.
        """
        if self._aps.state != STATE_RUNNING:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._aps.pause()
        loop.call_soon(self._release_wakeups)

    def _release_wakeups(self) -> None:
        if self._aps.state == STATE_PAUSED:
            self._aps.resume()

    def _real_time(self, at: datetime) -> datetime:
        return datetime.now(UTC) + (at - self.clock.now())

    def schedule(self, key: str, at: datetime, job: Job) -> None:
        """Run `job()` at `at`; replace any job with the same key."""
        old = self._entries.get(key)
        if old is None:
            bisect.insort(self._keys, key)
        if at - self.clock.now() > NEAR:
            if old is not None and not old.parked:
                self._remove_from_aps(key)
            self._entries[key] = _Entry(at, job, parked=True)
            if old is None or not old.parked or old.at != at:  # the heap already holds (at, key) otherwise
                heapq.heappush(self._parked, (at, key))
            self._plan_promotion(at - NEAR)
            return
        self._hold_wakeups()
        self._tokens += 1
        self._entries[key] = _Entry(at, job, token=self._tokens)
        trigger = DateTrigger(self._real_time(at))
        self._aps.add_job(self._run, trigger, args=(key, self._tokens), id=key, replace_existing=True)

    def _plan_promotion(self, when: datetime) -> None:
        """Make sure the parked jobs are looked at by `when` (clock time)."""
        if self._promote_at is not None and self._promote_at <= when and self._aps.get_job(PROMOTE_KEY) is not None:
            return
        self._promote_at = when
        self._hold_wakeups()
        self._aps.add_job(self._promote, DateTrigger(self._real_time(when)), id=PROMOTE_KEY, replace_existing=True)

    async def _promote(self) -> None:
        """Hand APScheduler the parked jobs now within NEAR; plan the next look (at most every NEAR / 2)."""
        now = self.clock.now()
        self._promote_at = None
        while self._parked and self._parked[0][0] - now <= NEAR:
            at, key = heapq.heappop(self._parked)
            entry = self._entries.get(key)
            if entry is None or not entry.parked or entry.at != at:
                continue  # cancelled, replaced or already handed over
            self.schedule(key, entry.at, entry.job)
        while self._parked:
            at, key = self._parked[0]
            entry = self._entries.get(key)
            if entry is not None and entry.parked and entry.at == at:
                self._plan_promotion(max(at - NEAR, now + NEAR / 2))
                break
            heapq.heappop(self._parked)

    def cancel(self, key: str) -> None:
        """Forget the job with this key, if any."""
        entry = self._pop(key)
        if entry is not None and not entry.parked:
            self._remove_from_aps(key)

    def _remove_from_aps(self, key: str) -> None:
        try:
            self._aps.remove_job(key)
        except Exception:  # already started or gone: nothing to cancel
            pass

    def cancel_prefix(self, prefix: str) -> None:
        """Forget every job whose key starts with `prefix`."""
        start = bisect.bisect_left(self._keys, prefix)
        end = start
        while end < len(self._keys) and self._keys[end].startswith(prefix):
            end += 1
        for key in self._keys[start:end]:
            self.cancel(key)

    def _pop(self, key: str) -> _Entry | None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            del self._keys[bisect.bisect_left(self._keys, key)]
        return entry

    def pending(self) -> dict[str, datetime]:
        """Return the pending jobs' keys and clock times."""
        return {key: entry.at for key, entry in self._entries.items()}

    async def _run(self, key: str, token: int) -> None:
        entry = self._entries.get(key)
        if entry is None or entry.parked or entry.token != token:
            return  # cancelled, or replaced after APScheduler took this run: the replacement runs at its time
        self._pop(key)
        self._running += 1
        try:
            await entry.job()
        except Exception:
            log.exception("Scheduled job %s failed", key)
        finally:
            self._running -= 1

    def _retime_all(self) -> None:
        if not self._aps.running:
            return
        self._hold_wakeups()
        for key, entry in list(self._entries.items()):
            if entry.parked:
                continue
            try:
                self._aps.modify_job(key, next_run_time=self._real_time(entry.at))
            except Exception:  # started in the meantime
                pass
        if self._promote_at is not None:
            try:
                self._aps.modify_job(PROMOTE_KEY, next_run_time=self._real_time(self._promote_at))
            except Exception:  # running now: it plans the next look itself
                pass

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until no job is due by the clock and none is running (tests and the playground)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            now = self.clock.now()
            due = any(entry.at <= now for entry in self._entries.values())
            if not due and self._running == 0:
                # One more turn of the loop: a finished job may have scheduled follow-up work.
                await asyncio.sleep(0.01)
                if self._running == 0 and not any(e.at <= self.clock.now() for e in self._entries.values()):
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"scheduler still busy: {sorted(self._entries)[:5]}")
            await asyncio.sleep(0.005)


# APScheduler checks a job's callable against its arguments on every add_job, with inspect.signature: a
# third of the cost of scheduling (bench/startup.py schedules 20,000 timers). A precomputed signature
# makes that check a lookup.
Scheduler._run.__signature__ = inspect.signature(Scheduler._run)  # type: ignore[attr-defined]
Scheduler._promote.__signature__ = inspect.signature(Scheduler._promote)  # type: ignore[attr-defined]
