"""The tests' clock: set by hand and moved, so a test never waits for time to pass."""

from __future__ import annotations

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
