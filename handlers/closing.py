"""Closing a round: answers are refused from then on, and its figures and comments are frozen.

Phased release: reports show answer figures only from closed rounds, read from `RoundSummary` and
`RoundComment`, which are written here once, in the same transaction that closes the round. After
that nothing changes them: `forget` and retention delete raw answers, never a closed round's figures.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.errors import NotFound
from storage.models import Delivery, Response, Round, RoundComment, RoundSummary, Team

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClosedRound:
    """A round this call closed: its team, period and how many answered."""

    round_id: int
    team: str
    period: str
    delivered: int
    answered: int


def _count_if(cond: Any) -> Any:
    return func.count().filter(cond)


async def freeze_round(session: AsyncSession, *, round_id: int, now: datetime) -> RoundSummary | None:
    """Close the round (if still open) and write its summary and comments; None if it was already closed.

    The conditional UPDATE is the claim: of two processes closing the same round one writes the
    summary. On PostgreSQL it also waits for answers being written (they hold the round row
    `FOR SHARE`, see `checkins.answerable`), so every answer acknowledged before the close counts.
    The caller commits.
    """
    claimed = await session.exec(
        update(Round).where(col(Round.id) == round_id, col(Round.closed_at).is_(None)).values(closed_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
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
    respondents, m1, m2, m3, m4, m5, driver_n, driver_sum, enps_n, promoters, detractors = (int(v) for v in figures)
    summary = RoundSummary(
        round_id=round_id, delivered=int(delivered), answered=respondents, failed=int(failed),
        uncertain=int(uncertain), respondents=respondents, mood_1=m1, mood_2=m2, mood_3=m3, mood_4=m4, mood_5=m5,
        driver_n=driver_n, driver_sum=driver_sum, enps_n=enps_n, promoters=promoters, detractors=detractors,
    )
    session.add(summary)
    comments = list(
        (await session.exec(
            select(r.comment).where(r.round_id == round_id, col(r.comment).is_not(None), col(r.comment) != "")
        )).all()
    )
    # Shuffled and under random ids: neither order nor id says whose comment came first.
    random.SystemRandom().shuffle(comments)
    session.add_all(RoundComment(round_id=round_id, comment=c) for c in comments if c)
    await session.flush()
    return summary


async def _close(ctx: Context, round_ids: list[int], now: datetime) -> list[ClosedRound]:
    closed: list[ClosedRound] = []
    for round_id in round_ids:
        async with ctx.store.session() as session:
            summary = await freeze_round(session, round_id=round_id, now=now)
            if summary is None:
                continue
            row = (await session.exec(
                select(Team.name, Round.period).join(Team, col(Team.id) == Round.team_id).where(Round.id == round_id)
            )).one()
            await session.commit()
        closed.append(ClosedRound(round_id, row[0], row[1], summary.delivered, summary.answered))
        logger.info("round closed", extra={"round_id": round_id, "team": row[0], "period": row[1]})
    return closed


async def close_due_rounds(ctx: Context, now: datetime | None = None) -> list[int]:
    """Close every round whose window has passed; returns their ids."""
    now = now or ctx.clock.now()
    async with ctx.store.session() as session:
        stmt = select(Round.id).where(col(Round.closed_at).is_(None), col(Round.closes_at) <= now)
        ids = [i for i in (await session.exec(stmt)).all() if i is not None]
    return [c.round_id for c in await _close(ctx, ids, now)]


async def close_team_round(ctx: Context, *, team_name: str) -> list[ClosedRound]:
    """`pulsebot checkins close --team NAME`: close the team's open round now; [] when none is open."""
    now = ctx.clock.now()
    async with ctx.store.session() as session:
        team = (await session.exec(select(Team).where(Team.name == team_name))).first()
        if team is None:
            raise NotFound("team.unknown", team=team_name)
        stmt = select(Round.id).where(Round.team_id == team.id, col(Round.closed_at).is_(None))
        ids = [i for i in (await session.exec(stmt)).all() if i is not None]
    return await _close(ctx, ids, now)
