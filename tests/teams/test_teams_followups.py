"""Follow-ups on Teams, over real HTTP to the fake Bot Connector: a "we don't know" added by card gets
its owner and two reminder cards at most on the test clock, "I'll find out" and Resolve (an Adaptive
Card form with inputs) from the chair's summary, the chair's card updated and "Now we know" in its
thread; a leader's list shows it, and `forget` hands it back."""

from __future__ import annotations

from sqlmodel import select

from handlers.ports import Actor
from handlers.privacy import forget
from handlers.reports import build_report
from schedules.followups import send_followup_reminders
from storage.models import Followup
from tests.teams.conftest import LEAD, MEMBERS, TEAM_ID, TeamsRig, assert_valid_card, card_texts, find_action
from tests.teams.test_full_round import _installed_team, _last_card

BOB, CARLA, DAN = MEMBERS[1], MEMBERS[2], MEMBERS[3]


async def _chair_with_unknown(rig: TeamsRig) -> tuple[dict, str, dict]:
    """Bob's chair in the team channel, Carla's "we don't know" on it, closed: (card activity, channel, summary)."""
    await _installed_team(rig)
    channel = rig.client.channel()
    await rig.client.say(BOB, "empty-chair Q3 pricing", conversation=channel)
    chair = [a for a in rig.connector.activities(TEAM_ID) if a.get("attachments")][-1]
    card = chair["attachments"][0]["content"]
    _, body = await rig.client.tap(CARLA, find_action(card, "chair.impact"), reply_to=chair["id"], conversation=channel)
    form = body["value"]
    ids = {el["id"]: el for el in form["body"] if el["type"].startswith("Input.")}
    fields = {next(i for i in ids if i.endswith(name)): value
              for name, value in (("effect", "unknown"), ("who", "retail clients"))}
    await rig.client.tap(CARLA, find_action(form, "chair.impact.submit"), reply_to=chair["id"], conversation=channel,
                         inputs=fields)
    current = next(a for a in rig.connector.activities(TEAM_ID) if a["id"] == chair["id"])["attachments"][0]["content"]
    await rig.client.tap(BOB, find_action(current, "chair.close"), reply_to=chair["id"], conversation=channel)
    summary = [a for a in rig.connector.activities(TEAM_ID) if a.get("attachments")][-1]
    return chair, channel, summary


async def _owner(rig: TeamsRig) -> str | None:
    async with rig.ctx.store.session() as session:
        return (await session.exec(select(Followup))).one().owner


async def test_a_follow_up_on_teams_is_reminded_taken_over_and_resolved_in_the_chairs_thread(rig: TeamsRig):
    chair, channel, summary = await _chair_with_unknown(rig)
    assert await _owner(rig) == "teams:29:carla"
    summary_card = summary["attachments"][0]["content"]
    assert_valid_card(summary_card)

    chat = f"a:personal-{CARLA.id}"
    before = len(rig.connector.cards(chat))
    rig.ctx.clock.move(days=7)
    assert await send_followup_reminders(rig.ctx) == 1
    assert await send_followup_reminders(rig.ctx) == 0
    reminder, _ = _last_card(rig, chat)
    assert_valid_card(reminder)
    assert "A follow-up is due" in card_texts(reminder) and "retail clients" in card_texts(reminder)
    rig.ctx.clock.move(days=7)
    assert await send_followup_reminders(rig.ctx) == 1
    rig.ctx.clock.move(days=7)
    assert await send_followup_reminders(rig.ctx) == 0  # no third
    assert len(rig.connector.cards(chat)) == before + 2

    await rig.client.say(LEAD, "empty-chair followups")
    listed, _ = _last_card(rig, f"a:personal-{LEAD.id}")
    assert "retail clients" in card_texts(listed) and "Carla" not in card_texts(listed)

    await rig.client.tap(DAN, find_action(summary_card, "followup.take"), reply_to=summary["id"], conversation=channel)
    assert await _owner(rig) == "teams:29:dan"
    status, body = await rig.client.tap(DAN, find_action(summary_card, "followup.resolve"), reply_to=summary["id"],
                                        conversation=channel)
    form = body["value"]
    assert_valid_card(form)
    ids = [el["id"] for el in form["body"] if el["type"].startswith("Input.")]
    inputs = {next(i for i in ids if i.endswith("effect")): "better",
              next(i for i in ids if i.endswith("note")): "They asked for it"}
    updates = len(rig.connector.calls("update"))
    status, _ = await rig.client.tap(DAN, find_action(form, "followup.resolve.submit"), reply_to=summary["id"],
                                     conversation=channel, inputs=inputs)
    assert status == 200
    edited = [c for c in rig.connector.calls("update")[updates:] if c.activity_id == chair["id"]]
    assert edited and "They asked for it" in card_texts(edited[-1].body["attachments"][0]["content"])
    answer = rig.connector.calls("reply")[-1]
    assert answer.activity_id == chair["id"]  # in the chair's thread
    words = card_texts(answer.body["attachments"][0]["content"])
    assert "Now we know: retail clients" in words and "They asked for it" in words

    report = (await build_report(rig.ctx, teams=["soporte"], weeks=4)).teams[0]
    assert (report.followups.open, report.followups.resolved) == (0, 1)


async def test_forget_on_teams_hands_the_follow_up_back_unowned(rig: TeamsRig):
    await _chair_with_unknown(rig)
    await forget(rig.ctx, Actor(platform="teams", user_id=CARLA.id, aad_id=CARLA.aad))
    assert await _owner(rig) is None
    rig.ctx.clock.move(days=8)
    assert await send_followup_reminders(rig.ctx) == 0
