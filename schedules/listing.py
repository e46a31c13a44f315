"""`pulsebot schedule`: the clock's next jobs per team, with local times, computed from config and store.

It does not ask a running scheduler (the CLI is another process): it uses the same `timing`
functions and store queries the jobs use, so what it prints is what the clock will do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from handlers.config import WEEKDAYS
from handlers.context import Context
from handlers.i18n import t
from schedules import jobs, timing
from schedules.digest import DIGEST_HOUR, DIGEST_WEEKDAY
from schedules.meetings import meeting_places, meeting_timezone
from storage.models import Round
from storage.queries.deliveries import first_unreminded_due
from storage.queries.rounds import open_team_rounds


@dataclass(frozen=True)
class ScheduleRow:
    """One upcoming job: what, for whom, when (UTC) and in which zone to show it."""

    job_id: str
    kind: str  # open | remind | close | meeting | digest
    subject: str  # the team, or the meeting's conversation, or "leaders"
    at: datetime
    tz: str
    period: str = ""

    @property
    def local(self) -> datetime:
        """`at` in the row's zone."""
        return self.at.astimezone(ZoneInfo(self.tz))


def _next_weekly(now: datetime, tz: str, weekday: int, hour: int, minute: int) -> datetime:
    here = now.astimezone(ZoneInfo(tz))
    for days in range(8):
        day = here.date() + timedelta(days=days)
        if day.weekday() != weekday:
            continue
        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))
        if at > here:
            return timing.as_utc(at)
    raise AssertionError("a weekday recurs within 8 days")


async def _open_rounds(ctx: Context, now: datetime) -> dict[str, tuple[Round, datetime | None]]:
    """Each team's open round and its earliest unreminded delivery due time.

    Who answered is not in the store (see `Delivery`), so the reminder's run is listed even when
    everyone has answered; the run itself then reminds nobody.
    """
    out: dict[str, tuple[Round, datetime | None]] = {}
    async with ctx.store.session() as session:
        for name, rnd in await open_team_rounds(session, now=now):
            assert rnd.id is not None
            first_due = await first_unreminded_due(session, round_id=rnd.id)
            out[name] = (rnd, timing.as_utc(first_due) if first_due else None)
    return out


async def next_jobs(ctx: Context, *, now: datetime | None = None) -> list[ScheduleRow]:
    """The next run of every job of the clock, soonest first."""
    now = timing.as_utc(now or ctx.clock.now())
    rows: list[ScheduleRow] = []
    open_rounds = await _open_rounds(ctx, now)
    for team in ctx.config.teams:
        tz = ctx.config.team_timezone(team)
        zones = await jobs.roster_zones(ctx, team.name)
        nxt = timing.next_opening(team.checkin, tz, now, zones)
        rows.append(ScheduleRow(f"checkin.open:{team.name}", "open", team.name, nxt.opens_at, tz, nxt.period))
        if team.name in open_rounds:
            rnd, first_due = open_rounds[team.name]
            closes = timing.as_utc(rnd.closes_at)
            remind = timing.reminder_at(team.checkin, first_due) if first_due else None
            if remind is not None and remind < closes:
                rows.append(ScheduleRow("checkin.remind", "remind", team.name, max(remind, now), tz, rnd.period))
            rows.append(ScheduleRow("checkin.close", "close", team.name, closes, tz, rnd.period))
    for meeting in ctx.config.meetings:
        if not meeting.schedule:
            continue
        day, hhmm = meeting.schedule.split()
        at = timing.parse_hhmm(hhmm)
        tz = meeting_timezone(ctx, meeting)
        when = _next_weekly(now, tz, WEEKDAYS.index(day), at.hour, at.minute)
        for platform, conversation in meeting_places(meeting):
            rows.append(ScheduleRow("meeting.chair", "meeting", f"{platform}:{conversation}", when, tz))
    tz = ctx.config.pulse.timezone
    digest = _next_weekly(now, tz, DIGEST_WEEKDAY, DIGEST_HOUR, 0)
    rows.append(ScheduleRow("digest.weekly", "digest", "leaders", digest, tz))
    return sorted(rows, key=lambda r: (r.at, r.subject))


def format_rows(rows: list[ScheduleRow], locale: str = "en") -> str:
    """A plain-text table for the terminal: local time with its zone, UTC, the job and its subject."""
    if not rows:
        return t("schedule.empty", locale)
    header = (t("schedule.col.local", locale), "UTC", t("schedule.col.job", locale), t("schedule.col.subject", locale))
    lines = [
        (
            f"{format_datetime(r.local, 'EEE yyyy-MM-dd HH:mm', locale=locale)} {r.tz}",
            f"{r.at:%Y-%m-%d %H:%M}",
            t(f"schedule.kind.{r.kind}", locale, period=r.period),
            r.subject,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(4)]
    out = [t("schedule.title", locale), ""]
    for row in [header, *lines]:
        out.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out)
