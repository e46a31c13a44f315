"""A whole check-in round in Slack: roster from a channel, DMs, taps, and the leader's report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from handlers.checkins import open_round
from handlers.i18n import t
from schedules.outbox import Sender
from storage.models import Member, Response, TeamMember
from tests.polling import eventually


def actions_of(message: dict) -> list[list[dict]]:
    return [b["elements"] for b in message["blocks"] if b["type"] == "actions"]


async def start_round(slack) -> int:
    sizes = await slack.face.sync_rosters()
    assert sizes == {"soporte": 4}
    opened = await open_round(slack.ctx, team_name="soporte")
    drained = await Sender(slack.ctx).drain()
    assert drained.sent == 4
    return opened.round_id


async def test_roster_is_the_channel_people_without_bots_deleted_guests_or_leaders(slack):
    await slack.face.sync_rosters()
    async with slack.ctx.store.session() as session:
        rows = (await session.exec(select(Member.user_id, Member.locale, Member.timezone)
                                   .join(TeamMember, TeamMember.member_id == Member.id))).all()
    assert sorted(r[0] for r in rows) == ["U1", "U2", "U3", "U4"]
    assert ("U1", "es", "Europe/Madrid") in rows and ("U3", "en", "America/New_York") in rows


async def test_each_member_gets_a_dm_with_five_mood_buttons_worst_first(slack):
    rid = await start_round(slack)
    for user in ("U1", "U2", "U3", "U4"):
        messages = slack.fake.messages(slack.fake.dm_channel(user))
        assert len(messages) == 1
        mood = actions_of(messages[0])[0]
        assert [b["value"] for b in mood] == [f"{rid}:{n}" for n in range(1, 6)]
        assert all(len(b["text"]["text"]) <= 75 for b in mood)
    assert slack.fake.calls("conversations.open") == []  # posted to the user id, no open per member


async def test_a_spanish_member_reads_spanish(slack):
    await start_round(slack)
    ana = slack.fake.messages(slack.fake.dm_channel("U1"))[0]
    bob = slack.fake.messages(slack.fake.dm_channel("U2"))[0]
    assert ana["text"] == t("checkin.fallback", "es") != t("checkin.fallback", "en")
    assert bob["text"] == t("checkin.fallback", "en")
    assert t("checkin.question", "es") in str(ana["blocks"])


async def test_taps_are_stored_and_the_card_says_what_was_chosen(slack):
    rid = await start_round(slack)
    for user, score in (("U1", 2), ("U2", 4), ("U3", 5)):
        dm = slack.fake.dm_channel(user)
        message = slack.fake.messages(dm)[0]
        status, _ = await slack.tap(user, actions_of(message)[0][score - 1], channel=dm, ts=message["ts"])
        assert status == 200
    await eventually(lambda: len(slack.fake.calls("chat.update")) == 3)
    async with slack.ctx.store.session() as session:
        moods = sorted(r.mood for r in (await session.exec(select(Response).where(Response.round_id == rid))).all())
    assert moods == [2, 4, 5]
    chosen = actions_of(slack.fake.messages(slack.fake.dm_channel("U2"))[0])[0][3]
    assert chosen["style"] == "primary" and chosen["text"]["text"].startswith("✓")


async def test_a_double_tap_changes_nothing_twice(slack):
    rid = await start_round(slack)
    dm = slack.fake.dm_channel("U4")
    message = slack.fake.messages(dm)[0]
    button = actions_of(message)[0][2]
    for _ in range(2):
        assert (await slack.tap("U4", button, channel=dm, ts=message["ts"]))[0] == 200
    await eventually(lambda: len(slack.fake.calls("chat.update")) == 2)
    async with slack.ctx.store.session() as session:
        rows = (await session.exec(select(Response).where(Response.round_id == rid))).all()
    assert [(r.mood, r.comment) for r in rows] == [(3, None)]


@pytest.mark.report_worker
async def test_team_pulse_shows_participation_to_the_leader_only(slack):
    await start_round(slack)
    for user in ("U1", "U2", "U3"):
        dm = slack.fake.dm_channel(user)
        message = slack.fake.messages(dm)[0]
        await slack.tap(user, actions_of(message)[0][3], channel=dm, ts=message["ts"])
    await eventually(lambda: len(slack.fake.calls("chat.update")) == 3)

    leader_url = await slack.command("/team-pulse", "", user="U0BOSS")
    answer = await eventually(lambda: [c for c in slack.fake.calls("response_url") if c["_response_url"] == leader_url])
    assert answer[0]["response_type"] == "ephemeral"
    assert "75%" in str(answer[0]["blocks"])  # 3 of 4 answered
    await eventually(lambda: slack.fake.calls("files.completeUploadExternal"))
    assert slack.fake.messages(slack.fake.dm_channel("U0BOSS"))[-1]["files"]  # the chart, in the leader's DM

    other_url = await slack.command("/team-pulse", "soporte", user="U2")
    refusal = await eventually(lambda: [c for c in slack.fake.calls("response_url") if c["_response_url"] == other_url])
    assert "%" not in str(refusal[0]["blocks"]) and "fields" not in str(refusal[0]["blocks"])
    assert len(slack.fake.calls("files.completeUploadExternal")) == 1
    assert slack.fake.calls("chat.postMessage")[-1]["channel"] != "C0SUPPORT"  # nothing visible in the channel

    # The report ran in the worker process, which runs only on cores the server leaves idle, and
    # on one of them: the last this process may use (the server keeps every core).
    children = {int(pid) for f in Path("/proc/self/task").glob("*/children") for pid in f.read_text().split()}
    policies = {pid: os.sched_getscheduler(pid) for pid in children}
    assert os.SCHED_IDLE in policies.values() and os.sched_getscheduler(0) != os.SCHED_IDLE, policies
    cores = sorted(os.sched_getaffinity(0))
    helpers = [os.sched_getaffinity(pid) for pid, policy in policies.items() if policy == os.SCHED_IDLE]
    assert all(got == ({cores[-1]} if len(cores) > 1 else set(cores)) for got in helpers), (cores, helpers)


async def test_a_tap_after_the_round_closed_is_refused_politely(slack):
    rid = await start_round(slack)
    slack.ctx.clock.move(hours=73)
    dm = slack.fake.dm_channel("U2")
    message = slack.fake.messages(dm)[0]
    await slack.tap("U2", actions_of(message)[0][0], channel=dm, ts=message["ts"])
    reply = await eventually(lambda: [m for m in slack.fake.messages(dm)[1:]])
    assert t("checkin.closed", "en") in str(reply[0]["blocks"])
    async with slack.ctx.store.session() as session:
        assert (await session.exec(select(Response).where(Response.round_id == rid))).all() == []


async def test_a_comment_from_the_modal_is_stored_and_shown_escaped(slack):
    rid = await start_round(slack)
    dm = slack.fake.dm_channel("U1")
    message = slack.fake.messages(dm)[0]
    comment_button = next(b for row in actions_of(message) for b in row if b["action_id"].startswith("checkin.comment"))
    await slack.tap("U1", comment_button, channel=dm, ts=message["ts"])
    view = (await eventually(lambda: slack.fake.calls("views.open")))[0]["view"]
    assert view["close"]["text"] == "Cancelar"  # Ana reads Spanish
    status, _ = await slack.submit("U1", view, {"comment": "Ojo <!channel> & <https://x.test|aquí>"})
    assert status == 200
    await eventually(lambda: slack.fake.calls("chat.update"))
    card = str(slack.fake.messages(dm)[0]["blocks"])
    # Shown as words: escaped, and the URL broken by invisible word joiners so it cannot link.
    assert "&lt;!channel&gt; &amp; &lt;https:\\u2060//x\\u2060.test|aquí&gt;" in card and "<!channel>" not in card
    async with slack.ctx.store.session() as session:
        stored = (await session.exec(select(Response).where(Response.round_id == rid))).one()
    assert stored.comment == "Ojo <!channel> & <https://x.test|aquí>"


async def test_a_comment_too_long_is_refused_inside_the_modal(slack):
    await start_round(slack)
    dm = slack.fake.dm_channel("U2")
    message = slack.fake.messages(dm)[0]
    comment_button = next(b for row in actions_of(message) for b in row if b["action_id"].startswith("checkin.comment"))
    await slack.tap("U2", comment_button, channel=dm, ts=message["ts"])
    view = (await eventually(lambda: slack.fake.calls("views.open")))[0]["view"]
    status, answer = await slack.submit("U2", view, {"comment": "x" * 5000})
    assert status == 200 and '"response_action": "errors"' in answer.replace(":", ": ").replace(":  ", ": ")
    assert slack.fake.calls("chat.update") == []


async def test_a_tap_in_the_dm_keeps_the_dm_channel_on_the_member(slack):
    await start_round(slack)
    dm = slack.fake.dm_channel("U3")
    message = slack.fake.messages(dm)[0]
    await slack.tap("U3", actions_of(message)[0][1], channel=dm, ts=message["ts"])
    await eventually(lambda: slack.fake.calls("chat.update"))
    await slack.face.runtime.background.idle()  # a check-in answer keeps the DM after its ack
    async with slack.ctx.store.session() as session:
        member = (await session.exec(select(Member).where(Member.user_id == "U3"))).one()
    assert member.dm_conversation == dm
