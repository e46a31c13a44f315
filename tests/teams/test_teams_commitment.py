"""A leader's commitment on Teams, over real HTTP to the fake Bot Connector: the invitation card,
the form as an Adaptive Card (a choice set and a text input), and one post in the team's channel."""

from __future__ import annotations

from handlers.checkins import open_round
from handlers.closing import close_team_round
from handlers.inputs import Tap, handle
from handlers.ports import Actor, Where
from schedules.commitment_notes import send_commitment_notes
from schedules.outbox import Sender
from tests.teams.conftest import LEAD, MEMBERS, TEAM_ID, TeamsRig, assert_valid_card, card_texts, find_action
from tests.teams.test_full_round import _installed_team, _last_card


async def _closed_round(rig: TeamsRig) -> int:
    await _installed_team(rig)
    opened = await open_round(rig.ctx, team_name="soporte")
    await Sender(rig.ctx).drain()
    for n, user in enumerate(MEMBERS[:4]):
        actor = Actor(platform="teams", user_id=user.id, aad_id=user.aad)
        await handle(rig.ctx, actor, Where(kind="dm"), Tap.parse("checkin.mood", f"{opened.round_id}:{n + 1}"))
    await close_team_round(rig.ctx, team_name="soporte")
    return opened.round_id


def _team_posts(rig: TeamsRig) -> list[str]:
    return [card_texts(card) for card in rig.connector.cards(TEAM_ID)]


async def test_a_teams_leader_commits_in_a_card_and_the_team_channel_gets_it_once(rig: TeamsRig):
    rid = await _closed_round(rig)
    chats = {u.id: f"a:personal-{u.id}" for u in MEMBERS[:5]}
    before = {u: len(rig.connector.cards(c)) for u, c in chats.items()}
    assert await send_commitment_notes(rig.ctx) == 1
    invite, invite_id = _last_card(rig, f"a:personal-{LEAD.id}")
    assert_valid_card(invite)
    assert "Pick one focus and tell the team what you will do." in card_texts(invite)
    assert {u: len(rig.connector.cards(c)) for u, c in chats.items()} == before  # members get no invitation

    status, body = await rig.client.tap(LEAD, find_action(invite, "commit.start", str(rid)), reply_to=invite_id)
    form = body["value"]
    assert_valid_card(form)
    kinds = {el["id"]: el["type"] for el in form["body"] if el["type"].startswith("Input.")}
    assert kinds == {"field.driver": "Input.ChoiceSet", "field.sentence": "Input.Text"}
    status, body = await rig.client.tap(LEAD, find_action(form, "commit.submit"), reply_to=invite_id,
                                        inputs={"field.driver": "clarity", "field.sentence": "Weekly goals, written down"})
    assert status == 200 and "focus is Clarity" in str(body)

    assert await send_commitment_notes(rig.ctx) == 1
    assert await send_commitment_notes(rig.ctx) == 0
    posts = [p for p in _team_posts(rig) if "Weekly goals, written down" in p]
    assert len(posts) == 1 and "your leader's focus after the last pulse" in posts[0]
    assert {u: len(rig.connector.cards(c)) for u, c in chats.items()} == before  # the channel, not DMs
