"""Slack keeps looking: after a lost or failed answer the outbox asks conversations.history first.

What it finds is recorded, not posted again; what is absent is posted again, once. (Teams, which
cannot look, marks such a delivery "maybe delivered" instead: `tests/teams/test_reconciliation.py`.)
"""

from __future__ import annotations

from sqlmodel import select

from handlers.checkins import open_round
from schedules.outbox import Sender
from storage.models import Delivery

MEMBERS = ("U1", "U2", "U3", "U4")


async def _statuses(slack) -> list[str]:  # noqa: ANN001 - the suite's harness
    async with slack.ctx.store.session() as session:
        return sorted((await session.exec(select(Delivery.status))).all())


def _dms(slack) -> dict[str, int]:  # noqa: ANN001
    return {u: len(slack.fake.messages(slack.fake.dm_channel(u))) for u in MEMBERS}


async def test_a_posted_dm_whose_answer_was_dropped_is_found_in_the_history_and_not_posted_again(slack):
    await slack.face.sync_rosters()
    await open_round(slack.ctx, team_name="soporte")
    slack.fake.fail_next("chat.postMessage", drop=True)  # posted, then the connection drops
    sender = Sender(slack.ctx)
    first = await sender.drain()
    assert first.retried == 1 and first.uncertain == 0
    slack.ctx.clock.move(minutes=5)
    second = await sender.drain()
    assert second.found == 1 and second.sent == 0 and second.uncertain == 0
    assert slack.fake.calls("conversations.history")
    assert _dms(slack) == dict.fromkeys(MEMBERS, 1)
    assert await _statuses(slack) == ["sent"] * 4


async def test_a_dm_the_history_does_not_show_is_posted_again_once(slack):
    await slack.face.sync_rosters()
    await open_round(slack.ctx, team_name="soporte")
    slack.fake.fail_next("chat.postMessage", error="internal_error")  # a transient error, nothing posted
    sender = Sender(slack.ctx)
    assert (await sender.drain()).retried == 1
    slack.ctx.clock.move(minutes=5)
    second = await sender.drain()
    assert second.sent == 1 and second.found == 0 and second.uncertain == 0
    assert len(slack.fake.calls("conversations.history")) == 1  # looked first, found nothing
    assert _dms(slack) == dict.fromkeys(MEMBERS, 1)
    assert await _statuses(slack) == ["sent"] * 4
