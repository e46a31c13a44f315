"""Retention: raw answers older than `retention_months` are deleted; closed rounds keep their figures.

Only rounds whose figures are frozen (`RoundSummary`) are purged, so a report reads the same
before and after: the period's numbers stay, what individuals answered and who got it goes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, delete, select

from handlers.context import Context
from storage.models import Delivery, Response, Round, RoundComment, RoundSummary

logger = logging.getLogger(__name__)

MONTH = timedelta(days=30.44)  # a mean calendar month; retention is a policy, not a calendar


@dataclass(frozen=True)
class Purged:
    """How many raw rows a purge deleted."""

    rounds: int
    responses: int
    comments: int
    deliveries: int


async def purge_expired(ctx: Context, now: datetime | None = None) -> Purged:
    """Delete answers, comments and deliveries of closed rounds older than the retention period."""
    now = now or ctx.clock.now()
    cutoff = now - ctx.config.pulse.retention_months * MONTH
    async with ctx.store.session() as session:
        old = select(Round.id).join(RoundSummary, col(RoundSummary.round_id) == Round.id).where(
            col(Round.period_start) < cutoff
        )
        ids = [i for i in (await session.exec(old)).all() if i is not None]
        if not ids:
            return Purged(0, 0, 0, 0)
        counts = []
        for table, column in ((Response, Response.round_id), (RoundComment, RoundComment.round_id),
                              (Delivery, Delivery.round_id)):
            result = await session.exec(delete(table).where(col(column).in_(ids)))
            counts.append(result.rowcount)  # type: ignore[attr-defined]
        await session.commit()
    purged = Purged(len(ids), *counts)
    if purged.responses or purged.comments or purged.deliveries:
        logger.info("retention purge", extra={"rounds": purged.rounds, "responses": purged.responses,
                                              "comments": purged.comments, "deliveries": purged.deliveries})
    return purged
