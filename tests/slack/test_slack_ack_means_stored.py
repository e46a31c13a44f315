"""An ack means stored: an answer whose request got its 200 is in the store, whatever happens next.

The real `pulsebot serve` runs as a subprocess (on a SQLite file, or PostgreSQL) against the fake
Slack; a signed tap, typed DM answer or modal submit is posted, and the process is killed as soon
as the 200 arrives (before any follow-up could run). The answer must be in the store, and Slack's
retry of the same request, answered by the restarted process, must record nothing twice. In
process: a slow users.info does not hold the 200 past Slack's 3 s, a typed answer the store could
not take is not acknowledged (so Slack's retry stores it), and a forget stays a forget.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlmodel import select

from handlers.checkins import answered_members, open_round
from handlers.config import load_config
from handlers.context import Context
from handlers.members import find_member
from handlers.ports import Actor
from handlers.privacy import own_answers
from schedules.outbox import Sender
from storage.models import Member, Response
from tests.context import build_ctx
from tests.fakes.slack_api import FakeChannel, FakeSlack, FakeUser
from tests.polling import eventually
from tests.schedules.serving import SECRET, Served, serve_env, team_toml
from tests.slack.conftest import SIGNING_SECRET, TEAM_ID, SlackHarness

MEMBERS = ["U1", "U2", "U3"]


def actions_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for block in message["blocks"] if block["type"] == "actions" for b in block["elements"]]


def dm_message(user: str, text: str, channel: str) -> dict[str, Any]:
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": "1700000001.000100",
            "channel_type": "im", "event_ts": "1700000001.000100"}


class Scene:
    """A seeded round, the fake Slack and the env `pulsebot serve` runs with; one `serve` at a time."""

    def __init__(self, tmp_path: Path, db_url: str, ctx: Context, fake: FakeSlack, round_id: int) -> None:
        self.tmp_path, self.ctx, self.fake, self.round_id = tmp_path, ctx, fake, round_id
        self.env = serve_env(db_url=db_url, config=tmp_path / "pulsebot.toml", api_url=fake.api_url,
                             token=fake.bot_token, rate=100)
        self.env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET  # so the Slack tests' signing helper signs for it
        self.runs = 0

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[tuple[Served, SlackHarness]]:
        """One healthy `serve` run and a door to it; stopped (unless killed already) on the way out."""
        self.runs += 1
        served = Served(self.env, self.tmp_path / f"serve-{self.runs}.log")
        try:
            await served.wait_healthy()
            async with aiohttp.ClientSession() as http:
                # The harness only builds and signs Slack's requests; the face it would hold runs in `served`.
                door = SlackHarness(self.fake, self.ctx, None, f"http://127.0.0.1:{served.port}", http)  # type: ignore[arg-type]
                yield served, door
        finally:
            served.stop()

    def card(self, user: str) -> dict[str, Any]:
        return self.fake.messages(self.fake.dm_channel(user))[0]

    async def answers(self, user: str) -> list[Response]:
        return [r for _, _, r in await own_answers(self.ctx, Actor(platform="slack", user_id=user))]

    async def responses(self) -> list[Response]:
        async with self.ctx.store.session() as session:
            return list((await session.exec(select(Response).where(Response.round_id == self.round_id))).all())


async def scene(tmp_path: Path, db_url: str, fake: FakeSlack) -> Scene:
    """The store as `pulsebot checkins send` leaves it: the round is open, `serve` delivers it."""
    (tmp_path / "pulsebot.toml").write_text(team_toml(MEMBERS), encoding="utf-8")
    ctx = await build_ctx(db_url, load_config(tmp_path / "pulsebot.toml"), secret=SECRET.encode(), now=None)
    opened = await open_round(ctx, team_name="soporte")
    return Scene(tmp_path, db_url, ctx, fake, opened.round_id)


def fake_slack() -> FakeSlack:
    users = [FakeUser(uid, uid.lower(), locale="en-US") for uid in MEMBERS]
    return FakeSlack(users=users, channels=[FakeChannel("C0TEAM", "soporte", members=[*MEMBERS, "UPULSEBOT"])],
                     team_id=TEAM_ID)


async def delivered(sc: Scene) -> None:
    await eventually(lambda: all(sc.fake.messages(sc.fake.dm_channel(u)) for u in MEMBERS), timeout=30)


async def test_a_tap_answered_200_survives_a_sigkill_right_after(tmp_path, db_url):
    async with fake_slack() as fake:
        sc = await scene(tmp_path, db_url, fake)
        async with sc.serving() as (served, door):
            await delivered(sc)
            card = sc.card("U1")
            mood_4 = next(b for b in actions_of(card) if b["value"] == f"{sc.round_id}:4")
            status, _ = await door.tap("U1", mood_4, channel=fake.dm_channel("U1"), ts=card["ts"])
            served.kill()  # at once: no follow-up of the tap had time to run
        assert status == 200
        async with sc.ctx.store.session() as session:
            member = await find_member(session, Actor(platform="slack", user_id="U1"))
            assert member is not None
            assert await answered_members(session, sc.ctx.secret, round_id=sc.round_id) == {member.id}
        assert [r.mood for r in await sc.answers("U1")] == [4]

        # After the restart the same tap again (a double click, a retry) records nothing twice.
        async with sc.serving() as (served, door):
            status, _ = await door.tap("U1", mood_4, channel=fake.dm_channel("U1"), ts=card["ts"])
            assert status == 200
            await eventually(lambda: fake.calls("chat.update"))  # the card is redrawn, after the 200
        assert [(r.mood, r.comment) for r in await sc.responses()] == [(4, None)]
    await sc.ctx.store.dispose()


async def test_a_typed_answer_survives_a_sigkill_and_slacks_retry_records_nothing_twice(tmp_path, db_url):
    async with fake_slack() as fake:
        sc = await scene(tmp_path, db_url, fake)
        dm = fake.dm_channel("U2")
        event = dm_message("U2", "More coffee & <!channel> please", dm)
        async with sc.serving() as (served, door):
            await delivered(sc)
            status, _ = await door.event(event, event_id="EvTyped1")
            served.kill()
        assert status == 200
        assert [r.comment for r in await sc.answers("U2")] == ["More coffee & <!channel> please"]

        # Slack retries an event whose 200 it did not see; the restarted process has no memory of
        # the event id, so the store must make the second delivery harmless on its own.
        before = len(fake.messages(dm))  # the check-in (and a confirmation, had the kill been slow)
        async with sc.serving() as (served, door):
            retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            status, _ = await door.event(event, event_id="EvTyped1", headers=retry)
            assert status == 200
            await eventually(lambda: len(fake.messages(dm)) == before + 1)  # answered once, then stop
        rows = await sc.responses()
        assert [(r.mood, r.comment) for r in rows] == [(None, "More coffee & <!channel> please")]
    await sc.ctx.store.dispose()


async def test_a_comment_submitted_in_the_modal_survives_a_sigkill_right_after(tmp_path, db_url):
    async with fake_slack() as fake:
        sc = await scene(tmp_path, db_url, fake)
        async with sc.serving() as (served, door):
            await delivered(sc)
            card = sc.card("U3")
            comment = next(b for b in actions_of(card) if b["action_id"].startswith("checkin.comment"))
            assert (await door.tap("U3", comment, channel=fake.dm_channel("U3"), ts=card["ts"]))[0] == 200
            view = (await eventually(lambda: fake.calls("views.open"), timeout=10))[0]["view"]
            status, answer = await door.submit("U3", view, {"comment": "Fewer meetings"})
            served.kill()
        assert status == 200 and "errors" not in answer  # the modal closed: the member saw it taken
        assert [r.comment for r in await sc.answers("U3")] == ["Fewer meetings"]
    await sc.ctx.store.dispose()


# -- in process (the `slack` fixture: the face in this process, the fake Slack, a SQLite file) ----

async def start_round(slack: SlackHarness) -> int:
    await slack.face.sync_rosters()
    opened = await open_round(slack.ctx, team_name="soporte")
    await Sender(slack.ctx).drain()
    return opened.round_id


async def stored(slack: SlackHarness, round_id: int) -> list[tuple[int | None, str | None]]:
    async with slack.ctx.store.session() as session:
        rows = (await session.exec(select(Response).where(Response.round_id == round_id))).all()
    return [(r.mood, r.comment) for r in rows]


async def test_a_slow_users_info_does_not_hold_the_200_of_a_tap(slack):
    rid = await start_round(slack)
    dm = slack.fake.dm_channel("U2")
    card = slack.fake.messages(dm)[0]
    mood_5 = next(b for b in actions_of(card) if b["value"] == f"{rid}:5")
    slack.fake.fail_next("users.info", hold=True)  # no answer until released: slower than Slack's whole 3 s
    status, _ = await asyncio.wait_for(slack.tap("U2", mood_5, channel=dm, ts=card["ts"]), timeout=2.5)
    assert status == 200
    assert await stored(slack, rid) == [(5, None)]  # stored before the 200, not after it
    slack.fake.release()
    await eventually(lambda: slack.fake.calls("chat.update"))  # the card is redrawn after


async def test_a_typed_answer_the_store_could_not_take_gets_no_200_and_slacks_retry_stores_it(slack, tmp_path):
    rid = await start_round(slack)
    dm = slack.fake.dm_channel("U3")
    event = dm_message("U3", "4", dm)
    holder = sqlite3.connect(tmp_path / "pulse.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the store past its busy timeout
    try:
        status, _ = await slack.event(event, event_id="EvLocked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert status == 500  # not acknowledged: Slack will send it again
    assert await stored(slack, rid) == []
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert (await slack.event(event, event_id="EvLocked", headers=retry))[0] == 200
    assert await stored(slack, rid) == [(4, None)]  # the retry was handled, not skipped as seen
    await eventually(lambda: len(slack.fake.messages(dm)) == 2)  # the check-in and one confirmation


async def test_forget_tapped_while_slack_is_slow_stays_forgotten(slack):
    await start_round(slack)
    dm = slack.fake.dm_channel("U4")
    # The profile arrives after the forget is stored; reading it must not bring the member back.
    slack.fake.fail_next("users.info", hold=True)
    confirm = {"action_id": "privacy.forget.confirm~0", "value": "1"}
    status, _ = await slack.tap("U4", confirm, channel=dm, ts="", ephemeral=True)
    assert status == 200
    await eventually(lambda: slack.fake.held)  # the profile was asked for; it answers after the forget
    slack.fake.release()
    await eventually(lambda: slack.fake.calls("users.info"))
    await slack.face.runtime.background.idle()
    async with slack.ctx.store.session() as session:
        assert (await session.exec(select(Member).where(Member.user_id == "U4"))).all() == []
