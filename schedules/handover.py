"""`pulsebot checkins send`: deliver a round now without ever running a second sender.

One process drains the outbox at a time: the holder of the clock's lock (`clock_lock`). When a
`pulsebot serve` holds it, the command hands the round over (the holder's sender finds the new
rows on its next pass) and waits until every delivery of the round is settled; when nobody
holds it, the command takes the lock for its own drain. If the holder dies while the command
waits, the lock becomes free and the command finishes the drain itself.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from handlers.context import Context
from schedules.clock_lock import ClockLock
from schedules.outbox import DrainReport, Sender
from storage.queries import deliveries
from storage.queries.deliveries import FAILED, PENDING, SENDING, SENT, UNCERTAIN

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handover:
    """What `deliver_round` did: the counts, and whether another process did the sending."""

    report: DrainReport
    handed_over: bool


async def _statuses(ctx: Context, round_id: int) -> dict[int, str]:
    async with ctx.store.session() as session:
        return await deliveries.statuses(session, round_id=round_id)


async def deliver_round(
    ctx: Context, *, round_id: int, sender: Sender | None = None, poll: float = 0.5, lock: ClockLock | None = None
) -> Handover:
    """Deliver the round's due messages: ourselves under the clock's lock, or through its holder."""
    lock = lock or ClockLock(ctx.store)
    before = await _statuses(ctx, round_id)
    waiting_logged = False
    while True:
        if await lock.acquire():
            try:
                mine = sender or Sender(ctx)
                await mine.recover(grace=0)  # we hold the lock: rows left 'sending' are a dead sender's
                return Handover(await mine.drain(), handed_over=False)
            finally:
                await lock.release()
        if not waiting_logged:
            logger.info("the clock's holder is delivering the round; waiting for it", extra={"round_id": round_id})
            waiting_logged = True
        after = await _statuses(ctx, round_id)
        if not any(s in (PENDING, SENDING) for s in after.values()):
            changed = [i for i, s in after.items() if before.get(i) in (PENDING, SENDING, None)]
            report = DrainReport(sent=sum(after[i] == SENT for i in changed),
                                 failed=sum(after[i] == FAILED for i in changed),
                                 uncertain=sum(after[i] == UNCERTAIN for i in changed))
            return Handover(report, handed_over=True)
        await asyncio.sleep(poll)
