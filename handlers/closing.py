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

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Context
from handlers.errors import NotFound
from storage.models import RoundSummary
from storage.queries import commitments, rounds
from storage.queries.teams import leader_refs, team_id_named

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClosedRound:
    """A round this call closed: its team, period and how many answered."""

    round_id: int
    team: str
    period: str
    delivered: int
    answered: int


async def freeze_round(session: AsyncSession, *, round_id: int, now: datetime) -> RoundSummary | None:
    """Close the round (if still open) and write its summary and comments; None if it was already closed.

    The conditional UPDATE is the claim: of two processes closing the same round one writes the
    summary. On PostgreSQL it also waits for answers being written (they hold the round row
    `FOR SHARE`, see `checkins.answerable`), so every answer acknowledged before the close counts.
    The caller commits.
    """
    if not await rounds.claim_close(session, round_id=round_id, now=now):
        return None
    summary = await rounds.add_summary(session, round_id=round_id)
    comments = await rounds.answer_comments(session, round_id=round_id)
    # Shuffled and under random ids: neither order nor id says whose comment came first.
    random.SystemRandom().shuffle(comments)
    await rounds.add_frozen_comments(session, round_id=round_id, comments=comments)
    return summary


async def invite_leaders(session: AsyncSession, ctx: Context, *, round_id: int, summary: RoundSummary) -> int:
    """A round that closed with figures gets an open commitment and one invitation per leader of its
    own team (`handlers.commitments`); global leaders read every team and are not asked. No figures
    (too few answered): no headline, nothing to commit to."""
    if summary.respondents < ctx.min_group_size:
        return 0
    rnd = await rounds.round_by_id(session, round_id=round_id)
    assert rnd is not None
    await commitments.add_commitment(session, round_id=round_id)
    refs = sorted(await leader_refs(session, team_id=rnd.team_id))
    return await commitments.queue_notes(session, round_id=round_id, kind="invite",
                                         targets=[(f"l:{r}", None) for r in refs])


async def _close(ctx: Context, round_ids: list[int], now: datetime) -> list[ClosedRound]:
    closed: list[ClosedRound] = []
    for round_id in round_ids:
        async with ctx.store.session() as session:
            summary = await freeze_round(session, round_id=round_id, now=now)
            if summary is None:
                continue
            # In the same transaction: a round that closed with figures invites its leaders to commit.
            await invite_leaders(session, ctx, round_id=round_id, summary=summary)
            row = await rounds.team_and_period(session, round_id=round_id)
            await session.commit()
        closed.append(ClosedRound(round_id, row.team, row.period, summary.delivered, summary.answered))
        logger.info("round closed", extra={"round_id": round_id, "team": row.team, "period": row.period})
    return closed


async def close_due_rounds(ctx: Context, now: datetime | None = None) -> list[int]:
    """Close every round whose window has passed; returns their ids."""
    now = now or ctx.clock.now()
    async with ctx.store.session() as session:
        ids = await rounds.rounds_past_window(session, now=now)
    return [c.round_id for c in await _close(ctx, ids, now)]


async def close_team_round(ctx: Context, *, team_name: str) -> list[ClosedRound]:
    """`pulsebot checkins close --team NAME`: close the team's open round now; [] when none is open."""
    now = ctx.clock.now()
    async with ctx.store.session() as session:
        team_id = await team_id_named(session, name=team_name)
        if team_id is None:
            raise NotFound("team.unknown", team=team_name)
        ids = await rounds.unclosed_rounds(session, team_id=team_id)
    return await _close(ctx, ids, now)
