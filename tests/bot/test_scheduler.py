import asyncio
from datetime import timedelta

from bot.clock import FakeClock
from bot.scheduler import Scheduler


async def test_a_job_runs_when_the_fake_clock_reaches_it_and_not_before():
    clock = FakeClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    ran = []

    async def job():
        ran.append(clock.now())

    scheduler.schedule("k", clock.now() + timedelta(hours=1), job)
    await asyncio.sleep(0.05)
    assert ran == []
    clock.advance(hours=1)
    await scheduler.idle()
    assert len(ran) == 1
    scheduler.shutdown()


async def test_scheduling_the_same_key_replaces_the_job():
    clock = FakeClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    ran = []
    scheduler.schedule("k", clock.now() + timedelta(minutes=5), lambda: _append(ran, "first"))
    scheduler.schedule("k", clock.now() + timedelta(minutes=10), lambda: _append(ran, "second"))
    clock.advance(minutes=10)
    await scheduler.idle()
    assert ran == ["second"]
    scheduler.shutdown()


async def test_a_cancelled_job_never_runs_and_a_failing_job_is_logged(caplog):
    clock = FakeClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    ran = []
    scheduler.schedule("a", clock.now() + timedelta(minutes=1), lambda: _append(ran, "a"))
    scheduler.cancel("a")

    async def boom():
        raise ValueError("nope")

    scheduler.schedule("b", clock.now() + timedelta(minutes=1), boom)
    clock.advance(minutes=2)
    await scheduler.idle()
    assert ran == []
    assert "Scheduled job b failed" in caplog.text
    scheduler.shutdown()


async def test_a_job_in_the_past_runs_at_once():
    clock = FakeClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    ran = []
    scheduler.schedule("late", clock.now() - timedelta(hours=3), lambda: _append(ran, "late"))
    await scheduler.idle()
    assert ran == ["late"]
    scheduler.shutdown()


async def _append(target, value):
    target.append(value)
