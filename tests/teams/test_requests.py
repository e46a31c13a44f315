"""Requests to /api/messages: authentication, malformed input, meetings, the empty chair in a
channel, Action.Submit payloads."""

from __future__ import annotations

from sqlmodel import select

from handlers.i18n import t
from storage.models import EmptyChair, Impact, Member
from tests.teams.conftest import (
    LEAD,
    MEETING_CHAT,
    MEMBERS,
    TEAM_ID,
    TeamsRig,
    assert_valid_card,
    card_texts,
    find_action,
)


async def _members(rig: TeamsRig) -> list[Member]:
    async with rig.ctx.store.session() as session:
        return list((await session.exec(select(Member).where(Member.platform == "teams"))).all())


async def test_with_an_app_id_a_request_without_a_valid_token_gets_401_and_changes_nothing(secured_rig: TeamsRig):
    rig = secured_rig
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer a.b.c"}):
        activity = rig.client._base(MEMBERS[0], rig.client.personal(MEMBERS[0]), type="message", text="pulse me")
        async with rig.client.http.post(rig.client.url, json=activity, headers=headers) as resp:
            assert resp.status == 401, headers
    status, _ = await rig.client.install_personal(MEMBERS[0])
    assert status == 401
    assert await _members(rig) == []
    assert rig.connector.calls() == []


async def test_emulator_mode_accepts_loopback_requests_without_a_token(rig: TeamsRig):
    status, _ = await rig.client.install_personal(MEMBERS[0])
    assert status == 202
    assert [m.user_id for m in await _members(rig)] == ["29:ana"]
    welcome = rig.connector.activities("a:personal-29:ana")[-1]
    assert welcome["text"] == t("teams.welcome", "es")
    assert all(call.authorization is None for call in rig.connector.calls())


