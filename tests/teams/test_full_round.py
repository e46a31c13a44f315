"""A full check-in round on Teams, end to end over real HTTP: install, roster, proactive check-ins,
answers through Action.Execute invokes, the leader's report, Spanish for an es-ES member."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import select

from handlers.checkins import answered_members, open_round
from handlers.i18n import t
from schedules.outbox import Sender
from storage.models import Member
from tests.teams.conftest import LEAD, MEMBERS, TEAM_ID, TeamsRig, assert_valid_card, card_texts, find_action


async def _installed_team(rig: TeamsRig) -> None:
    status, _ = await rig.client.install_team(LEAD)
    assert status == 202
    # Five of six install the app personally; Fran only exists in the team roster.
    for user in MEMBERS[:5] + [LEAD]:
        status, _ = await rig.client.install_personal(user)
        assert status == 202


async def _deliver_round(rig: TeamsRig) -> int:
    opened = await open_round(rig.ctx, team_name="soporte")
    report = await Sender(rig.ctx).drain()
    assert report.sent == len(MEMBERS) and report.failed == 0
    return opened.round_id


def _last_card(rig: TeamsRig, conversation: str) -> tuple[dict, str]:
    activity = [a for a in rig.connector.activities(conversation) if a.get("attachments")][-1]
    return activity["attachments"][0]["content"], activity["id"]


async def test_install_reads_the_team_roster_with_teams_and_entra_ids(rig: TeamsRig):
    await _installed_team(rig)
    assert rig.connector.calls("pagedmembers"), "the roster is read through the connector"
    async with rig.ctx.store.session() as session:
        rows = (await session.exec(select(Member).where(Member.platform == "teams"))).all()
    by_id = {m.user_id: m for m in rows}
    assert set(by_id) == {u.id for u in MEMBERS} | {LEAD.id}
    assert by_id["29:ana"].aad_id == "aad-ana"
    assert by_id["29:ana"].locale == "es" and by_id["29:carla"].timezone == "America/New_York"
    assert by_id["29:ana"].dm_conversation == "a:personal-29:ana"
    assert by_id["29:fran"].dm_conversation is None and by_id["29:fran"].conversation_ref


async def test_full_round_over_teams(rig: TeamsRig):
    await _installed_team(rig)
    round_id = await _deliver_round(rig)

    # Every member got exactly one check-in card, the leader none; Fran's chat was created for it.
    assert len(rig.connector.calls("create")) == 1
    fran_chat = rig.connector.dm_conversation("29:fran")
    assert fran_chat is not None
    chats = {u.id: (fran_chat if u.id == "29:fran" else f"a:personal-{u.id}") for u in MEMBERS}
    for user in MEMBERS:
        cards = rig.connector.cards(chats[user.id])
        assert len(cards) == 1
        assert_valid_card(cards[0])
    assert rig.connector.cards(f"a:personal-{LEAD.id}") == []

    # Ana (es-ES) reads Spanish; Bob reads English.
    ana_card, _ = _last_card(rig, chats["29:ana"])
    assert ana_card["lang"] == "es"
    assert t("checkin.question", "es") in card_texts(ana_card)
    bob_card, _ = _last_card(rig, chats["29:bob"])
    assert t("checkin.question", "en") in card_texts(bob_card)

    # Mood buttons ascend, worst first.
    mood_values = [find_action(ana_card, "checkin.mood", f":{n}")["data"]["value"] for n in range(1, 6)]
    assert mood_values == [f"{round_id}:{n}" for n in range(1, 6)]

    # Five of six answer with one tap; the refreshed card comes back in the invoke response.
    for n, user in enumerate(MEMBERS[:5]):
        card, activity_id = _last_card(rig, chats[user.id])
        status, body = await rig.client.tap(user, find_action(card, "checkin.mood", f":{n % 5 + 1}"),
                                            reply_to=activity_id)
        assert status == 200
        assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
        assert_valid_card(body["value"])
        assert "✓" in card_texts(body["value"])

    # Ana adds a comment through the form the card opens (Input.Text, 2000 characters).
    card, activity_id = _last_card(rig, chats["29:ana"])
    status, body = await rig.client.tap(MEMBERS[0], find_action(card, "checkin.comment"), reply_to=activity_id)
    form = body["value"]
    assert_valid_card(form)
    comment_input = next(el for el in form["body"] if el["type"] == "Input.Text")
    assert comment_input["maxLength"] == 2000
    status, body = await rig.client.tap(
        MEMBERS[0], find_action(form, "checkin.comment.submit"), reply_to=activity_id,
        inputs={comment_input["id"]: "Necesitamos más contexto de los clientes"},
    )
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"

    async with rig.ctx.store.session() as session:
        answered = await answered_members(session, rig.ctx.secret, round_id=round_id)
    assert len(answered) == 5

    # The leader asks for the report in the personal chat: participation 5 of 6, with the chart.
    status, _ = await rig.client.say(LEAD, "team-pulse soporte")
    assert status == 202
    report, _ = _last_card(rig, f"a:personal-{LEAD.id}")
    assert_valid_card(report)
    text = card_texts(report)
    assert "83" in text  # 5 / 6 answered
    images = [el for el in report["body"] if el["type"] == "Image"]
    assert images and images[0]["url"].startswith("data:image/png;base64,")


async def test_team_pulse_in_a_channel_answers_only_in_the_personal_chat(rig: TeamsRig):
    await _installed_team(rig)
    await _deliver_round(rig)
    before = len(rig.connector.activities(TEAM_ID))
    status, _ = await rig.client.say(LEAD, "team-pulse", conversation=rig.client.channel())
    assert status == 202
    in_channel = rig.connector.activities(TEAM_ID)[before:]
    assert len(in_channel) == 1 and not in_channel[0].get("attachments")  # a one-line pointer, no numbers
    assert in_channel[0]["text"] == t("teams.report_sent_privately", "en")
    report, _ = _last_card(rig, f"a:personal-{LEAD.id}")
    assert_valid_card(report)


async def test_a_member_who_is_no_leader_gets_a_refusal_and_no_number(rig: TeamsRig):
    await _installed_team(rig)
    await _deliver_round(rig)
    status, _ = await rig.client.say(MEMBERS[1], "team-pulse soporte")
    assert status == 202
    reply, _ = _last_card(rig, "a:personal-29:bob")
    text = card_texts(reply)
    assert "%" not in text and not any(el["type"] == "Image" for el in reply["body"])


async def test_tap_after_the_round_closed_is_refused_politely(rig: TeamsRig):
    await _installed_team(rig)
    await _deliver_round(rig)
    card, activity_id = _last_card(rig, "a:personal-29:bob")
    rig.ctx.clock.move(hours=73)  # type: ignore[attr-defined]
    status, body = await rig.client.tap(MEMBERS[1], find_action(card, "checkin.mood", ":4"), reply_to=activity_id)
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == t("checkin.closed", "en")


async def test_typed_mood_in_the_personal_chat_is_recorded(rig: TeamsRig):
    await _installed_team(rig)
    round_id = await _deliver_round(rig)
    status, _ = await rig.client.say(MEMBERS[0], "4")
    assert status == 202
    async with rig.ctx.store.session() as session:
        ana = (await session.exec(select(Member).where(Member.user_id == "29:ana"))).one()
        assert ana.id in await answered_members(session, rig.ctx.secret, round_id=round_id)
    reply, _ = _last_card(rig, "a:personal-29:ana")
    assert reply["lang"] == "es"


async def test_a_typed_answer_the_store_cannot_take_is_answered_with_an_apology(rig: TeamsRig):
    await _installed_team(rig)
    await _deliver_round(rig)
    cascade = "" if rig.ctx.store.is_sqlite else " CASCADE"
    async with rig.ctx.store.engine.begin() as conn:  # the store breaks under the bot
        await conn.execute(text(f"DROP TABLE response{cascade}"))
    status, _ = await rig.client.say(MEMBERS[0], "4")
    assert status == 202  # Teams does not re-deliver a message: the apology is the answer
    assert rig.connector.activities("a:personal-29:ana")[-1]["text"] == t("teams.error", "es")
