"""The whole `pulsebot serve` against the fake Slack: SIGKILL halfway through a round, replicas.

Each member must end up with exactly one check-in at the fake platform, whatever was in flight
when the process died: rows left in 'sending' are looked up by their delivery key first.
"""

from __future__ import annotations

import os

import pytest
from sqlmodel import func, select

from handlers.checkins import open_round
from handlers.config import load_config
from handlers.context import Context
from storage.models import Delivery
from tests.context import build_ctx
from tests.fakes.slack_api import FakeSlack
from tests.polling import eventually
from tests.schedules.serving import (
    SECRET,
    Served,
    assert_exactly_one_each,
    fake_for,
    one_holder,
    serve_env,
    team_toml,
)

PG_URL = os.environ.get("PULSEBOT_TEST_POSTGRES_URL", "")


async def seeded_round(tmp_path, db_url: str, members: list[str]) -> Context:
    """The store as `pulsebot checkins send` leaves it before sending: a round and its outbox."""
    config = tmp_path / "pulsebot.toml"
    config.write_text(team_toml(members), encoding="utf-8")
    ctx = await build_ctx(db_url, load_config(config), secret=SECRET.encode(), now=None)
    opened = await open_round(ctx, team_name="soporte")
    assert opened.new_deliveries == len(members)
    return ctx


async def counts(ctx: Context) -> dict[str, int]:
    async with ctx.store.session() as session:
        rows = (await session.exec(select(Delivery.status, func.count()).group_by(Delivery.status))).all()
    return dict(rows)


async def test_sigkill_halfway_through_a_500_member_round_delivers_each_exactly_once(tmp_path):
    members = [f"U{i:04d}" for i in range(500)]
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'pulse.db'}"
    ctx = await seeded_round(tmp_path, db_url, members)
    async with fake_for(members) as fake:
        env = serve_env(db_url=db_url, config=tmp_path / "pulsebot.toml", api_url=fake.api_url,
                        token=fake.bot_token, rate=60)
        first = Served(env, tmp_path / "serve-1.log")
        try:
            await first.wait_healthy()
            await eventually(lambda: _at_least(fake, 250), timeout=60)
        finally:
            first.kill()
        at_kill = len(fake.calls("chat.postMessage"))
        assert 250 <= at_kill < 500, "the kill must land halfway"
        second = Served(env, tmp_path / "serve-2.log")
        try:
            await second.wait_healthy()
            await eventually(lambda: _all_sent(ctx, 500), timeout=60, otherwise=lambda: counts(ctx))
        finally:
            second.stop()
        assert_exactly_one_each(fake, members)
    await ctx.store.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PULSEBOT_TEST_POSTGRES_URL is not set")
async def test_two_serve_replicas_on_postgres_deliver_once_and_the_survivor_takes_over(tmp_path):
    members = [f"U{i:04d}" for i in range(60)]
    ctx = await seeded_round(tmp_path, PG_URL, members)
    async with fake_for(members) as fake:
        env = serve_env(db_url=PG_URL, config=tmp_path / "pulsebot.toml", api_url=fake.api_url,
                        token=fake.bot_token, rate=10)
        replicas = [Served(env, tmp_path / "serve-a.log"), Served(env, tmp_path / "serve-b.log")]
        try:
            bodies = [await r.wait_healthy() for r in replicas]
            await eventually(lambda: one_holder(replicas), timeout=15)
            holder, survivor = await _split(replicas)
            await eventually(lambda: _at_least(fake, 20), timeout=30)
            holder.kill()
            await eventually(survivor.holds_clock, timeout=15, otherwise=lambda: "the survivor never took over")
            await eventually(lambda: _all_sent(ctx, 60), timeout=60, otherwise=lambda: counts(ctx))
        finally:
            for r in replicas:
                r.stop()
        assert all(b["ok"] for b in bodies)
        assert_exactly_one_each(fake, members)
    await ctx.store.dispose()


async def _at_least(fake: FakeSlack, n: int) -> bool:
    return len(fake.calls("chat.postMessage")) >= n


async def _all_sent(ctx: Context, n: int) -> bool:
    return (await counts(ctx)).get("sent", 0) == n


async def _split(replicas: list[Served]) -> tuple[Served, Served]:
    a, b = replicas
    return (a, b) if await a.holds_clock() else (b, a)
