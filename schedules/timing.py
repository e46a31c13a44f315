"""When things happen: round openings, each member's due instant, reminders and closings.

Pure functions of a team's check-in config, time zones and an instant; no store, no clock. The
period keys come from `handlers.periods` (the key a round is unique on), so the clock and the
handlers can never disagree on which round "now" belongs to. Every instant returned is an aware
UTC datetime; local times are computed with zoneinfo, so a DST change keeps 10:00 at 10:00.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.config import WEEKDAYS, CheckinConfig
from handlers.periods import as_utc, period_of

logger = logging.getLogger(__name__)

_PERIOD_DAYS = {"weekly": 7, "biweekly": 14}


def parse_hhmm(value: str) -> time:
    """"09:30" as a time of day."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def local_instant(day: date, at: time, tz: str) -> datetime:
    """`at` o'clock on `day` in `tz`, as UTC.

    zoneinfo resolves a wall time that falls in a spring-forward gap with fold=0, i.e. the
    offset before the change (02:30 becomes 03:30); check-in times are daytime, so it never bites.
    """
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def skip_weekend(day: date) -> date:
    """The same day if it is Monday–Friday, else the next Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def opening_day(checkin: CheckinConfig, period_start: date) -> date:
    """The local date a period's round opens: its configured weekday (monthly: the first one)."""
    wanted = WEEKDAYS.index(checkin.weekday)
    if checkin.cadence == "monthly":
        return period_start + timedelta(days=(wanted - period_start.weekday()) % 7)
    return period_start + timedelta(days=wanted)


def member_due_at(
    checkin: CheckinConfig, day: date, member_tz: str, *, not_before: datetime | None = None
) -> datetime:
    """When a member gets the round that opens on local `day`: `time` on that date in THEIR zone.

    Never on a Saturday or Sunday of the member's own calendar: a due instant pushed past its
    time (a late or caught-up round, `not_before`) that lands on a weekend moves to Monday at
    `time`. A weekday instant in the past is simply "now": the sender delivers it at once.
    """
    at = parse_hhmm(checkin.time)
    due = local_instant(day, at, member_tz)
    if not_before is not None and due < not_before:
        due = as_utc(not_before)
    local_day = due.astimezone(ZoneInfo(member_tz)).date()
    monday = skip_weekend(local_day)
    if monday != local_day:
        due = local_instant(monday, at, member_tz)
    return due


def reminder_at(checkin: CheckinConfig, due_at: datetime) -> datetime | None:
    """When a non-answerer is reminded (None when reminders are off)."""
    if not checkin.reminder_after_hours:
        return None
    return as_utc(due_at) + timedelta(hours=checkin.reminder_after_hours)


def closing_at(checkin: CheckinConfig, opens_at: datetime) -> datetime:
    """When the round closes: `window_hours` after it opened."""
    return as_utc(opens_at) + timedelta(hours=checkin.window_hours)


@dataclass(frozen=True)
class Opening:
    """One period's round as the clock sees it.

    `opens_at` is the earliest due instant among the team's zones (the team's own and its
    members'), so a member east of the team still gets the message at their own `time`;
    `nominal_at` is `time` in the team's zone: the round's `opened_at`, and its window (so its
    `closes_at`) counts from there, as `handlers.checkins.open_round` does.
    """

    period: str
    day: date
    nominal_at: datetime
    opens_at: datetime
    closes_at: datetime


def opening_for(checkin: CheckinConfig, team_tz: str, day: date, zones: Iterable[str] = ()) -> Opening:
    """The opening of the period that contains local date `day`."""
    period, start = period_of(checkin.cadence, day)
    open_day = opening_day(checkin, start)
    at = parse_hhmm(checkin.time)
    nominal = local_instant(open_day, at, team_tz)
    earliest = min([nominal, *(local_instant(open_day, at, z) for z in set(zones))])
    return Opening(period, open_day, nominal, earliest, closing_at(checkin, nominal))


def _period_starts(cadence: str, around: date) -> Iterable[date]:
    """The start of the period holding `around`, then the next ones, then the previous one."""
    _, start = period_of(cadence, around)
    if cadence == "monthly":
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        prev = (start - timedelta(days=1)).replace(day=1)
        nxt2 = (nxt.replace(day=28) + timedelta(days=4)).replace(day=1)
        return (prev, start, nxt, nxt2)
    step = timedelta(days=_PERIOD_DAYS[cadence])
    return (start - step, start, start + step, start + 2 * step)


def _openings_near(checkin: CheckinConfig, team_tz: str, at: datetime, zones: Iterable[str]) -> list[Opening]:
    zones = tuple(zones)
    local_day = as_utc(at).astimezone(ZoneInfo(team_tz)).date()
    return [opening_for(checkin, team_tz, start, zones) for start in _period_starts(checkin.cadence, local_day)]


def next_opening(checkin: CheckinConfig, team_tz: str, after: datetime, zones: Iterable[str] = ()) -> Opening:
    """The first opening strictly after `after`."""
    after = as_utc(after)
    return min((o for o in _openings_near(checkin, team_tz, after, zones) if o.opens_at > after),
               key=lambda o: o.opens_at)


def current_opening(
    checkin: CheckinConfig, team_tz: str, now: datetime, zones: Iterable[str] = ()
) -> Opening | None:
    """The opening whose window holds `now` (opened, not yet closed), if any.

    This is both the clock's "open on time" and its catch-up after downtime: a round whose
    opening passed while the process was down is still opened if its window is open.
    """
    now = as_utc(now)
    live = [o for o in _openings_near(checkin, team_tz, now, zones) if o.opens_at <= now < o.closes_at]
    return max(live, key=lambda o: o.opens_at) if live else None
