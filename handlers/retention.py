"""Retention: raw answers older than `retention_months` are deleted; closed rounds keep their figures.

Only rounds whose figures are frozen (`RoundSummary`) are purged, so a report reads the same
before and after: the period's numbers stay, what individuals answered and who got it goes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from handlers.context import Context
from storage.queries.rounds import Purged, frozen_rounds_before, purge_raw_rows

logger = logging.getLogger(__name__)

MONTH = timedelta(days=30.44)  # a mean calendar month; retention is a policy, not a calendar


async def purge_expired(ctx: Context, now: datetime | None = None) -> Purged:
    """Delete answers, comments and deliveries of closed rounds older than the retention period."""
    now = now or ctx.clock.now()
    cutoff = now - ctx.config.pulse.retention_months * MONTH
    async with ctx.store.session() as session:
        ids = await frozen_rounds_before(session, cutoff=cutoff)
        if not ids:
            return Purged(0, 0, 0, 0)
        purged = await purge_raw_rows(session, round_ids=ids)
        await session.commit()
    if purged.responses or purged.comments or purged.deliveries:
        logger.info("retention purge", extra={"rounds": purged.rounds, "responses": purged.responses,
                                              "comments": purged.comments, "deliveries": purged.deliveries})
    return purged
