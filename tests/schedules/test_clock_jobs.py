"""The scheduler's jobs, meeting prompts, the leaders' digest, `pulsebot schedule` and the runner."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from sqlmodel import select

from handlers.checkins import record_answer
from handlers.config import CheckinConfig
from handlers.members import upsert_member
from handlers.messages import plain_text
from handlers.ports import Actor, SendError
from schedules import jobs
from schedules.clock import OpeningTrigger, build_scheduler, refresh_openings, run_clock
from schedules.digest import send_digests
from schedules.listing import format_rows, next_jobs
from schedules.meetings import post_meeting_chair
from schedules.outbox import Sender
from storage.models import Delivery, EmptyChair, Round
from tests.context import build_ctx, sqlite_in
from tests.polling import eventually
from tests.schedules.support import BASE_CONFIG, MONDAY_0800_UTC, Inbox, add_members

MADRID = "Europe/Madrid"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def with_meeting() -> dict:
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["meetings"] = [{"slack_channel": "C0WEEKLY", "schedule": "tue 09:30", "team": "soporte", "topic": "Q3"}]
    return cfg


async def test_jobs_have_stable_ids_built_from_the_config(tmp_path):
    ctx = await build_ctx(sqlite_in(tmp_path), with_meeting(), now=MONDAY_0800_UTC)
    scheduler = await build_scheduler(ctx)
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "checkin.close", "checkin.open:soporte", "checkin.remind", "checkin.zones", "commitment.notes",
        "digest.weekly", "followup.remind", "meeting.chair:slack:C0WEEKLY", "replies.relay", "retention.purge",
    ]
    await ctx.store.dispose()


async def test_opening_moves_earlier_when_a_member_east_of_the_team_joins(world):
    ctx, _ = world
    await add_members(ctx, "soporte", {"ana": MADRID})
    scheduler = await build_scheduler(ctx)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("checkin.open:soporte")
        assert await refresh_openings(ctx, scheduler) == 0
        await add_members(ctx, "soporte", {"ana": MADRID, "kiri": "Pacific/Auckland"})
        assert await refresh_openings(ctx, scheduler) == 1
        job = scheduler.get_job("checkin.open:soporte")
        fire = job.trigger.get_next_fire_time(None, utc(2026, 11, 22, 0))
        assert fire == utc(2026, 11, 22, 21)  # Monday 10:00 in Auckland
    finally:
        scheduler.shutdown(wait=False)


def test_opening_trigger_follows_the_cadence():
    weekly = OpeningTrigger(CheckinConfig(), MADRID, set())
    first = weekly.get_next_fire_time(None, utc(2026, 11, 22, 12))
    assert first == utc(2026, 11, 23, 9)
    assert weekly.get_next_fire_time(first, first) == utc(2026, 11, 30, 9)
    biweekly = OpeningTrigger(CheckinConfig(cadence="biweekly"), MADRID, {"America/Mexico_City"})
    a = biweekly.get_next_fire_time(None, utc(2026, 11, 22, 12))
    b = biweekly.get_next_fire_time(a, a)
    assert (b - a).days == 14


async def test_scheduled_meeting_gets_one_empty_chair(tmp_path):
    ctx = await build_ctx(sqlite_in(tmp_path), with_meeting(), now=utc(2026, 11, 24, 8, 30))
    slack = Inbox(ctx.clock, platform="slack")
    ctx.messengers["slack"] = slack
    assert await post_meeting_chair(ctx, 0) == 1
    assert await post_meeting_chair(ctx, 0) == 0  # a restart in the same minute posts nothing twice
    (post,) = [r for r in slack.received if r.key == "post"]
    assert post.user_id == "C0WEEKLY" and "Q3" in plain_text(post.message)
    async with ctx.store.session() as session:
        (chair,) = (await session.exec(select(EmptyChair))).all()
    assert chair.message_ref == "1" and chair.topic == "Q3"
    await ctx.store.dispose()


class ClosedChannel(Inbox):
    """A platform that refuses every post (the bot was removed from the channel)."""

    async def post(self, *, conversation, message, thread_ref=None):
        self.calls["post"] += 1
        raise SendError("not_in_channel", transient=False)


async def test_a_meeting_prompt_the_platform_refused_counts_nothing_and_leaves_the_chair_without_a_card(tmp_path):
    ctx = await build_ctx(sqlite_in(tmp_path), with_meeting(), now=utc(2026, 11, 24, 8, 30))
    slack = ClosedChannel(ctx.clock, platform="slack")
    ctx.messengers["slack"] = slack
    assert await post_meeting_chair(ctx, 0) == 0  # logged, not raised: the clock goes on
    assert slack.calls["post"] == 1
    async with ctx.store.session() as session:
        (chair,) = (await session.exec(select(EmptyChair))).all()
    assert chair.message_ref is None  # carry_out remembers only a card that landed
    await ctx.store.dispose()


async def test_leader_gets_a_short_digest_once_on_monday_morning(world):
    ctx, inbox = world
    await upsert_member(ctx, Actor(platform="console", user_id="lead-soporte", timezone=MADRID, locale="es"))
    people = ["ana", "eva", "luis", "marta"]
    await add_members(ctx, "soporte", dict.fromkeys(people, MADRID))
    ctx.clock.at = utc(2026, 11, 16, 9)
    await jobs.open_team_round(ctx, "soporte")
    await Sender(ctx).drain()
    async with ctx.store.session() as session:
        round_id = (await session.exec(select(Round.id))).one()
    for uid, mood in zip(people[:3], (4, 5, 3), strict=True):
        await record_answer(ctx, Actor(platform="console", user_id=uid), round_id=round_id, mood=mood)
    ctx.clock.at = utc(2026, 11, 23, 7, 45)  # 08:45 in Madrid: not yet
    assert await send_digests(ctx) == 0
    ctx.clock.at = utc(2026, 11, 23, 8, 0)
    assert await send_digests(ctx) == 1
    ctx.clock.at = utc(2026, 11, 23, 8, 15)
    assert await send_digests(ctx) == 0
    (digest,) = inbox.of("lead-soporte")
    text = plain_text(digest.message)
    assert "Tu pulso de la semana" in text
    assert "soporte (2026-W47): ánimo 4,0/5 · participación 75" in text
    await ctx.store.dispose()


async def test_schedule_lists_next_jobs_with_local_times(world):
    ctx, _ = world
    await add_members(ctx, "soporte", {"ana": MADRID, "luis": "America/Mexico_City"})
    ctx.clock.at = utc(2026, 11, 23, 12)
    await jobs.open_team_round(ctx, "soporte")
    rows = await next_jobs(ctx)
    kinds = [(r.kind, r.subject) for r in rows]
    assert kinds[:2] == [("remind", "soporte"), ("close", "soporte")]
    (open_row,) = [r for r in rows if r.kind == "open"]
    assert open_row.period == "2026-W49" and open_row.local.strftime("%a %H:%M") == "Mon 10:00"
    text = format_rows(rows, "es")
    assert "Hora local" in text and "abrir la ronda 2026-W49" in text and "lun 2026-11-30 10:00 Europe/Madrid" in text


async def test_runner_on_sqlite_leads_catches_up_and_delivers(world):
    ctx, inbox = world
    await add_members(ctx, "soporte", {"ana": MADRID, "eva": MADRID})
    ctx.clock.at = utc(2026, 11, 23, 11)  # the round's opening passed while the process was down
    runner = await run_clock(ctx, poll=0.05)
    try:
        await eventually(lambda: runner.is_holder, timeout=5)
        assert runner.health() == {"ok": True, "scheduler": "running", "clock_holder": True}
        await eventually(lambda: len(inbox.received) == 2, timeout=4)
    finally:
        await runner.stop()
    assert sorted(r.user_id for r in inbox.received) == ["ana", "eva"]
    assert runner.health()["ok"] is False and not runner.is_holder
    async with ctx.store.session() as session:
        assert {d.status for d in (await session.exec(select(Delivery))).all()} == {"sent"}
