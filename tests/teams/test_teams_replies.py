"""Anonymous replies on Teams, over real HTTP to the fake Bot Connector: the leader's Reply beside a
comment, a card to its author only, the author's anonymous answer back to the leader's chat."""

from __future__ import annotations

from sqlmodel import select

from handlers.closing import close_team_round
from handlers.inputs import Tap, handle
from handlers.ports import Actor, Where
from handlers.replies import batch_end
from schedules.outbox import Sender
from schedules.relays import send_relays
from storage.models import RoundComment
from tests.teams.conftest import LEAD, MEMBERS, TeamsRig, assert_valid_card, card_texts, find_action
from tests.teams.test_full_round import _installed_team, _last_card


async def _closed_round_with_comments(rig: TeamsRig) -> None:
    from handlers.checkins import open_round

    await _installed_team(rig)
    opened = await open_round(rig.ctx, team_name="soporte")
    await Sender(rig.ctx).drain()
    for n, user in enumerate(MEMBERS[:4]):
        actor = Actor(platform="teams", user_id=user.id, aad_id=user.aad)
        await handle(rig.ctx, actor, Where(kind="dm"), Tap.parse("checkin.mood", f"{opened.round_id}:{n + 1}"))
        await handle(rig.ctx, actor, Where(kind="dm"),
                     Tap.parse("checkin.comment.submit", str(opened.round_id), {"comment": f"note by {user.name}"}))
    await close_team_round(rig.ctx, team_name="soporte")


async def _submit(rig: TeamsRig, user, card: dict, action: str, reply_to: str, text: str) -> dict:
    status, body = await rig.client.tap(user, find_action(card, action), reply_to=reply_to)
    form = body["value"]
    assert_valid_card(form)
    field = next(el for el in form["body"] if el["type"] == "Input.Text")
    status, body = await rig.client.tap(user, find_action(form, f"{action}.submit"), reply_to=reply_to,
                                        inputs={field["id"]: text})
    assert status == 200
    return body


async def test_a_reply_on_teams_reaches_only_the_author_and_comes_back_as_a_member_of_the_team(rig: TeamsRig):
    await _closed_round_with_comments(rig)
    async with rig.ctx.store.session() as session:
        comment_id = (await session.exec(select(RoundComment.id).where(RoundComment.comment == "note by Bob"))).one()
    await rig.client.say(LEAD, "team-pulse soporte")
    report, report_id = _last_card(rig, f"a:personal-{LEAD.id}")
    assert_valid_card(report)
    reply = find_action(report, "reply.start", comment_id)
    status, body = await rig.client.tap(LEAD, reply, reply_to=report_id)
    form = body["value"]
    field = next(el for el in form["body"] if el["type"] == "Input.Text")
    await rig.client.tap(LEAD, find_action(form, "reply.submit"), reply_to=report_id,
                         inputs={field["id"]: "Which context would help?"})

    chats = {u.id: f"a:personal-{u.id}" for u in MEMBERS[:5]}
    before = {u: len(rig.connector.cards(c)) for u, c in chats.items()}
    rig.ctx.clock.at = batch_end(rig.ctx.clock.now(), 15)
    assert await send_relays(rig.ctx) == 1
    after = {u: len(rig.connector.cards(c)) for u, c in chats.items()}
    assert after == {**before, "29:bob": before["29:bob"] + 1}  # the author only
    card, card_id = _last_card(rig, chats["29:bob"])
    assert_valid_card(card)
    assert "Which context would help?" in card_texts(card) and "note by Bob" in card_texts(card)

    await _submit(rig, MEMBERS[1], card, "reply.answer", card_id, "Customer calls, monthly")
    rig.ctx.clock.at = batch_end(rig.ctx.clock.now(), 15)
    assert await send_relays(rig.ctx) == 1
    back, _ = _last_card(rig, f"a:personal-{LEAD.id}")
    words = card_texts(back)
    assert "A member of soporte" in words and "Customer calls, monthly" in words
    assert "Bob" not in words.replace("note by Bob", "") and "29:bob" not in str(back)
