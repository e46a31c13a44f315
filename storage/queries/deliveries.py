"""Deliveries: the outbox of check-in messages, claimed row by row by conditional UPDATEs.

Every write that moves a row is guarded by the status and attempt count its writer last saw
(the attempt count doubles as a version), so two senders can never both own a row; see
`schedules.outbox` for the rules built on these claims.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, func, or_
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery, Member, Round, Team

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
UNCERTAIN = "uncertain"  # maybe delivered: the answer was lost where the platform cannot look


class Claimed(NamedTuple):
    """A row left in 'sending': its attempt count as seen, and when its lease ends."""

    id: int
    attempts: int
    lease_end: datetime | None


class Due(NamedTuple):
    """A row due for sending (or for a check at the platform), as seen when it was listed."""

    id: int
    status: str
    attempts: int
    workspace: int | None


class Asked(NamedTuple):
    """A delivery's round and the member it went to."""

    round_id: int
    member_id: int
    platform: str
    user_id: str


class ReminderDue(NamedTuple):
    """A delivery due for its reminder, and its member's time zone (if known)."""

    delivery_id: int
    timezone: str | None


async def delivery_by_id(session: AsyncSession, *, delivery_id: int) -> Delivery | None:
    """The delivery, or None."""
    return await session.get(Delivery, delivery_id)


async def members_asked(session: AsyncSession, *, round_id: int) -> set[int]:
    """Ids of the members the round has a delivery for."""
    return set((await session.exec(select(Delivery.member_id).where(Delivery.round_id == round_id))).all())


def add_delivery(session: AsyncSession, *, round_id: int, member_id: int, due_at: datetime) -> Delivery:
    """A new pending delivery (added, not flushed: unique per round and member)."""
    delivery = Delivery(round_id=round_id, member_id=member_id, due_at=due_at)
    session.add(delivery)
    return delivery


async def asked(session: AsyncSession, *, round_id: int | None = None) -> list[Asked]:
    """Who each delivery went to: of one round, or of every round when `round_id` is None."""
    stmt = select(Delivery.round_id, Member.id, Member.platform, Member.user_id).join(
        Member, col(Member.id) == Delivery.member_id
    )
    if round_id is not None:
        stmt = stmt.where(Delivery.round_id == round_id)
    return [Asked(r, m, p, u) for r, m, p, u in (await session.exec(stmt)).all() if m is not None]


async def statuses(session: AsyncSession, *, round_id: int) -> dict[int, str]:
    """Each of the round's deliveries and its status."""
    rows = (await session.exec(select(Delivery.id, Delivery.status).where(Delivery.round_id == round_id))).all()
    return {i: s for i, s in rows if i is not None}


async def latest_open_round_asked(session: AsyncSession, *, member_id: int, now: datetime) -> int | None:
    """The most recently opened round, still open, that the member got a delivery in."""
    stmt = (
        select(Round.id)
        .join(Delivery, col(Delivery.round_id) == Round.id)
        .where(Delivery.member_id == member_id, col(Round.closed_at).is_(None), col(Round.closes_at) > now)
        .order_by(col(Round.opened_at).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def delivered_open(session: AsyncSession, *, member_id: int, now: datetime) -> list[tuple[int, int]]:
    """(delivery, round) of the member's sent deliveries whose round is open, oldest round first."""
    stmt = (
        select(Delivery.id, Delivery.round_id)
        .join(Round, col(Round.id) == Delivery.round_id)
        .where(
            Delivery.member_id == member_id,
            Delivery.status == SENT,
            col(Round.closed_at).is_(None),
            col(Round.closes_at) > now,
        )
        .order_by(col(Round.opened_at))
    )
    return [(d, r) for d, r in (await session.exec(stmt)).all() if d is not None]


# -- the sender's claims ------------------------------------------------------------------------


async def left_sending(session: AsyncSession) -> list[Claimed]:
    """Every row in 'sending' (a sender's claim, or a crash leftover)."""
    stmt = select(Delivery.id, Delivery.attempts, Delivery.next_try_at).where(col(Delivery.status) == SENDING)
    return [Claimed(i, a, t) for i, a, t in (await session.exec(stmt)).all() if i is not None]


async def recheck_at(session: AsyncSession, *, delivery_id: int, attempts: int, at: datetime) -> None:
    """Make a row still in 'sending' at this attempt due for a check at `at`."""
    await session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status) == SENDING,
               col(Delivery.attempts) == attempts)
        .values(next_try_at=at)
    )


