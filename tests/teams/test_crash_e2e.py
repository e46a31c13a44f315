"""The whole `pulsebot serve` on Teams (Emulator mode) SIGKILLed with check-ins in flight.

The fake Bot Connector stores two cards and holds their answers; serve is killed before it can
record them. Teams cannot list a chat, so after the restart those two rows are "maybe delivered"
and not sent again: every member still has exactly one card. The operator's report (`pulsebot
report --format json`, live and after `pulsebot checkins close`) counts them apart from the one
member whose card really failed (the connector refused it: they blocked the bot).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from microsoft_agents.activity import ChannelAccount, ConversationAccount, ConversationReference
from sqlmodel import select

from bot.teams.messenger import dump_reference
from handlers.checkins import open_round
from handlers.config import load_config
from handlers.context import Context
from handlers.members import sync_roster, upsert_member
from handlers.ports import Actor
from storage.models import Delivery, Member
from tests.context import build_ctx
from tests.environ import clean_env
from tests.fakes.teams_connector import FakeConnector
from tests.polling import eventually
from tests.schedules.serving import ROOT, SECRET, Served, quiet_weekday
from tests.teams.conftest import BOT_ID, TEAM_ID, TENANT

USERS = [f"29:u{i:02d}" for i in range(8)]
HELD = 2  # cards the connector stores and never answers for before the kill


def teams_toml() -> str:
    return (
        '[pulse]\nmin_group_size = 3\ndefault_locale = "en"\ntimezone = "Europe/Madrid"\n\n'
        f'[[teams]]\nname = "soporte"\nteams_conversation = "{TEAM_ID}"\n'
        f'checkin = {{ cadence = "weekly", weekday = "{quiet_weekday()}", time = "10:00", '
        "window_hours = 2, reminder_after_hours = 1 }\n"
    )


def teams_env(*, db_url: str, config: Path) -> dict[str, str]:
    """Teams in Emulator mode only: no app id, no Slack."""
    return clean_env(DATABASE_URL=db_url, PULSEBOT_CONFIG=str(config), PULSEBOT_SECRET=SECRET,
                     PULSEBOT_TEAMS_EMULATOR="1", PYTHONPATH=str(ROOT))


async def seeded_round(tmp_path: Path, db_url: str, service_url: str) -> Context:
    """What an installed team and `open_round` leave: a roster reachable at the fake, and its outbox."""
    config = tmp_path / "pulsebot.toml"
    config.write_text(teams_toml(), encoding="utf-8")
    ctx = await build_ctx(db_url, load_config(config), secret=SECRET.encode(), now=None)
    actors = [Actor(platform="teams", user_id=uid, workspace=TENANT, name=uid) for uid in USERS]
    await sync_roster(ctx, team_name="soporte", members=actors)
    for actor in actors:
        reference = ConversationReference(
            channel_id="msteams", service_url=service_url, bot=ChannelAccount(id=BOT_ID, name="pulsebot"),
            user=ChannelAccount(id=actor.user_id), conversation=ConversationAccount(id=TEAM_ID, tenant_id=TENANT),
        )
        await upsert_member(ctx, actor, dm_conversation=f"a:personal-{actor.user_id}",
                            conversation_ref=dump_reference(reference))
    assert (await open_round(ctx, team_name="soporte")).new_deliveries == len(USERS)
    return ctx


async def statuses(ctx: Context) -> dict[str, str]:
    """Each member's delivery status."""
    async with ctx.store.session() as session:
        rows = (await session.exec(select(Member.user_id, Delivery.status).join(Member))).all()
    return dict(rows)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def report_figures(env: dict[str, str]) -> tuple[int, int, int, int, int]:
    """(delivered, failed, maybe delivered) of the round, then the team's failed and maybe delivered."""
    team = json.loads(cli(env, "report", "--team", "soporte", "--format", "json"))["teams"][0]
    (period,) = team["periods"]
    return (period["delivered"], period["failed_deliveries"], period["maybe_delivered"],
            team["failed_deliveries"], team["maybe_delivered"])


async def test_serve_killed_with_checkins_stored_but_unanswered_never_sends_a_second_card(tmp_path, db_url):
    async with FakeConnector() as fake:
        ctx = await seeded_round(tmp_path, db_url, fake.url)
        fake.fail_next("send", status=403)  # one member blocked the bot: a real failure
        fake.lose_answer("send", count=HELD, hold=True)  # stored, answer held until serve is dead
        env = teams_env(db_url=db_url, config=tmp_path / "pulsebot.toml")

        first = Served(env, tmp_path / "serve-1.log")
        try:
            await first.wait_healthy()

            async def in_flight() -> bool:
                seen = Counter((await statuses(ctx)).values())
                return fake.held == HELD and seen == {"sent": len(USERS) - HELD - 1, "failed": 1, "sending": HELD}

            async def seen() -> tuple[int, dict[str, str]]:
                return fake.held, await statuses(ctx)

            await eventually(in_flight, timeout=30, otherwise=seen)
        finally:
            first.kill()  # the connector has the two cards; pulsebot never heard back
        assert len(fake.calls("send")) == len(USERS) - 1

        second = Served(env, tmp_path / "serve-2.log")
        try:
            await second.wait_healthy()

            async def settled() -> bool:
                return Counter((await statuses(ctx)).values()) == {
                    "sent": len(USERS) - HELD - 1, "failed": 1, "uncertain": HELD}

            # Rows left 'sending' get the recovery's grace (10 s after their claim), then are settled.
            await eventually(settled, timeout=40, otherwise=lambda: statuses(ctx))
        finally:
            second.stop()

        final = await statuses(ctx)
        assert len(fake.calls("send")) == len(USERS) - 1  # nothing was sent again
        cards = {uid: len(fake.cards(f"a:personal-{uid}")) for uid in USERS}
        assert cards == {uid: 0 if final[uid] == "failed" else 1 for uid in USERS}
        log = (tmp_path / "serve-2.log").read_text()
        assert log.count("delivery maybe delivered") == HELD and "reason=interrupted" in log

        assert report_figures(env) == (len(USERS), 1, HELD, 1, HELD)  # open round: counted live
        assert "round closed" in cli(env, "checkins", "close", "--team", "soporte")
        assert report_figures(env) == (len(USERS), 1, HELD, 1, HELD)  # closed: from the frozen summary
    await ctx.store.dispose()
