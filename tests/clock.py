"""The tests' clock: set by hand and moved, so a test never waits for time to pass."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class FixedClock:
    """A clock a test sets and moves by hand (a `handlers.ports.Clock`)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        """The set time."""
        return self.at

    def move(self, **delta: float) -> None:
        """Move forward by a timedelta's keyword arguments (hours=1, days=2)."""
        self.at += timedelta(**delta)


class SecondsClock:
    """A monotonic clock in seconds for code that waits by sleeping (a rate limiter's gate): its
    `sleep` moves the clock at once instead of waiting, remembers each wait, and moves `also`
    (the context's FixedClock) along with it."""

    def __init__(self, start: float = 0.0, *, also: FixedClock | None = None) -> None:
        self.at = start
        self.slept: list[float] = []
        self.also = also

    def __call__(self) -> float:
        """The current reading (what `time.monotonic` would say)."""
        return self.at

    async def sleep(self, seconds: float) -> None:
        """What `asyncio.sleep` would do, without the wait."""
        self.slept.append(seconds)
        self.at += max(0.0, seconds)
        if self.also is not None:
            self.also.move(seconds=max(0.0, seconds))
        await asyncio.sleep(0)  # still a point where other tasks run, as a real sleep is
