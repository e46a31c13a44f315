"""The outbox where the platform cannot look (Teams): a lost answer is "maybe delivered", never re-sent.

The `Inbox` messenger with `can_look=False` stands for a platform without a way to list a chat;
`tests/teams/test_reconciliation.py` runs the same rules through the real Teams messenger.
"""

from __future__ import annotations

import logging

from handlers.ports import SendError
from schedules.outbox import Sender
from tests.schedules.support import claimed_two_seconds_ago, crashed_while_sending, opened, rows


async def test_a_lost_answer_where_the_platform_cannot_look_is_maybe_delivered_and_never_sent_again(world, caplog):
    ctx, inbox = world
    inbox.can_look = False
    await opened(ctx, ["ana", "eva"])
    inbox.fail("lost")  # the first send lands, its answer does not come back
    caplog.set_level(logging.INFO, logger="schedules.outbox")
    sender = Sender(ctx)
    first = await sender.drain()
    by_user = await rows(ctx)
    (lost,) = [uid for uid, d in by_user.items() if d.status == "uncertain"]
    assert first.uncertain == 1 and first.sent == 1 and first.retried == 0 and first.failed == 0
    assert by_user[lost].last_error == "timeout" and by_user[lost].next_try_at is None
    warned = [r for r in caplog.records if r.getMessage() == "delivery maybe delivered"]
    assert [(r.levelno, r.delivery_id) for r in warned] == [(logging.WARNING, by_user[lost].id)]

    ctx.clock.move(hours=1)  # later passes, and a restart, leave it alone
    restarted = Sender(ctx)
    assert await restarted.recover() == 0
    assert (await restarted.drain()).sent == 0
    assert len(inbox.of("ana")) == 1 and len(inbox.of("eva")) == 1
    assert inbox.calls["find_direct"] == 0  # nothing to ask where nobody can answer


async def test_an_error_that_posted_nothing_is_retried_where_the_platform_cannot_look(world):
    ctx, inbox = world
    inbox.can_look = False
    await opened(ctx, ["ana"])
    inbox.fail(SendError("rate_limited", transient=True, retry_after=5, posted_nothing=True))
    sender = Sender(ctx)
    assert (await sender.drain()).retried == 1
    assert (await rows(ctx))["ana"].status == "pending"
    ctx.clock.move(seconds=6)
    assert (await sender.drain()).sent == 1
    assert (await rows(ctx))["ana"].status == "sent" and len(inbox.of("ana")) == 1
    assert inbox.calls["find_direct"] == 0


async def test_a_5xx_where_the_platform_cannot_look_is_maybe_delivered_even_if_nothing_landed(world):
    # The conservative side on purpose: a gateway's 5xx may follow a stored message, and a second
    # check-in is worse than a rare missing one. The report counts it apart from failures.
    ctx, inbox = world
    inbox.can_look = False
    await opened(ctx, ["ana"])
    inbox.fail(SendError("http_502", transient=True))
    report = await Sender(ctx).drain()
    assert report.uncertain == 1 and report.retried == 0 and inbox.received == []
    assert (await rows(ctx))["ana"].status == "uncertain"


async def test_crash_leftovers_where_the_platform_cannot_look_are_maybe_delivered_not_resent(world, caplog):
    ctx, inbox = world
    inbox.can_look = False
    caplog.set_level(logging.WARNING, logger="schedules.outbox")
    await crashed_while_sending(ctx, inbox)  # ana's message had left, eva's maybe not; nobody can tell
    restarted = Sender(ctx)
    assert await restarted.recover() == 2  # claimed a minute ago: past the grace, due at once
    report = await restarted.drain()
    assert report.uncertain == 2 and report.sent == 0 and inbox.calls["find_direct"] == 0
    assert {d.status for d in (await rows(ctx)).values()} == {"uncertain"}
    assert {d.last_error for d in (await rows(ctx)).values()} == {"interrupted"}
    assert len([r for r in caplog.records if r.getMessage() == "delivery maybe delivered"]) == 2
    assert len(inbox.of("ana")) == 1 and inbox.of("eva") == []


async def test_a_platform_that_can_look_still_looks_and_resends_what_is_absent(world):
    # Slack's way, unchanged: a lost answer is looked up on the retry and sent when absent.
    ctx, inbox = world
    await opened(ctx, ["ana"])
    inbox.fail(SendError("ClientConnectionError", transient=True))  # nothing landed, the answer was lost
    sender = Sender(ctx)
    assert (await sender.drain()).retried == 1
    ctx.clock.move(minutes=5)
    report = await sender.drain()
    assert report.sent == 1 and report.found == 0 and report.uncertain == 0
    assert inbox.calls["find_direct"] == 1 and len(inbox.of("ana")) == 1


async def test_a_row_another_process_just_claimed_gets_its_grace_before_it_is_called_maybe_delivered(world):
    ctx, inbox = world
    inbox.can_look = False
    await opened(ctx, ["ana"])
    await claimed_two_seconds_ago(ctx)  # by `checkins send`
    starting = Sender(ctx)
    assert await starting.recover(grace=10) == 1
    assert (await starting.drain()).uncertain == 0  # its owner's answer may still arrive
    assert (await rows(ctx))["ana"].status == "sending"
    ctx.clock.move(seconds=8)
    assert (await starting.drain()).uncertain == 1 and inbox.received == []
