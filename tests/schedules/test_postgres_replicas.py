"""The PostgreSQL lane: replicas share one store; one holds the clock's lock; exactly once holds.

Skipped unless `PULSEBOT_TEST_POSTGRES_URL` names a database these tests may wipe (CI sets it).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import select

from schedules.clock import run_clock
from schedules.clock_lock import ClockLock
from schedules.outbox import Sender
from storage.models import Delivery
from tests.context import build_ctx
from tests.polling import eventually
from tests.schedules.support import BASE_CONFIG, add_members, inbox_on

PG_URL = os.environ.get("PULSEBOT_TEST_POSTGRES_URL", "")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="PULSEBOT_TEST_POSTGRES_URL is not set"),
]
OPEN_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
async def replicas():
    """Two processes' worth of context on one PostgreSQL, sharing one inbox to count deliveries."""
    a = await build_ctx(PG_URL, BASE_CONFIG, now=OPEN_AT)
    b = await build_ctx(PG_URL, BASE_CONFIG, now=OPEN_AT, reset=False)
    b.clock = a.clock
    inbox = inbox_on(a)
    b.messengers["console"] = inbox
    await add_members(a, "soporte", {f"m{i:03d}": "Europe/Madrid" for i in range(60)})
    yield a, b, inbox
    await a.store.dispose()
    await b.store.dispose()


async def statuses(ctx) -> list[str]:
    async with ctx.store.session() as session:
        return list((await session.exec(select(Delivery.status))).all())


async def test_only_one_replica_holds_the_clock_lock(replicas):
    a, b, _ = replicas
    first, second = ClockLock(a.store), ClockLock(b.store)
    assert await first.acquire() is True
    assert await second.acquire() is False
    assert await first.still_held()
    await first.release()
    assert await second.acquire() is True
    await second.release()


async def test_two_replicas_deliver_a_round_exactly_once(replicas):
    a, b, inbox = replicas
    one = await run_clock(a, poll=0.05, retry_every=0.2, check_every=0.2)
    two = await run_clock(b, poll=0.05, retry_every=0.2, check_every=0.2)
    try:
        await eventually(lambda: one.is_holder or two.is_holder, timeout=10)
        await eventually(lambda: _all_sent(a, 60), timeout=10)
    finally:
        await one.stop()
        await two.stop()
    assert sorted(r.user_id for r in inbox.received) == sorted(f"m{i:03d}" for i in range(60))
    assert [one.is_holder, two.is_holder] == [False, False]


async def test_senders_racing_on_postgres_claim_each_row_once(replicas):
    a, b, inbox = replicas
    from schedules import jobs

    await jobs.open_team_round(a, "soporte")
    await asyncio.gather(Sender(a).drain(), Sender(b).drain(), Sender(a).drain())
    assert len(inbox.received) == 60
    assert len({r.user_id for r in inbox.received}) == 60


async def test_survivor_takes_over_when_the_holder_dies(replicas):
    a, b, inbox = replicas
    one = await run_clock(a, poll=0.05, retry_every=0.2, check_every=0.2)
    await eventually(lambda: one.is_holder, timeout=5)
    standby_lock = CountingLock(b.store)
    two = await run_clock(b, poll=0.05, retry_every=0.2, check_every=0.2, lock=standby_lock)
    try:
        await eventually(lambda: standby_lock.tries >= 2)  # refused, and refused again on its retry
        assert two.health() == {"ok": True, "scheduler": "standby", "clock_holder": False}
        # The holder's process dies: PostgreSQL ends its sessions, which releases the lock. Only
        # sessions of this database: another suite on the same cluster holds advisory locks too.
        async with b.store.engine.connect() as conn:
            await conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ))
        await eventually(lambda: two.is_holder, timeout=5)
        await eventually(lambda: not one.is_holder, timeout=10)  # the old holder noticed and stepped down
        await eventually(lambda: _all_sent(b, 60), timeout=10)
    finally:
        await two.stop()
        await one.stop()
    assert len(inbox.received) == 60 and len({r.user_id for r in inbox.received}) == 60


class CountingLock(ClockLock):
    """The clock's lock, counting how often its runner tried for it."""

    tries = 0

    async def acquire(self) -> bool:
        self.tries += 1
        return await super().acquire()


async def _all_sent(ctx, n: int) -> bool:
    found = await statuses(ctx)
    return len(found) == n and set(found) == {"sent"}
