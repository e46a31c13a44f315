"""Teams cannot list a chat, so a check-in whose answer was lost is "maybe delivered", never re-sent.

The real TeamsMessenger and outbox against the fake Bot Connector over HTTP: the connector
stores the card and drops the connection before answering; a restart and later passes of the
sender leave every member with exactly one card. (The SIGKILL of `pulsebot serve` with the
answer in flight is in `test_crash_e2e.py`.)
"""

from __future__ import annotations

import logging

from sqlmodel import select

from bot.teams.app import build_teams
from handlers.checkins import open_round
from handlers.report_render import report_json
from handlers.reports import build_report
from schedules import jobs
from schedules.outbox import Sender
from storage.models import Delivery
from tests.teams.conftest import EMULATOR, LEAD, MEMBERS, TEAMS_CONFIG, TeamsRig


async def _installed_team(rig: TeamsRig) -> dict[str, str]:
    """The team installed, five of six members met personally; each member's chat id."""
    assert (await rig.client.install_team(LEAD))[0] == 202
    for user in MEMBERS[:5]:
        assert (await rig.client.install_personal(user))[0] == 202
    return {u.id: f"a:personal-{u.id}" for u in MEMBERS[:5]}


def _chats(rig: TeamsRig, known: dict[str, str]) -> dict[str, str]:
    fran = rig.connector.dm_conversation("29:fran")  # created for the check-in: only a roster member
    assert fran is not None
    return {**known, "29:fran": fran}


async def _statuses(rig: TeamsRig) -> dict[int, str]:
    async with rig.ctx.store.session() as session:
        rows = (await session.exec(select(Delivery.id, Delivery.status))).all()
    return {i: s for i, s in rows if i is not None}


async def test_a_checkin_stored_by_the_connector_whose_answer_was_dropped_is_never_sent_twice(
    rig: TeamsRig, make_ctx, caplog
):
    known = await _installed_team(rig)
    await open_round(rig.ctx, team_name="soporte")
    rig.connector.lose_answer("send")  # the first card is stored, then the connection drops
    caplog.set_level(logging.INFO, logger="schedules.outbox")

    first = await Sender(rig.ctx).drain()

    statuses = await _statuses(rig)
    (maybe,) = [i for i, s in statuses.items() if s == "uncertain"]
    assert first.uncertain == 1 and first.sent == len(MEMBERS) - 1 and first.failed == 0
    assert sorted(statuses.values()) == ["sent"] * (len(MEMBERS) - 1) + ["uncertain"]
    warned = [r for r in caplog.records if r.getMessage() == "delivery maybe delivered"]
    assert [(r.levelno, r.delivery_id, r.reason) for r in warned] == [(logging.WARNING, maybe, "teams.connection")]

    # A restart (new store connection, new face, empty memory), then a pass long after the lease.
    ctx = await make_ctx(TEAMS_CONFIG)
    build_teams(ctx, EMULATOR)
    ctx.clock.move(hours=1)
    restarted = Sender(ctx)
    assert await restarted.recover() == 0
    again = await restarted.drain()
    assert (again.sent, again.uncertain, again.found) == (0, 0, 0)

    chats = _chats(rig, known)
    assert {u.id: len(rig.connector.cards(chats[u.id])) for u in MEMBERS} == {u.id: 1 for u in MEMBERS}
    assert len(rig.connector.calls("send")) == len(MEMBERS)
    team = report_json(await build_report(ctx, teams=["soporte"]))["teams"][0]
    assert (team["maybe_delivered"], team["failed_deliveries"]) == (1, 0)
    assert team["periods"][-1]["delivered"] == len(MEMBERS)  # participation counts it as delivered


async def test_a_checkin_the_connector_refused_with_a_429_is_sent_again_and_arrives_once(rig: TeamsRig):
    known = await _installed_team(rig)
    await open_round(rig.ctx, team_name="soporte")
    rig.connector.fail_next("send", status=429, retry_after=1)  # refused: nothing stored

    sender = Sender(rig.ctx)
    first = await sender.drain()
    assert first.retried == 1 and first.uncertain == 0
    rig.ctx.clock.move(seconds=2)
    second = await sender.drain()
    assert second.sent == 1 and second.uncertain == 0

    chats = _chats(rig, known)
    assert {u.id: len(rig.connector.cards(chats[u.id])) for u in MEMBERS} == {u.id: 1 for u in MEMBERS}
    assert set((await _statuses(rig)).values()) == {"sent"}


async def test_a_maybe_delivered_member_gets_the_one_reminder_and_a_lost_reminder_is_not_repeated(rig: TeamsRig):
    known = await _installed_team(rig)
    await open_round(rig.ctx, team_name="soporte")
    rig.connector.lose_answer("send")
    assert (await Sender(rig.ctx).drain()).uncertain == 1

    rig.ctx.clock.move(hours=25)  # Tuesday: past reminder_after_hours, the round still open
    rig.connector.lose_answer("send")  # one reminder lands and its answer is lost
    await jobs.send_reminders(rig.ctx)
    rig.ctx.clock.move(minutes=15)
    assert await jobs.send_reminders(rig.ctx) == 0  # Teams cannot look: kept claimed, not sent again

    chats = _chats(rig, known)
    # Everyone, the maybe-delivered member too, has the check-in and one reminder: never more.
    assert {u.id: len(rig.connector.cards(chats[u.id])) for u in MEMBERS} == {u.id: 2 for u in MEMBERS}
