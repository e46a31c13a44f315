"""The clock: an APScheduler 3.11 `AsyncIOScheduler` whose jobs are built from the config and store.

`run_clock(ctx)` is what `pulsebot serve` starts: a replica that does not hold the clock's lock
(`clock_lock`) stands by and tries again every few seconds; the holder recovers the outbox
(rows left in 'sending' are checked at the platform), catches up on missed openings, starts the
jobs and the sender loop. Losing the lock stops both.

Nothing is pickled (the default in-memory job store): at every start the jobs are rebuilt with
stable ids from `pulsebot.toml` and the roster's time zones, and `jobs.catch_up` opens any round
whose opening passed while the process was down. Every callback is a module-level coroutine
that reads `ctx.clock.now()` and asks the store what is due, so a late, repeated or missed
fire never changes what happens, only when. See
https://apscheduler.readthedocs.io/en/3.x/modules/schedulers/asyncio.html
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.config import CheckinConfig
from handlers.context import Context
from handlers.retention import purge_expired
from schedules import jobs, timing
from schedules.clock_lock import ClockLock
from schedules.commitment_notes import recover_commitment_notes, send_commitment_notes
from schedules.digest import send_digests
from schedules.followups import send_followup_reminders
from schedules.meetings import meeting_places, meeting_timezone, post_meeting_chair
from schedules.outbox import Sender
from schedules.relays import recover_relays, send_relays

logger = logging.getLogger(__name__)

CLOSE_EVERY = timedelta(minutes=1)
REMIND_EVERY = timedelta(minutes=5)
ZONES_EVERY = timedelta(hours=1)


class OpeningTrigger(BaseTrigger):
    """Fires at each period's opening (weekly, biweekly or monthly), computed by `timing`.

    APScheduler's cron cannot say "every other Monday" or "the first Tuesday of the month in
    each member's zone"; this trigger asks the same function the catch-up uses.
    """

    __slots__ = ("checkin", "tz", "zones")

    def __init__(self, checkin: CheckinConfig, tz: str, zones: set[str]) -> None:
        self.checkin = checkin
        self.tz = tz
        self.zones = frozenset(zones)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        """The first opening after the previous fire (or from now on, at the first computation)."""
        after = previous_fire_time if previous_fire_time is not None else now - timedelta(microseconds=1)
        return timing.next_opening(self.checkin, self.tz, after, self.zones).opens_at

    def __str__(self) -> str:
        c = self.checkin
        return f"opening[{c.cadence} {c.weekday} {c.time} {self.tz}]"


def meeting_job_id(index: int, ctx: Context) -> str:
    """A stable id: the meeting's place, not its position, so reordering the file keeps ids."""
    places = ",".join(f"{p}:{c}" for p, c in meeting_places(ctx.config.meetings[index]))
    return f"meeting.chair:{places}"


def meeting_trigger(ctx: Context, index: int) -> CronTrigger | None:
    """`schedule = "tue 09:30"` as a cron trigger in the meeting's zone."""
    meeting = ctx.config.meetings[index]
    if not meeting.schedule:
        return None
    day, hhmm = meeting.schedule.split()
    at = timing.parse_hhmm(hhmm)
    return CronTrigger(day_of_week=day, hour=at.hour, minute=at.minute, timezone=meeting_timezone(ctx, meeting))


async def build_scheduler(
    ctx: Context,
    sender: Sender | None = None,
    *,
    start_now: bool = True,
    roster_sync: jobs.RosterSync | None = None,
) -> AsyncIOScheduler:
    """Every job of the clock, not started. The sender loop itself runs beside it (`ClockRunner`).

    With `start_now`, the periodic jobs also run at once on start: work that fell due while the
    process was down is done now, once, instead of a period later.
    """
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60},
    )
    wake = sender.wake if sender is not None else None
    for team in ctx.config.teams:
        zones = await jobs.roster_zones(ctx, team.name)
        scheduler.add_job(
            jobs.open_team_round,
            OpeningTrigger(team.checkin, ctx.config.team_timezone(team), zones),
            args=(ctx, team.name, wake, roster_sync),
            id=f"checkin.open:{team.name}",
            name=f"open the check-in round of {team.name}",
            # However late: the job itself checks the window, and opening is idempotent.
            misfire_grace_time=None,
        )
    first = {"next_run_time": datetime.now(UTC)} if start_now else {}
    scheduler.add_job(jobs.close_rounds, IntervalTrigger(seconds=CLOSE_EVERY.total_seconds()),
                      args=(ctx,), id="checkin.close", name="close rounds past their window", **first)
    scheduler.add_job(jobs.send_reminders, IntervalTrigger(seconds=REMIND_EVERY.total_seconds()),
                      args=(ctx,), id="checkin.remind", name="remind non-answerers once", **first)
    for index in range(len(ctx.config.meetings)):
        trigger = meeting_trigger(ctx, index)
        if trigger is not None:
            scheduler.add_job(post_meeting_chair, trigger, args=(ctx, index), id=meeting_job_id(index, ctx),
                              name="post a scheduled empty chair")
    scheduler.add_job(send_digests, CronTrigger(minute="*/15", timezone=UTC), args=(ctx,),
                      id="digest.weekly", name="weekly digest to leaders (Monday 09:xx local)")
    # Every minute: a batch's relays go out within a minute of its end (`[pulse] relay_batch_minutes`).
    scheduler.add_job(send_relays, IntervalTrigger(minutes=1), args=(ctx,), id="replies.relay",
                      name="relay anonymous replies whose batch has ended", **first)
    # Follow-up owners are reminded when due and once more after `[pulse] followup_days` (no third).
    scheduler.add_job(send_followup_reminders, IntervalTrigger(seconds=REMIND_EVERY.total_seconds()), args=(ctx,),
                      id="followup.remind", name="remind follow-up owners when due (twice at most)", **first)
    # Every minute: a leader's invitation after a close, and the commitment posted to the team.
    scheduler.add_job(send_commitment_notes, IntervalTrigger(minutes=1), args=(ctx,), id="commitment.notes",
                      name="send commitment invitations and posts", **first)
    scheduler.add_job(purge_expired, IntervalTrigger(hours=6), args=(ctx,), id="retention.purge",
                      name="delete raw answers past retention_months (figures stay)", **first)
    scheduler.add_job(refresh_openings, IntervalTrigger(seconds=ZONES_EVERY.total_seconds()),
                      args=(ctx, scheduler), id="checkin.zones", name="follow the rosters' time zones")
    return scheduler


