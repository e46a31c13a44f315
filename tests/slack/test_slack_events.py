"""Events: a reply typed in the DM, Slack's retries, the App Home tab, a member joining the channel."""

from __future__ import annotations

from sqlmodel import select

from handlers.checkins import open_round
from schedules.outbox import Sender
from storage.models import Member, Response, TeamMember
from tests.polling import eventually


def dm_message(user: str, text: str, channel: str) -> dict:
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": "1700000001.000100",
            "channel_type": "im", "event_ts": "1700000001.000100"}


async def open_and_send(slack) -> int:
    await slack.face.sync_rosters()
    opened = await open_round(slack.ctx, team_name="soporte")
    await Sender(slack.ctx).drain()
    return opened.round_id


async def responses(slack, rid: int) -> list[Response]:
    async with slack.ctx.store.session() as session:
        return list((await session.exec(select(Response).where(Response.round_id == rid))).all())


async def test_a_mood_typed_in_the_dm_is_recorded_and_answered(slack):
    rid = await open_and_send(slack)
    dm = slack.fake.dm_channel("U1")
    status, _ = await slack.event(dm_message("U1", "muy bien", dm), event_id="Ev1")
    assert status == 200
    await eventually(lambda: len(slack.fake.messages(dm)) == 2)
    assert [r.mood for r in await responses(slack, rid)] == [5]
    assert slack.fake.calls("chat.postMessage")[-1]["channel"] == "U1"


async def test_a_retried_event_changes_nothing_twice(slack):
    rid = await open_and_send(slack)
    dm = slack.fake.dm_channel("U2")
    event = dm_message("U2", "We need <!channel> more coffee & tea", dm)
    assert (await slack.event(event, event_id="Ev2"))[0] == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await slack.event(event, event_id="Ev2", headers=retry))[0] == 200
    await eventually(lambda: len(slack.fake.messages(dm)) >= 2)
    rows = await responses(slack, rid)
    assert [r.comment for r in rows] == ["We need <!channel> more coffee & tea"]
    assert len(slack.fake.messages(dm)) == 2  # the DM, and one answer only


async def test_text_without_an_open_round_gets_a_hint(slack):
    dm = slack.fake.dm_channel("U3")
    await slack.event(dm_message("U3", "hello?", dm), event_id="Ev3")
    hint = await eventually(lambda: slack.fake.messages(dm))
    assert "/pulse" in hint[0]["text"]


async def test_bot_messages_and_edits_are_not_answers(slack):
    rid = await open_and_send(slack)
    dm = slack.fake.dm_channel("U1")
    await slack.event({**dm_message("U1", "5", dm), "subtype": "message_changed"}, event_id="Ev4")
    await slack.event({**dm_message("U1", "5", dm), "bot_id": "B1"}, event_id="Ev5")
    await slack.event(dm_message("U1", "4", dm), event_id="Ev6")
    await eventually(lambda: len(slack.fake.messages(dm)) == 2)
    assert [r.mood for r in await responses(slack, rid)] == [4]


async def test_app_home_shows_own_answers_and_no_figures_to_a_member(slack):
    rid = await open_and_send(slack)
    dm = slack.fake.dm_channel("U1")
    await slack.event(dm_message("U1", "2", dm), event_id="Ev7")
    await eventually(lambda: len(slack.fake.messages(dm)) == 2)
    assert await responses(slack, rid)
    await slack.event({"type": "app_home_opened", "user": "U1", "channel": dm, "tab": "home"}, event_id="Ev8")
    published = await eventually(lambda: slack.fake.calls("views.publish"))
    assert published[0]["user_id"] == "U1"
    home = str(published[0]["view"]["blocks"])
    assert "Mal" in home  # her own answer (2), in Spanish
    assert "Participa" not in home and "%" not in home


async def test_app_home_of_a_leader_has_the_team_summary(slack):
    await open_and_send(slack)
    await slack.event({"type": "app_home_opened", "user": "U0BOSS", "channel": "D0BOSS", "tab": "home"},
                      event_id="Ev9")
    published = await eventually(lambda: slack.fake.calls("views.publish"))
    assert "Participation" in str(published[0]["view"]["blocks"])
    assert "slack.com" not in str(published[0]["view"]["blocks"])


async def test_a_new_member_of_the_team_channel_joins_the_roster(slack):
    await slack.face.sync_rosters()
    slack.fake.users["U5"] = type(slack.fake.users["U4"])("U5", "eva", locale="es-MX")
    slack.fake.channels["C0SUPPORT"].members.append("U5")
    await slack.event({"type": "member_joined_channel", "user": "U5", "channel": "C0SUPPORT",
                       "channel_type": "C", "team": "T0TEST"}, event_id="Ev10")

    async def joined() -> bool:
        async with slack.ctx.store.session() as session:
            rows = (await session.exec(select(Member.user_id, Member.locale)
                                       .join(TeamMember, TeamMember.member_id == Member.id))).all()
        return ("U5", "es") in rows

    await eventually(joined)
