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


async def test_a_job_days_away_waits_outside_apscheduler_and_still_runs_on_time_in_order():
    clock = FakeClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    ran = []

    def job(name):
        async def run():
            ran.append((name, clock.now()))

        return run

    start = clock.now()
    scheduler.schedule("far", start + timedelta(days=3), job("far"))
    scheduler.schedule("farther", start + timedelta(days=3, minutes=1), job("farther"))
    scheduler.schedule("near", start + timedelta(hours=1), job("near"))
    assert scheduler._aps.get_job("far") is None and scheduler._aps.get_job("near") is not None
    assert set(scheduler.pending()) == {"far", "farther", "near"}
    clock.advance(hours=2)
    await scheduler.idle()
    assert [name for name, _ in ran] == ["near"]
    clock.advance(days=3)  # past both parked jobs at once: handed over, then run in time order
    await scheduler.idle()
    assert [name for name, _ in ran] == ["near", "far", "farther"]
    assert scheduler.pending() == {}
    scheduler.shutdown()


async def test_a_parked_job_can_be_cancelled_moved_near_or_moved_far_again():
    clock = FakeClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    ran = []
    start = clock.now()
    scheduler.schedule("a", start + timedelta(days=2), lambda: _append(ran, "a"))
    scheduler.cancel("a")
    scheduler.schedule("b", start + timedelta(days=2), lambda: _append(ran, "b-far"))
    scheduler.schedule("b", start + timedelta(minutes=30), lambda: _append(ran, "b-near"))  # parked → near
    scheduler.schedule("c", start + timedelta(minutes=30), lambda: _append(ran, "c-near"))
    scheduler.schedule("c", start + timedelta(days=1), lambda: _append(ran, "c-far"))  # near → parked
    assert scheduler._aps.get_job("c") is None
    clock.advance(hours=1)
    await scheduler.idle()
    assert ran == ["b-near"]
    clock.advance(days=3)
    await scheduler.idle()
    assert ran == ["b-near", "c-far"]
    scheduler.shutdown()


async def test_parked_jobs_are_handed_over_in_batches_as_time_passes():
    clock = FakeClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    ran = []
    start = clock.now()
    for hour in range(0, 72, 3):  # every three hours for three days
        scheduler.schedule(f"j{hour}", start + timedelta(hours=hour, minutes=1), lambda h=hour: _append(ran, h))
    for _ in range(72):
        clock.advance(hours=1)
        await scheduler.idle()
    assert ran == list(range(0, 72, 3))
    scheduler.shutdown()


async def test_a_job_that_schedules_its_own_key_again_while_still_running_gets_both_runs():
    clock = FakeClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    ran, started, release = [], asyncio.Event(), asyncio.Event()

    async def second():
        ran.append("second")

    async def first():
        ran.append("first")
        started.set()
        scheduler.schedule("k", clock.now() + timedelta(minutes=1), second)  # the next reminder of the meeting
        await release.wait()  # a long fan-out still going

    scheduler.schedule("k", clock.now() + timedelta(minutes=1), first)
    clock.advance(minutes=1)
    await asyncio.wait_for(started.wait(), 5)
    clock.advance(minutes=1)  # the next one falls due while the first still runs
    for _ in range(100):
        if ran == ["first", "second"]:
            break
        await asyncio.sleep(0.01)
    assert ran == ["first", "second"]
    release.set()
    await scheduler.idle()
    scheduler.shutdown()
