"""Rounds: opened once per team and period, closed once, their figures and comments frozen at close."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery, Response, Round, RoundComment, RoundSummary, Team


class TeamPeriod(NamedTuple):
    """The team and period a round belongs to."""

    team: str
    period: str


class Purged(NamedTuple):
    """How many raw rows a purge deleted."""

    rounds: int
    responses: int
    comments: int
    deliveries: int


async def round_by_id(session: AsyncSession, *, round_id: int, for_share: bool = False) -> Round | None:
    """The round, or None; `for_share` takes a shared row lock (PostgreSQL) that a close waits for."""
    if for_share:
        return await session.get(Round, round_id, with_for_update={"read": True})
    return await session.get(Round, round_id)


async def any_round(session: AsyncSession) -> bool:
    """Whether the store holds any round at all."""
    return (await session.exec(select(Round.id).limit(1))).first() is not None


async def round_of_period(session: AsyncSession, *, team_id: int, period: str) -> Round | None:
    """The team's round for this period, if it was opened."""
    return (await session.exec(select(Round).where(Round.team_id == team_id, Round.period == period))).first()


async def enps_period_starts(session: AsyncSession, *, team_id: int) -> list[datetime]:
    """When each of the team's rounds that asked eNPS started."""
    stmt = select(Round.period_start).where(Round.team_id == team_id, col(Round.enps).is_(True))
    return list((await session.exec(stmt)).all())


async def add_round(
    session: AsyncSession,
    *,
    team_id: int,
    period: str,
    period_start: datetime,
    opened_at: datetime,
    closes_at: datetime,
    driver: str,
    enps: bool,
) -> Round:
    """A new round, flushed: an IntegrityError here means another process opened the same period."""
    rnd = Round(team_id=team_id, period=period, period_start=period_start, opened_at=opened_at,
                closes_at=closes_at, driver=driver, enps=enps)
    session.add(rnd)
    await session.flush()
    return rnd


async def team_and_period(session: AsyncSession, *, round_id: int) -> TeamPeriod:
    """The round's team name and period."""
    stmt = select(Team.name, Round.period).join(Team, col(Team.id) == Round.team_id).where(Round.id == round_id)
    return TeamPeriod(*(await session.exec(stmt)).one())


async def open_team_rounds(session: AsyncSession, *, now: datetime) -> list[tuple[str, Round]]:
    """(team name, round) of every round open now."""
    stmt = (
        select(Team.name, Round)
        .join(Round, col(Round.team_id) == Team.id)
        .where(col(Round.closed_at).is_(None), col(Round.closes_at) > now)
    )
    return [(name, rnd) for name, rnd in (await session.exec(stmt)).all()]


async def rounds_past_window(session: AsyncSession, *, now: datetime) -> list[int]:
    """Ids of rounds not closed yet whose window has passed."""
    stmt = select(Round.id).where(col(Round.closed_at).is_(None), col(Round.closes_at) <= now)
    return [i for i in (await session.exec(stmt)).all() if i is not None]


async def unclosed_rounds(session: AsyncSession, *, team_id: int) -> list[int]:
    """Ids of the team's rounds not closed yet."""
    stmt = select(Round.id).where(Round.team_id == team_id, col(Round.closed_at).is_(None))
    return [i for i in (await session.exec(stmt)).all() if i is not None]


def _count_if(cond: Any) -> Any:
    return func.count().filter(cond)


async def claim_close(session: AsyncSession, *, round_id: int, now: datetime) -> bool:
    """Mark the round closed if it is still open; False when it already was (the UPDATE is the claim).

    On PostgreSQL it waits for answers being written (they hold the round row `FOR SHARE`).
    """
    claimed = await session.exec(
        update(Round).where(col(Round.id) == round_id, col(Round.closed_at).is_(None)).values(closed_at=now)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


async def add_summary(session: AsyncSession, *, round_id: int) -> RoundSummary:
    """Count the round's answers and deliveries into its `RoundSummary` (added, not flushed)."""
    r = Response
    figures = (
        await session.exec(
            select(  # type: ignore[call-overload]
                func.count(),
                *(_count_if(col(r.mood) == v) for v in range(1, 6)),
                func.count(col(r.driver_score)),
                func.coalesce(func.sum(col(r.driver_score)), 0),
                func.count(col(r.enps)),
                _count_if(col(r.enps) >= 9),
                _count_if(col(r.enps) <= 6),
                func.count(col(r.focus_score)),
                func.coalesce(func.sum(col(r.focus_score)), 0),
            ).where(r.round_id == round_id)
        )
    ).one()
    delivered, failed, uncertain = (
        await session.exec(
            select(  # type: ignore[call-overload]
                func.count(),
                _count_if(col(Delivery.status) == "failed"),
                _count_if(col(Delivery.status) == "uncertain"),  # maybe delivered: apart from failed
            ).where(Delivery.round_id == round_id)
        )
    ).one()
    respondents, m1, m2, m3, m4, m5, driver_n, driver_sum, enps_n, promoters, detractors, focus_n, focus_sum = (
        int(v) for v in figures)
    summary = RoundSummary(
        round_id=round_id, delivered=int(delivered), answered=respondents, failed=int(failed),
        uncertain=int(uncertain), respondents=respondents, mood_1=m1, mood_2=m2, mood_3=m3, mood_4=m4, mood_5=m5,
        driver_n=driver_n, driver_sum=driver_sum, enps_n=enps_n, promoters=promoters, detractors=detractors,
        focus_n=focus_n, focus_sum=focus_sum,
    )
    session.add(summary)
    return summary


async def answer_comments(session: AsyncSession, *, round_id: int) -> list[tuple[str, str]]:
    """The non-empty comments of the round's answers, each with its answer's respondent key."""
    r = Response
    stmt = select(r.comment, r.respondent_key).where(
        r.round_id == round_id, col(r.comment).is_not(None), col(r.comment) != "")
    return [(c, k) for c, k in (await session.exec(stmt)).all() if c]


async def add_frozen_comments(session: AsyncSession, *, round_id: int, comments: list[tuple[str, str]]) -> None:
    """Copy (comment, respondent key) pairs into the round's frozen comments, in the order given,
    under random ids; flushed. The key lets the bot alone reach the author (`handlers.replies`)."""
    session.add_all(RoundComment(round_id=round_id, comment=c, respondent_key=k) for c, k in comments)
    await session.flush()


async def frozen_rounds_before(session: AsyncSession, *, cutoff: datetime) -> list[int]:
    """Ids of rounds whose figures are frozen and whose period started before `cutoff`."""
    stmt = select(Round.id).join(RoundSummary, col(RoundSummary.round_id) == Round.id).where(
        col(Round.period_start) < cutoff
    )
    return [i for i in (await session.exec(stmt)).all() if i is not None]


async def purge_raw_rows(session: AsyncSession, *, round_ids: list[int]) -> Purged:
    """Delete the answers, frozen comments and deliveries of these rounds; their summaries stay."""
    counts = []
    for table, column in ((Response, Response.round_id), (RoundComment, RoundComment.round_id),
                          (Delivery, Delivery.round_id)):
        result = await session.exec(delete(table).where(col(column).in_(round_ids)))
        counts.append(result.rowcount)  # type: ignore[attr-defined]
    return Purged(len(round_ids), *counts)
