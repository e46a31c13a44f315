"""The outbox sender: drains due `Delivery` rows through the platforms' Messengers, once each.

Exactly once rests on the store, not on timing. A row is claimed by a conditional UPDATE
(`status` and `attempts` as seen, the attempt count doubling as a version), so two senders can
never both own it. A row that may already have reached the member — any retry, or a row left
in 'sending' by a crash between the platform call and the write — is first looked up with
`Messenger.find_direct` (the delivery key travels with the message) and only re-sent when it
is not there. Where the platform cannot look (`Messenger.can_look` is False: Teams), such a row
is marked 'uncertain' ("maybe delivered") and never sent again: a second check-in is worse than
a rare missing one. Only an error known to have posted nothing (`SendError.posted_nothing`) is
retried there. Transient errors back off exponentially with jitter, honouring `retry_after`;
the last failure marks the row 'failed' with its reason, never drops it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.checkins import delivery_message
from handlers.context import Context
from handlers.errors import PulseError
from handlers.ports import Messenger, Recipient, SendError, Sent
from schedules.timing import as_utc
from storage.queries import deliveries
from storage.queries.deliveries import FAILED, PENDING, SENDING, SENT, UNCERTAIN, Due

logger = logging.getLogger(__name__)


@dataclass
class DrainReport:
    """What one drain did (tests and the bench read it)."""

    sent: int = 0
    found: int = 0  # already at the platform: recorded, not re-sent
    retried: int = 0
    failed: int = 0
    uncertain: int = 0  # maybe delivered: not re-sent, not failed either


class Sender:
    """Sends due deliveries with bounded concurrency per workspace.

    Only the process that holds the clock's lock runs a Sender (see `clock_lock`), so rows in
    'sending' at start belong to a process that died; `recover()` has them checked first.
    """

    def __init__(
        self,
        ctx: Context,
        *,
        per_workspace: int = 8,
        max_attempts: int = 6,
        base_delay: float = 2.0,
        max_delay: float = 900.0,
        lease: float = 300.0,
        batch: int = 200,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self.per_workspace = per_workspace
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        # A claimed row whose owner neither finished nor failed it within `lease` seconds is
        # treated like a crash leftover (checked at the platform, then re-sent).
        self.lease = timedelta(seconds=lease)
        self.batch = batch
        self._rng = rng or random.Random()
        self._slots: dict[int | None, asyncio.Semaphore] = {}
        self._wake = asyncio.Event()

    # -- public ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Ask a running `run()` loop to look for due rows now (a round was just opened)."""
        self._wake.set()

    async def recover(self, *, grace: float = 10.0) -> int:
        """Make rows left in 'sending' due for a check at the platform; returns how many. Once, at start.

        A row becomes due `grace` seconds after it was claimed rather than when its lease ends: a
        `pulsebot checkins send` running beside this process may own a row it claimed a moment
        ago, with its call still in flight. Older leftovers are due at once. When due, a row is
        looked for at its platform, or, where the platform cannot look, marked 'uncertain' (see
        `_deliver`): not here, because the owner's answer may still arrive within the grace.
        """
        now = self.ctx.clock.now()
        async with self.ctx.store.session() as session:
            rows = await deliveries.left_sending(session)
            for delivery_id, attempts, lease_end in rows:
                claimed_at = as_utc(lease_end) - self.lease if lease_end is not None else now
                due = min(max(claimed_at + timedelta(seconds=grace), now), now + timedelta(seconds=grace))
                await deliveries.recheck_at(session, delivery_id=delivery_id, attempts=attempts, at=due)
            await session.commit()
        if rows:
            logger.warning("deliveries left in sending will be checked", extra={"deliveries": len(rows)})
        return len(rows)

    async def drain(self, stop: asyncio.Event | None = None) -> DrainReport:
        """Send everything due now, until nothing due is left (or `stop` is set)."""
        report = DrainReport()
        stop = stop or asyncio.Event()
        tasks: dict[int, asyncio.Task[None]] = {}
        try:
            while True:
                if not stop.is_set() and len(tasks) <= self.batch // 2:
                    for row in await self._due(exclude=tasks.keys()):
                        tasks[row.id] = asyncio.create_task(self._one(row, report, stop))
                if not tasks:
                    return report
                done, _ = await asyncio.wait(tasks.values(), timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                for key in [k for k, task in tasks.items() if task in done]:
                    tasks.pop(key).result()
        finally:
            # Cancelled (the lock was lost, the process stops): nothing may keep sending behind our
            # back. A row cancelled mid-call stays 'sending' and is checked by the next holder.
            for task in tasks.values():
                task.cancel()

    async def run(self, stop: asyncio.Event, *, poll: float = 2.0) -> None:
        """The sender loop: recover, then drain whenever woken or every `poll` seconds."""
        await self.recover()
        while not stop.is_set():
            try:
                await self.drain(stop)
            except Exception:  # the loop must outlive a bad row or a store hiccup
                logger.exception("sender pass failed")
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    # -- one row -----------------------------------------------------------------------------

    async def _due(self, *, exclude: Iterable[int]) -> list[Due]:
        now = self.ctx.clock.now()
        async with self.ctx.store.session() as session:
            return await deliveries.due_rows(session, now=now, limit=self.batch, exclude=exclude)

    def _slot(self, workspace: int | None) -> asyncio.Semaphore:
        if workspace not in self._slots:
            self._slots[workspace] = asyncio.Semaphore(self.per_workspace)
        return self._slots[workspace]

    async def _claim(self, row: Due) -> int | None:
        """Own the row: the attempt number on success, None if someone else moved it first."""
        now = self.ctx.clock.now()
        async with self.ctx.store.session() as session:
            claimed = await deliveries.claim(session, row=row, lease_until=now + self.lease)
            await session.commit()
        return row.attempts + 1 if claimed else None

    async def _one(self, row: Due, report: DrainReport, stop: asyncio.Event) -> None:
        async with self._slot(row.workspace):
            if stop.is_set():
                return  # stopping: leave the row pending for whoever sends next
            attempt = await self._claim(row)
            if attempt is None:
                return
            try:
                await self._deliver(row, attempt, report)
            except Exception as exc:
                # We cannot tell whether the message left: the row stays 'sending' until its lease
                # ends, then it is checked at the platform like a crash leftover.
                logger.exception("delivery crashed", extra={"delivery_id": row.id, "attempt": attempt})
                error = f"{type(exc).__name__}: {exc}"
                if attempt >= self.max_attempts:
                    await self._fail(row.id, attempt, error, report)
                else:
                    await self._finish(row.id, attempt, None, error=error, retry=True)

    async def _deliver(self, row: Due, attempt: int, report: DrainReport) -> None:
        try:
            to, message, key = await delivery_message(self.ctx, delivery_id=row.id)
        except PulseError as exc:
            # The round closed before we got there, or the member left: nothing to send, ever.
            await self._fail(row.id, attempt, exc.message_id, report)
            return
        messenger: Messenger | None = self.ctx.messengers.get(to.platform)
        if messenger is None:
            await self._fail(row.id, attempt, f"no messenger for platform {to.platform!r}", report)
            return
        if row.status == SENDING and not messenger.can_look:
            # Left in 'sending' by a crash or a lapsed lease: its call may have landed, and this
            # platform cannot tell. A second check-in is worse than a rare missing one.
            await self._maybe_delivered(row.id, attempt, "interrupted", report)
            return
        try:
            # A retry, or a crash leftover, may already be in the member's DM: look before sending.
            # (Where the platform cannot look, a pending retry follows an error that posted
            # nothing, since any other made the row 'uncertain': there is nothing to look for.)
            sent = None
            if (row.status == SENDING or row.attempts > 0) and messenger.can_look:
                sent = await messenger.find_direct(to=to, delivery_key=key)
                if sent is not None:
                    report.found += 1
                    logger.info("delivery already at the platform: recorded, not re-sent",
                                extra={"delivery_id": row.id, "attempt": attempt})
            if sent is None:
                sent = await messenger.send_direct(to=to, message=message, delivery_key=key)
                report.sent += 1
        except SendError as exc:
            if exc.transient and not exc.posted_nothing and not messenger.can_look:
                # The answer was lost (a timeout, a dropped connection, a 5xx) and the platform
                # cannot say whether the card landed: maybe delivered, never sent again.
                await self._maybe_delivered(row.id, attempt, exc.reason, report)
            elif exc.transient and attempt < self.max_attempts:
                delay = self._backoff(attempt, exc.retry_after)
                await self._finish(row.id, attempt, None, error=exc.reason, retry=True, delay=delay)
                report.retried += 1
                logger.info(
                    "delivery retry",
                    extra={"delivery_id": row.id, "attempt": attempt, "delay_s": round(delay, 2),
                           "reason": exc.reason},
                )
            elif exc.transient and (landed := await self._look(messenger, to, key)) is not None:
                # Out of attempts, but the last one did land (its answer was lost): it is delivered.
                report.found += 1
                await self._finish(row.id, attempt, landed)
            else:
                await self._fail(row.id, attempt, exc.reason, report)
            return
        await self._finish(row.id, attempt, sent)
        logger.info(
            "delivered",
            extra={"delivery_id": row.id, "attempt": attempt, "platform": to.platform,
                   "conversation": sent.conversation, "message_ref": sent.ref},
        )

    async def _look(self, messenger: Messenger, to: Recipient, key: str) -> Sent | None:
        if not messenger.can_look:
            return None
        try:
            return await messenger.find_direct(to=to, delivery_key=key)
        except SendError:
            return None

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            # The platform said when: wait that long, plus a little so a crowd does not return at once.
            return retry_after + self._rng.uniform(0, 0.5)
        cap = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self._rng.uniform(cap / 2, cap)  # "equal jitter"

    async def _maybe_delivered(self, delivery_id: int, attempt: int, reason: str, report: DrainReport) -> None:
        """Mark the row 'uncertain': it may well be in the member's chat, and it is never sent again."""
        await self._finish(delivery_id, attempt, None, error=reason, uncertain=True)
        report.uncertain += 1
        logger.warning("delivery maybe delivered",
                       extra={"delivery_id": delivery_id, "attempt": attempt, "reason": reason})

    async def _fail(self, delivery_id: int, attempt: int, reason: str, report: DrainReport) -> None:
        await self._finish(delivery_id, attempt, None, error=reason, retry=False)
        report.failed += 1
        logger.error("delivery failed", extra={"delivery_id": delivery_id, "attempt": attempt, "reason": reason})

    async def _finish(
        self,
        delivery_id: int,
        attempt: int,
        sent: Sent | None,
        *,
        error: str | None = None,
        retry: bool = False,
        delay: float | None = None,
        uncertain: bool = False,
    ) -> None:
        now: datetime = self.ctx.clock.now()
        values: dict[str, object]
        if sent is not None:
            values = {"status": SENT, "sent_at": now, "conversation": sent.conversation[:300],
                      "message_ref": sent.ref[:300], "next_try_at": None, "last_error": None}
        elif uncertain:
            values = {"status": UNCERTAIN, "next_try_at": None, "last_error": (error or "")[:500]}
        elif retry and delay is not None:
            values = {"status": PENDING, "next_try_at": now + timedelta(seconds=delay),
                      "last_error": (error or "")[:500]}
        elif retry:
            values = {"last_error": (error or "")[:500]}  # keep the lease; recovered when it ends
        else:
            values = {"status": FAILED, "next_try_at": None, "last_error": (error or "")[:500]}
        async with self.ctx.store.session() as session:
            ours = await deliveries.settle(session, delivery_id=delivery_id, attempt=attempt, values=values)
            if sent is not None and ours:
                # The member's direct conversation is learnt here, when the check-in lands, never in
                # the request that carries their answer: a member row written a moment before an
                # answer would tie the two together in the database's write order.
                await deliveries.learn_dm_conversation(
                    session, delivery_id=delivery_id, conversation=sent.conversation[:300]
                )
            await session.commit()
        if not ours:
            logger.warning("delivery moved by someone else", extra={"delivery_id": delivery_id, "attempt": attempt})