async def refresh_openings(ctx: Context, scheduler: AsyncIOScheduler) -> int:
    """Re-time the opening jobs when a roster gained a time zone (a round must start early enough).

    Returns how many teams' jobs were re-timed.
    """
    changed = 0
    for team in ctx.config.teams:
        job = scheduler.get_job(f"checkin.open:{team.name}")
        if job is None or not isinstance(job.trigger, OpeningTrigger):
            continue
        zones = frozenset(await jobs.roster_zones(ctx, team.name))
        if zones != job.trigger.zones:
            job.reschedule(OpeningTrigger(team.checkin, ctx.config.team_timezone(team), set(zones)))
            changed += 1
            logger.info("opening re-timed for new time zones", extra={"team": team.name, "zones": len(zones)})
    return changed


class ClockRunner:
    """The clock of one process: holder or standby. `health()` is what `/healthz` reports."""

    def __init__(
        self,
        ctx: Context,
        *,
        retry_every: float = 3.0,
        check_every: float = 3.0,
        poll: float = 2.0,
        sender: Sender | None = None,
        lock: ClockLock | None = None,
        roster_sync: jobs.RosterSync | None = None,
    ) -> None:
        self.ctx = ctx
        self.retry_every = retry_every
        self.check_every = check_every
        self.poll = poll
        self.sender = sender or Sender(ctx)
        self.lock = lock or ClockLock(ctx.store)
        self.roster_sync = roster_sync
        self.scheduler: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()
        self._sender_stop = asyncio.Event()
        self._sender_task: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._holding = False

    @property
    def is_holder(self) -> bool:
        """This process runs the clock and the sender now."""
        return self._holding

    @property
    def is_running(self) -> bool:
        """The runner is alive (leading or standing by for the lock)."""
        return self._task is not None and not self._task.done()

    def health(self) -> dict[str, Any]:
        """For `/healthz`: a standby replica is healthy too."""
        state = "running" if self._holding else ("standby" if self.is_running else "stopped")
        return {"ok": self.is_running, "scheduler": state, "clock_holder": self._holding}

    async def start(self) -> None:
        """Start trying for the lock in the background; returns at once."""
        if self.is_running:
            return
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="pulsebot-clock")

    async def stop(self) -> None:
        """Stop the jobs and the sender, give the lock back."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._holding:
                    if await self.lock.acquire():
                        await self._lead()
                    else:
                        await self._pause(self.retry_every)
                    continue
                await self._pause(self.check_every)
                if not self._stop.is_set() and not await self.lock.still_held():
                    logger.error("clock lock lost: stepping down")
                    await self._step_down()
                    # The replica whose lock connection was cut is the likely unhealthy one: give
                    # the standbys a head start instead of racing them for the lock right away.
                    await self._pause(self.retry_every * 5)
        finally:
            await self._step_down()

    async def _lead(self) -> None:
        self._holding = True
        logger.info("clock starting", extra={"teams": len(self.ctx.config.teams)})
        try:
            await jobs.close_rounds(self.ctx)  # (the sender loop recovers the outbox when it starts)
            await recover_relays(self.ctx)  # before the relay job can claim anything of its own
            await recover_commitment_notes(self.ctx)
            await jobs.catch_up(self.ctx, self.sender.wake, self.roster_sync)
            self.scheduler = await build_scheduler(self.ctx, self.sender, roster_sync=self.roster_sync)
            self.scheduler.start()
            self._sender_stop = asyncio.Event()
            self._sender_task = asyncio.create_task(self.sender.run(self._sender_stop, poll=self.poll),
                                                    name="pulsebot-sender")
        except Exception:
            logger.exception("clock failed to start; will retry")
            await self._step_down()
            await self._pause(self.retry_every)

    async def _step_down(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self._sender_task is not None:
            self._sender_stop.set()
            try:
                await asyncio.wait_for(self._sender_task, timeout=10)
            except TimeoutError:
                logger.warning("sender did not stop in time; rows in flight are recovered later")
            self._sender_task = None
        await self.lock.release()  # also closes a standby's connection
        self._holding = False


async def run_clock(ctx: Context, **options: Any) -> ClockRunner:
    """Build and start the clock of this process (holder or standby); `stop()` it on shutdown."""
    runner = ClockRunner(ctx, **options)
    await runner.start()
    return runner
