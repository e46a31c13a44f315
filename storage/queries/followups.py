"""Follow-ups of the empty chair: add, take over, resolve once, remind at most twice, hand back, count."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import DateTime, Integer, and_, case, func, null, or_, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import EmptyChair, Followup, Impact

MAX_REMINDERS = 2  # once when due, once more after the same interval
FUP, CHAIR = Followup.__table__, EmptyChair.__table__  # type: ignore[attr-defined]


class Place(NamedTuple):
    """A follow-up with the impact it follows and that impact's chair."""

    followup: Followup
    impact: Impact
    chair: EmptyChair


async def add_followup(session: AsyncSession, *, impact: Impact, chair_id: int, owner: str | None,
                       now: datetime, due_at: datetime) -> Followup:
    """A new open follow-up of a "we don't know" impact (flushed; the caller commits)."""
    await session.flush()  # the impact's id
    row = Followup(impact_id=impact.id, chair_id=chair_id, owner=owner, created_at=now, owned_at=now,  # type: ignore[arg-type]
                   due_at=due_at)
    session.add(row)
    await session.flush()
    return row


def _places() -> Any:
    return (select(Followup, Impact, EmptyChair)
            .join(Impact, col(Impact.id) == Followup.impact_id)
            .join(EmptyChair, col(EmptyChair.id) == Followup.chair_id))


async def place_of(session: AsyncSession, *, followup_id: int) -> Place | None:
    """The follow-up, its impact and its chair, or None."""
    row = (await session.exec(_places().where(col(Followup.id) == followup_id))).first()
    return None if row is None else Place(*row)


async def of_chair(session: AsyncSession, *, chair_id: int) -> dict[int, Followup]:
    """The chair's follow-ups by impact id (the card marks each one's state)."""
    rows = (await session.exec(select(Followup).where(Followup.chair_id == chair_id))).all()
    return {f.impact_id: f for f in rows}


async def open_places(session: AsyncSession, *, conversations: Iterable[str] = (), team_ids: Iterable[int] = (),
                      every_team: bool = False, owner: str | None = None, limit: int = 50) -> list[Place]:
    """Open follow-ups of chairs in `conversations`, of `team_ids` (or of every team), or owned by
    `owner`; soonest due first."""
    where: list[Any] = []
    if conversations := list(conversations):
        where.append(col(EmptyChair.conversation).in_(conversations))
    if team_ids := list(team_ids):
        where.append(col(EmptyChair.team_id).in_(team_ids))
    if every_team:
        where.append(col(EmptyChair.team_id).is_not(None))
    if owner is not None:
        where.append(col(Followup.owner) == owner)
    if not where:
        return []
    stmt = (_places().where(col(Followup.resolved_at).is_(None), or_(*where))
            .order_by(col(Followup.due_at), col(Followup.id)).limit(limit))
    return [Place(*row) for row in (await session.exec(stmt)).all()]


