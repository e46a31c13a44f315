"""What the clock does when a job fires: module-level coroutines of the context, safe to repeat.

Every job asks the store what is due at `ctx.clock.now()` instead of trusting that it fired on
time, so the same coroutine is the on-time path, the catch-up after downtime and a test's
direct call. Repeating a job never repeats its effect: rounds are unique per team and period,
deliveries per round and member, a reminder is claimed by setting `reminded_at` first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.checkins import OpenedRound, answered_members, delivery_message, open_round
from handlers.closing import close_due_rounds
from handlers.context import Context
from handlers.errors import PulseError
from handlers.ports import Messenger, Recipient, SendError
from schedules import timing
from storage.models import Member
from storage.queries import deliveries
from storage.queries import members as member_rows

logger = logging.getLogger(__name__)


async def roster_zones(ctx: Context, team_name: str) -> set[str]:
    """The distinct time zones of a team's active members (where the round must start earliest)."""
    async with ctx.store.session() as session:
        return await member_rows.roster_zones(session, team_name=team_name)


RosterSync = Callable[[str], Awaitable[Any]]


async def open_team_round(
    ctx: Context,
    team_name: str,
    wake: Callable[[], None] | None = None,
    roster_sync: RosterSync | None = None,
) -> OpenedRound | None:
    """Open the team's current round if its window holds now (on time or caught up); else nothing.

    Each member's delivery is due at the team's `time` in their own zone, moved to Monday when
    a late round would reach them on a weekend. A second call only adds members who joined.
    `roster_sync(team_name)` (a face's, e.g. the Slack channel's members) runs first when given;
    if it fails, the roster already in the store is used.
    """
    team = ctx.config.team(team_name)
    if team is None:
        logger.warning("clock job for a team no longer configured", extra={"team": team_name})
        return None
    tz = ctx.config.team_timezone(team)
    zones = await roster_zones(ctx, team_name)
    now = ctx.clock.now()
    opening = timing.current_opening(team.checkin, tz, now, zones)
    if opening is None:
        return None
    if roster_sync is not None:
        try:
            await roster_sync(team_name)
        except Exception:  # the platform is down: the stored roster still gets its round
            logger.exception("roster sync failed before opening", extra={"team": team_name})

    def due_at_for(member: Member) -> datetime:
        return timing.member_due_at(team.checkin, opening.day, member.timezone or tz, not_before=now)

    opened = await open_round(ctx, team_name=team_name, now=opening.nominal_at, due_at_for=due_at_for)
    if opened.new_deliveries and wake is not None:
        wake()
    return opened


async def catch_up(
    ctx: Context, wake: Callable[[], None] | None = None, roster_sync: RosterSync | None = None
) -> list[OpenedRound]:
    """At start: open every round whose opening passed while we were down and whose window is open."""
    opened = []
    for team in ctx.config.teams:
        try:
            result = await open_team_round(ctx, team.name, wake, roster_sync)
        except PulseError as exc:  # a team in the config that the store does not know yet
            logger.warning("catch-up skipped a team", extra={"team": team.name, "reason": exc.message_id})
            continue
        if result is not None:
            opened.append(result)
    return opened


async def close_rounds(ctx: Context) -> list[int]:
    """Close every round past its window (after which answers are refused)."""
    return await close_due_rounds(ctx)


async def send_reminders(ctx: Context, *, concurrency: int = 8) -> int:
    """One reminder, at most, to each member who got a round and has not answered.

    Sent `reminder_after_hours` after their delivery was due, while the round is open, and not on
    their Saturday or Sunday (it waits for Monday if the window is still open then). The row is
    claimed by setting `reminded_at` before the send: a crash may lose a reminder, never double it.
    Every due delivery is claimed, answered or not, and only the non-answerers get the message.
    """
    now = ctx.clock.now()
    due: list[int] = []
    async with ctx.store.session() as session:
        for team in ctx.config.teams:
            hours = team.checkin.reminder_after_hours
            if not hours:
                continue
            rows = await deliveries.reminders_due(
                session, team_name=team.name, due_before=now - timedelta(hours=hours), now=now
            )
            for delivery_id, member_tz in rows:
                zone = ZoneInfo(member_tz or ctx.config.team_timezone(team))
                if now.astimezone(zone).weekday() < 5:
                    due.append(delivery_id)
    slots = asyncio.Semaphore(concurrency)

    async def one(delivery_id: int) -> bool:
        async with slots:
            return await _remind(ctx, delivery_id, now)

    results = await asyncio.gather(*(one(d) for d in due))
    return sum(results)


async def _remind(ctx: Context, delivery_id: int, now: datetime) -> bool:
    async with ctx.store.session() as session:
        claimed = await deliveries.claim_reminder(session, delivery_id=delivery_id, now=now)
        delivery = await deliveries.delivery_by_id(session, delivery_id=delivery_id)
        answered = claimed and delivery is not None and delivery.member_id in await answered_members(
            session, ctx.secret, round_id=delivery.round_id
        )
        # The claim is kept whether or not the member answered: `reminded_at` is set on every due
        # delivery alike, so the store does not record who had answered by reminder time.
        await session.commit()
    if not claimed or answered:
        return False  # answered already (no reminder), or another pass took it
    try:
        to, message, key = await delivery_message(ctx, delivery_id=delivery_id, reminder=True)
    except PulseError as exc:
        logger.info("reminder dropped", extra={"delivery_id": delivery_id, "reason": exc.message_id})
        return False
    messenger = ctx.messengers.get(to.platform)
    if messenger is None:
        logger.error("reminder failed", extra={"delivery_id": delivery_id, "reason": f"no messenger {to.platform}"})
        return False
    try:
        await messenger.send_direct(to=to, message=message, delivery_key=key)
    except SendError as exc:
        if exc.transient and (exc.posted_nothing or await _reminder_absent(messenger, to, key)):
            await _unclaim_reminder(ctx, delivery_id)
            logger.info("reminder retry", extra={"delivery_id": delivery_id, "reason": exc.reason})
        else:
            logger.error("reminder failed", extra={"delivery_id": delivery_id, "reason": exc.reason})
        return False
    logger.info("reminded", extra={"delivery_id": delivery_id, "platform": to.platform})
    return True


async def _reminder_absent(messenger: Messenger, to: Recipient, key: str) -> bool:
    """Whether a failed reminder surely did not arrive (checked at the platform)."""
    if not messenger.can_look:
        return False  # cannot tell (Teams): keep it claimed, at most one reminder
    try:
        return await messenger.find_direct(to=to, delivery_key=key) is None
    except SendError:
        return False  # cannot tell: keep it claimed, at most one reminder


async def _unclaim_reminder(ctx: Context, delivery_id: int) -> None:
    async with ctx.store.session() as session:
        await deliveries.unclaim_reminder(session, delivery_id=delivery_id)
        await session.commit()
