"""A check-in tap writes its answer and nothing else it need not (issue 14): the member's Slack
profile is kept after the ack, rewritten only when Slack says something new, and Slack's
users.info is never waited for before a check-in answer is acknowledged.

Writes to the member row are counted by a trigger in the test's own SQLite store.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from bot.slack.runtime import PROFILE_WAIT
from handlers.checkins import open_round
from schedules.outbox import Sender
from storage.models import Member, Response
from tests.polling import eventually


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for block in message["blocks"] if block["type"] == "actions" for b in block["elements"]]


async def start_round(slack) -> int:
    await slack.face.sync_rosters()
    opened = await open_round(slack.ctx, team_name="soporte")
    await Sender(slack.ctx).drain()
    async with slack.ctx.store.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE member_write (member_id INTEGER)"))
        await conn.execute(text("CREATE TRIGGER count_member_write AFTER UPDATE ON member "
                                "BEGIN INSERT INTO member_write VALUES (new.id); END"))
    return opened.round_id


async def member_writes(slack) -> int:
    async with slack.ctx.store.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM member_write"))).scalar_one())


async def member(slack, user: str) -> Member:
    async with slack.ctx.store.session() as session:
        return (await session.exec(select(Member).where(Member.user_id == user))).one()


async def tap_mood(slack, user: str, rid: int, mood: int) -> None:
    dm = slack.fake.dm_channel(user)
    card = slack.fake.messages(dm)[0]
    button = next(b for b in buttons(card) if b["value"] == f"{rid}:{mood}")
    updates = len(slack.fake.calls("chat.update"))
    status, _ = await slack.tap(user, button, channel=dm, ts=card["ts"])
    assert status == 200
    await eventually(lambda: len(slack.fake.calls("chat.update")) > updates)  # the card, redrawn after the 200
    await slack.face.runtime.background.idle()  # and the profile kept after that


async def test_a_tap_with_an_unchanged_profile_does_not_rewrite_the_member_row(slack):
    rid = await start_round(slack)
    before = await member(slack, "U2")
    await tap_mood(slack, "U2", rid, 4)
    await tap_mood(slack, "U2", rid, 5)  # a changed answer: still no profile write
    assert await member_writes(slack) == 0
    assert await member(slack, "U2") == before
    async with slack.ctx.store.session() as session:
        assert [r.mood for r in (await session.exec(select(Response))).all()] == [5]


async def test_a_changed_display_name_or_locale_in_slack_reaches_the_member_row_once(slack):
    rid = await start_round(slack)
    assert (await member(slack, "U3")).locale == "en"
    user = slack.fake.users["U3"]
    user.real_name, user.locale = "Carla Ruiz", "es-ES"  # changed in Slack since the roster was read
    await tap_mood(slack, "U3", rid, 2)
    changed = await member(slack, "U3")
    assert (changed.name, changed.locale) == ("Carla Ruiz", "es")
    assert await member_writes(slack) == 1
    await tap_mood(slack, "U3", rid, 3)  # same profile again: nothing to write
    assert await member_writes(slack) == 1


async def test_a_check_in_answer_is_acknowledged_without_waiting_for_users_info(slack):
    rid = await start_round(slack)
    dm = slack.fake.dm_channel("U4")
    card = slack.fake.messages(dm)[0]
    button = next(b for b in buttons(card) if b["value"] == f"{rid}:3")
    slack.fake.fail_next("users.info", hold=True)  # Slack's profile answer never comes until released
    started = time.monotonic()
    status, _ = await slack.tap("U4", button, channel=dm, ts=card["ts"])
    assert status == 200
    assert time.monotonic() - started < PROFILE_WAIT  # the longest a profile may hold any other ack
    async with slack.ctx.store.session() as session:
        assert [r.mood for r in (await session.exec(select(Response))).all()] == [3]
    slack.fake.release()
    await eventually(lambda: slack.fake.calls("chat.update"))
    await slack.face.runtime.background.idle()