async def test_malformed_activity_is_refused_and_changes_nothing(rig: TeamsRig):
    async with rig.client.http.post(rig.client.url, data="{not json", headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
    async with rig.client.http.post(rig.client.url, json={"type": "message", "text": "hi"}) as resp:
        assert resp.status == 400  # no conversation
    async with rig.client.http.post(rig.client.url, json={"type": "message", "conversation": {"id": 5},
                                                          "from": "nobody"}) as resp:
        assert resp.status == 400
    assert await _members(rig) == []
    assert rig.connector.calls() == []


async def test_meeting_start_in_an_enabled_meeting_chat_posts_the_empty_chair(rig: TeamsRig):
    status, _ = await rig.client.meeting_start(LEAD)
    assert status == 202
    cards = rig.connector.cards(MEETING_CHAT)
    assert len(cards) == 1
    assert_valid_card(cards[0])
    assert "Weekly sync" in card_texts(cards[0])
    async with rig.ctx.store.session() as session:
        chair = (await session.exec(select(EmptyChair))).one()
    assert chair.conversation == MEETING_CHAT and chair.message_ref  # remembered for updates
    # Teams re-sends the same event when it got no answer: still one chair.
    await rig.client.meeting_start(LEAD)
    assert len(rig.connector.cards(MEETING_CHAT)) == 1


async def test_meeting_start_where_the_chair_is_not_enabled_posts_nothing(rig: TeamsRig):
    status, _ = await rig.client.meeting_start(LEAD, chat="19:meeting_other@thread.v2", event_id="ev-9")
    assert status == 202
    assert rig.connector.cards("19:meeting_other@thread.v2") == []


async def test_empty_chair_by_mention_collects_impacts_and_closes_with_a_summary(rig: TeamsRig):
    channel = rig.client.channel()
    status, _ = await rig.client.say(MEMBERS[1], "empty-chair Q3 pricing", conversation=channel)
    assert status == 202
    chair_activity = [a for a in rig.connector.activities(TEAM_ID) if a.get("attachments")][-1]
    card = chair_activity["attachments"][0]["content"]
    assert_valid_card(card)
    assert "Q3 pricing" in card_texts(card)

    # "Add client impact" opens the form for the one who tapped (the invoke response)...
    status, body = await rig.client.tap(MEMBERS[2], find_action(card, "chair.impact"),
                                        reply_to=chair_activity["id"], conversation=channel)
    form = body["value"]
    assert_valid_card(form)
    ids = {el["id"]: el for el in form["body"] if el["type"].startswith("Input.")}
    effect_id = next(i for i in ids if i.endswith("effect"))
    who_id = next(i for i in ids if i.endswith("who"))
    # ...and its submit records the impact and redraws the shared card for everyone.
    status, body = await rig.client.tap(
        MEMBERS[2], find_action(form, "chair.impact.submit"), reply_to=chair_activity["id"], conversation=channel,
        inputs={effect_id: "unknown", who_id: "retail clients"},
    )
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(body["value"])
    updates = rig.connector.calls("update")
    assert updates and updates[-1].activity_id == chair_activity["id"]
    assert_valid_card(updates[-1].body["attachments"][0]["content"])
    async with rig.ctx.store.session() as session:
        impact = (await session.exec(select(Impact))).one()
    assert (impact.effect, impact.who) == ("unknown", "retail clients")

    # Close: the card shows it closed and the summary goes in the card's thread.
    refreshed = rig.connector.activities(TEAM_ID)
    current = next(a for a in refreshed if a["id"] == chair_activity["id"])["attachments"][0]["content"]
    status, body = await rig.client.tap(MEMBERS[1], find_action(current, "chair.close"),
                                        reply_to=chair_activity["id"], conversation=channel)
    assert status == 200
    summary = rig.connector.calls("reply")[-1]
    assert summary.activity_id == chair_activity["id"]
    assert_valid_card(summary.body["attachments"][0]["content"])
    assert "retail clients" in card_texts(summary.body["attachments"][0]["content"])


async def test_action_submit_payload_is_understood(rig: TeamsRig):
    from handlers.checkins import open_round
    from schedules.outbox import Sender

    await rig.client.install_team(LEAD)
    await rig.client.install_personal(MEMBERS[1])
    opened = await open_round(rig.ctx, team_name="soporte")
    await Sender(rig.ctx).drain()
    card_activity = rig.connector.activities("a:personal-29:bob")[-1]
    activity = rig.client._base(
        MEMBERS[1], rig.client.personal(MEMBERS[1]), type="message",
        value={"action": "checkin.mood", "value": f"{opened.round_id}:2"}, replyToId=card_activity["id"],
    )
    status, _ = await rig.client.send(activity)
    assert status == 202
    update = rig.connector.calls("update")[-1]
    assert update.activity_id == card_activity["id"]
    assert "✓" in card_texts(update.body["attachments"][0]["content"])


async def test_unknown_text_in_the_personal_chat_gets_help_in_the_members_language(rig: TeamsRig):
    await rig.client.install_personal(MEMBERS[0])
    status, _ = await rig.client.say(MEMBERS[0], "hola?")
    assert status == 202
    assert rig.connector.activities("a:personal-29:ana")[-1]["text"] == t("teams.help", "es")


async def test_a_card_tap_that_is_not_ours_is_refused_without_a_change(rig: TeamsRig):
    await rig.client.install_personal(MEMBERS[0])
    status, body = await rig.client.tap(MEMBERS[0], {"data": {"foo": "bar"}}, reply_to="1")
    assert status == 200 and body["statusCode"] == 400


async def test_emulator_mode_is_announced_loudly_at_start(rig: TeamsRig, caplog):
    with caplog.at_level("WARNING", logger="bot.teams.app"):
        await rig.face.start()
    assert any(r.levelname == "WARNING" and "EMULATOR MODE" in r.getMessage() for r in caplog.records)


async def test_forget_asks_first_then_deletes_the_member_and_redraws_the_card(rig: TeamsRig):
    await rig.client.install_personal(MEMBERS[1])
    status, _ = await rig.client.say(MEMBERS[1], "pulse forget")
    assert status == 202
    ask = rig.connector.activities("a:personal-29:bob")[-1]
    card = ask["attachments"][0]["content"]
    assert_valid_card(card)
    status, body = await rig.client.tap(MEMBERS[1], find_action(card, "privacy.forget.confirm"), reply_to=ask["id"])
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(body["value"])
    assert "privacy.forget.confirm" not in str(body["value"])  # the buttons are gone
    assert [m.user_id for m in await _members(rig)] == []
