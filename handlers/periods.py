"""Periods of a team's cadence: the key a round is unique on, and where the period starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_EPOCH_MONDAY = date(1970, 1, 5)


def period_of(cadence: str, day: date) -> tuple[str, date]:
    """The period containing local date `day`: ("2026-W48", its Monday) or ("2026-11", the 1st).

    Biweekly periods are pairs of ISO weeks counted from a fixed Monday, keyed by the first week.
    """
    if cadence == "monthly":
        return f"{day.year}-{day.month:02d}", day.replace(day=1)
    monday = day - timedelta(days=day.weekday())
    if cadence == "biweekly":
        weeks = (monday - _EPOCH_MONDAY).days // 7
        monday -= timedelta(weeks=weeks % 2)
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}", monday


def period_ordinal(cadence: str, start: date) -> int:
    """A counter that grows by one per period (drives the driver rotation)."""
    if cadence == "monthly":
        return start.year * 12 + start.month
    weeks = (start - _EPOCH_MONDAY).days // 7
    return weeks // 2 if cadence == "biweekly" else weeks


def local_midnight(day: date, tz: str) -> datetime:
    """The aware instant a local date begins."""
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz))


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; SQLite hands back naive values for aware columns, and they are UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def quarter(day: date) -> tuple[int, int]:
    """(year, quarter 1–4)."""
    return day.year, (day.month - 1) // 3 + 1