async def take(session: AsyncSession, *, followup_id: int, owner: str, now: datetime, due_at: datetime) -> bool:
    """Make `owner` its owner from now, due again and not yet reminded; False once resolved."""
    result = await session.exec(
        update(Followup).where(col(Followup.id) == followup_id, col(Followup.resolved_at).is_(None))
        .values(owner=owner, owned_at=now, due_at=due_at, reminders=0, console_seen=0)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def claim_resolve(session: AsyncSession, *, followup_id: int, effect: str, note: str, now: datetime) -> bool:
    """Resolve it once (the UPDATE is the claim); its impact now says what was learned."""
    result = await session.exec(
        update(Followup).where(col(Followup.id) == followup_id, col(Followup.resolved_at).is_(None))
        .values(resolved_at=now, effect=effect, note=note)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    impact_id = (await session.exec(select(Followup.impact_id).where(col(Followup.id) == followup_id))).one()
    await session.exec(update(Impact).where(col(Impact.id) == impact_id).values(effect=effect))
    return True


async def reminders_due(session: AsyncSession, *, now: datetime, again_before: datetime) -> list[tuple[int, int]]:
    """(id, reminders sent) of owned open follow-ups due a reminder: the first once due, the second
    once due since `again_before` (one interval ago)."""
    stmt = select(Followup.id, Followup.reminders).where(
        col(Followup.resolved_at).is_(None), col(Followup.owner).is_not(None),
        or_(and_(col(Followup.reminders) == 0, col(Followup.due_at) <= now),
            and_(col(Followup.reminders) == 1, col(Followup.due_at) <= again_before)),
    ).order_by(col(Followup.id))
    return [(i, n) for i, n in (await session.exec(stmt)).all()]  # type: ignore[misc]


async def claim_reminder(session: AsyncSession, *, followup_id: int, sent: int) -> bool:
    """Count the next reminder before sending it; False when another pass took it or it was resolved."""
    result = await session.exec(
        update(Followup).where(col(Followup.id) == followup_id, col(Followup.reminders) == sent,
                               col(Followup.reminders) < MAX_REMINDERS, col(Followup.resolved_at).is_(None))
        .values(reminders=sent + 1)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def unclaim_reminder(session: AsyncSession, *, followup_id: int, sent: int) -> None:
    """The platform surely kept nothing: the next pass may send that reminder."""
    await session.exec(update(Followup).where(col(Followup.id) == followup_id, col(Followup.reminders) == sent + 1)
                       .values(reminders=sent))


async def console_unseen(session: AsyncSession, *, owner: str) -> list[Place]:
    """A console owner's follow-ups with a reminder they have not been shown yet."""
    stmt = _places().where(col(Followup.owner) == owner, col(Followup.resolved_at).is_(None),
                           col(Followup.console_seen) < col(Followup.reminders)).order_by(col(Followup.id))
    return [Place(*row) for row in (await session.exec(stmt)).all()]


async def mark_seen(session: AsyncSession, *, followup_id: int, reminders: int) -> bool:
    """Shown once: False when another session showed it first."""
    result = await session.exec(
        update(Followup).where(col(Followup.id) == followup_id, col(Followup.console_seen) < reminders)
        .values(console_seen=reminders)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def hand_back(session: AsyncSession, *, owner: str) -> int:
    """`forget`: the person's follow-ups no longer name them; the open ones wait for someone to take them."""
    result = await session.exec(update(Followup).where(col(Followup.owner) == owner).values(owner=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Resolved(NamedTuple):
    """One resolved follow-up of a team: when it was raised and when it was resolved."""

    team_id: int
    created_at: datetime
    resolved_at: datetime


class FigureRow(NamedTuple):
    """One row of `report_figures`: a team's open count (`open` set, times NULL), or one follow-up it
    resolved in the window (`open` NULL, its times set)."""

    team_id: int
    open: int | None
    overdue: int | None
    created_at: datetime | None
    resolved_at: datetime | None


async def report_figures(conn: AsyncConnection, *, team_ids: list[int], since: datetime,
                         now: datetime) -> list[FigureRow]:
    """In one statement (the report's query budget): per team, its open follow-ups and how many are
    past due, counted by SQL; then each follow-up it resolved from `since` to `now`, by team and
    time of resolution (for the median and the client view's periods)."""
    if not team_ids:
        return []
    joined = FUP.join(CHAIR, CHAIR.c.id == FUP.c.chair_id)
    no_time = null().cast(DateTime(timezone=True))
    no_count = null().cast(Integer)
    counts = (sa_select(CHAIR.c.team_id, func.count().label("open"),
                        func.sum(case((FUP.c.due_at < now, 1), else_=0)).label("overdue"),
                        no_time.label("created_at"), no_time.label("resolved_at"))
              .select_from(joined)
              .where(CHAIR.c.team_id.in_(team_ids), FUP.c.resolved_at.is_(None))
              .group_by(CHAIR.c.team_id))
    resolved = (sa_select(CHAIR.c.team_id, no_count, no_count, FUP.c.created_at, FUP.c.resolved_at)
                .select_from(joined)
                .where(CHAIR.c.team_id.in_(team_ids), FUP.c.resolved_at >= since, FUP.c.resolved_at <= now))
    union = union_all(counts, resolved).subquery()
    stmt = sa_select(union).order_by(union.c.team_id, union.c.resolved_at)
    return [FigureRow(*row) for row in (await conn.execute(stmt)).all()]
