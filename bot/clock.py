"""Time as a dependency, so tests and the playground can move it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class Clock:
    """The real wall clock, in timezone-aware UTC."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Sleep on the event loop."""
        await asyncio.sleep(seconds)


class FakeClock(Clock):
    """A clock that stands still until told to move; the scheduler is told too."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
        self._listeners: list = []

    def now(self) -> datetime:
        """Return the fake current instant."""
        return self._now

    def on_change(self, callback) -> None:
        """Call `callback()` after every move (the scheduler re-checks its timers)."""
        self._listeners.append(callback)

    def set(self, when: datetime) -> None:
        """Jump to an instant (never backwards)."""
        if when < self._now:
            raise ValueError("a FakeClock never goes back in time")
        self._now = when
        for callback in list(self._listeners):
            callback()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by a timedelta or by keyword units (minutes=5)."""
        self.set(self._now + (delta or timedelta(**kwargs)))
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Yield to the loop without waiting for real time."""
        await asyncio.sleep(0)