async def due_rows(session: AsyncSession, *, now: datetime, limit: int, exclude: Iterable[int] = ()) -> list[Due]:
    """Rows due now, soonest first: pending ones whose time has come, and claims whose lease ended."""
    ready = and_(
        col(Delivery.status) == PENDING,
        col(Delivery.due_at) <= now,
        or_(col(Delivery.next_try_at).is_(None), col(Delivery.next_try_at) <= now),
    )
    stale = and_(col(Delivery.status) == SENDING, col(Delivery.next_try_at) <= now)
    stmt = (
        select(Delivery.id, Delivery.status, Delivery.attempts, Member.workspace_id)
        .join(Member, col(Member.id) == Delivery.member_id)
        .where(or_(ready, stale))
        .order_by(col(Delivery.due_at), col(Delivery.id))
        .limit(limit)
    )
    skip = list(exclude)
    if skip:
        stmt = stmt.where(col(Delivery.id).not_in(skip))
    return [Due(*row) for row in (await session.exec(stmt)).all()]


async def claim(session: AsyncSession, *, row: Due, lease_until: datetime) -> bool:
    """Own the row for its next attempt if it is still as listed; False when someone moved it first."""
    result = await session.exec(
        update(Delivery)
        .where(
            col(Delivery.id) == row.id,
            col(Delivery.status) == row.status,
            col(Delivery.attempts) == row.attempts,
        )
        .values(status=SENDING, attempts=row.attempts + 1, next_try_at=lease_until)
    )
    return bool(result.rowcount == 1)


async def settle(session: AsyncSession, *, delivery_id: int, attempt: int, values: dict[str, object]) -> bool:
    """Write the outcome of our attempt if the row is still ours (in 'sending' at `attempt`)."""
    result = await session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status) == SENDING,
               col(Delivery.attempts) == attempt)
        .values(**values)
    )
    return bool(result.rowcount == 1)


async def learn_dm_conversation(session: AsyncSession, *, delivery_id: int, conversation: str) -> None:
    """The delivery's member is reached in `conversation`, unless their direct conversation is known."""
    member_id = select(Delivery.member_id).where(col(Delivery.id) == delivery_id).scalar_subquery()
    await session.exec(
        update(Member).where(col(Member.id) == member_id, col(Member.dm_conversation).is_(None))
        .values(dm_conversation=conversation)
    )


# -- reminders ----------------------------------------------------------------------------------


async def reminders_due(
    session: AsyncSession, *, team_name: str, due_before: datetime, now: datetime
) -> list[ReminderDue]:
    """The team's delivered, unreminded rows due before `due_before`, in open rounds, to unpaused members."""
    stmt = (
        select(Delivery.id, Member.timezone)
        .join(Round, col(Round.id) == Delivery.round_id)
        .join(Team, col(Team.id) == Round.team_id)
        .join(Member, col(Member.id) == Delivery.member_id)
        .where(
            Team.name == team_name,
            # 'uncertain' counts as delivered (it most likely arrived), and a reminder is no
            # second check-in: it is the one reminder everyone who has not answered gets.
            col(Delivery.status).in_((SENT, UNCERTAIN)),
            col(Delivery.reminded_at).is_(None),
            col(Delivery.due_at) <= due_before,
            col(Round.closed_at).is_(None),
            col(Round.closes_at) > now,
            col(Member.paused).is_(False),
        )
    )
    return [ReminderDue(i, tz) for i, tz in (await session.exec(stmt)).all() if i is not None]


async def claim_reminder(session: AsyncSession, *, delivery_id: int, now: datetime) -> bool:
    """Set `reminded_at` if it is unset; False when another pass took the reminder first."""
    claimed = await session.exec(
        update(Delivery).where(col(Delivery.id) == delivery_id, col(Delivery.reminded_at).is_(None))
        .values(reminded_at=now)
    )
    return bool(claimed.rowcount == 1)


async def unclaim_reminder(session: AsyncSession, *, delivery_id: int) -> None:
    """Give the reminder back (it surely did not arrive), so a later pass sends it."""
    await session.exec(update(Delivery).where(col(Delivery.id) == delivery_id).values(reminded_at=None))


async def first_unreminded_due(session: AsyncSession, *, round_id: int) -> datetime | None:
    """When the round's earliest delivery not yet reminded (and not failed) was due."""
    stmt = select(func.min(Delivery.due_at)).where(
        Delivery.round_id == round_id,
        col(Delivery.reminded_at).is_(None),
        col(Delivery.status).in_((PENDING, SENDING, SENT, UNCERTAIN)),
    )
    return (await session.exec(stmt)).first()
