"""Follow-ups in Slack, over the fake Web API: a "we don't know" gets its owner, a DM reminder when
due on the test clock (a second one, never a third), "I'll find out" from the list, a resolution by
modal that edits the chair's card and answers in its thread, and the report counts it."""

from __future__ import annotations

import json

from sqlmodel import select

from handlers.ports import Actor
from handlers.privacy import forget
from handlers.reports import build_report
from schedules.followups import send_followup_reminders
from storage.models import EmptyChair, Followup
from tests.polling import eventually
from tests.slack.test_slack_chair import buttons


async def _chair_with_unknown(slack) -> dict:
    await slack.command("/empty-chair", "Q3 pricing", user="U2")
    card = (await eventually(lambda: slack.fake.messages("C0SUPPORT")))[0]

    async def remembered() -> bool:
        async with slack.ctx.store.session() as session:
            return bool((await session.exec(select(EmptyChair))).one().message_ref)

    await eventually(remembered)
    add = next(b for b in buttons(card) if b["action_id"].startswith("chair.impact"))
    await slack.tap("U1", add, channel="C0SUPPORT", ts=card["ts"])
    view = (await eventually(lambda: slack.fake.calls("views.open")))[-1]["view"]
    status, _ = await slack.submit("U1", view, {"effect": "unknown", "who": "SMB clients", "note": "renewals?"})
    assert status == 200
    return card


def _dms(slack, user: str) -> list[dict]:
    return [c for c in slack.fake.calls("chat.postMessage") if c["channel"] in (user, slack.fake.dm_channel(user))]


async def test_a_follow_up_in_slack_is_owned_reminded_taken_over_and_resolved_in_the_chairs_thread(slack):
    card = await _chair_with_unknown(slack)
    async with slack.ctx.store.session() as session:
        followup = (await session.exec(select(Followup))).one()
    assert followup.owner == "slack:U1"

    slack.ctx.clock.move(days=7)
    assert await send_followup_reminders(slack.ctx) == 1
    assert await send_followup_reminders(slack.ctx) == 0
    (reminder,) = _dms(slack, "U1")
    words = json.dumps(reminder["blocks"], ensure_ascii=False)
    assert "Vence un seguimiento" in words and "SMB clients" in words  # in U1's language (es)
    slack.ctx.clock.move(days=7)
    assert await send_followup_reminders(slack.ctx) == 1
    slack.ctx.clock.move(days=7)
    assert await send_followup_reminders(slack.ctx) == 0  # no third
    assert len(_dms(slack, "U1")) == 2

    url = await slack.command("/empty-chair", "followups", user="U3")
    (listed,) = await eventually(lambda: [c for c in slack.fake.calls("response_url") if c["_response_url"] == url])
    assert "SMB clients" in json.dumps(listed["blocks"]) and "U1" not in json.dumps(listed["blocks"])
    take = next(b for b in buttons(listed) if b["action_id"].startswith("followup.take"))
    await slack.tap("U3", take, channel="C0SUPPORT", ts="1.1", ephemeral=True, response_url=url)
    await eventually(lambda: _owner_is(slack, "slack:U3"))

    resolve = next(b for b in buttons(listed) if b["action_id"].startswith("followup.resolve"))
    opened = len(slack.fake.calls("views.open"))
    await slack.tap("U3", resolve, channel="C0SUPPORT", ts="1.1", ephemeral=True, response_url=url)
    view = (await eventually(lambda: slack.fake.calls("views.open")[opened:]))[0]["view"]
    updates = len(slack.fake.calls("chat.update"))
    status, _ = await slack.submit("U3", view, {"effect": "worse", "note": "Churn risk at renewal"})
    assert status == 200
    thread = await eventually(lambda: [m for m in slack.fake.messages("C0SUPPORT")
                                       if m.get("thread_ts") == card["ts"] and "Now we know" in json.dumps(m)])
    assert "Churn risk at renewal" in json.dumps(thread[0]["blocks"])
    edited = (await eventually(lambda: slack.fake.calls("chat.update")[updates:]))[-1]
    assert edited["ts"] == card["ts"] and "Churn risk at renewal" in json.dumps(edited["blocks"])

    report = (await build_report(slack.ctx, teams=["soporte"], weeks=4)).teams[0]
    assert (report.followups.open, report.followups.resolved) == (0, 1)


async def _owner_is(slack, owner: str | None) -> bool:
    async with slack.ctx.store.session() as session:
        return (await session.exec(select(Followup))).one().owner == owner


async def test_forget_in_slack_hands_the_follow_up_back_to_the_chair_unowned(slack):
    await _chair_with_unknown(slack)
    await forget(slack.ctx, Actor(platform="slack", user_id="U1", workspace="T0TEST"))
    assert await _owner_is(slack, None)
    slack.ctx.clock.move(days=8)
    assert await send_followup_reminders(slack.ctx) == 0
    url = await slack.command("/empty-chair", "seguimientos", user="U4")
    (listed,) = await eventually(lambda: [c for c in slack.fake.calls("response_url") if c["_response_url"] == url])
    assert "nobody yet" in json.dumps(listed["blocks"])
