"""The outbox sender: retries with backoff, Retry-After, final failure, lost answers, crash recovery."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime, timedelta

from handlers.ports import SendError
from schedules.outbox import Sender
from tests.schedules.support import OPEN_AT, claimed_two_seconds_ago, crashed_while_sending, opened, rows


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def test_every_member_gets_exactly_one_message_and_the_reference_is_kept(world):
    ctx, inbox = world
    await opened(ctx)
    report = await Sender(ctx).drain()
    again = await Sender(ctx).drain()
    assert report.sent == 3 and again.sent == 0
    assert sorted(r.user_id for r in inbox.received) == ["ana", "eva", "luis"]
    for uid, row in (await rows(ctx)).items():
        assert row.status == "sent" and row.attempts == 1
        assert row.conversation == f"D-{uid}" and row.message_ref
        assert as_utc(row.sent_at) == OPEN_AT


async def test_transient_error_is_retried_after_a_backoff(world):
    ctx, inbox = world
    await opened(ctx, ["ana"])
    inbox.fail(SendError("service_unavailable", transient=True))
    sender = Sender(ctx, base_delay=10, rng=random.Random(1))
    first = await sender.drain()
    row = (await rows(ctx))["ana"]
    assert first.retried == 1 and inbox.received == []
    assert row.status == "pending" and row.attempts == 1 and row.last_error == "service_unavailable"
    wait = as_utc(row.next_try_at) - OPEN_AT
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=10)
    assert (await sender.drain()).sent == 0  # not before its time
    ctx.clock.move(seconds=10)
    assert (await sender.drain()).sent == 1
    row = (await rows(ctx))["ana"]
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None
    assert len(inbox.of("ana")) == 1


async def test_backoff_grows_exponentially(world):
    ctx, inbox = world
    await opened(ctx, ["ana"])
    sender = Sender(ctx, base_delay=2, max_attempts=10, rng=random.Random(3))
    waits = []
    for _ in range(5):
        inbox.fail(SendError("timeout", transient=True))
        await sender.drain()
        row = (await rows(ctx))["ana"]
        waits.append((as_utc(row.next_try_at) - ctx.clock.now()).total_seconds())
        ctx.clock.at = as_utc(row.next_try_at)
    for attempt, wait in enumerate(waits, start=1):
        cap = 2 * 2 ** (attempt - 1)
        assert cap / 2 <= wait <= cap


async def test_retry_after_is_honoured(world):
    ctx, inbox = world
    await opened(ctx, ["ana"])
    inbox.fail(SendError("ratelimited", transient=True, retry_after=30))
    sender = Sender(ctx)
    await sender.drain()
    row = (await rows(ctx))["ana"]
    assert timedelta(seconds=30) <= as_utc(row.next_try_at) - OPEN_AT <= timedelta(seconds=30.5)
    ctx.clock.move(seconds=29)
    assert (await sender.drain()).sent == 0
    ctx.clock.move(seconds=2)
    assert (await sender.drain()).sent == 1


async def test_final_failure_is_marked_with_its_reason_and_logged(world, caplog):
    ctx, inbox = world
    await opened(ctx, ["ana", "eva"])
    sender = Sender(ctx, max_attempts=3, base_delay=1)
    caplog.set_level(logging.INFO, logger="schedules.outbox")
    for _ in range(3):
        inbox.fail(SendError("timeout", transient=True))
        # eva may take a failure too: the order is by due time, then id, so ana goes first
        await sender.drain()
        ctx.clock.move(minutes=5)
    by_user = await rows(ctx)
    failed = [d for d in by_user.values() if d.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 3 and failed[0].last_error == "timeout"
    assert sum(1 for r in caplog.records if r.getMessage() == "delivery failed") == 1
    assert (await sender.drain()).sent == 0  # a failed row is not retried by itself


async def test_permanent_error_fails_at_once(world):
    ctx, inbox = world
    await opened(ctx, ["ana"])
    inbox.fail(SendError("user_not_found", transient=False))
    report = await Sender(ctx).drain()
    row = (await rows(ctx))["ana"]
    assert report.failed == 1 and row.status == "failed" and row.last_error == "user_not_found"


async def test_lost_answer_is_checked_at_the_platform_and_not_sent_twice(world):
    ctx, inbox = world
    await opened(ctx, ["ana"])
    inbox.fail("lost")  # the message arrived, the answer did not
    sender = Sender(ctx)
    await sender.drain()
    ctx.clock.move(minutes=5)
    report = await sender.drain()
    assert report.found == 1 and report.sent == 0
    assert len(inbox.of("ana")) == 1
    row = (await rows(ctx))["ana"]
    assert row.status == "sent" and row.message_ref == "1"


async def test_crash_leftovers_are_checked_before_being_sent_again(world):
    ctx, inbox = world
    await crashed_while_sending(ctx, inbox)  # ana's message had left, eva's had not
    restarted = Sender(ctx)
    assert await restarted.recover() == 2
    report = await restarted.drain()
    assert report.found == 1 and report.sent == 1
    assert len(inbox.of("ana")) == 1 and len(inbox.of("eva")) == 1
    assert {d.status for d in (await rows(ctx)).values()} == {"sent"}


async def test_round_closed_before_delivery_marks_it_failed(world):
    ctx, inbox = world
    await opened(ctx, ["ana"])
    ctx.clock.move(hours=80)
    report = await Sender(ctx).drain()
    row = (await rows(ctx))["ana"]
    assert report.failed == 1 and row.status == "failed" and row.last_error == "checkin.closed"
    assert inbox.received == []


async def test_concurrency_is_bounded_per_workspace(world):
    ctx, inbox = world
    await opened(ctx, [f"m{i}" for i in range(12)])
    in_flight = peak = 0
    original = inbox.send_direct
    full = asyncio.Event()

    async def slow_send(**kwargs):
        # Each platform call stays in flight until three are (however slow the store is to claim
        # rows), then a while longer: an unbounded sender would start more meanwhile. Correct code
        # reaches exactly three on any machine; the wall-time wait only helps catch a regression.
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight >= 3:
            full.set()
        await asyncio.wait_for(full.wait(), timeout=10)
        await asyncio.sleep(0.1)
        in_flight -= 1
        return await original(**kwargs)

    inbox.send_direct = slow_send
    report = await Sender(ctx, per_workspace=3).drain()
    assert report.sent == 12 and peak == 3


async def test_two_senders_at_once_deliver_each_row_once(world):
    ctx, inbox = world
    await opened(ctx, [f"m{i}" for i in range(20)])
    await asyncio.gather(Sender(ctx).drain(), Sender(ctx).drain())
    assert sorted(r.user_id for r in inbox.received) == sorted(f"m{i}" for i in range(20))


async def test_recovery_waits_a_moment_for_a_row_another_process_just_claimed(world):
    ctx, inbox = world
    await opened(ctx, ["ana"])
    await claimed_two_seconds_ago(ctx)  # by `checkins send`
    starting = Sender(ctx)
    assert await starting.recover(grace=10) == 1
    assert (await starting.drain()).sent == 0 and inbox.received == []  # its call may still be in flight
    ctx.clock.move(seconds=8)
    assert (await starting.drain()).sent == 1  # then checked at the platform and sent once
    assert len(inbox.of("ana")) == 1


async def test_last_attempt_that_landed_is_recorded_as_delivered(world):
    ctx, inbox = world
    await opened(ctx, ["ana"])
    inbox.fail("lost")  # the only attempt allowed posts the message and loses the answer
    report = await Sender(ctx, max_attempts=1).drain()
    row = (await rows(ctx))["ana"]
    assert report.found == 1 and report.failed == 0
    assert row.status == "sent" and len(inbox.of("ana")) == 1
