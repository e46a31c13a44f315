"""The clock's check-in jobs over a moved FixedClock: local hours, weekends, DST, reminders, closing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from handlers.checkins import record_answer
from handlers.errors import Closed
from handlers.ports import Actor
from schedules import jobs
from schedules.outbox import Sender
from storage.models import Delivery, Round
from tests.context import build_ctx, sqlite_in
from tests.schedules.support import BASE_CONFIG, add_members, inbox_on

MADRID, MEXICO = "Europe/Madrid", "America/Mexico_City"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(instant: datetime, tz: str) -> tuple[str, str]:
    here = instant.astimezone(ZoneInfo(tz))
    return here.strftime("%a"), here.strftime("%H:%M")


async def tick(ctx, sender: Sender) -> None:
    """What the running clock would do at this instant."""
    await jobs.open_team_round(ctx, "soporte")
    await sender.drain()
    await jobs.send_reminders(ctx)
    await jobs.close_rounds(ctx)


async def run_until(ctx, sender: Sender, end: datetime, step_minutes: int = 30) -> None:
    while ctx.clock.now() < end:
        ctx.clock.move(minutes=step_minutes)
        await tick(ctx, sender)


def config_with(**checkin) -> dict:
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["teams"][0]["checkin"].update(checkin)
    return cfg


async def test_madrid_team_and_mexico_member_each_get_it_at_ten_local(world):
    ctx, inbox = world
    await add_members(ctx, "soporte", {"ana": MADRID, "luis": MEXICO})
    sender = Sender(ctx)
    ctx.clock.at = utc(2026, 11, 23, 0)
    await run_until(ctx, sender, utc(2026, 11, 23, 23), step_minutes=15)
    (ana,), (luis,) = inbox.of("ana"), inbox.of("luis")
    assert local(ana.at, MADRID) == ("Mon", "10:00")
    assert local(luis.at, MEXICO) == ("Mon", "10:00")


async def test_no_delivery_on_a_weekend_after_downtime(tmp_path):
    # Friday's round: the process was down all Friday and comes back on Saturday morning.
    ctx = await build_ctx(sqlite_in(tmp_path), config_with(weekday="fri", window_hours=120, reminder_after_hours=0),
                          now=utc(2026, 11, 28, 9))
    inbox = inbox_on(ctx)
    await add_members(ctx, "soporte", {"ana": MADRID, "luis": MEXICO})
    sender = Sender(ctx)
    opened = await jobs.catch_up(ctx)
    assert [o.period for o in opened] == ["2026-W48"]
    await run_until(ctx, sender, utc(2026, 12, 1, 0))
    (ana,), (luis,) = inbox.of("ana"), inbox.of("luis")
    assert local(ana.at, MADRID) == ("Mon", "10:00")
    assert local(luis.at, MEXICO) == ("Mon", "10:00")
    await ctx.store.dispose()


async def test_dst_change_week_keeps_ten_local(tmp_path):
    # Europe/Madrid moves to summer time on Sunday 2026-03-29; Mexico City has no DST any more.
    ctx = await build_ctx(sqlite_in(tmp_path), config_with(reminder_after_hours=0), now=utc(2026, 3, 22, 12))
    inbox = inbox_on(ctx)
    await add_members(ctx, "soporte", {"ana": MADRID, "luis": MEXICO})
    sender = Sender(ctx)
    await run_until(ctx, sender, utc(2026, 4, 1, 0), step_minutes=60)
    ana, luis = inbox.of("ana"), inbox.of("luis")
    assert [local(r.at, MADRID) for r in ana] == [("Mon", "10:00"), ("Mon", "10:00")]
    assert [local(r.at, MEXICO) for r in luis] == [("Mon", "10:00"), ("Mon", "10:00")]
    assert [r.at.hour for r in ana] == [9, 8]  # UTC moved, the local hour did not
    await ctx.store.dispose()


async def test_one_reminder_only_and_only_to_non_answerers(world):
    ctx, inbox = world
    await add_members(ctx, "soporte", {"ana": MADRID, "luis": MEXICO, "eva": MADRID})
    sender = Sender(ctx)
    ctx.clock.at = utc(2026, 11, 23, 9)
    await tick(ctx, sender)
    async with ctx.store.session() as session:
        round_id = (await session.exec(select(Round.id))).one()
    await record_answer(ctx, Actor(platform="console", user_id="ana"), round_id=round_id, mood=4)
    await run_until(ctx, sender, utc(2026, 11, 27, 0))
    reminders = [r for r in inbox.received if r.key.endswith("r")]
    assert sorted(r.user_id for r in reminders) == ["eva", "luis"]
    (luis_reminder,) = [r for r in reminders if r.user_id == "luis"]
    assert local(luis_reminder.at, MEXICO) == ("Tue", "10:00")  # 24 h after their own delivery
    assert len(inbox.of("ana")) == 1


async def test_answers_after_closing_are_refused(world):
    ctx, inbox = world
    await add_members(ctx, "soporte", {"ana": MADRID, "eva": MADRID})
    sender = Sender(ctx)
    ctx.clock.at = utc(2026, 11, 23, 9)
    await tick(ctx, sender)
    async with ctx.store.session() as session:
        round_id = (await session.exec(select(Round.id))).one()
    await run_until(ctx, sender, utc(2026, 11, 26, 9))
    async with ctx.store.session() as session:
        assert (await session.get(Round, round_id)).closed_at is not None
    with pytest.raises(Closed):
        await record_answer(ctx, Actor(platform="console", user_id="ana"), round_id=round_id, mood=2)


async def test_catch_up_opens_a_missed_round_once_and_not_after_its_window(world):
    ctx, inbox = world
    await add_members(ctx, "soporte", {"ana": MADRID, "eva": MADRID})
    ctx.clock.at = utc(2026, 11, 24, 15)  # came back up on Tuesday, the window is still open
    first = await jobs.catch_up(ctx)
    again = await jobs.catch_up(ctx)
    assert first[0].created and first[0].new_deliveries == 2
    assert not again[0].created and again[0].new_deliveries == 0
    await Sender(ctx).drain()
    assert sorted(r.user_id for r in inbox.received) == ["ana", "eva"]
    ctx.clock.at = utc(2026, 12, 3, 12)  # Thursday of the next week: W49's window has closed too
    assert await jobs.catch_up(ctx) == []


async def test_a_member_who_joins_mid_round_gets_the_current_round(world):
    ctx, inbox = world
    await add_members(ctx, "soporte", {"ana": MADRID})
    sender = Sender(ctx)
    ctx.clock.at = utc(2026, 11, 23, 9)
    await tick(ctx, sender)
    await add_members(ctx, "soporte", {"ana": MADRID, "eva": MADRID})
    ctx.clock.move(hours=2)
    await tick(ctx, sender)
    assert sorted(r.user_id for r in inbox.received) == ["ana", "eva"]
    async with ctx.store.session() as session:
        assert len((await session.exec(select(Delivery))).all()) == 2


async def test_member_east_of_the_team_gets_it_at_ten_of_their_own_monday(world):
    ctx, inbox = world
    await add_members(ctx, "soporte", {"ana": MADRID, "kiri": "Pacific/Auckland"})
    sender = Sender(ctx)
    ctx.clock.at = utc(2026, 11, 22, 12)  # Sunday noon in Madrid; Auckland's Monday starts at 11:00 UTC
    await run_until(ctx, sender, utc(2026, 11, 23, 12), step_minutes=15)
    (kiri,), (ana,) = inbox.of("kiri"), inbox.of("ana")
    assert local(kiri.at, "Pacific/Auckland") == ("Mon", "10:00")
    assert local(ana.at, MADRID) == ("Mon", "10:00")
    async with ctx.store.session() as session:
        assert (await session.exec(select(Round.period))).all() == ["2026-W48"]
